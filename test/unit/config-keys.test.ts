// The key table: every key family the issue names is known, values are checked, and broken
// files report each problem at its file:line. docs/config.md is kept equal to the table.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KEYS, lookupKey, checkEntry } from '../../src/config/lxc-keys.js';
import { loadConfig, formatProblem } from '../../src/config/lxc-parse.js';
import { configToSpec } from '../../src/config/lxc-to-spec.js';
import { renderKeyTable, KEY_TABLE_BEGIN, KEY_TABLE_END } from '../../src/config/key-doc.js';
import * as V from '../../src/config/lxc-values.js';

const FIX = fileURLToPath(new URL('../../../test/unit/fixtures/lxc/', import.meta.url));
const DOC = fileURLToPath(new URL('../../../docs/config.md', import.meta.url));

const REQUIRED = [
  'lxc.uts.name', 'lxc.arch', 'lxc.rootfs.path', 'lxc.rootfs.options', 'lxc.mount.entry', 'lxc.mount.fstab', 'lxc.mount.auto',
  'lxc.autodev', 'lxc.init.cmd', 'lxc.init.cwd', 'lxc.init.uid', 'lxc.init.gid', 'lxc.execute.cmd', 'lxc.environment',
  'lxc.cap.drop', 'lxc.cap.keep', 'lxc.cgroup.memory.limit_in_bytes', 'lxc.cgroup2.memory.max', 'lxc.cgroup.dir',
  'lxc.prlimit.nofile', 'lxc.sysctl.net.ipv4.ip_forward', 'lxc.namespace.clone', 'lxc.namespace.keep', 'lxc.no_new_privs',
  'lxc.signal.halt', 'lxc.signal.reboot', 'lxc.signal.stop', 'lxc.start.auto', 'lxc.start.delay', 'lxc.start.order',
  'lxc.group', 'lxc.console.logfile', 'lxc.console.path', 'lxc.tty.max', 'lxc.pty.max', 'lxc.hook.pre-start',
  'lxc.hook.start-host', 'lxc.hook.mount', 'lxc.hook.start', 'lxc.hook.stop', 'lxc.hook.post-stop', 'lxc.net.0.type',
  'lxc.net.0.link', 'lxc.net.0.name', 'lxc.net.0.hwaddr', 'lxc.net.0.mtu', 'lxc.net.0.flags', 'lxc.net.0.ipv4.address',
  'lxc.net.0.ipv4.gateway', 'lxc.net.0.ipv6.address', 'lxc.net.0.ipv6.gateway', 'lxc.net.0.veth.pair', 'lxc.net.12.veth.mode',
  'lxc.net.0.macvlan.mode', 'lxc.net.0.script.up', 'lxc.net.0.script.down', 'lxc.idmap', 'lxc.seccomp.profile',
  'lxc.apparmor.profile', 'lxc.include',
];

test('every key the issue names is in the table, with its support level', { timeout: 10000 }, () => {
  for (const k of REQUIRED) {
    const l = lookupKey(k);
    assert.ok(l.ok, `${k} is not in the key table`);
  }
  const support = (k: string) => (lookupKey(k) as { ok: true; match: { def: { support: string } } }).match.def.support;
  assert.equal(support('lxc.net.3.ipv4.address'), 'supported');
  assert.equal(support('lxc.net.3.l2proxy'), 'stored');
  assert.equal(support('lxc.seccomp.profile'), 'stored');
  assert.equal(support('lxc.idmap'), 'supported');
  assert.equal(support('lxc.apparmor.profile'), 'unsupported');
  assert.equal(support('lxc.cgroup.cpu.shares'), 'supported');
  // exact rows win over families
  assert.equal((lookupKey('lxc.cgroup.dir') as { ok: true; match: { def: { name: string } } }).match.def.name, 'lxc.cgroup.dir');
  assert.equal((lookupKey('lxc.cgroup.devices.allow') as { ok: true; match: { def: { name: string } } }).match.def.name, 'lxc.cgroup.devices.allow');
  // each row is documented and named once
  const names = KEYS.map((k) => k.name);
  assert.equal(new Set(names).size, names.length, 'duplicate rows');
  for (const k of KEYS) assert.ok(k.description.length > 10 && k.syntax.length > 0, k.name);
});

test('unknown, legacy and foreign keys are warnings; bad indices are errors', { timeout: 10000 }, () => {
  const w = (k: string) => checkEntry(k, '1') as { ok: false; severity: string; message: string };
  assert.equal(w('lxc.foo').severity, 'warning');
  assert.match(w('lxc.utsname').message, /renamed lxc\.uts\.name in LXC 3\.0/);
  assert.match(w('lxc.network.type').message, /renamed lxc\.net\.\* in LXC 3\.0/);
  assert.match(w('foo.bar').message, /not an lxc\.\* key/);
  assert.match(w('lxc.net.0.nonsense').message, /unknown network key/);
  for (const bad of ['lxc.net.x.type', 'lxc.net.-1.type', 'lxc.net.01.link', 'lxc.net.type', 'lxc.net.5000.type']) {
    const r = w(bad);
    assert.equal(r.severity, 'error', bad);
    assert.match(r.message, /bad index/, bad);
  }
});

test('value parsers: signals, capabilities, mounts, id maps, addresses, limits', { timeout: 10000 }, () => {
  assert.deepEqual(V.signal('SIGPWR'), { name: 'SIGPWR', number: 30 });
  assert.deepEqual(V.signal('sigterm'), { name: 'SIGTERM', number: 15 });
  assert.deepEqual(V.signal('PWR'), { name: 'SIGPWR', number: 30 });
  assert.deepEqual(V.signal('9'), { name: 'SIGKILL', number: 9 });
  assert.deepEqual(V.signal('SIGRTMIN+3'), { name: 'SIGRTMIN+3', number: 37 });
  assert.deepEqual(V.signal('SIGRTMAX-10'), { name: 'SIGRTMAX-10', number: 54 });
  for (const bad of ['SIGFOO', '0', '65', 'SIGRTMAX+1', '']) assert.throws(() => V.signal(bad), V.ConfigValueError, bad);

  assert.deepEqual(V.capabilities('CAP_SYS_ADMIN net_raw  21', false), ['sys_admin', 'net_raw', 'sys_admin']);
  assert.throws(() => V.capabilities('sys_bogus', false), /unknown capability "sys_bogus"/);
  assert.throws(() => V.capabilities('none', false), /unknown capability/);
  assert.deepEqual(V.capabilities('none', true), ['none']);

  assert.deepEqual(V.mountEntry('/a\\040b mnt/x none bind,ro,defaults 0 0'), { source: '/a b', target: 'mnt/x', type: 'none', options: ['bind', 'ro'], dump: 0, pass: 0 });
  assert.deepEqual(V.mountEntry('proc proc proc'), { source: 'proc', target: 'proc', type: 'proc', options: [], dump: 0, pass: 0 });
  for (const bad of ['/src', '/a b', 'a b c d e f g', 'a b c d x 0', 'a ../x none bind', 'a b none create=dir2']) assert.throws(() => V.mountEntry(bad), /bad mount/, bad);
  assert.equal(V.formatMountEntry({ source: '/a b', target: 'mnt', type: 'none', options: [] }), '/a\\040b mnt none defaults 0 0');

  assert.deepEqual(V.idmap('g 0 100000 65536'), { type: 'g', nsid: 0, hostid: 100000, range: 65536 });
  for (const bad of ['u 0 100000', 'x 0 1 1', 'u 0 1 0', 'u a 1 1']) assert.throws(() => V.idmap(bad), V.ConfigValueError, bad);

  assert.deepEqual(V.ipv4Address('10.0.3.5/16 10.0.255.255'), { address: '10.0.3.5', prefix: 16, broadcast: '10.0.255.255' });
  assert.deepEqual(V.ipv4Address('10.0.3.5'), { address: '10.0.3.5', prefix: 24 });
  assert.throws(() => V.ipv4Address('10.0.3.500/24'), /not an IPv4 address/);
  assert.throws(() => V.ipv4Address('10.0.3.5/33'), /between 0 and 32/);
  assert.deepEqual(V.ipv6Address('fd00::1/48'), { address: 'fd00::1', prefix: 48 });
  assert.equal(V.hwaddr('00:16:3E:xx:xx:xx'), '00:16:3e:xx:xx:xx');
  assert.throws(() => V.hwaddr('00:16:3e:xx:xx'), /MAC/);

  assert.deepEqual(V.prlimit('nofile', '1024:4096'), { soft: 1024, hard: 4096 });
  assert.deepEqual(V.prlimit('core', 'unlimited'), { soft: 'unlimited', hard: 'unlimited' });
  assert.deepEqual(V.prlimit('nproc', '10:unlimited'), { soft: 10, hard: 'unlimited' });
  assert.throws(() => V.prlimit('nofile', '4096:1024'), /above the hard limit/);
  assert.throws(() => V.prlimit('nofiles', '1'), /unknown resource limit/);

  assert.deepEqual(V.commandLine('/bin/sh -c "echo a  b" \'x y\''), ['/bin/sh', '-c', 'echo a  b', 'x y']);
  assert.deepEqual(V.commandLine(V.formatCommandLine(['a b', "it's", '', 'plain'])), ['a b', "it's", '', 'plain']);
  assert.deepEqual(V.mountAuto('proc sys:ro cgroup-full:rw:force'), { proc: 'mixed', sys: 'ro', cgroup: { mode: 'rw', full: true, force: true } });
  assert.throws(() => V.mountAuto('proc:ro'), /proc:ro/);
  assert.deepEqual(V.deviceRule('c 136:* rwm', true), { allow: true, type: 'c', major: 136, minor: '*', access: 'rwm' });
  assert.throws(() => V.deviceRule('c 1:3 rwx', true), /bad device rule/);
  assert.deepEqual(V.rootfsPath('overlayfs:/a:/b'), { backend: 'overlay', lower: '/a', upper: '/b' });
  assert.deepEqual(V.rootfsPath('/srv/rootfs'), { backend: 'dir', path: '/srv/rootfs' });
  assert.throws(() => V.rootfsPath('overlay:/a'), /overlay:LOWERDIR:UPPERDIR/);
  assert.throws(() => V.rootfsPath('rootfs'), /absolute path/);
  assert.equal(V.consoleSize('64kB'), 65536);
  assert.equal(V.arch('amd64'), 'x86_64');
});

test('cgroup values are checked by the cgroup layer\'s own parsers', { timeout: 10000 }, () => {
  const c = (k: string, v: string) => checkEntry(k, v);
  assert.ok(c('lxc.cgroup2.memory.max', '512M').ok);
  assert.ok(c('lxc.cgroup2.memory.max', 'max').ok);
  assert.ok(c('lxc.cgroup2.cpu.max', '50000 100000').ok);
  assert.ok(c('lxc.cgroup2.memory.oom.group', '1').ok, 'files without a structured form pass through');
  assert.match((c('lxc.cgroup2.cpu.max', 'half') as { message: string }).message, /QUOTA/);
  assert.match((c('lxc.cgroup.cpu.shares', 'lots') as { message: string }).message, /must be a number/);
  assert.match((c('lxc.cgroup.Memory', '1') as { message: string }).message, /not a cgroup file name/);
});

// line -> what the error must say, for broken/values.conf
const BROKEN: [number, string, RegExp][] = [
  [2, 'lxc.tty.max', /whole number, got "four"/],
  [3, 'lxc.signal.halt', /unknown signal "SIGFOO"/],
  [4, 'lxc.mount.entry', /bad mount entry "\/src"/],
  [5, 'lxc.cap.drop', /unknown capability "sys_bogus"/],
  [6, 'lxc.net.x.type', /bad index "x"/],
  [7, 'lxc.no_new_privs', /expected 0 or 1/],
  [8, 'lxc.idmap', /bad id map/],
  [9, 'lxc.cgroup2.memory.max', /not a size/],
  [10, 'lxc.uts.name', /not a valid hostname/],
  [11, 'lxc.rootfs.path', /backend "btrfs" is not supported/],
  [12, 'lxc.net.0.type', /got "wifi"/],
  [13, 'lxc.prlimit.nofiles', /unknown resource limit/],
  [14, 'lxc.init.cmd', /unbalanced " quote/],
  [15, 'lxc.mount.auto', /proc:ro/],
  [16, 'lxc.namespace.keep', /mount namespace/],
  [19, 'lxc.net.1.link', /interface 1 has no lxc\.net\.1\.type/],
  [20, 'lxc.sysctl', /only an empty value/],
  [21, 'lxc.cgroup.Memory.Max', /not a cgroup file name/],
  [22, '', /no "="/],
  [23, 'lxc.net.00.type', /leading zeros/],
];

test('a broken config: every error names its file:line and key', { timeout: 10000 }, () => {
  const file = join(FIX, 'broken/values.conf');
  const loaded = loadConfig(file);
  const c = configToSpec({ entries: loaded.entries, files: loaded.files, problems: loaded.problems, file });
  const errors = c.problems.filter((p) => p.severity === 'error');
  const warnings = c.problems.filter((p) => p.severity === 'warning');
  for (const [line, key, re] of BROKEN) {
    const p = errors.find((e) => e.line === line);
    assert.ok(p, `no error at line ${line}`);
    assert.equal(p.file, file);
    assert.equal(p.key ?? '', key, `line ${line}`);
    assert.match(p.message, re, `line ${line}`);
    assert.ok(formatProblem(p).startsWith(`${file}:${line}: ${key ? key + ': ' : ''}`), formatProblem(p));
  }
  assert.equal(errors.length, BROKEN.length, errors.map(formatProblem).join('\n'));
  assert.deepEqual(warnings.map((w) => [w.line, w.key]), [[17, 'lxc.utsname'], [18, 'lxc.foo.bar']]);
  assert.match(formatProblem(warnings[0]!), /values\.conf:17: warning: lxc\.utsname: unknown key \(renamed lxc\.uts\.name/);

  const caps = join(FIX, 'broken/caps.conf');
  const k = configToSpec({ entries: loadConfig(caps).entries, file: caps });
  assert.match(formatProblem(k.problems[0]!), /caps\.conf:2: lxc\.cap\.keep: cannot be combined with lxc\.cap\.drop \(.*caps\.conf:1\)/);
});

test('docs/config.md carries the key table as generated from lxc-keys.ts', { timeout: 10000 }, () => {
  let doc = readFileSync(DOC, 'utf8');
  const table = renderKeyTable();
  if (process.env.UPDATE_GOLDEN === '1') {
    const a = doc.indexOf(KEY_TABLE_BEGIN);
    const b = doc.indexOf(KEY_TABLE_END);
    doc = a >= 0 && b > a ? doc.slice(0, a) + table + doc.slice(b + KEY_TABLE_END.length) : doc + '\n' + table + '\n';
    writeFileSync(DOC, doc);
  }
  assert.ok(doc.includes(table), 'docs/config.md is out of date: run `lxts config keys --markdown` (or UPDATE_GOLDEN=1) and paste the table');
  for (const k of KEYS) assert.ok(doc.includes('`' + k.name + '`'), `${k.name} missing from docs/config.md`);
});
