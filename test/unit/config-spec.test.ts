// LXC config -> ContainerSpec + StoredConfig (golden), LXC's reset rules, cgroup keys in both
// spellings, and the reverse conversion (specToConfig) round-tripping.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, parseConfig, entries } from '../../src/config/lxc-parse.js';
import { configToSpec, type ConvertOptions } from '../../src/config/lxc-to-spec.js';
import { specToConfig } from '../../src/config/spec-to-lxc.js';
import { defaultSpec, DEFAULT_ENV } from '../../src/spec.js';

const FIX = fileURLToPath(new URL('../../../test/unit/fixtures/lxc/', import.meta.url));

function fromFile(rel: string, opts: ConvertOptions = {}) {
  const file = join(FIX, rel);
  const l = loadConfig(file);
  return configToSpec({ entries: l.entries, files: l.files, problems: l.problems, file }, opts);
}

function fromText(text: string, opts: ConvertOptions = {}) {
  return configToSpec({ entries: entries(parseConfig(text, 'test.conf')), file: 'test.conf' }, opts);
}

function golden(name: string, value: unknown): void {
  // fixture paths are machine-specific: store them relative to the fixture dir
  const text = JSON.stringify(value, null, 2).split(FIX).join('<fixtures>/') + '\n';
  const file = join(FIX, 'golden', name);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
  assert.ok(existsSync(file), `golden file ${name} missing (run with UPDATE_GOLDEN=1 to create it)`);
  assert.equal(text, readFileSync(file, 'utf8'), `conversion differs from golden ${name} (UPDATE_GOLDEN=1 to accept)`);
}

test('golden: Debian system container with includes (lxc-create -t download style)', { timeout: 10000 }, () => {
  const c = fromFile('debian/config', { name: 'deb' });
  assert.deepEqual(c.problems, []);
  golden('debian.json', { spec: c.spec, stored: c.stored });
  assert.deepEqual(c.spec.process.args, ['/sbin/init']);
  assert.deepEqual(c.spec.capabilities.drop, ['mac_admin', 'mac_override', 'sys_time', 'sys_module', 'sys_rawio']);
  assert.equal(c.stored.tty.dir, undefined, 'lxc.tty.dir = (empty) in debian.common.conf resets common.conf\'s value');
  assert.equal(c.stored.tty.max, 4);
  assert.equal(c.stored.signals.halt?.number, 37);
  assert.equal(c.stored.devices.filter((d) => d.version === 1).length, 7);
  assert.equal(c.stored.devices.filter((d) => d.version === 2).length, 5);
  assert.deepEqual(c.stored.hooks, { mount: ['/usr/share/lxcfs/lxc.mount.hook'], 'post-stop': ['/usr/share/lxcfs/lxc.reboot.hook'], clone: ['/usr/share/lxc/hooks/clonehostname'] });
  assert.equal(c.spec.resources.raw, undefined, 'device rules are not raw cgroup writes');
});

test('golden: application container (mounts, init, env, caps, cgroup v1+v2, limits, net, hooks)', { timeout: 10000 }, () => {
  const c = fromFile('app/config', { name: 'web01', hostEnv: { LXTS_FIXTURE_PASSED: 'yes' } });
  assert.deepEqual(c.problems.map((p) => `${p.line}:${p.severity}:${p.key}`), ['92:warning:lxc.apparmor.profile']);
  golden('app.json', { spec: c.spec, stored: c.stored });
  const s = c.spec;
  assert.deepEqual(s.mounts.map((m) => m.target), ['/proc', '/srv/shared', '/srv/data', '/tmp', '/etc/resolv.conf', '/media/files']);
  assert.equal(s.mounts[5]!.source, '/srv/my files');
  assert.deepEqual(s.process.args, ['/usr/bin/httpd', '-f', '/etc/httpd/httpd main.conf', '-D', 'FOREGROUND']);
  assert.deepEqual(s.process.env, ['PATH=/usr/sbin:/usr/bin', 'HOME=/root', 'TERM=xterm', 'container=lxts', 'LANG=C.UTF-8', 'TZ=UTC', 'LXTS_FIXTURE_PASSED=yes']);
  assert.deepEqual(s.capabilities, { drop: [], add: [], keep: ['chown', 'setuid', 'setgid', 'net_bind_service', 'dac_override'] });
  assert.deepEqual(s.resources.cpu, { shares: 512, quotaUs: 50000, periodUs: 100000, cpus: '0-1' });
  assert.deepEqual(s.resources.memory, { max: 512 * 1024 * 1024, high: 400 * 1024 * 1024 });
  assert.deepEqual(s.resources.pids, { max: 256 });
  assert.deepEqual(s.resources.io?.throttle, [{ device: '8:0', rbps: 1048576, wiops: 100 }]);
  assert.deepEqual(s.resources.raw, [{ version: 1, key: 'memory.memsw.limit_in_bytes', value: '1073741824' }, { version: 2, key: 'memory.oom.group', value: '1' }]);
  assert.deepEqual(s.namespaces, ['pid', 'mount', 'uts', 'net', 'cgroup', 'user'], 'lxc.idmap gives a user namespace');
  assert.deepEqual(s.idmap, { uid: [{ inside: 0, outside: 100000, count: 65536 }], gid: [{ inside: 0, outside: 100000, count: 65536 }] });
  assert.equal(s.rootfs.readonly, true);
  assert.equal(c.stored.net.length, 2);
  assert.equal(c.stored.userns, true);
  // execute mode: lxc.execute.cmd under the minimal init
  const x = fromFile('app/config', { mode: 'execute' });
  assert.deepEqual(x.spec.process.args, ['/usr/bin/httpd', '-t']);
  assert.equal(x.spec.init, true);
  assert.deepEqual(fromFile('app/config', { mode: 'execute', command: ['/bin/true'] }).spec.process.args, ['/bin/true']);
});

test('golden: overlay snapshot, shared network, user namespace', { timeout: 10000 }, () => {
  const c = fromFile('overlay/config', { name: 'snap1' });
  assert.deepEqual(c.problems, []);
  golden('overlay.json', { spec: c.spec, stored: c.stored });
  assert.deepEqual(c.spec.rootfs, { kind: 'overlay', lower: ['/var/lib/lxts/base/rootfs'], upper: '/var/lib/lxts/snap1/delta0', work: '/var/lib/lxts/snap1/work', readonly: false }, 'mounted in the container, workdir beside UPPER as in LXC');
  assert.deepEqual(c.stored.rootfs, { backend: 'overlay', lower: '/var/lib/lxts/base/rootfs', upper: '/var/lib/lxts/snap1/delta0', options: ['xino=off'] });
  assert.ok(!c.spec.namespaces.includes('net'), 'lxc.net.0.type = none shares the host network');
  assert.ok(c.spec.namespaces.includes('user'), 'lxc.namespace.clone user with lxc.idmap: a user namespace');
  assert.equal(c.stored.userns, true);
});

test('empty values reset keys and families as in LXC', { timeout: 10000 }, () => {
  const c = fromText([
    'lxc.cap.drop = sys_admin net_raw',
    'lxc.cap.drop =',
    'lxc.cap.drop = sys_time',
    'lxc.cgroup.dir = mine',
    'lxc.cgroup.cpu.shares = 100',
    'lxc.cgroup2.memory.max = 1G',
    'lxc.cgroup =',
    'lxc.sysctl.kernel.msgmax = 1',
    'lxc.sysctl.net.ipv4.ip_forward = 1',
    'lxc.sysctl.kernel.msgmax =',
    'lxc.net.0.type = veth',
    'lxc.net.1.type = veth',
    'lxc.net.0 =',
    'lxc.environment = A=1',
    'lxc.environment =',
    'lxc.uts.name = a',
    'lxc.uts.name =',
    'lxc.hook.start = /x',
    'lxc.hook =',
  ].join('\n'));
  assert.deepEqual(c.problems, []);
  assert.deepEqual(c.spec.capabilities.drop, ['sys_time']);
  assert.equal(c.spec.resources.cpu, undefined, 'lxc.cgroup = clears v1 keys');
  assert.deepEqual(c.spec.resources.memory, { max: 1024 ** 3 }, 'but not lxc.cgroup2 ones');
  assert.equal(c.stored.cgroupDir.dir, 'mine', 'nor lxc.cgroup.dir');
  assert.deepEqual(c.spec.sysctls, { 'net.ipv4.ip_forward': '1' });
  assert.deepEqual(c.stored.net.map((n) => n.index), [1]);
  assert.deepEqual(c.spec.process.env, DEFAULT_ENV);
  assert.equal(c.spec.hostname, 'lxc');
  assert.deepEqual(c.stored.hooks, {});
});

test('the last line of a single-valued key wins; cgroup keys accumulate in order', { timeout: 10000 }, () => {
  const c = fromText('lxc.uts.name = a\nlxc.uts.name = b\nlxc.cgroup2.memory.max = 1G\nlxc.cgroup.memory.limit_in_bytes = 2G\nlxc.cgroup2.cpu.max = max 50000\nlxc.cgroup2.cpu.weight = 50\n');
  assert.equal(c.spec.hostname, 'b');
  assert.deepEqual(c.spec.resources, { memory: { max: 2 * 1024 ** 3 }, cpu: { quotaUs: null, periodUs: 50000, weight: 50 } });
});

test('mount targets: relative below the rootfs, absolute ones under it made relative, others warned', { timeout: 10000 }, () => {
  const c = fromText([
    'lxc.mount.entry = /a /srv/c1/rootfs/mnt/a none bind 0 0',
    'lxc.rootfs.path = dir:/srv/c1/rootfs/',
    'lxc.mount.entry = /b mnt//b/ none bind 0 0',
    'lxc.mount.entry = /c /opt/c none bind 0 0',
  ].join('\n'));
  assert.deepEqual(c.spec.mounts.map((m) => m.target), ['/mnt/a', '/mnt/b', '/opt/c']);
  assert.deepEqual(c.problems.map((p) => [p.line, p.severity]), [[4, 'warning']]);
  assert.match(c.problems[0]!.message, /not below lxc\.rootfs\.path/);
});

test('namespaces: clone selects, keep removes, mnt is required, time warned', { timeout: 10000 }, () => {
  assert.deepEqual(fromText('lxc.namespace.clone = mnt pid uts').spec.namespaces, ['pid', 'mount', 'uts']);
  assert.deepEqual(fromText('lxc.namespace.keep = net ipc').spec.namespaces, ['pid', 'mount', 'uts', 'cgroup']);
  const t = fromText('lxc.namespace.clone = mnt pid time');
  assert.match(t.problems[0]!.message, /time namespace/);
  assert.equal(t.problems[0]!.severity, 'warning');
  const m = fromText('lxc.namespace.clone = pid');
  assert.equal(m.problems[0]!.severity, 'error');
  assert.match(m.problems[0]!.message, /mount namespace/);
  const both = fromText('lxc.namespace.keep = net\nlxc.namespace.clone = mnt pid');
  assert.deepEqual(both.problems.map((p) => [p.line, p.key, p.severity]), [[2, 'lxc.namespace.clone', 'error']]);
  assert.match(both.problems[0]!.message, /cannot be combined with lxc\.namespace\.keep \(test\.conf:1\)/);
  const e = fromText('lxc.uts.name = x', { mode: 'execute' });
  assert.match(e.problems[0]!.message, /no command to execute/);
});

test('specToConfig -> configToSpec gives the spec back', { timeout: 10000 }, () => {
  for (const rel of ['debian/config', 'app/config', 'overlay/config']) {
    const a = fromFile(rel, { name: 'rt', hostEnv: { LXTS_FIXTURE_PASSED: 'yes' } });
    const text = specToConfig(a.spec, a.stored, { header: ['written by a test'] });
    const b = fromText(text, { name: 'rt' });
    assert.deepEqual(b.problems, [], `${rel}:\n${text}`);
    assert.deepEqual(b.spec, a.spec, rel);
    assert.deepEqual(b.stored, a.stored, rel);
  }
  // a spec the CLI builds: defaults, extra caps added back, every structured limit
  const s = defaultSpec('cli', ['/bin/sh', '-c', 'echo "hi there"']);
  s.rootfs = { kind: 'dir', path: '/srv/r', readonly: true };
  s.capabilities = { drop: ['sys_time', 'net_raw'], add: [] };
  s.namespaces = ['pid', 'mount', 'uts', 'cgroup'];
  s.process.env.push('X= spaced ');
  s.process.rlimits = [{ type: 'nofile', soft: 10, hard: 20 }];
  s.resources = {
    cpu: { weight: 200, quotaUs: 50000, periodUs: 100000, cpus: '0', mems: '0' },
    memory: { max: 1 << 30, high: null, swapMax: 0 },
    pids: { max: null },
    io: { weight: 300, throttle: [{ device: '8:0', rbps: 0, wiops: 5 }] },
    raw: [{ version: 1, key: 'memory.swappiness', value: '10' }],
  };
  const back = fromText(specToConfig(s), { name: 'cli' });
  assert.deepEqual(back.problems, []);
  assert.deepEqual(back.spec, s);
  // spec.init round-trips through lxc.execute.cmd in execute mode
  const i = { ...defaultSpec('i', ['/app']), init: true };
  assert.match(specToConfig(i), /^lxc\.execute\.cmd = \/app$/m);
  assert.deepEqual(fromText(specToConfig(i), { name: 'i', mode: 'execute' }).spec, { ...i, capabilities: { drop: i.capabilities.drop, add: [] } });
});
