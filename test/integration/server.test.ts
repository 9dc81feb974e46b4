// lxts serve against real containers (root, real kernel): create from the busybox template
// with progress on the stream, start, inspect (stats, limits, network, the process tree with
// the container's PID 1), cgroup values, freeze/thaw, conflicts, stop (a state event), destroy;
// the real CPU demo through the API, stopped early and by a server shutdown; `lxts ps --tree`.
// Each test has its own lxtspath and run dir, its server on 127.0.0.1:0, and leaves the
// machine as it found it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { existsSync } from 'node:fs';
import { lxts as runCli, machineState, leftovers, tempDir, isRoot } from './helpers/lxts.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { Container } from '../../src/container.js';

const skip = isRoot ? false : 'needs root';

interface Reply {
  status: number;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

function call(srv: RunningServer, method: string, path: string, body?: object): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port: srv.port, method, path, headers: data ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(data)) } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, json, text });
      });
    });
    req.on('error', reject);
    req.setTimeout(60000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    if (data) req.write(data);
    req.end();
  });
}

interface Ev {
  event: string;
  data: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Collect the stream's events in the background; stop() disconnects. */
function collect(srv: RunningServer): { events: Ev[]; waitFor(pred: (e: Ev) => boolean, ms?: number): Promise<Ev>; stop(): void } {
  const events: Ev[] = [];
  const waiters: { pred: (e: Ev) => boolean; resolve: (e: Ev) => void }[] = [];
  const req = request({ host: '127.0.0.1', port: srv.port, path: '/api/events' }, (res) => {
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (!event || !data) continue;
        const e = { event, data: JSON.parse(data) };
        events.push(e);
        for (const w of [...waiters]) if (w.pred(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    });
    res.on('error', () => undefined);
  });
  req.on('error', () => undefined);
  req.end();
  return {
    events,
    waitFor: (pred, ms = 20000) => {
      const found = events.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`event not seen in ${ms} ms; saw ${events.map((e) => e.event).join(',')}`)), ms);
        waiters.push({ pred, resolve: (e) => (clearTimeout(t), resolve(e)) });
      });
    },
    stop: () => req.destroy(),
  };
}

async function withServer(fn: (srv: RunningServer, env: { path: string; rundir: string }) => Promise<void>): Promise<void> {
  const before = machineState();
  const dir = tempDir('lxts-srvi-');
  const rundir = tempDir('lxts-srvirun-');
  const oldRun = process.env.LXTS_RUNDIR;
  process.env.LXTS_RUNDIR = rundir.path; // the monitors' post-stop hook inherits it
  let srv: RunningServer | undefined;
  try {
    srv = await startServer({ port: 0, listen: '127.0.0.1', lxtspath: dir.path, rundir: rundir.path, intervalMs: 300, treeIntervalMs: 500 });
    await fn(srv, { path: dir.path, rundir: rundir.path });
  } finally {
    await srv?.close();
    for (const c of Container.list({ lxtspath: dir.path, rundir: rundir.path })) await c.destroy({ force: true }).catch(() => undefined);
    if (oldRun === undefined) delete process.env.LXTS_RUNDIR;
    else process.env.LXTS_RUNDIR = oldRun;
    dir.remove();
    rundir.remove();
    assert.deepEqual(await leftovers(before, 8000), [], 'the machine is as it was');
  }
}

test('API on real containers: create (progress on the stream), start, info, tree, cgroup, freeze, conflicts, stop, destroy', { timeout: 120000, skip }, () =>
  withServer(async (srv) => {
    const stream = collect(srv);
    try {
      const cr = await call(srv, 'POST', '/api/containers', { name: 'web1', template: 'busybox' });
      assert.equal(cr.status, 201, cr.text);
      assert.equal(cr.json.state, 'STOPPED');
      await stream.waitFor((e) => e.event === 'create' && e.data.name === 'web1' && e.data.done === true && !e.data.error);
      assert.ok(stream.events.some((e) => e.event === 'create' && e.data.done === false), 'progress before the end');
      assert.equal((await call(srv, 'POST', '/api/containers', { name: 'web1', template: 'busybox' })).status, 409);

      const st = await call(srv, 'POST', '/api/containers/web1/start');
      assert.equal(st.status, 200, st.text);
      assert.equal(st.json.state, 'RUNNING');
      assert.ok(st.json.pid > 1);
      const pid = st.json.pid as number;
      assert.equal((await call(srv, 'POST', '/api/containers/web1/start')).status, 409, 'already running');
      await stream.waitFor((e) => e.event === 'state' && e.data.name === 'web1' && e.data.to === 'RUNNING');

      const info = await call(srv, 'GET', '/api/containers/web1');
      assert.equal(info.status, 200);
      assert.equal(info.json.pid, pid);
      assert.ok(info.json.monitorPid > 1);
      assert.equal(info.json.hostname, 'web1');
      assert.ok(info.json.stats.memory.current > 0);
      assert.ok(info.json.stats.pids.current >= 1);
      assert.equal(info.json.network.mode, 'own');
      assert.ok(info.json.limits.cpuWeightKey === 'cpu.shares' || info.json.limits.cpuWeightKey === 'cpu.weight');

      // the stream carries a CPU rate for it
      await stream.waitFor((e) => e.event === 'containers' && e.data.containers.some((c: { name: string; cpuPct: number | null }) => c.name === 'web1' && c.cpuPct !== null));

      const tree = await call(srv, 'GET', '/api/host/processes');
      const g = tree.json.containers.find((c: { name: string }) => c.name === 'web1');
      assert.ok(g, 'the container is in the tree');
      assert.equal(g.known, true);
      assert.equal(g.initPid, pid);
      assert.equal(g.monitorPid, info.json.monitorPid);
      const init = tree.json.processes.find((p: { pid: number }) => p.pid === pid);
      assert.deepEqual(init.nspid, [pid, 1], 'host PID and PID 1 inside');

      const set = await call(srv, 'PUT', '/api/containers/web1/cgroup/pids.max', { value: 64 });
      assert.equal(set.status, 200, set.text);
      assert.equal(set.json.value, '64');
      assert.equal((await call(srv, 'GET', '/api/containers/web1/cgroup/pids.max')).json.value, '64');
      assert.equal((await call(srv, 'GET', '/api/containers/web1')).json.limits.pidsMax, 64);
      const bad = await call(srv, 'PUT', '/api/containers/web1/cgroup/pids.max', { value: 'lots' });
      assert.equal(bad.status, 400, bad.text);
      assert.match(bad.json.error.message, /pids\.max/);
      assert.equal((await call(srv, 'GET', '/api/containers/web1/cgroup/no.such_key')).status, 400);

      assert.equal((await call(srv, 'POST', '/api/containers/web1/freeze')).json.state, 'FROZEN');
      assert.equal((await call(srv, 'POST', '/api/containers/web1/unfreeze')).json.state, 'RUNNING');

      const del = await call(srv, 'DELETE', '/api/containers/web1');
      assert.equal(del.status, 409, 'running: destroy needs force');
      assert.match(del.json.error.message, /is running/);

      const stop = await call(srv, 'POST', '/api/containers/web1/stop', { timeoutSec: 10 });
      assert.equal(stop.status, 200, stop.text);
      assert.equal(stop.json.state, 'STOPPED');
      await stream.waitFor((e) => e.event === 'state' && e.data.name === 'web1' && e.data.to === 'STOPPED');
      assert.equal((await call(srv, 'POST', '/api/containers/web1/stop')).status, 409);

      // start again and destroy with force
      assert.equal((await call(srv, 'POST', '/api/containers/web1/start')).status, 200);
      const fd = await call(srv, 'DELETE', '/api/containers/web1?force=1');
      assert.equal(fd.status, 200, fd.text);
      assert.equal((await call(srv, 'GET', '/api/containers/web1')).status, 404);
      await stream.waitFor((e) => e.event === 'state' && e.data.name === 'web1' && e.data.to === 'DESTROYED');
    } finally {
      stream.stop();
    }
  }),
);

test('the real demo through the API: samples on the stream, stopped early, nothing left behind', { timeout: 120000, skip }, () =>
  withServer(async (srv) => {
    const stream = collect(srv);
    try {
      const r = await call(srv, 'POST', '/api/demo', { split: '75/25', durationSec: 30 });
      assert.equal(r.status, 202, r.text);
      await stream.waitFor((e) => e.event === 'demo' && e.data.type === 'running', 30000);
      const s = await stream.waitFor((e) => e.event === 'demo' && e.data.type === 'sample' && e.data.sample.seq >= 2, 30000);
      assert.equal(s.data.sample.containers.length, 2);
      // the demo's containers show in the process tree, each with its PID 1
      const tree = await call(srv, 'GET', '/api/host/processes');
      const demo = tree.json.containers.filter((c: { name: string }) => /^webdemo\d+-\d+-[12]$/.test(c.name));
      assert.equal(demo.length, 2, JSON.stringify(tree.json.containers.map((c: { name: string }) => c.name)));
      for (const g of demo) assert.deepEqual(tree.json.processes.find((p: { pid: number }) => p.pid === g.initPid).nspid.slice(-1), [1]);
      assert.equal((await call(srv, 'DELETE', '/api/demo')).status, 202);
      await stream.waitFor((e) => e.event === 'demo' && e.data.type === 'state' && e.data.state === 'idle', 30000);
      const g = await call(srv, 'GET', '/api/demo');
      assert.equal(g.json.state, 'idle');
      assert.equal(g.json.error, null);
    } finally {
      stream.stop();
    }
  }),
);

test('server shutdown during the real demo removes the demo containers', { timeout: 120000, skip }, () =>
  withServer(async (srv) => {
    const stream = collect(srv);
    try {
      assert.equal((await call(srv, 'POST', '/api/demo', { split: [50, 50], durationSec: 60 })).status, 202);
      await stream.waitFor((e) => e.event === 'demo' && e.data.type === 'sample', 30000);
    } finally {
      stream.stop();
    }
    await srv.close(); // withServer's finally checks that nothing is left
  }),
);

test('lxts ps --tree: host PID and container PID side by side for a running container', { timeout: 90000, skip }, async () => {
  const before = machineState();
  const dir = tempDir('lxts-ps-');
  const rundir = tempDir('lxts-psrun-');
  const env = { ...process.env, LXTS_RUNDIR: rundir.path };
  const cli = (args: string[]) => runCli([args[0]!, '-P', dir.path, ...args.slice(1)], { env, timeoutMs: 60000 });
  try {
    assert.equal((await cli(['create', 'pst', '-t', 'busybox'])).code, 0);
    const st = await cli(['start', 'pst']);
    assert.equal(st.code, 0, st.stderr);
    const info = await cli(['info', 'pst', '--json']);
    const pid = Number(JSON.parse(info.stdout).pid);
    assert.ok(pid > 1, info.stdout);
    const tree = await cli(['ps', '--tree']);
    assert.equal(tree.code, 0, tree.stderr);
    process.stdout.write(tree.stdout);
    assert.match(tree.stdout, /^CONTAINER\s+HOST PID\s+CONTAINER PID\s+COMMAND$/m);
    assert.match(tree.stdout, new RegExp(`^pst\\s+\\d+\\s+-\\s+lxts-exec\\s+\\(monitor\\)$`, 'm'));
    assert.match(tree.stdout, new RegExp(`^\\s+${pid}\\s+1\\s+└─ init$`, 'm'), 'host PID and PID 1 on one line');
    const flat = await cli(['ps']);
    assert.match(flat.stdout, new RegExp(`^pst\\s+${pid}\\s+1\\s+init\\s+init$`, 'm'));
    const json = JSON.parse((await cli(['ps', '--json'])).stdout);
    assert.deepEqual(json.processes.find((p: { pid: number }) => p.pid === pid).nspid, [pid, 1]);
  } finally {
    for (const c of Container.list({ lxtspath: dir.path, rundir: rundir.path })) await c.destroy({ force: true }).catch(() => undefined);
    if (existsSync(dir.path)) dir.remove();
    rundir.remove();
    assert.deepEqual(await leftovers(before, 8000), [], 'the machine is as it was');
  }
});
