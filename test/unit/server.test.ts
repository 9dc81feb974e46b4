// The REST API without root: an in-process server on 127.0.0.1:0 over a temp lxtspath holding
// stopped containers (config files only) and a fake demo. Every endpoint, success and error
// cases: 404 unknown container, 400 bad body / malformed JSON / unknown fields / invalid
// names, 401 token, 403 cross-origin and DNS-rebinding Host, 405, 409, the stream and its
// clean close, shutdown during a demo.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, resolveToken, statusOf, type RunningServer } from '../../src/server/index.js';
import { isLoopbackAddress, hostOf } from '../../src/server/auth.js';
import { resolveDemoOptions, type DemoOptions, type DemoSummary } from '../../src/demo/index.js';
import { LxtsError, ExitCode } from '../../src/errors.js';

const T = { timeout: 20000 };

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

function call(srv: RunningServer, method: string, path: string, opts: { body?: string | object; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    const headers: Record<string, string> = {
      ...(body !== undefined && typeof opts.body === 'object' ? { 'content-type': 'application/json' } : {}),
      ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
      ...opts.headers,
    };
    const req = request({ host: '127.0.0.1', port: srv.port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let json: unknown = undefined;
        try {
          json = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** A fake runDemo: samples every 30 ms until the duration or an abort; records its clean-up. */
function fakeDemo(): { deps: { runDemo(o: DemoOptions): Promise<DemoSummary>; resolve(o: DemoOptions): unknown }; cleaned: () => number; started: () => number } {
  let cleaned = 0;
  let started = 0;
  return {
    cleaned: () => cleaned,
    started: () => started,
    deps: {
      resolve: (o) => resolveDemoOptions(o),
      runDemo: async (o) => {
        started++;
        const names = o.split.map((_, i) => `${o.namePrefix}-1-${i + 1}`);
        const info = { split: o.split, cpu: 0, durationSec: o.durationSec, intervalMs: 30, warmupMs: 0, command: ['x'], cgroup: { layout: 'v2', cpu: 2, cpuacct: 2, cpuset: 2 }, containers: names.map((name, i) => ({ index: i, name, target: o.split[i]!, shares: 100, weight: 100 })), weightFile: 'cpu.weight' } as const;
        o.onEvent?.({ type: 'running', info: { ...info, containers: [...info.containers], command: [...info.command], cgroup: { ...info.cgroup }, split: [...o.split] } });
        try {
          for (let k = 1; k * 30 < o.durationSec * 1000 && !o.signal?.aborted; k++) {
            await new Promise((r) => setTimeout(r, 30));
            o.onEvent?.({ type: 'sample', sample: { seq: k, elapsedMs: k * 30, intervalMs: 30, warmup: false, totalCpuPct: 100, maxErrorPp: 0.5, containers: names.map((name, i) => ({ index: i, name, target: o.split[i]!, share: o.split[i]!, cpuPct: o.split[i]!, cumulative: o.split[i]!, errorPp: 0, cpuSeconds: 0, cpuSecondsTotal: 0 })) } });
          }
          if (o.signal?.aborted) throw new LxtsError('demo interrupted before the first sample; nothing was measured', 130);
          return { split: o.split, cpu: 0, cgroup: info.cgroup, weightFile: 'cpu.weight', durationSec: o.durationSec, measuredSec: o.durationSec, warmupSec: 0, warmupIncluded: false, samples: 1, endedBy: 'duration', containers: [], maxErrorPp: 0, totalCpuSeconds: 0, cpuBusyPct: 100 } as DemoSummary;
        } finally {
          await new Promise((r) => setTimeout(r, 50)); // removing the containers takes a moment
          cleaned++;
        }
      },
    },
  };
}

interface Env {
  dir: string;
  srv: RunningServer;
  demo: ReturnType<typeof fakeDemo>;
}

function makeContainer(dir: string, name: string): void {
  mkdirSync(join(dir, name, 'rootfs'), { recursive: true });
  writeFileSync(join(dir, name, 'config'), `lxc.uts.name = ${name}\nlxc.rootfs.path = dir:${join(dir, name, 'rootfs')}\nlxc.cgroup2.memory.max = 64M\nlxc.cgroup2.pids.max = 50\n`);
}

async function withServer(fn: (env: Env) => Promise<void>, opts: { token?: string; web?: boolean } = {}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lxts-srv-'));
  const rundir = mkdtempSync(join(tmpdir(), 'lxts-srvrun-'));
  const web = mkdtempSync(join(tmpdir(), 'lxts-web-'));
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>lxts</title>');
  writeFileSync(join(web, 'app.js'), '/* app */');
  makeContainer(dir, 'alpha');
  makeContainer(dir, 'beta');
  const demo = fakeDemo();
  const srv = await startServer({ port: 0, listen: '127.0.0.1', lxtspath: dir, rundir, webRoot: web, token: opts.token, demo: demo.deps, intervalMs: 100, treeIntervalMs: 200 });
  try {
    await fn({ dir, srv, demo });
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(rundir, { recursive: true, force: true });
    rmSync(web, { recursive: true, force: true });
  }
}

function assertError(r: Reply, status: number, re?: RegExp): void {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json?.error?.status, status, r.text);
  assert.equal(typeof r.json.error.message, 'string');
  if (re) assert.match(r.json.error.message, re);
}

test('GET /api/ lists the endpoints; GET /api/containers lists the stopped containers with their configured limits', T, () =>
  withServer(async ({ srv }) => {
    const idx = await call(srv, 'GET', '/api/');
    assert.equal(idx.status, 200);
    assert.ok(idx.json.endpoints.includes('GET /api/events (text/event-stream)'));
    const r = await call(srv, 'GET', '/api/containers');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(r.json.map((c: { name: string }) => c.name), ['alpha', 'beta']);
    const a = r.json[0];
    assert.equal(a.state, 'STOPPED');
    assert.equal(a.hostname, 'alpha');
    assert.match(a.rootfs, /alpha\/rootfs$/);
    assert.equal(a.limits.memoryMax, 64 * 1024 * 1024);
    assert.equal(a.limits.pidsMax, 50);
    assert.deepEqual(a.network, { mode: null, ipv4: [], ipv6: [] });
    assert.equal(a.stats, null);
  }),
);

test('GET /api/containers/NAME: 200, unknown 404, invalid names 400', T, () =>
  withServer(async ({ srv }) => {
    const ok = await call(srv, 'GET', '/api/containers/alpha');
    assert.equal(ok.status, 200);
    assert.equal(ok.json.name, 'alpha');
    assertError(await call(srv, 'GET', '/api/containers/nosuch'), 404, /no container named "nosuch"/);
    assertError(await call(srv, 'GET', '/api/containers/.hidden'), 400, /invalid container name "\.hidden"/);
    assertError(await call(srv, 'GET', '/api/containers/a%2Fb'), 400, /path separator/);
    assertError(await call(srv, 'GET', '/api/containers/-x'), 400, /invalid container name/);
    assertError(await call(srv, 'GET', `/api/containers/${'x'.repeat(65)}`), 400, /longer than 64/);
    assertError(await call(srv, 'GET', '/api/containers/%E0%A4%A'), 400, /malformed URL/);
  }),
);

test('actions on stopped containers: 409 with the library\'s message; 404 unknown; 400 bodies', T, () =>
  withServer(async ({ srv }) => {
    for (const a of ['stop', 'freeze', 'unfreeze']) assertError(await call(srv, 'POST', `/api/containers/alpha/${a}`), 409, /not running/);
    for (const a of ['start', 'stop', 'freeze', 'unfreeze']) assertError(await call(srv, 'POST', `/api/containers/ghost/${a}`), 404, /no container named "ghost"/);
    assertError(await call(srv, 'POST', '/api/containers/alpha/stop', { body: '{"timeoutSec": 5,', headers: { 'content-type': 'application/json' } }), 400, /malformed JSON/);
    assertError(await call(srv, 'POST', '/api/containers/alpha/stop', { body: { timeoutSec: 5, force: true } }), 400, /unknown field "force".*"timeoutSec", "kill"/);
    assertError(await call(srv, 'POST', '/api/containers/alpha/stop', { body: { timeoutSec: 'soon' } }), 400, /"timeoutSec" must be of type number/);
    assertError(await call(srv, 'POST', '/api/containers/alpha/stop', { body: { timeoutSec: -1 } }), 400, /between 0 and 3600/);
    assertError(await call(srv, 'POST', '/api/containers/alpha/stop', { body: [1, 2] }), 400, /must be a JSON object/);
    assertError(await call(srv, 'POST', '/api/containers/alpha/start', { body: { x: 1 } }), 400, /unknown field "x".*takes no body/);
    assertError(await call(srv, 'POST', '/api/containers/alpha/stop', { body: '{"kill":true}', headers: { 'content-type': 'text/plain' } }), 415, /application\/json/);
    assertError(await call(srv, 'GET', '/api/containers/alpha/start'), 405, /allowed: POST/);
    assertError(await call(srv, 'POST', '/api/containers/alpha/reboot'), 404, /no such endpoint/);
    assertError(await call(srv, 'POST', '/api/containers/alpha/stop', { body: 'x'.repeat(70000), headers: { 'content-type': 'application/json' } }), 413);
  }),
);

test('cgroup values: stopped 409, bad key 400, missing value 400, unknown container 404', T, () =>
  withServer(async ({ srv }) => {
    assertError(await call(srv, 'GET', '/api/containers/alpha/cgroup/pids.max'), 409, /not running/);
    assertError(await call(srv, 'PUT', '/api/containers/alpha/cgroup/pids.max', { body: { value: 10 } }), 409, /not running/);
    assertError(await call(srv, 'PUT', '/api/containers/alpha/cgroup/pids.max', { body: {} }), 400, /missing field "value"/);
    assertError(await call(srv, 'PUT', '/api/containers/alpha/cgroup/pids.max', { body: { value: true } }), 400, /string\|number/);
    assertError(await call(srv, 'PUT', '/api/containers/alpha/cgroup/..%2Fx', { body: { value: 1 } }), 400, /invalid cgroup key/);
    assertError(await call(srv, 'GET', '/api/containers/ghost/cgroup/pids.max'), 404);
    assertError(await call(srv, 'POST', '/api/containers/alpha/cgroup/pids.max'), 405);
  }),
);

test('create: validation (400), existing (409); destroy a stopped container (200, then 404)', T, () =>
  withServer(async ({ srv, dir }) => {
    assertError(await call(srv, 'POST', '/api/containers', { body: { template: 'busybox' } }), 400, /missing field "name"/);
    assertError(await call(srv, 'POST', '/api/containers', { body: { name: 'a/b', template: 'busybox' } }), 400, /invalid container name/);
    assertError(await call(srv, 'POST', '/api/containers', { body: { name: 'n1', template: 'nope' } }), 400, /unknown template "nope"/);
    assertError(await call(srv, 'POST', '/api/containers', { body: { name: 'n1', template: 'constructor' } }), 400, /unknown template/);
    assertError(await call(srv, 'POST', '/api/containers', { body: { name: 'n1', template: 'busybox', args: [1] } }), 400, /"args" must be of type string\[\]/);
    assertError(await call(srv, 'POST', '/api/containers', { body: { name: 'n1', template: 'busybox', size: 1 } }), 400, /unknown field "size"/);
    assertError(await call(srv, 'POST', '/api/containers', { body: { name: 'alpha', template: 'busybox' } }), 409, /already exists/);
    assert.ok(!existsSync(join(dir, 'n1')), 'nothing created by a refused request');
    const d = await call(srv, 'DELETE', '/api/containers/beta');
    assert.equal(d.status, 200, d.text);
    assert.deepEqual(d.json, { name: 'beta', destroyed: true });
    assert.ok(!existsSync(join(dir, 'beta')));
    assertError(await call(srv, 'DELETE', '/api/containers/beta'), 404);
    assertError(await call(srv, 'DELETE', '/api/containers/alpha', { body: { force: 'yes' } }), 400, /"force" must be of type boolean/);
  }),
);

test('host, processes and templates', T, () =>
  withServer(async ({ srv, dir }) => {
    const h = await call(srv, 'GET', '/api/host');
    assert.equal(h.status, 200);
    assert.equal(h.json.lxtspath, dir);
    assert.ok(h.json.cpus >= 1 && h.json.memoryTotal > 0);
    const p = await call(srv, 'GET', '/api/host/processes');
    assert.equal(p.status, 200);
    assert.ok(p.json.processes.some((x: { pid: number }) => x.pid === process.pid), 'the server itself is in the tree');
    assert.ok(Array.isArray(p.json.containers));
    const t = await call(srv, 'GET', '/api/templates');
    assert.ok(t.json.some((x: { name: string }) => x.name === 'busybox'));
    assertError(await call(srv, 'GET', '/api/host/processes', { body: { all: true } }), 400, /unknown field "all"/);
  }),
);

test('demo: start 202, second start 409, samples, stop 202, bad split 400, unknown field 400', T, () =>
  withServer(async ({ srv, demo }) => {
    assertError(await call(srv, 'POST', '/api/demo', { body: { split: '60/30' } }), 400, /adds up to 90/);
    assertError(await call(srv, 'POST', '/api/demo', { body: { split: 'abc' } }), 400);
    assertError(await call(srv, 'POST', '/api/demo', { body: { split: [75, 25], durationSec: 0 } }), 400);
    assertError(await call(srv, 'POST', '/api/demo', { body: { split: true } }), 400, /"split" must be a split/);
    assertError(await call(srv, 'POST', '/api/demo', { body: { split: '75/25', cpu: 1 } }), 400, /unknown field "cpu"/);
    assertError(await call(srv, 'DELETE', '/api/demo'), 409, /not running/);
    const r = await call(srv, 'POST', '/api/demo', { body: { split: '75/25', durationSec: 30 } });
    assert.equal(r.status, 202, r.text);
    assert.deepEqual(r.json.split, [75, 25]);
    assertError(await call(srv, 'POST', '/api/demo', { body: {} }), 409, /already/);
    await new Promise((res) => setTimeout(res, 200));
    const g = await call(srv, 'GET', '/api/demo');
    assert.equal(g.json.state, 'running');
    assert.ok(g.json.samples.length >= 2);
    assert.equal(g.json.info.containers.length, 2);
    const s = await call(srv, 'DELETE', '/api/demo');
    assert.equal(s.status, 202);
    for (let i = 0; i < 50 && (await call(srv, 'GET', '/api/demo')).json.state !== 'idle'; i++) await new Promise((res) => setTimeout(res, 20));
    assert.equal((await call(srv, 'GET', '/api/demo')).json.state, 'idle');
    assert.equal(demo.cleaned(), 1);
  }),
);

test('server shutdown during a demo stops it and waits for its clean-up', T, async () => {
  let demo!: ReturnType<typeof fakeDemo>;
  let srvRef!: RunningServer;
  await withServer(async (env) => {
    demo = env.demo;
    srvRef = env.srv;
    assert.equal((await call(env.srv, 'POST', '/api/demo', { body: { split: [50, 50], durationSec: 60 } })).status, 202);
    await new Promise((r) => setTimeout(r, 100));
    await env.srv.close();
    assert.equal(demo.cleaned(), 1, 'clean-up finished before close() resolved');
  });
  assert.equal(srvRef.server.listening, false);
});

/** Read an event stream until `until` says enough, then disconnect. */
function stream(srv: RunningServer, path: string, until: (events: { event: string; data: any }[]) => boolean, headers: Record<string, string> = {}): Promise<{ status: number; events: { event: string; data: any }[] }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: srv.port, path, headers }, (res) => {
      const events: { event: string; data: unknown }[] = [];
      if (res.statusCode !== 200) {
        res.resume();
        return resolve({ status: res.statusCode ?? 0, events });
      }
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (ev && data) events.push({ event: ev, data: JSON.parse(data) });
        }
        if (until(events)) {
          req.destroy();
          resolve({ status: 200, events });
        }
      });
      res.on('end', () => resolve({ status: 200, events }));
    });
    req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
    req.setTimeout(8000, () => req.destroy(new Error('stream timed out')));
    req.end();
  });
}

test('event stream: hello, containers every interval, processes, demo; a client that leaves is dropped cleanly', T, () =>
  withServer(async ({ srv }) => {
    const r = await stream(srv, '/api/events', (ev) => ev.filter((e) => e.event === 'containers').length >= 3 && ev.some((e) => e.event === 'processes'));
    assert.equal(r.status, 200);
    assert.equal(r.events[0]!.event, 'hello');
    const c = r.events.filter((e) => e.event === 'containers');
    assert.deepEqual(c.at(-1)!.data.containers.map((x: { name: string }) => x.name), ['alpha', 'beta']);
    assert.ok(c.at(-1)!.data.t >= c[0]!.data.t);
    assert.ok(r.events.some((e) => e.event === 'demo' && e.data.type === 'status'));
    // the client went away: the server goes on serving
    await new Promise((res) => setTimeout(res, 100));
    assert.equal((await call(srv, 'GET', '/api/containers')).status, 200);
    // demo events reach the stream
    const d = stream(srv, '/api/events', (ev) => ev.some((e) => e.event === 'demo' && e.data.type === 'sample'));
    await new Promise((res) => setTimeout(res, 100));
    assert.equal((await call(srv, 'POST', '/api/demo', { body: { durationSec: 2 } })).status, 202);
    const got = await d;
    assert.ok(got.events.some((e) => e.event === 'demo' && e.data.type === 'running'));
    await call(srv, 'DELETE', '/api/demo');
  }),
);

test('a destroyed container produces a state event (RUNNING/STOPPED -> DESTROYED)', T, () =>
  withServer(async ({ srv }) => {
    const s = stream(srv, '/api/events', (ev) => ev.some((e) => e.event === 'state' && e.data.to === 'DESTROYED'));
    await new Promise((res) => setTimeout(res, 250));
    assert.equal((await call(srv, 'DELETE', '/api/containers/alpha')).status, 200);
    const r = await s;
    const e = r.events.find((x) => x.event === 'state' && x.data.to === 'DESTROYED')!;
    assert.equal(e.data.name, 'alpha');
    assert.equal(e.data.from, 'STOPPED');
  }),
);

test('token: 401 without or with a wrong one, 200 with it (header; ?token= for the stream); the page itself is public', T, () =>
  withServer(
    async ({ srv }) => {
      assert.equal(srv.token, 'sekrit-token-123');
      assertError(await call(srv, 'GET', '/api/containers'), 401, /needs a token/);
      assertError(await call(srv, 'GET', '/api/containers', { headers: { authorization: 'Bearer wrong-token-000' } }), 401, /wrong token/);
      assertError(await call(srv, 'GET', '/api/containers', { headers: { authorization: 'Basic abc' } }), 401, /malformed Authorization/);
      assertError(await call(srv, 'POST', '/api/demo', { body: {} }), 401);
      assert.equal((await call(srv, 'GET', '/api/containers', { headers: { authorization: 'Bearer sekrit-token-123' } })).status, 200);
      assert.equal((await stream(srv, '/api/events', () => true)).status, 401);
      assert.equal((await stream(srv, '/api/events?token=nope', () => true)).status, 401);
      const ok = await stream(srv, '/api/events?token=sekrit-token-123', (ev) => ev.length > 0);
      assert.equal(ok.status, 200);
      const page = await call(srv, 'GET', '/');
      assert.equal(page.status, 200);
      assert.match(page.text, /<title>lxts<\/title>/);
      assert.equal(page.headers['set-cookie'], undefined);
    },
    { token: 'sekrit-token-123' },
  ),
);

test('cross-site requests and DNS rebinding are refused (403)', T, () =>
  withServer(async ({ srv }) => {
    assertError(await call(srv, 'POST', '/api/containers/alpha/start', { headers: { origin: 'http://evil.example' } }), 403, /cross-origin/);
    assertError(await call(srv, 'POST', '/api/containers/alpha/start', { headers: { origin: 'null' } }), 403);
    assertError(await call(srv, 'POST', '/api/containers/alpha/start', { headers: { 'sec-fetch-site': 'cross-site' } }), 403);
    assertError(await call(srv, 'GET', '/api/containers', { headers: { host: 'rebind.example:8080' } }), 403, /answers only to localhost/);
    // our own page's requests pass
    const own = await call(srv, 'GET', '/api/containers', { headers: { origin: `http://127.0.0.1:${srv.port}`, host: `127.0.0.1:${srv.port}` } });
    assert.equal(own.status, 200);
    assert.equal((await call(srv, 'GET', '/api/host', { headers: { host: `localhost:${srv.port}` } })).status, 200);
  }),
);

test('static files: the page with a CSP, no path traversal, 404 and 405', T, () =>
  withServer(async ({ srv }) => {
    const page = await call(srv, 'GET', '/');
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal((await call(srv, 'GET', '/app.js')).headers['content-type'], 'text/javascript; charset=utf-8');
    assertError(await call(srv, 'GET', '/%2e%2e/%2e%2e/etc/passwd'), 404);
    assertError(await call(srv, 'GET', '/nope.css'), 404);
    assertError(await call(srv, 'POST', '/'), 405);
  }),
);

test('the server survives garbage: a broken request line, a client that hangs up mid-body', T, () =>
  withServer(async ({ srv }) => {
    const net = await import('node:net');
    await new Promise<void>((resolve) => {
      const s = net.connect(srv.port, '127.0.0.1', () => s.write('GARBAGE\r\n\r\n'));
      s.on('data', () => undefined);
      s.on('close', () => resolve());
      s.on('error', () => resolve());
    });
    await new Promise<void>((resolve) => {
      const s = net.connect(srv.port, '127.0.0.1', () => {
        s.write('POST /api/demo HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"spl');
        setTimeout(() => s.destroy(), 50);
      });
      s.on('close', () => resolve());
      s.on('error', () => resolve());
    });
    assert.equal((await call(srv, 'GET', '/api/containers')).status, 200);
  }),
);

test('token policy and helpers', T, () => {
  assert.equal(resolveToken('127.0.0.1', undefined), null);
  assert.equal(resolveToken('::1', undefined), null);
  assert.equal(resolveToken('localhost', undefined), null);
  const g = resolveToken('0.0.0.0', undefined);
  assert.ok(g && g.length >= 30, 'a token is generated off loopback');
  assert.notEqual(resolveToken('192.0.2.1', undefined), g, 'each one is new');
  assert.equal(resolveToken('0.0.0.0', 'my-token-1234'), 'my-token-1234');
  assert.throws(() => resolveToken('127.0.0.1', 'short'), /at least 8/);
  assert.throws(() => resolveToken('127.0.0.1', 'has space in it'), /at least 8/);
  assert.ok(isLoopbackAddress('127.0.0.1') && isLoopbackAddress('127.1.2.3') && isLoopbackAddress('[::1]') && isLoopbackAddress('::ffff:127.0.0.1'));
  assert.ok(!isLoopbackAddress('0.0.0.0') && !isLoopbackAddress('10.0.0.1') && !isLoopbackAddress('::') && !isLoopbackAddress('example.com'));
  assert.equal(hostOf('127.0.0.1:8080'), '127.0.0.1');
  assert.equal(hostOf('[::1]:8080'), '::1');
  assert.equal(hostOf('LOCALHOST'), 'localhost');
  assert.equal(statusOf(new LxtsError('no container named "x" in /p')).status, 404);
  assert.equal(statusOf(new LxtsError('bad', ExitCode.USAGE)).status, 400);
  assert.equal(statusOf(new LxtsError('container "x" is not running')).status, 409);
  assert.equal(statusOf(new LxtsError('invalid config: x:1', ExitCode.CONFIG)).status, 422);
  assert.equal(statusOf(new LxtsError('start failed', ExitCode.START_FAILED)).status, 500);
  assert.equal(statusOf(new Error('boom')).status, 500);
});
