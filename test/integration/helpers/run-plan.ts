// Drives native/lxts-exec directly: spawn it with the control socket on fd 3, write an
// encoded LaunchPlan, collect report lines, send `g` after `pid N`, and collect the result.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Duplex } from 'node:stream';
import { createConnection, type Socket } from 'node:net';
import { encodePlan, type LaunchPlan } from '../../../src/plan/encode.js';

// dist/test/integration/helpers/run-plan.js -> repository root is four levels up.
export const EXECUTOR = fileURLToPath(new URL('../../../../native/lxts-exec', import.meta.url));

export interface RunResult {
  reports: string[];
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Host PID of the container's first process (from the `pid N` report). */
  pid: number | undefined;
}

export interface Control {
  /** Send control bytes on fd 3 (`g`, `k`). */
  send(bytes: string): void;
  /** Close fd 3 from the caller's side. */
  close(): void;
  proc: ChildProcess;
}

export interface RunOptions {
  /** Send `g` after `pid N` (default true). */
  go?: boolean;
  stdin?: 'ignore' | 'pipe' | 'inherit';
  /** Called for each report line, after the built-in handling. */
  onReport?: (line: string, ctl: Control) => void;
}

export interface RunHandle {
  proc: ChildProcess;
  ctl: Control;
  reports: string[];
  result: Promise<RunResult>;
  /** Resolves with the first report line starting with prefix. */
  waitReport(prefix: string): Promise<string>;
  /** Resolves once lxts-exec's stdout contains text. */
  waitOutput(text: string): Promise<void>;
  /** Kill lxts-exec and the container if still running (by PID only). */
  cleanup(): void;
}

export function startPlan(plan: LaunchPlan, opts: RunOptions = {}): RunHandle {
  const proc = spawn(EXECUTOR, [], { stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe', 'pipe'] as StdioOptions });
  const sock = proc.stdio[3] as Duplex;
  const reports: string[] = [];
  const waiters: { prefix: string; resolve: (l: string) => void }[] = [];
  let stdout = '';
  let stderr = '';
  let pid: number | undefined;
  let exited = false;
  const outWaiters: { text: string; resolve: () => void }[] = [];
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    for (const w of outWaiters.splice(0)) {
      if (stdout.includes(w.text)) w.resolve();
      else outWaiters.push(w);
    }
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  sock.on('error', () => {}); // EPIPE after lxts-exec exits is expected in abort tests

  const ctl: Control = {
    send: (bytes) => {
      if (!sock.destroyed && sock.writable) sock.write(bytes);
    },
    close: () => sock.end(),
    proc,
  };

  let partial = '';
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => {
    partial += d;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      reports.push(line);
      if (line.startsWith('pid ')) {
        pid = Number(line.slice(4));
        if (opts.go ?? true) ctl.send('g');
      }
      for (const w of waiters.splice(0)) {
        if (line.startsWith(w.prefix)) w.resolve(line);
        else waiters.push(w);
      }
      opts.onReport?.(line, ctl);
    }
  });
  sock.write(encodePlan(plan));

  const result = new Promise<RunResult>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (exitCode, signal) => {
      exited = true;
      resolve({ reports, exitCode, signal, stdout, stderr, pid });
    });
  });

  return {
    proc,
    ctl,
    reports,
    result,
    waitReport: (prefix) => {
      const seen = reports.find((l) => l.startsWith(prefix));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ prefix, resolve }));
    },
    waitOutput: (text) =>
      stdout.includes(text) ? Promise.resolve() : new Promise<void>((resolve) => outWaiters.push({ text, resolve })),
    cleanup: () => {
      if (exited) return;
      // Only what this run started: the container's PID (it has PDEATHSIG anyway) and lxts-exec.
      if (pid !== undefined) tryKill(pid);
      if (proc.pid !== undefined) tryKill(proc.pid);
    },
  };
}

export async function runPlan(plan: LaunchPlan, opts: RunOptions = {}): Promise<RunResult> {
  const h = startPlan(plan, opts);
  try {
    return await h.result;
  } finally {
    h.cleanup();
  }
}

function tryKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** True while a process with this PID exists (zombies included). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Detached {
  /** lxts-exec, now the container's monitor. */
  monitorPid: number;
  /** Host PID of the container's init (the `pid N` report). */
  initPid: number;
  reports: string[];
  /** Resolves when the monitor exits (with its exit code). */
  exited: Promise<number | null>;
  /** Resolves when nobody holds the stray fd 4 the monitor was given any more. */
  strayClosed: Promise<void>;
  /** SIGKILL the container's init and the monitor if still there (by PID only). */
  cleanup(): void;
}

/**
 * Start a plan with a MONITOR step the way `lxts start` does: stdio ignored, its own session,
 * `g` after `pid`, and fd 3 closed as soon as `exec` arrives. Rejects on an `error` report.
 */
export function startDetached(plan: LaunchPlan, timeoutMs = 10000): Promise<Detached> {
  // fd 4: a descriptor the caller leaks by mistake, which a detached monitor must not keep.
  const proc = spawn(EXECUTOR, [], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] as StdioOptions, detached: true });
  const sock = proc.stdio[3] as Duplex;
  const stray = proc.stdio[4] as Duplex;
  stray.on('error', () => {});
  stray.resume();
  const strayClosed = new Promise<void>((resolve) => stray.on('close', () => resolve()));
  const reports: string[] = [];
  let initPid: number | undefined;
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const cleanup = () => {
    if (initPid !== undefined) tryKill(initPid);
    if (proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) tryKill(proc.pid);
  };
  sock.on('error', () => {});
  return new Promise<Detached>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no exec report within ${timeoutMs} ms: ${reports.join(' | ')}`));
    }, timeoutMs);
    let partial = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      partial += d;
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        reports.push(line);
        if (line.startsWith('pid ')) {
          initPid = Number(line.slice(4));
          sock.write('g');
        } else if (line === 'exec') {
          clearTimeout(timer);
          sock.destroy(); // the caller goes away; the monitor must stay
          resolve({ monitorPid: proc.pid!, initPid: initPid!, reports, exited, strayClosed, cleanup });
        } else if (line.startsWith('error ')) {
          clearTimeout(timer);
          cleanup();
          reject(new Error(line));
        }
      }
    });
    proc.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`lxts-exec exited before exec: ${reports.join(' | ')}`));
    });
    sock.write(encodePlan(plan));
  });
}

export interface MonitorConn {
  sock: Socket;
  /** Everything received so far. */
  data(): string;
  /** Resolves once the received data contains text (or matches re). */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves when the monitor closes the connection. */
  ended: Promise<void>;
}

/** Connect to a monitor socket and send one request line. */
export function connectMonitor(sockPath: string, request: string): Promise<MonitorConn> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(sockPath);
    let buf = '';
    const waiters: (() => void)[] = [];
    const ended = new Promise<void>((r) => sock.on('close', () => r()));
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      buf += d;
      for (const w of waiters.splice(0)) w();
    });
    sock.on('error', reject);
    sock.on('connect', () => {
      sock.write(request + '\n');
      resolve({
        sock,
        data: () => buf,
        ended,
        waitFor: (text, timeoutMs = 5000) =>
          new Promise<string>((res, rej) => {
            const hit = () => (typeof text === 'string' ? buf.includes(text) : text.test(buf));
            const timer = setTimeout(() => rej(new Error(`timeout waiting for ${String(text)}; got ${JSON.stringify(buf)}`)), timeoutMs);
            const check = () => {
              if (hit()) {
                clearTimeout(timer);
                res(buf);
              } else waiters.push(check);
            };
            check();
          }),
      });
    });
  });
}

/** One request, its first reply line. */
export async function monitorRequest(sockPath: string, request: string): Promise<string> {
  const c = await connectMonitor(sockPath, request);
  try {
    const text = await c.waitFor('\n');
    return text.slice(0, text.indexOf('\n'));
  } finally {
    c.sock.destroy();
  }
}
