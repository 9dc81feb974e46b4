// lxts execute, proven from inside real containers: namespaces, rootfs, masks, capabilities,
// exit codes and signals, bad input. After every test the machine is as it was.
import test from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync, readFileSync, chmodSync, chownSync, statSync } from 'node:fs';
import { lxts, machineState, leftovers, tempDir, isRoot, ROOT, CLI } from './helpers/lxts.js';
import { makeBusyboxRootfs } from '../../src/template/busybox-rootfs.js';

const T = { timeout: 30000 };
const skip = isRoot ? false : 'needs root';

async function clean<T>(fn: () => Promise<T>): Promise<T> {
  const before = machineState();
  try {
    return await fn();
  } finally {
    assert.deepEqual(await leftovers(before), [], 'the machine is as it was');
  }
}

async function sh(script: string, extra: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return lxts(['execute', ...extra, '--', '/bin/sh', '-c', script]);
}

test('the command is PID 1 and sees only its own processes', { ...T, skip }, () =>
  clean(async () => {
    const r = await sh('echo $$; ls -d /proc/[0-9]* | wc -l');
    assert.equal(r.code, 0, r.stderr);
    const [pid, count] = r.stdout.trim().split('\n');
    assert.equal(pid, '1');
    // sh itself, and the ls (plus wc, in the same pipeline): never the host's hundreds.
    assert.ok(Number(count) <= 3, `saw ${count} processes`);
  }));

test('hostname is the container\'s own and changing it leaves the host alone', { ...T, skip }, () =>
  clean(async () => {
    const host = hostname();
    const r = await sh('hostname; hostname changed-inside; hostname', ['--hostname', 'box1']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['box1', 'changed-inside']);
    assert.equal(hostname(), host);
  }));

test('a mount made inside does not appear on the host', { ...T, skip }, () =>
  clean(async () => {
    const r = await sh('mount -t tmpfs lxts-inside /mnt && grep -c lxts-inside /proc/self/mountinfo');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '1');
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes('lxts-inside'));
  }));

test('only lo exists in the network namespace, and it is up', { ...T, skip }, () =>
  clean(async () => {
    const r = await sh('ls /sys/class/net; cat /sys/class/net/lo/flags');
    assert.equal(r.code, 0, r.stderr);
    const [names, flags] = r.stdout.trim().split('\n');
    assert.equal(names, 'lo');
    assert.equal(Number(flags) & 1, 1, 'lo is up (IFF_UP)');
  }));

test('IPC objects are not shared with the host', { ...T, skip }, () =>
  clean(async () => {
    const mk = spawnSync('ipcmk', ['-M', '4096'], { encoding: 'utf8' });
    const id = /(\d+)/.exec(mk.stdout)?.[1];
    assert.ok(id, 'created a host shm segment: ' + mk.stdout + mk.stderr);
    try {
      const inside = await sh('cat /proc/sysvipc/shm | wc -l');
      assert.equal(inside.code, 0, inside.stderr);
      assert.equal(inside.stdout.trim(), '1', 'only the header line: no segments inside');
      assert.ok(readFileSync('/proc/sysvipc/shm', 'utf8').split('\n').some((l) => l.trim().split(/\s+/)[1] === id));
    } finally {
      spawnSync('ipcrm', ['-m', id!]);
    }
  }));

test('/ is the container rootfs and the host root is out of reach', { ...T, skip }, () =>
  clean(async () => {
    const r = await sh('ls /; test -e /work && echo host-visible; grep " / / " /proc/self/mountinfo | wc -l');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    for (const d of ['usr', 'etc', 'proc', 'dev', 'tmp']) assert.ok(lines.includes(d), `/${d} exists`);
    assert.ok(!lines.includes('work') && !lines.includes('host-visible'), 'the host\'s /work is not reachable');
  }));

test('the environment is clean and /dev is the container\'s own', { ...T, skip }, () =>
  clean(async () => {
    const r = await lxts(['execute', '-e', 'FOO=bar', '--', '/usr/bin/env'], { env: { ...process.env, SECRET_HOST_VAR: 'x' } });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes('FOO=bar'));
    assert.ok(!r.stdout.includes('SECRET_HOST_VAR'));
    const d = await sh('ls /dev | tr "\\n" " "; echo; ls /dev/pts; test -c /dev/null && echo null-ok; ls /proc/self/fd | tr "\\n" " "');
    assert.equal(d.code, 0, d.stderr);
    for (const n of ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'pts', 'shm', 'mqueue', 'ptmx', 'fd', 'stdin', 'stdout', 'stderr']) assert.match(d.stdout, new RegExp(`\\b${n}\\b`), `/dev/${n}`);
    assert.match(d.stdout, /null-ok/);
    // Only stdio and ls's own directory descriptor: no fd of the caller survives.
    assert.equal(d.stdout.trim().split('\n').at(-1)!.trim(), '0 1 2 3');
  }));

test('masked paths read empty and read-only paths refuse writes', { ...T, skip }, () =>
  clean(async () => {
    // /proc/kcore and /proc/sysrq-trigger exist only with some kernel options: read through
    // cat so an absent file and a masked one both give 0 bytes.
    const r = await sh('cat /proc/keys 2>/dev/null | wc -c; cat /proc/kcore 2>/dev/null | wc -c; ls /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo wrote || echo refused; grep -E " /proc/(sys|bus|irq|fs) " /proc/self/mountinfo | grep -c " ro,"');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['0', '0', '0', 'refused', '4']);
    // The host's own /proc/keys is not empty for root: the mask is what made it read empty.
    assert.ok(readFileSync('/proc/keys', 'utf8').length > 0);
  }));

test('the capability bounding set lacks the dropped capabilities', { ...T, skip }, () =>
  clean(async () => {
    const r = await sh('grep CapBnd /proc/self/status', ['--cap-drop', 'net_raw']);
    assert.equal(r.code, 0, r.stderr);
    const bnd = BigInt('0x' + r.stdout.trim().split(/\s+/)[1]);
    // mac_admin 33, mac_override 32, sys_time 25, sys_module 16, sys_rawio 17 (LXC defaults) + net_raw 13
    for (const bit of [33, 32, 25, 16, 17, 13]) assert.equal((bnd >> BigInt(bit)) & 1n, 0n, `capability ${bit} dropped`);
    assert.equal((bnd >> 21n) & 1n, 1n, 'sys_admin kept');
    const added = await sh('grep CapBnd /proc/self/status', ['--cap-add', 'sys_time']);
    assert.equal((BigInt('0x' + added.stdout.trim().split(/\s+/)[1]) >> 25n) & 1n, 1n, 'sys_time added back');
  }));

test('a superblock remount is refused (it would reach the host\'s filesystem); bind remounts work', { ...T, skip }, () =>
  clean(async () => {
    const rootfs = tempDir('lxts-ro-');
    try {
      makeBusyboxRootfs(rootfs.path);
      // The rootfs dir lives on the host's filesystem: `remount,ro /` without MS_BIND would
      // make that filesystem read-only for the host too.
      const r = await lxts(['execute', '--rootfs', rootfs.path, '--', '/bin/sh', '-c', 'mount -o remount,ro / 2>&1 && echo remounted || echo refused; mount -o remount,bind,ro /tmp 2>/dev/null; mount -o bind /tmp /mnt && mount -o remount,bind,ro /mnt && echo bind-ro-ok; grep Seccomp: /proc/self/status']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /refused/);
      assert.match(r.stdout, /bind-ro-ok/);
      assert.match(r.stdout, /Seccomp:\s+2/);
      // The host's filesystem under the rootfs is still writable.
      writeFileSync(rootfs.path + '/probe', 'x');
    } finally {
      rootfs.remove();
    }
  }));

test('user, cwd, no_new_privs and ulimits apply', { ...T, skip }, () =>
  clean(async () => {
    const r = await sh('id -u; id -g; pwd; grep NoNewPrivs /proc/self/status; ulimit -n', ['--user', '65534:65534', '--cwd', '/tmp', '--no-new-privs', '--ulimit', 'nofile=123']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.replace(/\s+/g, ' ')), ['65534', '65534', '/tmp', 'NoNewPrivs: 1', '123']);
  }));

test('-t: the command gets a terminal of its own, named /dev/console inside', { ...T, skip }, () =>
  clean(async () => {
    const r = await lxts(['execute', '-t', '--', '/bin/sh', '-c', 'tty; test -t 0 && test -t 1 && echo both-ttys; exit 4']);
    assert.equal(r.code, 4, r.stderr);
    assert.deepEqual(r.stdout.replace(/\r/g, '').trim().split('\n'), ['/dev/console', 'both-ttys']);
  }));

test('exit codes propagate: status, not found, not executable', { ...T, skip }, () =>
  clean(async () => {
    assert.equal((await sh('exit 7')).code, 7);
    const nf = await lxts(['execute', '--', '/no/such/cmd']);
    assert.equal(nf.code, 127);
    assert.match(nf.stderr, /^lxts: command not found in the container: \/no\/such\/cmd$/m);
    const ne = await lxts(['execute', '--', '/etc/passwd']);
    assert.equal(ne.code, 126);
    assert.match(ne.stderr, /not executable/);
  }));

test('--init runs the command as PID 2 under a minimal init, killed-by-signal status is 128+N', { ...T, skip }, () =>
  clean(async () => {
    const r = await sh('echo $$', ['--init']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '2');
    assert.equal((await sh('kill -9 $$', ['--init'])).code, 137);
    // A zombie whose parent died is reaped by the init; the command's status still wins.
    assert.equal((await sh('(sleep 0.1 &) ; exit 5', ['--init'])).code, 5);
  }));

test('Ctrl-C (SIGINT to the foreground process group) ends the command: 130, nothing left', { ...T, skip }, () =>
  clean(async () => {
    let pgid = 0;
    const others = new Set(machineState().execs);
    const run = lxts(['execute', '--', '/bin/sleep', '100'], { onSpawn: (p) => (pgid = p) });
    // Wait for the container to be running: our executor appears (other lxts-exec
    // processes on the machine are not ours).
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline && !machineState().execs.some((p) => !others.has(p))) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    process.kill(-pgid, 'SIGINT');
    const r = await run;
    assert.equal(r.code, 130, r.stderr);
  }));

test('a directory rootfs (busybox) with a bind mount; symlinks cannot lead out of it', { ...T, skip }, () =>
  clean(async () => {
    const rootfs = tempDir('lxts-bb-');
    const data = tempDir('lxts-data-');
    try {
      makeBusyboxRootfs(rootfs.path);
      writeFileSync(data.path + '/hello', 'from-host\n');
      // A symlink inside the rootfs pointing at the host's root: a mount through it must stay inside.
      symlinkSync('/', rootfs.path + '/evil');
      mkdirSync(rootfs.path + '/tmp/inner', { recursive: true });
      const r = await lxts(['execute', '--rootfs', rootfs.path, '--mount', `${data.path}:/evil/lxts-escape-probe:ro`, '--', '/bin/sh', '-c', 'cat /lxts-escape-probe/hello; echo x > /lxts-escape-probe/f 2>/dev/null || echo ro; ls /bin/busybox']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), ['from-host', 'ro', '/bin/busybox']);
      assert.ok(!existsSync('/lxts-escape-probe'), 'nothing was created at the host\'s root');
      assert.ok(existsSync(rootfs.path + '/lxts-escape-probe'), 'the target was created inside the rootfs');
    } finally {
      rootfs.remove();
      data.remove();
    }
  }));

test('--bundle runs an OCI bundle (config.json as crun/runc spec write it)', { ...T, skip }, () =>
  clean(async () => {
    const bundle = tempDir('lxts-oci-');
    try {
      makeBusyboxRootfs(bundle.path + '/rootfs');
      const cfg = {
        ociVersion: '1.0.0',
        process: { terminal: false, user: { uid: 0, gid: 0 }, args: ['/bin/sh', '-c', 'echo pid=$$ host=$(hostname) env=$GREETING; grep CapBnd /proc/self/status; cat /proc/self/status | grep -c NoNewPrivs:.1'], env: ['PATH=/bin', 'GREETING=hi'], cwd: '/', capabilities: { bounding: ['CAP_KILL', 'CAP_CHOWN'] }, noNewPrivileges: true },
        root: { path: 'rootfs', readonly: false },
        hostname: 'ocibox',
        mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
        linux: { namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }], resources: { pids: { limit: 20 } } },
      };
      writeFileSync(bundle.path + '/config.json', JSON.stringify(cfg));
      const r = await lxts(['execute', '--bundle', bundle.path]);
      assert.equal(r.code, 0, r.stderr);
      const [first, capLine, nnp] = r.stdout.trim().split('\n');
      assert.equal(first, 'pid=1 host=ocibox env=hi');
      // kill (5) and chown (0) only.
      assert.equal(BigInt('0x' + capLine!.split(/\s+/)[1]), (1n << 5n) | 1n);
      assert.equal(nnp, '1');
      const o = await lxts(['execute', '--bundle', bundle.path, '--', '/bin/hostname']);
      assert.equal(o.stdout.trim(), 'ocibox', 'a command after -- replaces process.args');
      const bad = await lxts(['execute', '--bundle', bundle.path, '--memory', '1G']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--memory cannot be combined with --bundle/);
      const none = await lxts(['execute', '--bundle', '/nonexistent-bundle']);
      assert.equal(none.code, 3);
      assert.match(none.stderr, /config\.json: no such file \(is this an OCI bundle\?\)/);
    } finally {
      bundle.remove();
    }
  }));

test('--userns: the container\'s root is an unprivileged host user (uid 100000)', { ...T, skip }, () =>
  clean(async () => {
    const dir = tempDir('lxts-userns-');
    try {
      // The mapped root must be able to pass through to its rootfs.
      chmodSync(dir.path, 0o755);
      makeBusyboxRootfs(dir.path + '/rootfs');
      mkdirSync(dir.path + '/rootfs/data');
      mkdirSync(dir.path + '/data');
      chownSync(dir.path + '/data', 100000, 100000);
      // --seccomp unconfined: the remount below is refused by the kernel itself, not the filter.
      const r = await lxts(['execute', '--userns', '--seccomp', 'unconfined', '--rootfs', dir.path + '/rootfs', '--mount', `${dir.path}/data:/data`, '--', '/bin/sh', '-c',
        'id -u; cat /proc/self/uid_map; touch /data/made-inside && echo touched; stat -c %u /bin/busybox; mount -o remount,ro / 2>/dev/null && echo remounted || echo remount-refused; echo x > /etc/probe 2>/dev/null && echo wrote-etc || echo etc-refused']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.trim().replace(/\s+/g, ' ')), ['0', '0 100000 65536', 'touched', '65534', 'remount-refused', 'etc-refused']);
      // What the container's root made is the host's uid 100000; the host's root-owned files
      // stay untouched.
      assert.equal(statSync(dir.path + '/data/made-inside').uid, 100000);
      assert.ok(!existsSync(dir.path + '/rootfs/etc/probe'));
      const bad = await lxts(['execute', '--idmap', 'u:0:100000:65536', '--', 'true']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /needs both a uid and a gid map/);
      const overlap = await lxts(['execute', '--idmap', 'b:0:100000:1000', '--idmap', 'b:10:200000:5', '--', 'true']);
      assert.equal(overlap.code, 3);
      assert.match(overlap.stderr, /uid maps overlap inside the container/);
    } finally {
      dir.remove();
    }
  }));

test('the library runs a container without the CLI', { ...T, skip }, () =>
  clean(async () => {
    const { launch } = await import('../../src/index.js');
    const { defaultSpec } = await import('../../src/spec.js');
    const spec = defaultSpec('lib-test', ['/bin/sh', '-c', 'echo $$ $(hostname)']);
    const c = await launch(spec, { stdio: 'pipe' });
    let out = '';
    c.executor.stdout!.on('data', (d) => (out += d));
    const st = await c.wait();
    assert.equal(st.code, 0);
    assert.equal(out.trim(), '1 lib-test');
  }));

test('bad input: one clear line, distinct exit code, nothing left', { ...T, skip }, () =>
  clean(async () => {
    const cases: [string[], number, RegExp][] = [
      [['execute', '--rootfs', '/nonexistent-lxts', '--', 'true'], 3, /^lxts: rootfs \/nonexistent-lxts does not exist$/m],
      [['execute', '--rootfs', '/etc/hostname', '--', 'true'], 3, /is not a directory/],
      [['execute', '--cap-drop', 'sys_bogus', '--', 'true'], 2, /unknown capability "sys_bogus"/],
      [['execute', '--mount', 'nocolon', '--', 'true'], 2, /--mount needs SRC:DST/],
      [['execute', '--name', 'a/b', '--', 'true'], 2, /invalid container name "a\/b": contains a path separator/],
      [['execute', '--name', '..', '--', 'true'], 2, /invalid container name/],
      [['execute', '--name', 'x'.repeat(65), '--', 'true'], 2, /longer than 64/],
      [['execute', '--name', 'a\tb', '--', 'true'], 2, /control characters/],
      [['execute', '--bogus-flag', '--', 'true'], 2, /Unknown option '--bogus-flag'/],
      [['execute'], 2, /no command given/],
      [['nosuchcommand'], 2, /unknown command "nosuchcommand"/],
    ];
    for (const [args, code, re] of cases) {
      const r = await lxts(args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
      assert.equal(r.stderr.trim().split('\n')[0]!.startsWith('lxts: '), true);
    }
  }));

test('without root: a clear error that suggests sudo', { ...T, skip }, () =>
  clean(async () => {
    const r = spawnSync(process.execPath, [CLI, 'execute', '--', 'true'], { uid: 65534, gid: 65534, encoding: 'utf8', cwd: '/', timeout: 20000 });
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /needs root privileges/);
    assert.match(r.stderr, /sudo lxts execute/);
    void ROOT;
  }));

test('--help and --dry-run work without root and print the plan', { ...T }, async () => {
  const h = await lxts(['execute', '--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /usage: lxts execute/);
  const d = await lxts(['execute', '--dry-run', '--', '/bin/true']);
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, /PIVOT_ROOT/);
  assert.match(d.stdout, /EXEC\s+\/bin\/true/);
});
