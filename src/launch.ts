// Start a container from a ContainerSpec: compile the plan, hand it to lxts-exec, and do the
// host-side work (cgroup) while the child waits at the barrier. This is the library path the
// CLI, the demo and the benchmarks share, so it avoids anything slow: no shell, sync cgroup
// writes, one socket to the executor.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { mkdirSync, existsSync, statSync, chmodSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'node:net';
import type { ContainerSpec } from './spec.js';
import { compilePlan, type CompileContext } from './plan/compile.js';
import { encodePlan, type LaunchPlan } from './plan/encode.js';
import { probeHostLayout } from './template/host-layout.js';
import { ContainerCgroup, detectCgroupHost } from './cgroup/index.js';
import { LxtsError, ExitCode } from './errors.js';
import { writeIdMaps } from './userns.js';

export const RUN_DIR = process.env.LXTS_RUNDIR ?? '/run/lxts';
/** An empty host dir that in-memory and overlay roots are mounted on, inside the child's mount namespace only. */
export const STAGING_DIR = RUN_DIR + '/.staging';

/**
 * The empty directory in-memory root filesystems are mounted on (inside each container's own
 * mount namespace only). Searchable by everyone: in a user namespace the container's root is
 * an unprivileged host user that must reach it.
 */
export function ensureStagingDir(): void {
  mkdirSync(STAGING_DIR, { recursive: true, mode: 0o755 });
  for (const [dir, mode] of [[RUN_DIR, 0o711], [STAGING_DIR, 0o755]] as const) {
    if ((statSync(dir).mode & 0o777) !== mode) chmodSync(dir, mode);
  }
}

export function executorPath(): string {
  if (process.env.LXTS_EXEC) return process.env.LXTS_EXEC;
  // dist/src/launch.js -> <package>/native/lxts-exec
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../native/lxts-exec');
}

export interface LaunchOptions {
  /** The container's stdio: inherited from this process (CLI), ignored, or piped to the caller. */
  stdio?: 'inherit' | 'ignore' | 'pipe';
  /** Kill the container if this process dies (foreground runs). */
  dieWithParent?: boolean;
  /** Parent of the container's cgroup, relative to this process's own cgroup (default "lxts"). */
  cgroupParent?: string;
  /** Create no cgroup at all (only when the spec sets no resources). */
  noCgroup?: boolean;
}

export interface ExitStatus {
  /** Shell-style: the exit status, or 128+N when killed by signal N. */
  code: number;
}

export function compileForHost(spec: ContainerSpec, extra: Partial<CompileContext> = {}): LaunchPlan {
  const ctx: CompileContext = { cgroup2Mount: detectCgroupHost().layout === 'v2', ...extra };
  if (spec.rootfs.kind === 'host') {
    ctx.hostLayout = probeHostLayout();
    ctx.stagingDir = STAGING_DIR;
  }
  if (spec.rootfs.kind === 'overlay') ctx.stagingDir = STAGING_DIR;
  return compilePlan(spec, ctx);
}

/** A started container: its init is running the command (the `exec` report arrived). */
export class RunningContainer {
  private exitPromise: Promise<ExitStatus>;

  constructor(
    readonly spec: ContainerSpec,
    readonly pid: number,
    readonly cgroup: ContainerCgroup | undefined,
    readonly executor: ChildProcess,
    exited: Promise<number>,
  ) {
    this.exitPromise = exited.then((code) => {
      this.cgroup?.destroy();
      return { code };
    });
  }

  /** Resolves when PID 1 of the container has exited and its cgroup is gone. */
  wait(): Promise<ExitStatus> {
    return this.exitPromise;
  }

  /** Signal the container's PID 1 through its monitor (which applies the PID-1 rules). */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.executor.exitCode === null && this.executor.signalCode === null) this.executor.kill(signal);
  }
}

export interface ExecutorRun {
  /** Host PID of the executor's child: the container's init (or the attached process). */
  pid: number;
  executor: ChildProcess;
  /** The executor's exit status (the container's, shell-style). */
  exited: Promise<number>;
}

export interface ExecutorOptions {
  stdio?: 'inherit' | 'ignore' | 'pipe';
  /** Start the executor in its own session and let it outlive this process (detached monitor). */
  detached?: boolean;
  /** Host-side work while the child waits at the barrier (cgroup, later network). */
  atBarrier?: (pid: number) => void | Promise<void>;
}

/**
 * Run lxts-exec on a plan up to the `exec` report. On any failure the executor and its
 * child are killed and reaped before the error is thrown, so nothing is left behind.
 */
export async function startExecutor(plan: LaunchPlan, opts: ExecutorOptions = {}): Promise<ExecutorRun> {
  const exe = executorPath();
  if (!existsSync(exe)) throw new LxtsError(`executor not found at ${exe}`, ExitCode.GENERIC, 'run `npm install` (it builds native/lxts-exec)');
  const io = opts.stdio ?? 'inherit';
  const stdio: StdioOptions = [io, io, io, 'pipe'];
  const child = spawn(exe, [], { stdio, detached: opts.detached ?? false });
  const sock = child.stdio[3] as Socket;
  const exited = new Promise<number>((res) => {
    child.on('exit', (code, signal) => res(code ?? 128 + (signal ? signalNumber(signal) : 0)));
    child.on('error', () => res(ExitCode.START_FAILED));
  });
  const reports = new ReportReader(sock);
  try {
    sock.write(encodePlan(plan));
    const first = await reports.next();
    if (!first.startsWith('pid ')) throw startError(first, plan, await exited);
    const pid = Number(first.slice(4));
    await opts.atBarrier?.(pid);
    sock.write('g');
    const second = await reports.next();
    if (second !== 'exec') throw startError(second, plan, await exited);
    if (opts.detached) {
      // The monitor carries on alone: no Node.js process stays behind per container.
      sock.end();
      sock.unref();
      child.unref();
    }
    return { pid, executor: child, exited };
  } catch (err) {
    if (child.exitCode === null) {
      if (!sock.destroyed) sock.end('k');
      child.kill('SIGKILL');
    }
    await exited;
    throw err;
  }
}

export async function launch(spec: ContainerSpec, opts: LaunchOptions = {}): Promise<RunningContainer> {
  if (spec.rootfs.kind === 'host' || spec.rootfs.kind === 'overlay') ensureStagingDir();
  const plan = compileForHost(spec, { dieWithParent: opts.dieWithParent });
  let cgroup: ContainerCgroup | undefined;
  try {
    const run = await startExecutor(plan, {
      stdio: opts.stdio,
      atBarrier: (pid) => {
        if (spec.idmap && spec.namespaces.includes('user')) writeIdMaps(pid, spec.idmap);
        if (opts.noCgroup) return;
        cgroup = ContainerCgroup.create(spec.name, { parent: opts.cgroupParent });
        cgroup.apply(spec.resources);
        cgroup.attach(pid);
      },
    });
    return new RunningContainer(spec, run.pid, cgroup, run.executor, run.exited);
  } catch (err) {
    // The child died with its mount namespace; the cgroup goes with it.
    cgroup?.destroy();
    throw err;
  }
}

/** Run a container in the foreground to completion (lxts execute). */
export async function execute(spec: ContainerSpec, opts: LaunchOptions = {}): Promise<ExitStatus> {
  const c = await launch(spec, { dieWithParent: true, ...opts });
  return c.wait();
}

function startError(report: string, plan: LaunchPlan, exitCode: number): LxtsError {
  const m = /^error (\d+) (.*)$/.exec(report);
  if (!m) return new LxtsError(`container failed to start (executor exited ${exitCode}${report ? ': ' + report : ''})`, ExitCode.START_FAILED);
  const step = plan.steps[Number(m[1]) - 1];
  const detail = `step ${m[1]} ${m[2]}`;
  if (step?.op === 'EXEC') {
    const file = String(step.args[0]);
    if (exitCode === ExitCode.NOT_FOUND) return new LxtsError(`command not found in the container: ${file}`, ExitCode.NOT_FOUND, detail);
    return new LxtsError(`command not executable in the container: ${file}`, ExitCode.NOT_EXECUTABLE, detail);
  }
  if (step?.op === 'CHDIR') return new LxtsError(`working directory ${String(step.args[0])} unusable in the container: ${m[2].replace(/^[^:]*: /, '')}`, ExitCode.START_FAILED, detail);
  return new LxtsError(`container failed to start: ${detail}`, ExitCode.START_FAILED);
}

/** Reads `\n`-terminated report lines from the executor socket. EOF yields "". */
class ReportReader {
  private buf = '';
  private lines: string[] = [];
  private waiters: ((l: string) => void)[] = [];
  private ended = false;

  constructor(sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        this.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 1);
      }
    });
    const end = (): void => {
      this.ended = true;
      while (this.waiters.length) this.waiters.shift()!('');
    };
    sock.on('end', end);
    sock.on('close', end);
    sock.on('error', end);
  }

  private push(line: string): void {
    const w = this.waiters.shift();
    if (w) w(line);
    else this.lines.push(line);
  }

  next(): Promise<string> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.ended) return Promise.resolve('');
    return new Promise((res) => this.waiters.push(res));
  }
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };
function signalNumber(sig: string): number {
  return SIGNALS[sig] ?? 0;
}
