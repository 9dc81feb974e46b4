// lxts top, monitor and autostart through the real CLI, on busybox system containers. Each
// test uses its own lxtspath and run dir and leaves the machine as it found it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { isRoot, CLI, withLxtsEnv, createBusybox, type LxtsEnv as Env } from './helpers/lxts.js';

const skip = isRoot ? false : 'needs root';
const T = { timeout: 120000, skip };

const withEnv = (fn: (env: Env) => Promise<void>): Promise<void> => withLxtsEnv('lxts-tools', fn);

interface TopJson {
  containers: { name: string; state: string; pid: number; cpuPercent: number | null; memory: { current: number }; pids: { current: number } }[];
}

test('top --once and --json show a running container with its processes', T, () =>
  withEnv(async (env) => {
    await createBusybox(env, 'tp1');
    await createBusybox(env, 'tp2');
    assert.equal((await env.lxts(['start', 'tp1'])).code, 0);

    const j = await env.lxts(['top', '--json', '-d', '0.3']);
    assert.equal(j.code, 0, j.stderr);
    const snap = JSON.parse(j.stdout) as TopJson;
    assert.deepEqual(snap.containers.map((c) => c.name), ['tp1'], 'only the running container');
    const row = snap.containers[0]!;
    assert.equal(row.state, 'RUNNING');
    assert.ok(row.pids.current >= 2, `init and getty: ${row.pids.current}`);
    assert.ok(row.memory.current > 0);
    assert.equal(typeof row.cpuPercent, 'number');

    const t = await env.lxts(['top', '--once', '-d', '0.2', '-s', 'cpu']);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /^NAME\s+CPU%\s+MEMORY\s+PIDS\s+BLKIO-R\s+BLKIO-W$/m);
    const m = /^tp1\s+(\d+\.\d)\s+\S+ \S+\s+(\d+)\s/m.exec(t.stdout);
    assert.ok(m, t.stdout);
    assert.ok(Number(m![2]) >= 2);
    // stdout is not a terminal here: without --once it prints one table too.
    assert.match((await env.lxts(['top', '-d', '0.1'])).stdout, /^tp1\s/m);

    // Bad input.
    const bad = await env.lxts(['top', '-s', 'color']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown sort key "color"/);
    for (const d of ['0', 'abc', '-1', '1e9']) {
      const r = await env.lxts(['top', '-d', d]);
      assert.equal(r.code, 2, `-d ${d}: ${r.stderr}`);
    }
    assert.equal((await env.lxts(['stop', '-k', 'tp1'])).code, 0);
    assert.match((await env.lxts(['top', '--once'])).stdout, /no running containers/);
  }));

test('monitor streams RUNNING then STOPPED for a container started and stopped meanwhile', T, () =>
  withEnv(async (env) => {
    await createBusybox(env, 'mn1');
    await createBusybox(env, 'mn2');
    const child = spawn(process.execPath, [CLI, 'monitor', '-P', env.path, '--json', 'mn1'], { env: env.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    const events = (): { name: string; state: string; previous: string | null }[] =>
      out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const waitFor = async (pred: () => boolean, what: string): Promise<void> => {
      const deadline = Date.now() + 15000;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`monitor: no ${what}; saw ${out} ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await new Promise((r) => setTimeout(r, 700)); // the watcher's initial snapshot
      assert.equal((await env.lxts(['start', 'mn1'])).code, 0);
      assert.equal((await env.lxts(['start', 'mn2'])).code, 0); // not watched
      await waitFor(() => events().some((e) => e.state === 'RUNNING'), 'RUNNING');
      assert.equal((await env.lxts(['stop', '-k', 'mn1'])).code, 0);
      await waitFor(() => events().some((e) => e.state === 'STOPPED'), 'STOPPED');
      const seq = events();
      assert.ok(seq.every((e) => e.name === 'mn1'), `only the named container: ${out}`);
      const states = seq.map((e) => e.state).filter((s) => s !== 'STOPPING');
      assert.deepEqual(states, ['RUNNING', 'STOPPED'], out);
      assert.equal(seq.at(-1)!.previous === 'RUNNING' || seq.at(-1)!.previous === 'STOPPING', true);
    } finally {
      child.kill('SIGTERM');
      assert.equal(await exited, 0, err);
    }
    await env.lxts(['stop', '-k', 'mn2']);

    // The plain form: TIME NAME STATE lines, for every container.
    const plain = spawn(process.execPath, [CLI, 'monitor', '-P', env.path], { env: env.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let pout = '';
    plain.stdout.on('data', (d) => (pout += d));
    const pexit = new Promise((r) => plain.on('close', r));
    try {
      await new Promise((r) => setTimeout(r, 700));
      assert.equal((await env.lxts(['start', 'mn2'])).code, 0);
      const deadline = Date.now() + 15000;
      while (!/ mn2 RUNNING$/m.test(pout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.match(pout, /^\d{4}-\d\d-\d\dT[\d:.]+Z mn2 RUNNING$/m);
    } finally {
      plain.kill('SIGINT');
      await pexit;
    }

    // Bad input.
    const r = await env.lxts(['monitor', 'nosuch']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no container named "nosuch"/);
    assert.equal((await env.lxts(['monitor', 'a/b'])).code, 2);
    assert.equal((await env.lxts(['monitor', '--interval', 'x'])).code, 2);
  }));

test('autostart: starts auto containers by order, skips others; --list, groups, --kill', T, () =>
  withEnv(async (env) => {
    // order: low first; equal orders by name. "noauto" lacks lxc.start.auto; "grp" is in a group.
    await createBusybox(env, 'as-c', ['lxc.start.auto = 1', 'lxc.start.order = 30']);
    await createBusybox(env, 'as-a', ['lxc.start.auto = 1', 'lxc.start.order = 10', 'lxc.start.delay = 1']);
    await createBusybox(env, 'as-b', ['lxc.start.auto = 1', 'lxc.start.order = 10']);
    await createBusybox(env, 'noauto', ['lxc.start.order = 1']);
    await createBusybox(env, 'grp', ['lxc.start.auto = 1', 'lxc.start.order = 1', 'lxc.group = web']);

    const list = await env.lxts(['autostart', '--list']);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout, 'as-a 1\nas-b 0\nas-c 0\n');
    assert.equal((await env.lxts(['autostart', '-L', '-g', 'web,'])).stdout, 'grp 0\nas-a 1\nas-b 0\nas-c 0\n');
    assert.equal((await env.lxts(['autostart', '-L', '-g', 'web'])).stdout, 'grp 0\n');
    assert.equal((await env.lxts(['autostart', '-L', '-a'])).stdout, 'grp 0\nas-a 1\nas-b 0\nas-c 0\n');
    assert.equal((await env.lxts(['autostart', '-L', '-a', '-A'])).stdout, 'grp 0\nnoauto 0\nas-a 1\nas-b 0\nas-c 0\n');
    assert.equal((await env.lxts(['autostart', '-L', '-k'])).stdout, '', 'nothing running to kill');

    const t0 = Date.now();
    const s = await env.lxts(['autostart']);
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual(s.stdout.split('\n').filter(Boolean).map((l) => l.split(' ')[1]), ['as-a', 'as-b', 'as-c']);
    assert.ok(Date.now() - t0 >= 1000, 'waited lxc.start.delay after as-a');
    const ls = JSON.parse((await env.lxts(['ls', '--json'])).stdout) as { name: string; state: string; startedAt: string }[];
    const state = Object.fromEntries(ls.map((c) => [c.name, c.state]));
    assert.deepEqual(state, { 'as-a': 'RUNNING', 'as-b': 'RUNNING', 'as-c': 'RUNNING', grp: 'STOPPED', noauto: 'STOPPED' });
    const started = Object.fromEntries(ls.map((c) => [c.name, Date.parse(c.startedAt)]));
    assert.ok(started['as-a']! < started['as-b']! && started['as-b']! < started['as-c']!, 'started in order');
    assert.ok(started['as-b']! - started['as-a']! >= 900, 'delay honoured');
    // Running ones are not started again; --list shows nothing left to start.
    assert.equal((await env.lxts(['autostart', '-L'])).stdout, '');

    assert.equal((await env.lxts(['autostart', '-L', '--kill'])).stdout, 'as-c\nas-b\nas-a\n', 'reverse order');
    const k = await env.lxts(['autostart', '--kill']);
    assert.equal(k.code, 0, k.stderr);
    assert.equal(k.stdout, 'stopped as-c\nstopped as-b\nstopped as-a\n');
    const after = JSON.parse((await env.lxts(['ls', '--json'])).stdout) as { state: string }[];
    assert.ok(after.every((c) => c.state === 'STOPPED'));

    // --shutdown with a timeout: the halt signal (SIGUSR1 for busybox init).
    assert.equal((await env.lxts(['autostart', '-g', 'web'])).code, 0);
    const sh = await env.lxts(['autostart', '-s', '-t', '20', '-g', 'web']);
    assert.equal(sh.code, 0, sh.stderr);
    assert.equal(sh.stdout, 'stopped grp\n');

    // Bad input.
    assert.equal((await env.lxts(['autostart', '-k', '-s'])).code, 2);
    assert.equal((await env.lxts(['autostart', '-s', '-t', 'soon'])).code, 2);
    assert.equal((await env.lxts(['autostart', '-a', '-g', 'web'])).code, 2);
  }));
