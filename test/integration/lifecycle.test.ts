// Persistent containers end to end, through the real CLI: a busybox system container is
// created, started in the background (held by its lxts-exec monitor), inspected, attached
// to, watched on its console, frozen, stopped and destroyed. Each test uses its own
// lxtspath and run dir, and leaves the machine as it found it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync, readFileSync, appendFileSync, renameSync, symlinkSync, unlinkSync, chmodSync } from 'node:fs';
import { isRoot, withLxtsEnv, createBusybox, type LxtsEnv as Env } from './helpers/lxts.js';
import { monitorConsole } from '../../src/monitor-client.js';

const skip = isRoot ? false : 'needs root';
const T = { timeout: 90000, skip };

const withEnv = (fn: (env: Env) => Promise<void>): Promise<void> => withLxtsEnv('lxts-life', fn);

test('busybox system container: create, start, ls, attach, console, freeze, cgroup, stop, destroy', T, () =>
  withEnv(async (env) => {
    // lxc.environment: KEY=VALUE, and a bare KEY that passes the starting process's value.
    await createBusybox(env, 'bb1', ['lxc.environment = GREETING=hello', 'lxc.environment = LXTS_TEST_PASS']);
    assert.ok(existsSync(`${env.path}/bb1/config`) && existsSync(`${env.path}/bb1/rootfs/bin/busybox`));

    env.env.LXTS_TEST_PASS = 'from-the-host';
    const start = await env.lxts(['start', 'bb1']);
    delete env.env.LXTS_TEST_PASS;
    assert.equal(start.code, 0, start.stderr);
    const ls = await env.lxts(['ls', '--json']);
    const rows = JSON.parse(ls.stdout) as { name: string; state: string; pid: number }[];
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.state, 'RUNNING');
    assert.ok(rows[0]!.pid > 1);
    const table = await env.lxts(['ls']);
    assert.match(table.stdout, /^NAME\s+STATE\s+AUTOSTART\s+PID\s+IPV4\s+MEMORY$/m);
    assert.match(table.stdout, /^bb1\s+RUNNING\s/m);

    // The container's own view: busybox init is PID 1.
    const ps = await env.lxts(['attach', 'bb1', '--', '/bin/ps', '-o', 'pid,comm']);
    assert.equal(ps.code, 0, ps.stderr);
    assert.match(ps.stdout, /^\s*1\s+init$/m);
    const environ = await env.lxts(['attach', 'bb1', '--', '/bin/sh', '-c', 'tr "\\0" "\\n" < /proc/1/environ']);
    assert.match(environ.stdout, /^GREETING=hello$/m);
    assert.match(environ.stdout, /^LXTS_TEST_PASS=from-the-host$/m);
    const host = await env.lxts(['attach', 'bb1', '--', '/bin/hostname']);
    assert.equal(host.stdout.trim(), 'bb1');
    assert.equal((await env.lxts(['attach', 'bb1', '--', '/bin/sh', '-c', 'exit 9'])).code, 9);

    // The console shows the getty prompt; the client can detach without harm.
    const { paths } = new (await import('../../src/container.js')).Container('bb1', { lxtspath: env.path, rundir: env.rundir });
    const sock = await monitorConsole(paths.sock);
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no login prompt on the console; saw ${JSON.stringify(seen)}`)), 15000);
      sock.on('data', (d: Buffer) => {
        seen += d.toString();
        if (/login:/.test(seen)) {
          clearTimeout(timer);
          resolve();
        }
      });
      sock.write('\n');
    });
    sock.destroy();

    // info, freeze, live cgroup values.
    const info = JSON.parse((await env.lxts(['info', 'bb1', '--json'])).stdout) as { state: string; stats: { pids: { current: number } } };
    assert.equal(info.state, 'RUNNING');
    assert.ok(info.stats.pids.current >= 2, 'init and getty');
    assert.equal((await env.lxts(['freeze', 'bb1'])).code, 0);
    assert.equal(JSON.parse((await env.lxts(['info', 'bb1', '--json'])).stdout).state, 'FROZEN');
    assert.equal((await env.lxts(['unfreeze', 'bb1'])).code, 0);
    assert.equal((await env.lxts(['cgroup', 'bb1', 'pids.max', '50'])).code, 0);
    assert.equal((await env.lxts(['cgroup', 'bb1', 'pids.max'])).stdout.trim(), '50');

    // A clean stop: busybox init halts on SIGUSR1 (lxc.signal.halt in its config).
    const t0 = Date.now();
    const stop = await env.lxts(['stop', 'bb1', '-t', '20']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.ok(Date.now() - t0 < 20000, 'stopped within the timeout');
    assert.equal(JSON.parse((await env.lxts(['info', 'bb1', '--json'])).stdout).state, 'STOPPED');

    const d = await env.lxts(['destroy', 'bb1']);
    assert.equal(d.code, 0, d.stderr);
    assert.ok(!existsSync(`${env.path}/bb1`));
  }));

test('a killed monitor: info tells the truth and stop -k cleans up', T, () =>
  withEnv(async (env) => {
    await createBusybox(env, 'bb2');
    assert.equal((await env.lxts(['start', 'bb2'])).code, 0);
    const { Container } = await import('../../src/container.js');
    const c = new Container('bb2', { lxtspath: env.path, rundir: env.rundir });
    const mon = c.monitorPid();
    assert.ok(mon, 'monitor pid recorded');
    process.kill(mon!, 'SIGKILL');
    // The init dies with its monitor (PDEATHSIG); what is left is the bookkeeping.
    let info: { state: string; note?: string } = { state: '' };
    for (let i = 0; i < 50; i++) {
      info = JSON.parse((await env.lxts(['info', 'bb2', '--json'])).stdout);
      if (info.state === 'BROKEN') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(info.state, 'BROKEN');
    assert.match(info.note ?? '', /stop -k/);
    const stop = await env.lxts(['stop', '-k', 'bb2']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(JSON.parse((await env.lxts(['info', 'bb2', '--json'])).stdout).state, 'STOPPED');
    assert.equal(c.cgroup(), undefined, 'no cgroup left');
  }));

test('two concurrent starts: exactly one starts it, the other says it is already running', T, () =>
  withEnv(async (env) => {
    await createBusybox(env, 'bb3');
    const [a, b] = await Promise.all([env.lxts(['start', 'bb3']), env.lxts(['start', 'bb3'])]);
    const codes = [a.code, b.code].sort();
    assert.deepEqual(codes, [0, 1], a.stderr + b.stderr);
    assert.match(a.code === 0 ? b.stderr : a.stderr, /already running/);
    assert.equal((await env.lxts(['stop', '-k', 'bb3'])).code, 0);
  }));

test('bad input on the lifecycle commands: clear errors, nothing left behind', T, () =>
  withEnv(async (env) => {
    assert.match((await env.lxts(['create', 'a/b', '-t', 'busybox'])).stderr, /invalid container name/);
    assert.match((await env.lxts(['create', 'x1', '-t', 'nosuch'])).stderr, /unknown template "nosuch"/);
    assert.match((await env.lxts(['create', 'x1'])).stderr, /no template given/);
    // A template that fails half-way leaves no directory.
    const bad = await env.lxts(['create', 'x2', '-t', 'local', '--', '--rootfs', '/nonexistent.tar']);
    assert.notEqual(bad.code, 0);
    assert.ok(!existsSync(`${env.path}/x2`), 'rolled back');

    await createBusybox(env, 'bb4');
    assert.match((await env.lxts(['create', 'bb4', '-t', 'busybox'])).stderr, /already exists/);
    assert.match((await env.lxts(['attach', 'bb4', '--', 'true'])).stderr, /not running/);
    assert.match((await env.lxts(['stop', 'bb4'])).stderr, /not running/);
    assert.match((await env.lxts(['start', 'nosuch'])).stderr, /no container named "nosuch"/);
    assert.equal((await env.lxts(['start', 'bb4'])).code, 0);
    assert.match((await env.lxts(['start', 'bb4'])).stderr, /already running/);
    const d = await env.lxts(['destroy', 'bb4']);
    assert.notEqual(d.code, 0);
    assert.match(d.stderr, /is running/);
    assert.match(d.stderr, /destroy -f/);
    assert.equal((await env.lxts(['destroy', '-f', 'bb4'])).code, 0);
    assert.ok(!existsSync(`${env.path}/bb4`));

    // A rootfs that escapes through a symlink (to the host's root, here) is refused.
    await createBusybox(env, 'bb6');
    renameSync(`${env.path}/bb6/rootfs`, `${env.path}/bb6/rootfs.real`);
    symlinkSync('/', `${env.path}/bb6/rootfs`);
    let esc: Awaited<ReturnType<Env['lxts']>>;
    try {
      esc = await env.lxts(['start', 'bb6']);
    } finally {
      unlinkSync(`${env.path}/bb6/rootfs`); // never leave a link to / for the clean-up to meet
    }
    assert.equal(esc.code, 3, esc.stderr);
    assert.match(esc.stderr, /rootfs .*bb6\/rootfs is the host's root directory/);
    symlinkSync(`${env.path}/bb6/rootfs.real`, `${env.path}/bb6/rootfs`);
    const esc2 = await env.lxts(['start', 'bb6']);
    assert.equal(esc2.code, 3, esc2.stderr);
    assert.match(esc2.stderr, /escapes through a symlink/);
    assert.equal(JSON.parse((await env.lxts(['info', 'bb6', '--json'])).stdout).state, 'STOPPED');

    // A config with a syntax error names file:line.
    await createBusybox(env, 'bb5');
    const cfg = `${env.path}/bb5/config`;
    const lines = readFileSync(cfg, 'utf8').split('\n').length;
    appendFileSync(cfg, 'lxc.cap.drop = not_a_capability\n');
    const s = await env.lxts(['start', 'bb5']);
    assert.equal(s.code, 3, s.stderr);
    assert.match(s.stderr, new RegExp(`${cfg.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:${lines}`));
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('lxc.cap.drop = not_a_capability\n', ''));
  }));

test('a Debian system container boots its real init, runs attach, and stops cleanly on the halt signal', { timeout: 900000, skip: process.env.LXTS_SKIP_SLOW === '1' ? 'LXTS_SKIP_SLOW=1' : skip }, () =>
  withEnv(async (env) => {
    // debootstrap the first time (about a minute), from /var/cache/lxts afterwards.
    const c = await env.lxts(['create', 'deb', '-t', 'debian'], 850000);
    assert.equal(c.code, 0, c.stderr);
    assert.equal((await env.lxts(['start', 'deb'])).code, 0);
    const v = await env.lxts(['attach', 'deb', '--', 'cat', '/etc/debian_version']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /^12\.\d+/);
    // Its init is sysvinit's, as PID 1 of the container.
    const init = await env.lxts(['attach', 'deb', '--', 'cat', '/proc/1/cmdline']);
    assert.match(init.stdout, /init/);
    const t0 = Date.now();
    const stop = await env.lxts(['stop', 'deb', '-t', '30'], 60000);
    assert.equal(stop.code, 0, stop.stderr);
    assert.ok(Date.now() - t0 < 30000, `stopped in ${Date.now() - t0} ms`);
    // A clean halt (SIGPWR -> init 0 -> reboot(HALT)), not the SIGKILL after the timeout.
    assert.doesNotMatch(stop.stderr, /status 137/);
    assert.equal(JSON.parse((await env.lxts(['info', 'deb', '--json'])).stdout).state, 'STOPPED');
    assert.equal((await env.lxts(['destroy', 'deb'])).code, 0);
  }));

test('host-side hooks: pre-start, start-host (with LXC_PID), stop and post-stop run with LXC\'s arguments and environment; a failing pre-start aborts the start', T, () =>
  withEnv(async (env) => {
    const log = `${env.path}/hooks.log`;
    const hook = (t: string): string => `lxc.hook.${t} = /bin/sh -c 'echo "${t} args=$0,$1,$2 name=$LXC_NAME type=$LXC_HOOK_TYPE pid=\${LXC_PID:-none} rootfs=$LXC_ROOTFS_PATH" >> ${log}'`;
    await createBusybox(env, 'hk', [hook('pre-start'), hook('start-host'), hook('stop'), hook('post-stop')]);
    const start = await env.lxts(['start', 'hk']);
    assert.equal(start.code, 0, start.stderr);
    const pid = (JSON.parse((await env.lxts(['info', 'hk', '--json'])).stdout) as { pid: number }).pid;
    assert.equal((await env.lxts(['stop', '-k', 'hk'])).code, 0);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    assert.deepEqual(lines.map((l) => l.split(' ')[0]), ['pre-start', 'start-host', 'stop', 'post-stop']);
    for (const l of lines) {
      assert.match(l, /args=hk,lxc,(pre-start|start-host|stop|post-stop) name=hk type=/);
      assert.match(l, new RegExp(`rootfs=${env.path}/hk/rootfs$`));
    }
    assert.match(lines[1]!, new RegExp(`pid=${pid} `), 'start-host sees the init\'s host PID');
    assert.match(lines[0]!, /pid=none/);

    // A failing pre-start hook: the start fails with the hook named, nothing is left running.
    appendFileSync(`${env.path}/hk/config`, "lxc.hook.pre-start = /bin/sh -c 'echo no-go >&2; exit 3'\n");
    const bad = await env.lxts(['start', 'hk']);
    assert.equal(bad.code, 125, bad.stderr);
    assert.match(bad.stderr, /lxc\.hook\.pre-start .* failed: exit status 3: no-go/);
    assert.equal(JSON.parse((await env.lxts(['info', 'hk', '--json'])).stdout).state, 'STOPPED');
  }));

test('hooks inside the container: mount (before pivot_root, rootfs at LXC_ROOTFS_MOUNT) and start (in the container) run; a failing mount hook fails the start', T, () =>
  withEnv(async (env) => {
    await createBusybox(env, 'hn', [
      "lxc.hook.mount = /bin/sh -c 'echo \"$2 in $LXC_ROOTFS_MOUNT\" > $LXC_ROOTFS_MOUNT/root/mount-hook'",
      "lxc.hook.start = /bin/sh -c 'echo \"$2 as $(cat /proc/self/comm) pid-ns-init=$(cat /proc/1/comm)\" > /root/start-hook'",
    ]);
    const s = await env.lxts(['start', 'hn']);
    assert.equal(s.code, 0, s.stderr);
    const r = await env.lxts(['attach', 'hn', '--', '/bin/sh', '-c', 'cat /root/mount-hook /root/start-hook']);
    assert.equal(r.code, 0, r.stderr);
    const [mountLine, startLine] = r.stdout.trim().split('\n');
    assert.equal(mountLine, `mount in ${env.path}/hn/rootfs`);
    // The start hook ran inside the container's PID namespace, where PID 1 was still the
    // executor's child about to become the container's init.
    assert.equal(startLine, 'start as cat pid-ns-init=lxts-exec');
    assert.equal((await env.lxts(['stop', '-k', 'hn'])).code, 0);

    appendFileSync(`${env.path}/hn/config`, "lxc.hook.mount = /bin/sh -c 'exit 7'\n");
    const bad = await env.lxts(['start', 'hn']);
    assert.equal(bad.code, 125, bad.stderr);
    assert.match(bad.stderr, /hook .*\(exit status 7\)/);
    assert.equal(JSON.parse((await env.lxts(['info', 'hn', '--json'])).stdout).state, 'STOPPED');
  }));

test('start -F runs the container in the foreground with its status; an ephemeral one is gone afterwards', T, () =>
  withEnv(async (env) => {
    await createBusybox(env, 'fg', ["lxc.init.cmd = /bin/sh -c 'echo in-the-foreground $(hostname); exit 3'"]);
    const r = await env.lxts(['start', '-F', 'fg']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /in-the-foreground fg/);
    assert.equal(JSON.parse((await env.lxts(['info', 'fg', '--json'])).stdout).state, 'STOPPED');
    appendFileSync(`${env.path}/fg/config`, 'lxc.ephemeral = 1\n');
    assert.equal((await env.lxts(['start', '-F', 'fg'])).code, 3);
    assert.ok(!existsSync(`${env.path}/fg`), 'the ephemeral container is destroyed after its run');
  }));

test('lxc.idmap: a system container in its own user namespace; its init is host uid 100000', T, () =>
  withEnv(async (env) => {
    chmodSync(env.path, 0o755); // the mapped root must be able to pass through to its rootfs
    await createBusybox(env, 'un', ['lxc.idmap = u 0 100000 65536', 'lxc.idmap = g 0 100000 65536']);
    const s = await env.lxts(['start', 'un']);
    assert.equal(s.code, 0, s.stderr);
    const pid = (JSON.parse((await env.lxts(['info', 'un', '--json'])).stdout) as { pid: number }).pid;
    assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /^Uid:\s+100000\s+100000\s+100000\s+100000$/m);
    const a = await env.lxts(['attach', 'un', '--', '/bin/sh', '-c', 'cat /proc/self/uid_map; id -u']);
    assert.equal(a.code, 0, a.stderr);
    assert.deepEqual(a.stdout.trim().split('\n').map((l) => l.trim().replace(/\s+/g, ' ')), ['0 100000 65536', '0']);
    const stop = await env.lxts(['stop', 'un', '-t', '20']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.doesNotMatch(stop.stderr, /status 137/, 'a clean halt, not the SIGKILL after the timeout');
  }));
