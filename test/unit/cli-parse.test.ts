// CLI flag parsing and validation: names, capabilities, mounts, resources.
import test from 'node:test';
import assert from 'node:assert/strict';
import { validateName, nameProblem } from '../../src/names.js';
import { normalizeCap, capabilityMask, maskToNames } from '../../src/security/capabilities.js';
import { splitAtCommand } from '../../src/cli/args.js';
import { specFromFlags, parseMountFlag } from '../../src/cli/execute.js';

test('container names: good and bad', { timeout: 10000 }, () => {
  for (const ok of ['web', 'a.b_c-1', 'x'.repeat(64), '0day']) assert.equal(validateName(ok), ok);
  assert.match(nameProblem('a/b')!, /path separator/);
  assert.match(nameProblem('..')!, /\.\./);
  assert.match(nameProblem('a..b')!, /\.\./);
  assert.match(nameProblem('x'.repeat(65))!, /longer than 64/);
  assert.match(nameProblem('a\nb')!, /control characters/);
  assert.match(nameProblem('')!, /empty/);
  assert.match(nameProblem('-x')!, /starts with/);
  assert.throws(() => validateName('a/b'), /invalid container name "a\/b"/);
});

test('capability names normalize; unknown ones are rejected', { timeout: 10000 }, () => {
  assert.equal(normalizeCap('CAP_SYS_ADMIN'), 'sys_admin');
  assert.equal(normalizeCap('Net_Raw'), 'net_raw');
  assert.throws(() => normalizeCap('sys_bogus'), /unknown capability "sys_bogus"/);
  const m = capabilityMask({ drop: ['sys_time'], add: [] });
  assert.ok(!maskToNames(m).includes('sys_time'));
  assert.deepEqual(maskToNames(capabilityMask({ keep: ['kill', 'chown'], drop: ['kill'], add: [] })), ['chown', 'kill']);
  assert.equal(capabilityMask({ keep: ['none'], drop: [], add: [] }), 0n);
});

test('the command starts at -- or at the first positional', { timeout: 10000 }, () => {
  const opts = { name: { type: 'string', short: 'n' }, init: { type: 'boolean' } } as const;
  assert.deepEqual(splitAtCommand(['-n', 'x', '--', 'ls', '-l'], opts), { own: ['-n', 'x'], command: ['ls', '-l'] });
  assert.deepEqual(splitAtCommand(['--init', 'ls', '-l'], opts), { own: ['--init'], command: ['ls', '-l'] });
  assert.deepEqual(splitAtCommand(['--name=x', 'sh'], opts), { own: ['--name=x'], command: ['sh'] });
  assert.deepEqual(splitAtCommand(['--name', 'x'], opts), { own: ['--name', 'x'], command: [] });
});

test('--mount parsing and its errors', { timeout: 10000 }, () => {
  assert.deepEqual(parseMountFlag('/tmp:/data:ro'), { source: '/tmp', target: '/data', type: 'none', options: ['rbind', 'create=dir', 'ro'] });
  assert.throws(() => parseMountFlag('/tmp'), /SRC:DST/);
  assert.throws(() => parseMountFlag('/tmp:/x:rx'), /SRC:DST/);
  assert.throws(() => parseMountFlag('/tmp:rel'), /absolute/);
  assert.throws(() => parseMountFlag('/nonexistent-lxts-src:/x'), /does not exist/);
});

test('execute flags build the spec', { timeout: 10000 }, () => {
  const spec = specFromFlags(
    { name: 'demo1', env: ['A=1', 'PATH=/bin'], user: '1000:100', 'cap-drop': ['net_raw,kill'], 'cap-add': ['sys_time'], ulimit: ['nofile=10:20'], cpus: '0.5', memory: '64M', 'pids-max': '10', share: ['net'], 'no-tty': true },
    ['sh'],
  );
  assert.equal(spec.name, 'demo1');
  assert.ok(spec.process.env.includes('A=1'));
  assert.ok(spec.process.env.includes('PATH=/bin'));
  assert.equal(spec.process.env.filter((e) => e.startsWith('PATH=')).length, 1);
  assert.equal(spec.process.uid, 1000);
  assert.equal(spec.process.gid, 100);
  assert.ok(spec.capabilities.drop.includes('net_raw') && !spec.capabilities.drop.includes('sys_time'));
  assert.deepEqual(spec.process.rlimits, [{ type: 'nofile', soft: 10, hard: 20 }]);
  assert.equal(spec.resources.cpu?.quotaUs, 50000);
  assert.equal(spec.resources.memory?.max, 64 * 1024 * 1024);
  assert.equal(spec.resources.pids?.max, 10);
  assert.ok(!spec.namespaces.includes('net'));
  assert.equal(spec.process.terminal, false);
});

test('execute flags: bad input gets a clear error', { timeout: 10000 }, () => {
  assert.throws(() => specFromFlags({ name: '../x' }, ['sh']), /invalid container name/);
  assert.throws(() => specFromFlags({ 'cap-drop': ['bogus'] }, ['sh']), /unknown capability "bogus"/);
  assert.throws(() => specFromFlags({ user: 'root' }, ['sh']), /--user needs UID/);
  assert.throws(() => specFromFlags({ rootfs: '/nonexistent-lxts' }, ['sh']), /does not exist/);
  assert.throws(() => specFromFlags({ rootfs: '/etc/passwd' }, ['sh']), /not a directory/);
  assert.throws(() => specFromFlags({ cpus: 'lots' }, ['sh']), /--cpus/);
  assert.throws(() => specFromFlags({ env: ['NOEQUALS'] }, ['sh']), /--env needs KEY=VALUE/);
  assert.throws(() => specFromFlags({ share: ['mount'] }, ['sh']), /--share/);
  assert.throws(() => specFromFlags({ cwd: 'rel' }, ['sh']), /absolute/);
});
