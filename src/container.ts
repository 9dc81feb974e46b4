// Container: a persistent container's lifecycle (create, start, stop, attach, destroy, ...),
// its on-disk layout and locking. The CLI commands and the REST server are thin layers over
// this class. No Node.js process stays resident: after a start, lxts-exec is the monitor.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, unlinkSync, statSync, chmodSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { locations, containerPaths, type Locations, type ContainerPaths } from './storage/paths.js';
import { acquireLock, type Lock } from './storage/lock.js';
import { loadConfig, formatProblem } from './config/lxc-parse.js';
import { configToSpec, type StoredConfig } from './config/lxc-to-spec.js';
import { compileAttachPlan } from './plan/attach.js';
import { startExecutor, compileForHost } from './launch.js';
import { ContainerCgroup, type CgroupStats } from './cgroup/index.js';
import { monitorRequest, MonitorUnreachable } from './monitor-client.js';
import { LxtsError, ExitCode } from './errors.js';
import { validateName } from './names.js';
import type { ContainerSpec } from './spec.js';
import { TEMPLATES } from './template/index.js';
import { prewarmCgroupMove } from './cgroup/prewarm.js';
import { runHooks, type HookContext } from './hooks.js';
import { writeIdMaps } from './userns.js';
import { setupNetwork, teardownNetwork, releasePhysBeforeStop, containerNetInfo, defaultNetConfig, forgetContainer, type NetInfo } from './net/index.js';
import { prepareRootfs } from './storage/overlay.js';
import { assertNoDependents, unregisterFromOrigin } from './storage/copy.js';

export type ContainerState = 'STOPPED' | 'RUNNING' | 'STOPPING' | 'FROZEN' | 'BROKEN';

/** What a start leaves in <run>/runtime.json for later commands. */
export interface RuntimeInfo {
  initPid: number;
  /** /proc/PID/stat start time of init: tells a recycled PID from ours. */
  initStart: string;
  cgroupParent: string;
  startedAt: string;
  lxtspath: string;
  kind: 'system' | 'application';
}

export interface ContainerInfo {
  name: string;
  state: ContainerState;
  /** Why the state is BROKEN, or what else is worth knowing. */
  note?: string;
  pid: number | null;
  monitorPid: number | null;
  autostart: boolean;
  rootfs: string | null;
  configPath: string;
  hostname: string | null;
  startedAt: string | null;
  stats: CgroupStats | null;
  /** Interfaces of a running container (lo left out): addresses, rx/tx bytes. */
  interfaces?: NetInfo[];
}

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/lxts.js');
const CGROUP_PARENT = 'lxts';
const CONSOLE_RING = 65536;
const SIGNALS: Record<string, number> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15, SIGCONT: 18, SIGSTOP: 19, SIGPWR: 30,
};

export function signalNumber(sig: string | number): number {
  if (typeof sig === 'number') return sig;
  const s = sig.toUpperCase();
  if (/^\d+$/.test(s)) return Number(s);
  const m = /^(?:SIG)?RTMIN(?:\+(\d+))?$/.exec(s);
  if (m) return 34 + Number(m[1] ?? 0);
  const n = SIGNALS[s.startsWith('SIG') ? s : 'SIG' + s];
  if (!n) throw new LxtsError(`unknown signal "${sig}"`, ExitCode.USAGE);
  return n;
}

function procStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function writeAtomic(file: string, data: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode: 0o600 });
  renameSync(tmp, file);
}

function mountsBelow(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(dir + '/'));
}

/** Remove a container directory, never through a mount point (that would delete host files). */
export function removeTree(dir: string): void {
  const m = mountsBelow(dir);
  if (m.length) throw new LxtsError(`refusing to remove ${dir}: ${m[0]} is mounted below it`, ExitCode.GENERIC, 'unmount it first');
  rmSync(dir, { recursive: true, force: true });
}

export class Container {
  readonly name: string;
  readonly loc: Locations;
  readonly paths: ContainerPaths;

  constructor(name: string, opts: Partial<Locations> = {}) {
    this.name = validateName(name);
    this.loc = locations(opts);
    this.paths = containerPaths(name, this.loc);
  }

  /** Every container (a directory with a config file) under an lxtspath. */
  static list(opts: Partial<Locations> = {}): Container[] {
    const loc = locations(opts);
    let names: string[];
    try {
      names = readdirSync(loc.lxtspath);
    } catch {
      return [];
    }
    return names
      .sort()
      .filter((n) => {
        try {
          validateName(n);
          return existsSync(`${loc.lxtspath}/${n}/config`);
        } catch {
          return false;
        }
      })
      .map((n) => new Container(n, loc));
  }

  exists(): boolean {
    return existsSync(this.paths.config);
  }

  private requireExists(): void {
    if (!this.exists()) throw new LxtsError(`no container named "${this.name}" in ${this.loc.lxtspath}`, ExitCode.GENERIC, 'see `lxts ls`');
  }

  private lock(): Promise<Lock> {
    return acquireLock(this.paths.lock, `container "${this.name}"`);
  }

  /**
   * Create from a template: <lxtspath>/NAME/{config,rootfs}. A template that fails (or is
   * interrupted) half-way leaves nothing behind.
   */
  async create(template: string, args: string[] = [], opts: { onProgress?: (msg: string, fraction?: number) => void; signal?: AbortSignal; cacheDir?: string } = {}): Promise<void> {
    const t = TEMPLATES[template];
    if (!t) throw new LxtsError(`unknown template "${template}" (one of ${Object.keys(TEMPLATES).join(', ')})`, ExitCode.USAGE);
    mkdirSync(this.loc.lxtspath, { recursive: true, mode: 0o755 });
    const lock = await this.lock();
    try {
      if (existsSync(this.paths.dir)) throw new LxtsError(`container "${this.name}" already exists in ${this.loc.lxtspath}`, ExitCode.GENERIC);
      mkdirSync(this.paths.dir, { mode: 0o770 });
      try {
        mkdirSync(this.paths.rootfs, { mode: 0o755 });
        const result = await t.create({
          name: this.name,
          containerDir: this.paths.dir,
          rootfs: this.paths.rootfs,
          args,
          cacheDir: opts.cacheDir ?? process.env.LXTS_CACHE ?? '/var/cache/lxts',
          onProgress: opts.onProgress ?? (() => {}),
          signal: opts.signal,
        });
        const lines = [
          `# Container ${this.name}, created by lxts from the "${template}" template on ${new Date().toISOString()}`,
          `# Format: lxc.container.conf(5); check it with \`lxts config validate ${this.paths.config}\`.`,
          `lxc.uts.name = ${this.name}`,
          `lxc.rootfs.path = dir:${this.paths.rootfs}`,
          ...result.config.filter(([k]) => k !== 'lxc.uts.name' && k !== 'lxc.rootfs.path').map(([k, v]) => `${k} = ${v}`),
          // `lxts network create --default`: new containers join that network.
          ...(result.config.some(([k]) => k.startsWith('lxc.net')) ? [] : defaultNetConfig(this.loc.lxtspath)).map(([k, v]) => `${k} = ${v}`),
        ];
        writeAtomic(this.paths.config, lines.join('\n') + '\n');
      } catch (err) {
        removeTree(this.paths.dir);
        throw err;
      }
    } finally {
      lock.release();
    }
  }

  /** Read the config: errors (with file:line) throw, warnings are returned. */
  loadSpec(mode: 'start' | 'execute' = 'start', command?: string[]): { spec: ContainerSpec; stored: StoredConfig; warnings: string[] } {
    this.requireExists();
    const loaded = loadConfig(this.paths.config);
    // `lxc.environment = KEY` passes the starting process's value of KEY, as in LXC.
    const conv = configToSpec(loaded, { name: this.name, mode, command, hostEnv: process.env });
    const errors = conv.problems.filter((p) => p.severity === 'error');
    if (errors.length) {
      throw new LxtsError(`invalid config: ${formatProblem(errors[0]!)}${errors.length > 1 ? ` (and ${errors.length - 1} more: lxts config validate ${this.paths.config})` : ''}`, ExitCode.CONFIG);
    }
    return { spec: conv.spec, stored: conv.stored, warnings: conv.problems.map(formatProblem) };
  }

  runtime(): RuntimeInfo | null {
    try {
      return JSON.parse(readFileSync(this.paths.runtime, 'utf8')) as RuntimeInfo;
    } catch {
      return null;
    }
  }

  monitorPid(): number | null {
    try {
      const pid = Number(readFileSync(this.paths.monitorPid, 'utf8'));
      return pid > 0 && existsSync(`/proc/${pid}`) ? pid : null;
    } catch {
      return null;
    }
  }

  /** The init process of the last start if it is still the same process. */
  private liveInit(rt: RuntimeInfo | null): number | null {
    if (!rt) return null;
    return procStart(rt.initPid) === rt.initStart ? rt.initPid : null;
  }

  /** The cgroup's name: the run dir's, so containers of two lxtspaths never share one. */
  get cgroupName(): string {
    return basename(this.paths.run);
  }

  cgroup(): ContainerCgroup | undefined {
    const rt = this.runtime();
    return ContainerCgroup.open(this.cgroupName, { parent: rt?.cgroupParent ?? CGROUP_PARENT });
  }

  async state(): Promise<{ state: ContainerState; pid: number | null; note?: string }> {
    if (!existsSync(this.paths.run)) return { state: 'STOPPED', pid: null };
    try {
      const reply = await monitorRequest(this.paths.sock, 'state', 3000);
      const [word, pid] = reply.split(' ');
      const p = Number(pid) || null;
      if (word === 'stopping') return { state: 'STOPPING', pid: p };
      let frozen = false;
      try {
        frozen = this.cgroup()?.isFrozen() ?? false;
      } catch {
        /* no freezer: not frozen */
      }
      return { state: frozen ? 'FROZEN' : 'RUNNING', pid: p };
    } catch (e) {
      if (!(e instanceof MonitorUnreachable)) throw e;
      const rt = this.runtime();
      const init = this.liveInit(rt);
      if (init) return { state: 'BROKEN', pid: init, note: `the monitor is gone but init (pid ${init}) still runs: \`lxts stop -k ${this.name}\` cleans up` };
      if (rt || this.cgroup()) return { state: 'BROKEN', pid: null, note: `a previous run was not cleaned up: \`lxts stop -k ${this.name}\` cleans up` };
      return { state: 'STOPPED', pid: null };
    }
  }

  async isRunning(): Promise<boolean> {
    const s = (await this.state()).state;
    return s === 'RUNNING' || s === 'FROZEN' || s === 'STOPPING';
  }

  /** Start in the background: returns once the container's init runs, its monitor holding it. */
  async start(): Promise<{ pid: number; warnings: string[] }> {
    // The config, the plan and the executor's spawn come before the cgroup move: let the
    // kernel's grace period for it run meanwhile.
    if (process.getuid?.() === 0) prewarmCgroupMove();
    const lock = await this.lock();
    try {
      const st = await this.state();
      if (st.state !== 'STOPPED' && st.state !== 'BROKEN') throw new LxtsError(`container "${this.name}" is already running (pid ${st.pid})`, ExitCode.GENERIC);
      if (st.state === 'BROKEN') await this.cleanupAfterStop(true);
      const { spec, stored, warnings } = this.loadSpec('start');
      prepareRootfs(spec);
      // In a user namespace the container's root is an unprivileged host user: it must be
      // able to pass through the container's directory to reach its rootfs.
      if (spec.namespaces.includes('user')) {
        const mode = statSync(this.paths.dir).mode & 0o7777;
        if ((mode & 0o011) !== 0o011) chmodSync(this.paths.dir, mode | 0o011);
      }
      runHooks('pre-start', stored, this.hookContext(spec));
      mkdirSync(this.paths.run, { recursive: true, mode: 0o700 });
      for (const f of [this.paths.exit, this.paths.runtime]) rmSync(f, { force: true });
      const plan = compileForHost(spec, {
        monitor: {
          dir: this.paths.run,
          consoleLog: stored.console.logfile ?? this.paths.consoleLog,
          ringBytes: CONSOLE_RING,
          onExit: [process.execPath, CLI, 'internal', 'post-stop', this.name, '-P', this.loc.lxtspath],
        },
      });
      let cgroup: ContainerCgroup | undefined;
      try {
        const run = await startExecutor(plan, {
          stdio: 'ignore',
          detached: true,
          atBarrier: async (pid) => {
            if (spec.idmap && spec.namespaces.includes('user')) writeIdMaps(pid, spec.idmap);
            cgroup = ContainerCgroup.create(this.cgroupName, { parent: CGROUP_PARENT });
            cgroup.apply(spec.resources);
            cgroup.attach(pid);
            const net = await setupNetwork(stored.net, { pid, container: this.name, lxtspath: this.loc.lxtspath, rundir: this.loc.rundir, runDir: this.paths.run, ownNetns: spec.namespaces.includes('net') && !stored.namespaceShare.net });
            warnings.push(...net.warnings);
            runHooks('start-host', stored, this.hookContext(spec, pid));
          },
        });
        const rt: RuntimeInfo = {
          initPid: run.pid,
          initStart: procStart(run.pid) ?? '',
          cgroupParent: CGROUP_PARENT,
          startedAt: new Date().toISOString(),
          lxtspath: this.loc.lxtspath,
          kind: spec.init ? 'application' : 'system',
        };
        writeAtomic(this.paths.runtime, JSON.stringify(rt));
        return { pid: run.pid, warnings };
      } catch (err) {
        cgroup?.destroy();
        await teardownNetwork(this.paths.run, { failedStart: true });
        rmSync(this.paths.run, { recursive: true, force: true });
        throw err;
      }
    } finally {
      lock.release();
    }
  }

  /**
   * Stop: the halt signal (lxc.signal.halt; SIGPWR for system containers), SIGKILL after
   * `timeoutSec`. `kill` skips the grace period. Works without a monitor too (it was killed):
   * then init is killed directly and the clean-up done here.
   */
  async stop(opts: { timeoutSec?: number; kill?: boolean } = {}): Promise<{ code: number | null; warnings: string[] }> {
    const lock = await this.lock();
    try {
      const st = await this.state();
      if (st.state === 'STOPPED') throw new LxtsError(`container "${this.name}" is not running`, ExitCode.GENERIC);
      if (st.state === 'BROKEN') {
        await this.cleanupAfterStop(true);
        await destroyIfEphemeral(this);
        return { code: null, warnings: [] };
      }
      const { spec, stored } = this.loadSpec('start');
      const hooks = this.hookContext(spec, st.pid ?? undefined);
      const sig = opts.kill ? 9 : signalNumber(stored.signals.halt?.name ?? stored.signals.halt?.number ?? 'SIGPWR');
      const timeoutMs = opts.kill ? 0 : Math.round((opts.timeoutSec ?? 30) * 1000);
      // A frozen container cannot act on the signal: thaw it first.
      try {
        this.cgroup()?.thaw();
      } catch {
        /* no freezer */
      }
      const monitor = this.monitorPid();
      releasePhysBeforeStop(this.paths.run, st.pid);
      let code: number | null = null;
      try {
        // noexit: the monitor skips its post-stop hook; the clean-up below does its work
        // without starting another Node.js process.
        const reply = await monitorRequest(this.paths.sock, `stop ${sig} ${timeoutMs} noexit`, timeoutMs + 10000);
        const m = /^stopped (\d+)/.exec(reply);
        if (m) code = Number(m[1]);
      } catch (e) {
        if (!(e instanceof MonitorUnreachable)) throw e;
      }
      // Wait for the monitor to be gone (it releases the runtime names first) so that
      // `lxts stop` returns with nothing of the run left.
      if (monitor) await waitForExit(monitor, 15000);
      const warnings = runHooks('stop', stored, hooks);
      await this.cleanupAfterStop(false);
      warnings.push(...runHooks('post-stop', stored, hooks));
      await destroyIfEphemeral(this);
      return { code, warnings };
    } finally {
      lock.release();
    }
  }

  /** Remove what a run leaves: cgroup (killing what is left in it), runtime dir. Idempotent. */
  async cleanupAfterStop(killInit: boolean): Promise<void> {
    const rt = this.runtime();
    if (killInit) {
      const init = this.liveInit(rt);
      if (init) {
        try {
          process.kill(init, 'SIGKILL');
        } catch {
          /* gone */
        }
        await waitForExit(init, 5000);
      }
    }
    const cg = this.cgroup();
    cg?.destroy();
    await teardownNetwork(this.paths.run);
    rmSync(this.paths.run, { recursive: true, force: true });
  }

  async kill(signal: string | number = 'SIGKILL'): Promise<void> {
    if (!(await this.isRunning())) throw new LxtsError(`container "${this.name}" is not running`, ExitCode.GENERIC);
    const reply = await monitorRequest(this.paths.sock, `kill ${signalNumber(signal)}`);
    if (reply !== 'ok') throw new LxtsError(`kill failed: ${reply}`);
  }

  /** Wait until the container reaches `state` (RUNNING or STOPPED), bounded. */
  async wait(state: ContainerState, timeoutSec = -1): Promise<boolean> {
    const deadline = timeoutSec < 0 ? Infinity : Date.now() + timeoutSec * 1000;
    for (;;) {
      if ((await this.state()).state === state) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Run a command inside the running container; resolves with its exit status. */
  async attach(args: string[], opts: { env?: string[]; cwd?: string; uid?: number; gid?: number; stdio?: 'inherit' | 'pipe' | 'ignore'; terminal?: boolean } = {}): Promise<{ code: number; run: Awaited<ReturnType<typeof startExecutor>> }> {
    const st = await this.state();
    if (st.state !== 'RUNNING' || !st.pid) throw new LxtsError(`container "${this.name}" is not running${st.state !== 'STOPPED' ? ` (${st.state})` : ''}`, ExitCode.GENERIC);
    const { spec } = this.loadSpec('start');
    const env = [...spec.process.env];
    for (const kv of opts.env ?? []) {
      const k = kv.slice(0, kv.indexOf('=') + 1);
      const i = env.findIndex((e) => e.startsWith(k));
      if (i >= 0) env[i] = kv;
      else env.push(kv);
    }
    const plan = compileAttachPlan({
      initPid: st.pid,
      namespaces: spec.namespaces,
      args,
      env,
      cwd: opts.cwd ?? '/',
      uid: opts.uid ?? spec.process.uid,
      gid: opts.gid ?? spec.process.gid,
      additionalGids: spec.process.additionalGids,
      capabilities: spec.capabilities,
      noNewPrivileges: spec.process.noNewPrivileges,
      terminal: opts.terminal ?? false,
    });
    const cg = this.cgroup();
    const run = await startExecutor(plan, { stdio: opts.stdio ?? 'inherit', atBarrier: (pid) => cg?.attach(pid) });
    return { code: await run.exited, run };
  }

  async freeze(): Promise<void> {
    await this.requireRunning();
    this.requireCgroup().freeze();
  }

  async unfreeze(): Promise<void> {
    await this.requireRunning();
    this.requireCgroup().thaw();
  }

  async cgroupGet(key: string): Promise<string> {
    await this.requireRunning();
    return this.requireCgroup().get(key);
  }

  async cgroupSet(key: string, value: string): Promise<void> {
    await this.requireRunning();
    this.requireCgroup().set(key, value);
  }

  private async requireRunning(): Promise<void> {
    if (!(await this.isRunning())) throw new LxtsError(`container "${this.name}" is not running`, ExitCode.GENERIC);
  }

  private requireCgroup(): ContainerCgroup {
    const cg = this.cgroup();
    if (!cg) throw new LxtsError(`container "${this.name}" has no cgroup (was it started by lxts?)`);
    return cg;
  }

  async info(): Promise<ContainerInfo> {
    this.requireExists();
    const st = await this.state();
    let hostname: string | null = null;
    let rootfs: string | null = null;
    let autostart = false;
    try {
      const { spec, stored } = this.loadSpec('start');
      hostname = spec.hostname;
      rootfs = spec.rootfs.kind === 'overlay' ? `overlay:${spec.rootfs.lower?.join(':')}:${spec.rootfs.upper}` : spec.rootfs.path ?? null;
      autostart = stored.start.auto;
    } catch {
      /* a broken config still lists */
    }
    let stats: CgroupStats | null = null;
    let interfaces: NetInfo[] | undefined;
    if (st.state !== 'STOPPED') {
      try {
        stats = this.cgroup()?.stats() ?? null;
      } catch {
        /* cgroup vanished mid-read */
      }
      try {
        if (st.pid && st.state !== 'BROKEN') interfaces = containerNetInfo(st.pid, this.paths.run);
      } catch {
        /* init gone mid-read */
      }
    }
    return {
      name: this.name,
      state: st.state,
      note: st.note,
      pid: st.pid,
      monitorPid: this.monitorPid(),
      autostart,
      rootfs,
      configPath: this.paths.config,
      hostname,
      startedAt: this.runtime()?.startedAt ?? null,
      stats,
      interfaces,
    };
  }

  /** What LXC's hooks are told about this container (src/hooks.ts). */
  hookContext(spec: ContainerSpec, initPid?: number): HookContext {
    const rootfsPath = spec.rootfs.kind === 'overlay' ? (spec.rootfs.upper ?? '') : (spec.rootfs.path ?? '');
    return { name: this.name, configPath: this.paths.config, rootfsPath, initPid };
  }

  async destroy(opts: { force?: boolean } = {}): Promise<void> {
    this.requireExists();
    assertNoDependents(this, 'destroy');
    if (await this.isRunning()) {
      if (!opts.force) throw new LxtsError(`container "${this.name}" is running`, ExitCode.GENERIC, `stop it first, or use \`lxts destroy -f ${this.name}\``);
      await this.stop({ kill: true });
    }
    const lock = await this.lock();
    try {
      await this.cleanupAfterStop(true);
      try {
        const { spec, stored } = this.loadSpec('start');
        runHooks('destroy', stored, this.hookContext(spec));
      } catch {
        /* a broken config does not keep a container from being destroyed */
      }
      unregisterFromOrigin(this);
      await forgetContainer(this.loc.lxtspath, this.name);
      removeTree(this.paths.dir);
    } finally {
      lock.release();
    }
  }
}

export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!existsSync(`/proc/${pid}`)) return true;
    // A zombie child of ours counts as gone.
    try {
      if (/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) return true;
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/** post-stop, run by the monitor (ON_EXIT) after init exited: remove the cgroup and runtime files. */
export async function postStop(name: string, opts: Partial<Locations>): Promise<void> {
  const c = new Container(name, opts);
  let hooks: { stored: StoredConfig; ctx: HookContext } | undefined;
  try {
    const { spec, stored } = c.loadSpec('start');
    hooks = { stored, ctx: c.hookContext(spec) };
  } catch {
    /* config gone or broken: clean up without hooks */
  }
  if (hooks) runHooks('stop', hooks.stored, hooks.ctx);
  c.cgroup()?.destroy();
  await teardownNetwork(c.paths.run);
  if (hooks) runHooks('post-stop', hooks.stored, hooks.ctx);
  await destroyIfEphemeral(c);
  for (const f of [c.paths.runtime]) {
    try {
      unlinkSync(f);
    } catch {
      /* gone */
    }
  }
}

/**
 * lxc.ephemeral = 1 (lxts copy --ephemeral): the container goes with its run. Called after
 * a run ended, by post-stop (init exited on its own) and by stop(); a no-op once it is gone.
 */
async function destroyIfEphemeral(c: Container): Promise<void> {
  let ephemeral = false;
  try {
    ephemeral = c.loadSpec('start').stored.ephemeral === true;
  } catch {
    /* no (more) or broken config: keep what there is */
  }
  if (ephemeral && liveDependentsSafe(c)) {
    unregisterFromOrigin(c);
    await forgetContainer(c.loc.lxtspath, c.name);
    removeTree(c.paths.dir);
  }
}

/** An ephemeral container that others were copied from is kept (their lower layer). */
function liveDependentsSafe(c: Container): boolean {
  try {
    assertNoDependents(c, 'destroy');
    return true;
  } catch (e) {
    process.stderr.write(`lxts: ephemeral ${c.name} kept: ${(e as Error).message}\n`);
    return false;
  }
}
