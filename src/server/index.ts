// `lxts serve`: a REST API over the library, a live event stream, and the dashboard page, in
// one Node.js process with node:http only (a handful of routes do not need a framework).
//
//   GET  /api/containers                       every container of the lxtspath, with stats
//   POST /api/containers                       create {name, template, args?} (progress on the stream)
//   GET  /api/containers/NAME                  one container
//   DELETE /api/containers/NAME                destroy (?force=1 or {force: true} stops it first)
//   POST /api/containers/NAME/start|stop|freeze|unfreeze
//   GET|PUT /api/containers/NAME/cgroup/KEY    read / set a cgroup value {value}
//   GET|POST|DELETE /api/demo                  the CPU-partition demo {split, durationSec}
//   GET  /api/host, /api/host/processes, /api/templates
//   GET  /api/events                           Server-Sent Events: containers, state, processes, demo, create
//
// docs/dashboard.md is the reference.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostname, release, cpus, totalmem } from 'node:os';
import { Container } from '../container.js';
import { locations, type Locations } from '../storage/paths.js';
import { LxtsError, ExitCode } from '../errors.js';
import { nameProblem } from '../names.js';
import { TEMPLATES } from '../template/index.js';
import { parseSplit } from '../demo/split.js';
import { hostSnapshot, type HostSnapshot, type KnownContainer } from '../host/process-tree.js';
import { HttpError, readJson, checkBody, sendJson, sendError, BASE_HEADERS } from './http-util.js';
import { checkRequest, generateToken, isLoopbackAddress } from './auth.js';
import { SseHub } from './sse.js';
import { DemoRunner, type DemoDeps } from './demo-runner.js';
import { viewOf, brokenView, type ContainerView } from './containers.js';

export const VERSION = '0.1.0';

export interface ServeOptions {
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. Any other address needs a token. */
  listen?: string;
  /** The API token. Generated when binding off loopback without one. */
  token?: string;
  lxtspath?: string;
  rundir?: string;
  /** The built page (dist/web); default next to this module. */
  webRoot?: string;
  /** Stats interval, ms (default 1000). */
  intervalMs?: number;
  /** Process-tree interval, ms (default 2000). */
  treeIntervalMs?: number;
  /** The demo's implementation (tests pass a fake). */
  demo?: DemoDeps;
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  host: string;
  /** The token in force, or null (loopback without one). */
  token: string | null;
  server: Server;
  /** Stop: end streams, stop the demo (waiting for its clean-up), close the listener. */
  close(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));
/**
 * The built page: dist/web, found from dist/src/server/ (ES modules) or dist/bundle/ (the CLI's
 * one-file bundle, where import.meta.url is the bundle's own URL).
 */
export const DEFAULT_WEB_ROOT = [resolve(here, '../../web'), resolve(here, '../web')].find((d) => existsSync(join(d, 'vendor', 'uPlot.iife.min.js'))) ?? resolve(here, '../../web');

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** Map a library error to an HTTP status: the message is the CLI's one line. */
export function statusOf(err: unknown): { status: number; message: string; hint?: string } {
  if (err instanceof HttpError) return { status: err.status, message: err.message, hint: err.hint };
  if (err instanceof LxtsError) {
    const m = err.message;
    let status: number;
    if (/^no container named /.test(m)) status = 404;
    else if (err.name === 'CgroupError') status = /unknown cgroup key|invalid|EINVAL|ERANGE|EOPNOTSUPP/.test(m) || ['EINVAL', 'ERANGE', 'EOPNOTSUPP', 'ENOENT'].includes((err as { errno?: string }).errno ?? '') ? 400 : 409;
    else if (err.code === ExitCode.USAGE) status = 400;
    else if (err.code === ExitCode.CONFIG) status = 422;
    else if (err.code === ExitCode.NOT_ROOT) status = 403;
    else if (err.code >= 125) status = 500;
    else status = 409; // not running, already running, already exists, busy: the state forbids it
    return { status, message: m, hint: err.hint };
  }
  const e = err as Error;
  return { status: 500, message: `internal error: ${e?.message ?? String(err)}` };
}

interface StreamStats {
  t: number;
  containers: ContainerView[];
}

class Api {
  readonly hub = new SseHub();
  readonly demo: DemoRunner;
  private prevCpu = new Map<string, { usec: number; t: number }>();
  private lastStates = new Map<string, string>();
  private latest: StreamStats | null = null;
  private latestTree: HostSnapshot | null = null;
  private timers: NodeJS.Timeout[] = [];
  private ticking = false;
  private creating = new Map<string, AbortController>();
  private closed = false;

  constructor(
    readonly loc: Locations,
    readonly opts: ServeOptions,
    demoDeps: DemoDeps,
  ) {
    this.demo = new DemoRunner(demoDeps, (d) => this.hub.broadcast('demo', d));
  }

  container(name: string): Container {
    const why = nameProblem(name);
    if (why) throw new HttpError(400, `invalid container name ${JSON.stringify(name)}: ${why}`);
    return new Container(name, this.loc);
  }

  existing(name: string): Container {
    const c = this.container(name);
    if (!c.exists()) throw new HttpError(404, `no container named "${name}" in ${this.loc.lxtspath}`);
    return c;
  }

  known(): KnownContainer[] {
    return Container.list(this.loc).map((c) => ({ name: c.name, cgroupName: c.cgroupName, cgroupParent: c.runtime()?.cgroupParent ?? 'lxts' }));
  }

  tree(): HostSnapshot {
    return hostSnapshot({ known: this.known() });
  }

  /** Every container's view, with the CPU rate since the previous reading. */
  async views(): Promise<ContainerView[]> {
    const out: ContainerView[] = [];
    const now = performance.now();
    const seen = new Set<string>();
    for (const c of Container.list(this.loc)) {
      let v: ContainerView;
      try {
        v = await viewOf(c);
      } catch (e) {
        if (!c.exists()) continue; // destroyed while we looked
        v = brokenView(c, (e as Error).message);
      }
      seen.add(c.name);
      const usec = v.stats?.cpu.usageUsec;
      const prev = this.prevCpu.get(c.name);
      if (usec !== undefined && v.pid) {
        if (prev && usec >= prev.usec && now > prev.t) v.cpuPct = ((usec - prev.usec) / 1000 / (now - prev.t)) * 100;
        this.prevCpu.set(c.name, { usec, t: now });
      } else {
        this.prevCpu.delete(c.name);
      }
      out.push(v);
    }
    for (const k of this.prevCpu.keys()) if (!seen.has(k)) this.prevCpu.delete(k);
    return out;
  }

  /** Latest cached views (the stream's), or fresh ones. */
  async currentViews(): Promise<ContainerView[]> {
    if (this.latest && Date.now() - this.latest.t < (this.opts.intervalMs ?? 1000) * 2) {
      // keep the CPU rate, refresh state (an action may just have changed it)
      const fresh = await this.views();
      const rate = new Map(this.latest.containers.map((v) => [v.name, v.cpuPct]));
      for (const v of fresh) if (v.cpuPct === null && v.pid) v.cpuPct = rate.get(v.name) ?? null;
      return fresh;
    }
    return this.views();
  }

  async tick(): Promise<void> {
    if (this.ticking || this.closed) return;
    this.ticking = true;
    try {
      const containers = await this.views();
      const t = Date.now();
      this.latest = { t, containers };
      const names = new Set(containers.map((c) => c.name));
      for (const v of containers) {
        const before = this.lastStates.get(v.name);
        if (before !== v.state) {
          this.hub.broadcast('state', { name: v.name, from: before ?? null, to: v.state, pid: v.pid, at: new Date(t).toISOString() });
          this.lastStates.set(v.name, v.state);
        }
      }
      for (const [n, s] of this.lastStates) {
        if (!names.has(n)) {
          this.hub.broadcast('state', { name: n, from: s, to: 'DESTROYED', pid: null, at: new Date(t).toISOString() });
          this.lastStates.delete(n);
        }
      }
      this.hub.broadcast('containers', { t, containers });
    } catch (e) {
      this.log(`stats: ${(e as Error).message}`);
    } finally {
      this.ticking = false;
    }
  }

  treeTick(): void {
    if (this.closed || this.hub.size === 0) return;
    try {
      this.latestTree = this.tree();
      this.hub.broadcast('processes', this.latestTree);
    } catch (e) {
      this.log(`process tree: ${(e as Error).message}`);
    }
  }

  startTimers(): void {
    this.timers.push(setInterval(() => void this.tick(), this.opts.intervalMs ?? 1000));
    this.timers.push(setInterval(() => this.treeTick(), this.opts.treeIntervalMs ?? 2000));
    void this.tick();
  }

  /** After an action: push the new state at once rather than at the next tick. */
  nudge(): void {
    void this.tick();
    setTimeout(() => this.treeTick(), 50).unref();
  }

  log(line: string): void {
    this.opts.log?.(line);
  }

  hostInfo(): Record<string, unknown> {
    let pidMax: number | null = null;
    try {
      pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim());
    } catch {
      /* not Linux? */
    }
    let layout: string | null = null;
    try {
      // cheap after the first call (cached)
      layout = (this.cgroupLayout ??= detectLayout());
    } catch {
      layout = null;
    }
    return {
      version: VERSION,
      hostname: hostname(),
      kernel: release(),
      cpus: cpus().length,
      memoryTotal: totalmem(),
      pidMax,
      cgroupLayout: layout,
      lxtspath: this.loc.lxtspath,
      rundir: this.loc.rundir,
      root: process.getuid?.() === 0,
      serverPid: process.pid,
      demo: this.demo.get().state,
    };
  }
  private cgroupLayout: string | null = null;

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    for (const ac of this.creating.values()) ac.abort();
    await this.demo.shutdown();
    this.hub.close();
  }

  // ---- handlers -------------------------------------------------------------------------

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const parts = url.pathname.split('/').filter(Boolean).map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        throw new HttpError(400, `malformed URL component ${JSON.stringify(p)}`);
      }
    });
    const m = req.method ?? 'GET';
    const route = (methods: string[]): void => {
      if (!methods.includes(m)) {
        res.setHeader('allow', methods.join(', '));
        throw new HttpError(405, `${m} is not allowed on ${url.pathname} (allowed: ${methods.join(', ')})`);
      }
    };
    const [, a, b, c, d, ...rest] = parts; // parts[0] === 'api'
    if (a === undefined) {
      route(['GET']);
      return sendJson(res, 200, { version: VERSION, endpoints: ENDPOINTS });
    }
    if (a === 'events' && b === undefined) {
      route(['GET']);
      return this.events(req, res);
    }
    if (a === 'host' && b === undefined) {
      route(['GET']);
      await noBody(req);
      return sendJson(res, 200, this.hostInfo());
    }
    if (a === 'host' && b === 'processes' && c === undefined) {
      route(['GET']);
      await noBody(req);
      return sendJson(res, 200, this.tree());
    }
    if (a === 'templates' && b === undefined) {
      route(['GET']);
      return sendJson(res, 200, Object.values(TEMPLATES).map((t) => ({ name: t.name, summary: t.summary })));
    }
    if (a === 'demo' && b === undefined) {
      route(['GET', 'POST', 'DELETE']);
      if (m === 'GET') return sendJson(res, 200, this.demo.get());
      if (m === 'DELETE') {
        await noBody(req);
        return sendJson(res, 202, this.demo.stop());
      }
      const body = await readJson(req);
      checkBody(body, { split: { type: 'split' }, durationSec: { type: 'number' } });
      const split = parseSplitValue(body.split ?? [75, 25]);
      const st = this.demo.start(split, (body.durationSec as number | undefined) ?? 60);
      return sendJson(res, 202, st);
    }
    if (a === 'containers') {
      if (b === undefined) {
        route(['GET', 'POST']);
        if (m === 'GET') return sendJson(res, 200, await this.currentViews());
        return this.create(req, res);
      }
      if (c === undefined) {
        route(['GET', 'DELETE']);
        const ct = this.existing(b);
        if (m === 'GET') {
          await noBody(req);
          const views = await this.currentViews();
          const v = views.find((x) => x.name === b);
          if (!v) throw new HttpError(404, `no container named "${b}" in ${this.loc.lxtspath}`);
          return sendJson(res, 200, v);
        }
        const body = await readJson(req);
        checkBody(body, { force: { type: 'boolean' } });
        const q = url.searchParams.get('force');
        const force = body.force === true || q === '1' || q === 'true';
        await ct.destroy({ force });
        this.nudge();
        return sendJson(res, 200, { name: b, destroyed: true });
      }
      if (c === 'cgroup' && d !== undefined && rest.length === 0) {
        route(['GET', 'PUT']);
        const ct = this.existing(b);
        if (!/^[a-z0-9_]+(\.[a-z0-9_]+)+$/.test(d)) throw new HttpError(400, `invalid cgroup key ${JSON.stringify(d)}: e.g. "cpu.weight", "memory.max", "pids.max"`);
        if (m === 'GET') {
          await noBody(req);
          return sendJson(res, 200, { name: b, key: d, value: await ct.cgroupGet(d) });
        }
        const body = await readJson(req);
        checkBody(body, { value: { type: 'string|number', required: true } });
        const value = String(body.value);
        if (value.length > 4096 || /[\n\0]/.test(value)) throw new HttpError(400, 'a cgroup value is one line of at most 4096 characters');
        await ct.cgroupSet(d, value);
        let after: string | null = null;
        try {
          after = await ct.cgroupGet(d);
        } catch {
          after = null; // a converted key (cpu.shares on v2) has no file of its own
        }
        this.nudge();
        return sendJson(res, 200, { name: b, key: d, value: after ?? value });
      }
      if (d === undefined && (c === 'start' || c === 'stop' || c === 'freeze' || c === 'unfreeze')) {
        route(['POST']);
        const ct = this.existing(b);
        const body = await readJson(req);
        if (c === 'stop') checkBody(body, { timeoutSec: { type: 'number' }, kill: { type: 'boolean' } });
        else checkBody(body, {});
        let extra: Record<string, unknown> = {};
        if (c === 'start') {
          const r = await ct.start();
          extra = { pid: r.pid, warnings: r.warnings };
        } else if (c === 'stop') {
          const t = body.timeoutSec as number | undefined;
          if (t !== undefined && (t < 0 || t > 3600)) throw new HttpError(400, `field "timeoutSec" must be between 0 and 3600, got ${t}`);
          const r = await ct.stop({ timeoutSec: t, kill: body.kill as boolean | undefined });
          extra = { exitCode: r.code };
        } else if (c === 'freeze') await ct.freeze();
        else await ct.unfreeze();
        this.nudge();
        const st = await ct.state();
        return sendJson(res, 200, { name: b, state: st.state, pid: st.pid, ...extra });
      }
    }
    throw new HttpError(404, `no such endpoint: ${m} ${url.pathname}`, 'GET /api/ lists the endpoints');
  }

  private events(req: IncomingMessage, res: ServerResponse): void {
    const hello: [string, unknown][] = [['hello', this.hostInfo()]];
    if (this.latest) hello.push(['containers', this.latest]);
    const demo = this.demo.get();
    hello.push(['demo', { type: 'status', status: demo }]);
    this.hub.add(req, res, hello);
    // the tree: at once for this client's first paint
    setImmediate(() => {
      try {
        if (!res.writableEnded) res.write(`event: processes\ndata: ${JSON.stringify(this.latestTree ?? this.tree())}\n\n`);
      } catch {
        /* gone */
      }
    });
  }

  private async create(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    checkBody(body, { name: { type: 'string', required: true }, template: { type: 'string', required: true }, args: { type: 'string[]' } });
    const name = body.name as string;
    const template = body.template as string;
    const ct = this.container(name);
    if (!Object.prototype.hasOwnProperty.call(TEMPLATES, template)) throw new HttpError(400, `unknown template ${JSON.stringify(template)} (one of ${Object.keys(TEMPLATES).join(', ')})`);
    if (ct.exists() || this.creating.has(name)) throw new HttpError(409, `container "${name}" already exists in ${this.loc.lxtspath}`);
    const ac = new AbortController();
    this.creating.set(name, ac);
    const progress = (message: string, fraction?: number): void => this.hub.broadcast('create', { name, template, message, fraction: fraction ?? null, done: false });
    progress(`creating ${name} from the ${template} template`, 0);
    try {
      await ct.create(template, (body.args as string[] | undefined) ?? [], { onProgress: progress, signal: ac.signal });
    } catch (e) {
      const s = statusOf(e);
      this.hub.broadcast('create', { name, template, message: s.message, fraction: null, done: true, error: s.message });
      throw e;
    } finally {
      this.creating.delete(name);
    }
    this.hub.broadcast('create', { name, template, message: `created ${name}`, fraction: 1, done: true });
    this.nudge();
    sendJson(res, 201, await viewOf(ct));
  }
}

const ENDPOINTS = [
  'GET /api/containers', 'POST /api/containers {name, template, args?}', 'GET /api/containers/NAME', 'DELETE /api/containers/NAME [?force=1]',
  'POST /api/containers/NAME/start', 'POST /api/containers/NAME/stop {timeoutSec?, kill?}', 'POST /api/containers/NAME/freeze', 'POST /api/containers/NAME/unfreeze',
  'GET /api/containers/NAME/cgroup/KEY', 'PUT /api/containers/NAME/cgroup/KEY {value}',
  'GET /api/demo', 'POST /api/demo {split?, durationSec?}', 'DELETE /api/demo',
  'GET /api/host', 'GET /api/host/processes', 'GET /api/templates', 'GET /api/events (text/event-stream)',
];

function detectLayout(): string {
  // lazy: detect reads /proc/self/cgroup and mountinfo
  const mi = readFileSync('/proc/self/mountinfo', 'utf8');
  const v1 = / - cgroup /.test(mi);
  const v2 = / - cgroup2 /.test(mi);
  return v1 ? (v2 ? 'hybrid' : 'v1') : v2 ? 'v2' : 'none';
}

/** A body on a GET is refused like any unknown field. */
async function noBody(req: IncomingMessage): Promise<void> {
  if ((req.headers['content-length'] && req.headers['content-length'] !== '0') || req.headers['transfer-encoding']) {
    const body = await readJson(req);
    checkBody(body, {});
  }
}

/** "75/25", "75,25", [75, 25] -> [75, 25]; range checks are the demo's own. */
export function parseSplitValue(v: unknown): number[] {
  if (Array.isArray(v)) return v as number[];
  return parseSplit(String(v));
}

/** The token in force: the given one (checked), else a generated one off loopback, else none. */
export function resolveToken(listen: string, token: string | undefined | null): string | null {
  if (token !== undefined && token !== null) {
    if (token.length < 8 || !/^[\x21-\x7e]+$/.test(token)) throw new LxtsError('--token must be at least 8 printable characters without spaces', ExitCode.USAGE);
    return token;
  }
  return isLoopbackAddress(listen) ? null : generateToken();
}

function serveStatic(root: string, url: URL, res: ServerResponse): boolean {
  let p = url.pathname;
  if (p === '/' || p === '/index.html') p = '/index.html';
  let rel: string;
  try {
    rel = decodeURIComponent(p);
  } catch {
    return false;
  }
  if (rel.includes('\0')) return false;
  const file = resolve(root, '.' + rel);
  if (file !== root && !file.startsWith(root + sep)) return false;
  if (!existsSync(file) || !statSync(file).isFile()) return false;
  const data = readFileSync(file);
  const type = MIME[extname(file)] ?? 'application/octet-stream';
  res.writeHead(200, {
    ...BASE_HEADERS,
    'content-type': type,
    'content-length': data.length,
    ...(type.startsWith('text/html') ? { 'content-security-policy': CSP } : {}),
  });
  res.end(data);
  return true;
}

/** Start the server; resolves once it listens. */
export async function startServer(opts: ServeOptions = {}): Promise<RunningServer> {
  const listen = opts.listen ?? '127.0.0.1';
  const token = resolveToken(listen, opts.token);
  const loc = locations({ lxtspath: opts.lxtspath, rundir: opts.rundir });
  const webRoot = resolve(opts.webRoot ?? DEFAULT_WEB_ROOT);
  const demoDeps: DemoDeps = opts.demo ?? (await (async () => {
    const m = await import('../demo/index.js');
    return { runDemo: m.runDemo, resolve: m.resolveDemoOptions };
  })());
  const api = new Api(loc, opts, demoDeps);
  const policy = { token: token ?? undefined };

  const server = createServer((req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return sendError(res, 400, 'malformed request URL');
    }
    const isApi = url.pathname === '/api' || url.pathname.startsWith('/api/');
    void (async () => {
      try {
        checkRequest(req, url, policy, isApi);
        if (isApi) return await api.handle(req, res, url);
        if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}`);
        if (!serveStatic(webRoot, url, res)) throw new HttpError(404, `not found: ${url.pathname}${existsSync(join(webRoot, 'index.html')) ? '' : ` (the page is not built: ${webRoot}/index.html is missing; run npm run build)`}`);
      } catch (err) {
        const s = statusOf(err);
        if (s.status >= 500) api.log(`${req.method} ${url.pathname}: ${s.message}${(err as Error)?.stack ? '\n' + (err as Error).stack : ''}`);
        if (!res.headersSent) sendError(res, s.status, s.message, s.hint);
        else if (!res.writableEnded) res.end();
        // a body we did not read must not be parsed as the next request
        if (!req.complete) req.resume();
      }
    })();
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  server.requestTimeout = 0; // the event stream is a long request
  server.headersTimeout = 20_000;

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8080, listen, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 8080);
  const hostPart = listen.includes(':') ? `[${listen}]` : listen;
  api.startTimers();
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostPart}:${port}/`,
    port,
    host: listen,
    token,
    server,
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((r) => server.close(() => r()));
        await api.close();
        server.closeAllConnections();
        await closed;
      })()),
  };
}
