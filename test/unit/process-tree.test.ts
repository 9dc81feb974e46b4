// The host snapshot on a made-up /proc: NSpid lists, container membership by cgroup path,
// monitors recognised as the parents of containers' top processes, kernel threads left out,
// and the `lxts ps --tree` text with host and container PIDs side by side. No root needed.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostSnapshot, parseStatus, containerCgroupOf, displayName, formatTree, formatNsPids, commandOf } from '../../src/host/process-tree.js';

const T = { timeout: 10000 };

interface FakeProc {
  pid: number;
  ppid: number;
  name: string;
  nspid?: number[];
  cmd?: string[];
  cgroup?: string;
  ns?: number;
}

function fakeProc(procs: FakeProc[]): { root: string; remove(): void } {
  const root = mkdtempSync(join(tmpdir(), 'lxts-proc-'));
  for (const p of procs) {
    const d = join(root, String(p.pid));
    mkdirSync(join(d, 'ns'), { recursive: true });
    writeFileSync(join(d, 'status'), `Name:\t${p.name}\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t${p.pid}\nPid:\t${p.pid}\nPPid:\t${p.ppid}\nUid:\t0\t0\t0\t0\nNSpid:\t${(p.nspid ?? [p.pid]).join('\t')}\nVmRSS:\t    1234 kB\n`);
    writeFileSync(join(d, 'cmdline'), p.cmd ? p.cmd.join('\0') + '\0' : '');
    writeFileSync(join(d, 'cgroup'), p.cgroup ?? '0::/\n');
    symlinkSync(`pid:[${p.ns ?? 4026531836}]`, join(d, 'ns', 'pid'));
  }
  mkdirSync(join(root, 'self')); // not a PID: ignored
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

const v1 = (path: string): string => `8:pids:${path}\n4:memory:/sandbox/x${path}\n1:cpu:${path}\n0::/\n`;

const PROCS: FakeProc[] = [
  { pid: 1, ppid: 0, name: 'systemd', cmd: ['/sbin/init'] },
  { pid: 2, ppid: 0, name: 'kthreadd' },
  { pid: 3, ppid: 2, name: 'rcu_gp' },
  { pid: 50, ppid: 1, name: 'sshd', cmd: ['sshd: /usr/sbin/sshd -D'] },
  // container web (default lxtspath: cgroup lxts/web), system container: init + getty + sh
  { pid: 100, ppid: 1, name: 'lxts-exec', cmd: ['/usr/lib/lxts/lxts-exec'] },
  { pid: 101, ppid: 100, name: 'init', nspid: [101, 1], cmd: ['init'], cgroup: v1('/lxts/web'), ns: 4026532001 },
  { pid: 102, ppid: 101, name: 'getty', nspid: [102, 8], cmd: ['/sbin/getty', '-L', '38400', 'console'], cgroup: v1('/lxts/web'), ns: 4026532001 },
  { pid: 103, ppid: 101, name: 'sh', nspid: [103, 9], cmd: ['/bin/sh'], cgroup: v1('/lxts/web'), ns: 4026532001 },
  { pid: 104, ppid: 103, name: 'sleep', nspid: [104, 12], cmd: ['sleep', '100'], cgroup: v1('/lxts/web'), ns: 4026532001 },
  // container db of another lxtspath (name.hash), pure v2 path
  { pid: 200, ppid: 1, name: 'lxts-exec', cmd: ['/usr/lib/lxts/lxts-exec'] },
  { pid: 201, ppid: 200, name: 'postgres', nspid: [201, 1], cmd: ['postgres', '-D', '/data'], cgroup: '0::/user.slice/lxts/db.0a1b2c3d\n', ns: 4026532002 },
  // a nested PID namespace inside db
  { pid: 202, ppid: 201, name: 'inner', nspid: [202, 5, 1], cmd: ['inner'], cgroup: '0::/user.slice/lxts/db.0a1b2c3d\n', ns: 4026532003 },
  // an attached process (lxts attach): its parent is outside the container
  { pid: 300, ppid: 50, name: 'lxts-exec', cmd: ['/usr/lib/lxts/lxts-exec'] },
  { pid: 301, ppid: 300, name: 'ps', nspid: [301, 20], cmd: ['ps'], cgroup: v1('/lxts/web'), ns: 4026532001 },
];

test('parseStatus and containerCgroupOf', T, () => {
  const s = parseStatus('Name:\tinit\nState:\tS (sleeping)\nPid:\t101\nPPid:\t100\nUid:\t1000\t1000\t1000\t1000\nNSpid:\t101\t1\nVmRSS:\t  812 kB\n');
  assert.deepEqual(s, { name: 'init', state: 'S', ppid: 100, uid: 1000, nspid: [101, 1], rssKiB: 812 });
  // kernels without NSpid: the PID alone
  assert.deepEqual(parseStatus('Name:\tx\nPid:\t7\nPPid:\t1\n').nspid, [7]);
  assert.equal(containerCgroupOf(v1('/lxts/web')), 'web');
  assert.equal(containerCgroupOf('0::/user.slice/lxts/db.0a1b2c3d/sub\n'), 'db.0a1b2c3d');
  assert.equal(containerCgroupOf('0::/lxts\n'), null, 'the parent itself is no container');
  assert.equal(containerCgroupOf('0::/system.slice/sshd.service\n'), null);
  assert.equal(containerCgroupOf('0::/ci/box1\n', ['ci']), 'box1');
  assert.equal(displayName('db.0a1b2c3d'), 'db');
  assert.equal(displayName('web.v2'), 'web.v2');
  assert.equal(formatNsPids([4242, 1]), '4242 → 1');
  assert.equal(commandOf({ cmdline: [], comm: 'kworker' }), '[kworker]');
  assert.equal(commandOf({ cmdline: ['a', 'b'.repeat(100)], comm: 'a' }, 10), 'a bbbbbbb…');
});

test('snapshot: containers grouped by cgroup, monitors found, NSpid kept, kernel threads left out', T, () => {
  const proc = fakeProc(PROCS);
  try {
    const snap = hostSnapshot({ procRoot: proc.root, known: [{ name: 'web', cgroupName: 'web' }] });
    assert.equal(snap.hostInit, 1);
    assert.ok(!snap.processes.some((p) => p.pid === 2 || p.pid === 3), 'kernel threads are left out');
    assert.deepEqual(snap.roots, [1]);
    const by = new Map(snap.processes.map((p) => [p.pid, p]));
    assert.deepEqual(by.get(1)!.children, [50, 100, 200]);

    assert.deepEqual(snap.containers.map((c) => [c.name, c.cgroup, c.known]), [['web', 'web', true], ['db', 'db.0a1b2c3d', false]]);
    const web = snap.containers[0]!;
    assert.equal(web.monitorPid, 100);
    assert.equal(web.initPid, 101);
    assert.equal(web.pidns, 'pid:[4026532001]');
    assert.deepEqual(web.pids, [101, 102, 103, 104, 301], 'tree order, the attached process last');
    assert.equal(by.get(100)!.role, 'monitor');
    assert.equal(by.get(100)!.container, 'web');
    assert.equal(by.get(101)!.role, 'init');
    assert.equal(by.get(104)!.role, 'container');
    assert.deepEqual(by.get(104)!.nspid, [104, 12]);
    assert.equal(by.get(300)!.role, 'host', 'the attach executor is not the monitor');
    assert.equal(by.get(50)!.container, null);

    const db = snap.containers[1]!;
    assert.equal(db.monitorPid, 200);
    assert.equal(db.initPid, 201);
    assert.deepEqual(by.get(202)!.nspid, [202, 5, 1]);

    const withK = hostSnapshot({ procRoot: proc.root, skipKernelThreads: false });
    assert.ok(withK.processes.find((p) => p.pid === 3)!.kernelThread);
    // the three PID 1s: the host's, web's, db's (and the nested one)
    const ones = snap.processes.filter((p) => p.nspid[p.nspid.length - 1] === 1).map((p) => p.pid);
    assert.deepEqual(ones, [1, 101, 201, 202]);
  } finally {
    proc.remove();
  }
});

test('ps --tree text: host PID and container PID side by side, per container, from the monitor down', T, () => {
  const proc = fakeProc(PROCS);
  try {
    const snap = hostSnapshot({ procRoot: proc.root, known: [{ name: 'web', cgroupName: 'web' }] });
    const text = formatTree(snap);
    const lines = text.split('\n');
    assert.match(lines[0]!, /^CONTAINER\s+HOST PID\s+CONTAINER PID\s+COMMAND$/);
    assert.match(text, /^\(host\)\s+1\s+-\s+\/sbin\/init\s+<- the host's PID 1$/m);
    assert.match(text, /^web\s+100\s+-\s+lxts-exec\s+\(monitor\)$/m);
    assert.match(text, /^\s+101\s+1\s+└─ init$/m);
    assert.match(text, /^\s+102\s+8\s+├─ \/sbin\/getty -L 38400 console$/m);
    assert.match(text, /^\s+103\s+9\s+└─ \/bin\/sh\n\s+104\s+12\s+└─ sleep 100$/m);
    assert.match(text, /^\s+301\s+20\s+└─ ps$/m, "an attached process: its own top");
    assert.match(text, /^db\s+200\s+-\s+lxts-exec\s+\(monitor\)$/m);
    assert.match(text, /^\s+202\s+5 → 1\s+└─ inner$/m, 'nested namespaces: every inner PID');
    assert.ok(!/sshd/.test(text), 'host processes only with --all');
    const all = formatTree(snap, { all: true });
    assert.match(all, /sshd: \/usr\/sbin\/sshd -D/);
    assert.match(all, /^\s+300\s+-\s+.*lxts-exec/m);
    const empty = formatTree(hostSnapshot({ procRoot: proc.root + '/nonexistent' }));
    assert.match(empty, /no running containers/);
  } finally {
    proc.remove();
  }
});
