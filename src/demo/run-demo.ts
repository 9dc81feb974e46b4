// `lxts demo` as a library: N containers pinned to one CPU, CPU weights in the ratio of a split,
// each running a busy loop; every interval the cgroups' own CPU accounting is read and a sample
// emitted. The CLI's terminal view and the web dashboard are two consumers of the same events.
//
// Everything created here is removed on every path: normal end, abort (Ctrl-C), a container
// that dies, an exception while starting container 2 of 3.
import type { RunningContainer } from '../launch.js';
import type { ContainerSpec } from '../spec.js';
import type { HostDescription } from '../cgroup/index.js';
import { LxtsError, ExitCode, requireRoot } from '../errors.js';
import { validateName } from '../names.js';
import { validateSplit, weightsFor, chooseCpu, validateDuration, type CpuWeights, type CpuSources } from './split.js';
import { ShareTracker, type DemoSample } from './tracker.js';

export type { DemoSample, ContainerSample } from './tracker.js';

/** The CPU-bound work each container runs: a shell busy loop, all user time, no syscalls. */
export const DEMO_COMMAND: readonly string[] = ['/bin/sh', '-c', 'while :; do :; done'];
export const DEFAULT_INTERVAL_MS = 1000;
/**
 * The first second after all containers run is shown but not counted: the containers start one
 * after another, and the scheduler needs a few of its periods to settle the fresh tasks'
 * vruntime. Everything measured after it counts.
 */
export const DEFAULT_WARMUP_MS = 1000;

export interface DemoOptions {
  /** Percentages of the CPU, 2..8 positive integers adding up to 100, e.g. [75, 25]. */
  split: number[];
  /** CPU to pin every container to (default: the last usable CPU). */
  cpu?: number;
  /** How long to measure after all containers run, seconds. */
  durationSec: number;
  /** Sampling interval (default 1000 ms). */
  intervalMs?: number;
  /** Warm-up excluded from the cumulative split (default 1000 ms, at most half the duration). */
  warmupMs?: number;
  /** Ends the demo early (Ctrl-C, a dashboard's stop button): the summary covers what was measured. */
  signal?: AbortSignal;
  /** Called with every sample. */
  onSample?(sample: DemoSample): void;
  /** Called with every event (progress while starting, running, samples, stopping). */
  onEvent?(event: DemoEvent): void;
  /** Parent cgroup below lxts's own (default "lxts"). */
  cgroupParent?: string;
  /** Name prefix: containers are `<prefix>-<pid>-<i>` (default "demo"). */
  namePrefix?: string;
  /** Override the busy loop (tests). */
  command?: readonly string[];
  /** CPU list sources (tests). */
  cpuSources?: CpuSources;
}

export interface DemoContainerInfo {
  index: number;
  name: string;
  target: number;
  /** cgroup v1 cpu.shares and v2 cpu.weight given to the container (the host uses one). */
  shares: number;
  weight: number;
  pid?: number;
}

export interface DemoHostInfo {
  /** v1, v2, hybrid. */
  layout: string;
  /** Which cgroup version serves the controllers the demo uses. */
  cpu: 1 | 2 | null;
  cpuacct: 1 | 2 | null;
  cpuset: 1 | 2 | null;
}

export interface DemoInfo {
  split: number[];
  cpu: number;
  durationSec: number;
  intervalMs: number;
  warmupMs: number;
  command: string[];
  cgroup: DemoHostInfo;
  containers: DemoContainerInfo[];
  /** The weight file the host actually uses: "cpu.shares" (v1) or "cpu.weight" (v2). */
  weightFile: 'cpu.shares' | 'cpu.weight';
}

export type DemoEvent =
  | { type: 'starting'; index: number; name: string; of: number }
  | { type: 'started'; index: number; name: string; pid: number }
  | { type: 'running'; info: DemoInfo }
  | { type: 'sample'; sample: DemoSample }
  | { type: 'stopping'; reason: DemoSummary['endedBy'] }
  | { type: 'cleaned' };

export interface DemoContainerResult {
  name: string;
  target: number;
  shares: number;
  weight: number;
  /** Measured share of the CPU time the containers got, percent (cumulative). */
  measured: number;
  /** |measured − target|, percentage points. */
  errorPp: number;
  /** CPU seconds in the measured window. */
  cpuSeconds: number;
  /** CPU seconds since the measurement began (including the warm-up). */
  cpuSecondsTotal: number;
}

export interface DemoSummary {
  split: number[];
  cpu: number;
  cgroup: DemoHostInfo;
  weightFile: 'cpu.shares' | 'cpu.weight';
  /** Requested duration, seconds. */
  durationSec: number;
  /** Length of the measured window (after the warm-up), seconds. */
  measuredSec: number;
  /** Warm-up excluded from the measured split, seconds (0 when the run ended during the warm-up). */
  warmupSec: number;
  /** True when the run ended before the warm-up was over: the split then covers everything. */
  warmupIncluded: boolean;
  samples: number;
  endedBy: 'duration' | 'abort';
  containers: DemoContainerResult[];
  /** max errorPp. */
  maxErrorPp: number;
  /** CPU seconds of all containers in the measured window. */
  totalCpuSeconds: number;
  /** totalCpuSeconds / measuredSec × 100: how much of the pinned CPU the demo got. */
  cpuBusyPct: number;
}

/** Checks and completes the options without touching the system (except reading the CPU list). */
export function resolveDemoOptions(opts: DemoOptions): { split: number[]; cpu: number; durationSec: number; intervalMs: number; warmupMs: number; weights: CpuWeights[]; names: string[] } {
  const split = validateSplit(opts.split);
  const durationSec = validateDuration(opts.durationSec);
  const intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
  if (!Number.isFinite(intervalMs) || intervalMs < 50 || intervalMs > 60_000) {
    throw new LxtsError(`sampling interval must be 50..60000 ms, got ${String(intervalMs)}`, ExitCode.USAGE);
  }
  const durationMs = durationSec * 1000;
  // at most half the run, so a short run still measures something
  const warmupMs = Math.max(0, Math.min(opts.warmupMs ?? DEFAULT_WARMUP_MS, Math.floor(durationMs / 2 / intervalMs) * intervalMs));
  const cpu = chooseCpu(opts.cpu, opts.cpuSources);
  const prefix = opts.namePrefix ?? 'demo';
  const names = split.map((_, i) => validateName(`${prefix}-${process.pid}-${i + 1}`));
  return { split, cpu, durationSec, intervalMs, warmupMs, weights: weightsFor(split), names };
}

/** Does this host give lxts the controllers the demo needs? Throws a clear error naming what is missing. */
export async function checkDemoHost(desc?: HostDescription): Promise<DemoHostInfo> {
  if (!desc) desc = (await import('../cgroup/index.js')).describeCgroupHost();
  return demoHostInfo(desc);
}

/** Pure part of checkDemoHost (unit-tested with made-up host descriptions). */
export function demoHostInfo(d: HostDescription): DemoHostInfo {
  const by = new Map(d.controllers.map((c) => [c.controller, c]));
  const need: [string, string][] = [
    ['cpu', 'to give the containers CPU weights (cpu.shares / cpu.weight)'],
    ['cpuacct', 'to measure their CPU time (cpuacct.usage / cpu.stat)'],
    ['cpuset', 'to pin them to one CPU (cpuset.cpus)'],
  ];
  const problems: string[] = [];
  for (const [c, why] of need) {
    const info = by.get(c);
    if (!info || info.version === null) problems.push(`the ${c} cgroup controller is not available ${why}${info?.note ? ` (${info.note})` : ''}`);
    else if (!info.delegated) problems.push(`the ${c} cgroup controller (v${info.version}) cannot be used by lxts ${why}: ${info.note ?? 'not delegated'}`);
  }
  if (problems.length) {
    throw new LxtsError(`the demo cannot run on this host: ${problems.join('; ')}`, ExitCode.GENERIC,
      'the demo needs the cpu and cpuset cgroup controllers (and cpuacct on cgroup v1); on cgroup v2, the parent cgroup must list "cpu cpuset" in cgroup.subtree_control (`lxts check` shows the layout)');
  }
  const v = (c: string): 1 | 2 | null => by.get(c)?.version ?? null;
  return { layout: d.layout, cpu: v('cpu'), cpuacct: v('cpuacct'), cpuset: v('cpuset') };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, Math.max(0, ms));
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Kill, wait for and remove the containers; returns the problems (never throws). */
export async function removeContainers(containers: RunningContainer[], timeoutMs = 10_000): Promise<string[]> {
  const problems: string[] = [];
  // Kill through the cgroup: it lists exactly our processes. The monitors then see their
  // container end and exit by themselves; wait() removes each cgroup.
  for (const c of containers) {
    try {
      c.cgroup?.killAll();
    } catch { /* already gone, or destroyed by wait(): handled below */ }
  }
  const waits = containers.map((c) =>
    Promise.race([c.wait().then(() => true, () => true), new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs).unref())]),
  );
  const ended = await Promise.all(waits);
  for (const [i, c] of containers.entries()) {
    if (!ended[i]) {
      c.kill('SIGKILL'); // the monitor itself (our child); PDEATHSIG takes the container with it
      const ok = await Promise.race([c.wait().then(() => true, () => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000).unref())]);
      if (!ok) problems.push(`container ${c.spec.name} (pid ${c.pid}) did not exit`);
    }
    try {
      c.cgroup?.destroy();
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  return problems;
}

/**
 * Run the demo. Resolves with the summary after `durationSec` of measurement or an abort (with
 * at least one sample). Throws LxtsError for bad options, a host that cannot run it, a
 * container that fails to start or dies; in every case nothing it created remains.
 */
export async function runDemo(opts: DemoOptions): Promise<DemoSummary> {
  const r = resolveDemoOptions(opts);
  requireRoot('lxts demo');
  const host = await checkDemoHost();
  const { launch } = await import('../launch.js');
  const { defaultSpec } = await import('../spec.js');
  const emit = (e: DemoEvent): void => {
    opts.onEvent?.(e);
    if (e.type === 'sample') opts.onSample?.(e.sample);
  };
  const command = [...(opts.command ?? DEMO_COMMAND)];
  const infos: DemoContainerInfo[] = r.names.map((name, i) => ({ index: i, name, target: r.split[i]!, shares: r.weights[i]!.shares, weight: r.weights[i]!.weight }));
  const info: DemoInfo = {
    split: r.split, cpu: r.cpu, durationSec: r.durationSec, intervalMs: r.intervalMs, warmupMs: r.warmupMs,
    command, cgroup: host, containers: infos, weightFile: host.cpu === 2 ? 'cpu.weight' : 'cpu.shares',
  };

  const started: RunningContainer[] = [];
  // a container that ends before we stop it: remember which, and wake the sampling loop
  let died: { name: string; code: number } | undefined;
  const wake = new AbortController();
  const onAbort = (): void => wake.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let stopping = false;
  let cleaned = false;
  const cleanup = async (): Promise<string[]> => {
    if (cleaned) return [];
    cleaned = true;
    stopping = true;
    opts.signal?.removeEventListener('abort', onAbort);
    const problems = await removeContainers(started);
    emit({ type: 'cleaned' });
    return problems;
  };

  try {
    for (const [i, name] of r.names.entries()) {
      if (opts.signal?.aborted) throw interrupted('before all containers were running');
      emit({ type: 'starting', index: i, name, of: r.names.length });
      const spec: ContainerSpec = defaultSpec(name, command);
      spec.resources = { cpu: { shares: r.weights[i]!.shares, weight: r.weights[i]!.weight, cpus: String(r.cpu) } };
      let c: RunningContainer;
      try {
        c = await launch(spec, { stdio: 'ignore', dieWithParent: true, ...(opts.cgroupParent ? { cgroupParent: opts.cgroupParent } : {}) });
      } catch (e) {
        // Ctrl-C reaches the executor too and ends a start in progress: that is an interruption,
        // not a failure (our own abort may arrive a moment after the executor's exit)
        if (!opts.signal?.aborted && opts.signal) await sleep(300, opts.signal);
        if (opts.signal?.aborted) throw interrupted('before all containers were running');
        throw e;
      }
      started.push(c);
      infos[i]!.pid = c.pid;
      if (!c.cgroup) throw new LxtsError(`container ${name} has no cgroup`, ExitCode.GENERIC);
      void c.wait().then((st) => {
        if (!stopping && !died) {
          died = { name, code: st.code };
          wake.abort();
        }
      });
      emit({ type: 'started', index: i, name, pid: c.pid });
    }
    if (opts.signal?.aborted) throw interrupted('before all containers were running');

    const cgroups = started.map((c) => c.cgroup!);
    const tracker = new ShareTracker(r.names, r.split, r.warmupMs);
    let last = cgroups.map((g) => g.cpuUsageUsec());
    const t0 = nowMs();
    tracker.begin(t0, last);
    emit({ type: 'running', info });

    const total = Math.round((r.durationSec * 1000) / r.intervalMs);
    const endMs = r.durationSec * 1000;
    let endedBy: DemoSummary['endedBy'] = 'duration';
    for (let k = 1; ; k++) {
      // aligned to the start so the intervals do not drift; the last one ends at the duration
      const due = Math.min(k * r.intervalMs, endMs);
      await sleep(t0 + due - nowMs(), wake.signal);
      if (died) {
        // Ctrl-C reaches the monitors too, and they end their containers: give our own abort
        // a moment to arrive before calling it a failure
        if (!opts.signal?.aborted) await sleep(300, opts.signal);
        if (!opts.signal?.aborted) {
          const d = died as { name: string; code: number };
          throw new LxtsError(`container ${d.name} ended unexpectedly (status ${d.code}) during the demo`, ExitCode.GENERIC, 'was it killed from outside? nothing the demo created remains');
        }
      }
      if (opts.signal?.aborted) {
        endedBy = 'abort';
        break;
      }
      const t = nowMs();
      const usage = cgroups.map((g) => g.cpuUsageUsec());
      // a counter that went backwards means a cgroup vanished under us: do not count it
      if (usage.some((u, i) => u < last[i]!)) {
        throw new LxtsError('a demo cgroup disappeared during the run (removed from outside?)', ExitCode.GENERIC);
      }
      last = usage;
      emit({ type: 'sample', sample: tracker.update(t, usage) });
      if (due >= endMs || k >= total) break;
    }
    emit({ type: 'stopping', reason: endedBy });
    if (!tracker.lastSample) throw interrupted('before the first sample');
    const summary = summarize(tracker, info, endedBy);
    const problems = await cleanup();
    if (problems.length) throw new LxtsError(`the demo finished but clean-up failed: ${problems.join('; ')}`, ExitCode.GENERIC);
    return summary;
  } finally {
    const problems = await cleanup();
    if (problems.length) process.emitWarning(`lxts demo clean-up: ${problems.join('; ')}`);
  }
}

function interrupted(when: string): LxtsError {
  return new LxtsError(`demo interrupted ${when}; nothing was measured`, 130);
}

/** The summary from the tracker's state (pure; exported for tests). */
export function summarize(tracker: ShareTracker, info: Pick<DemoInfo, 'split' | 'cpu' | 'cgroup' | 'weightFile' | 'durationSec' | 'containers'>, endedBy: DemoSummary['endedBy']): DemoSummary {
  const s = tracker.lastSample;
  if (!s) throw new Error('no sample');
  const warmupIncluded = !tracker.measuring;
  const measuredMs = warmupIncluded ? s.elapsedMs : tracker.measuredMs;
  const containers: DemoContainerResult[] = s.containers.map((c, i) => {
    // during the warm-up only (a very early Ctrl-C), the split covers everything measured
    const cpuSeconds = warmupIncluded ? c.cpuSecondsTotal : c.cpuSeconds;
    return {
      name: c.name, target: c.target, shares: info.containers[i]!.shares, weight: info.containers[i]!.weight,
      measured: 0, errorPp: 0, cpuSeconds, cpuSecondsTotal: c.cpuSecondsTotal,
    };
  });
  const tot = containers.reduce((a, c) => a + c.cpuSeconds, 0);
  for (const c of containers) {
    c.measured = tot > 0 ? (c.cpuSeconds / tot) * 100 : 0;
    c.errorPp = Math.abs(c.measured - c.target);
  }
  return {
    split: [...info.split],
    cpu: info.cpu,
    cgroup: info.cgroup,
    weightFile: info.weightFile,
    durationSec: info.durationSec,
    measuredSec: measuredMs / 1000,
    warmupSec: warmupIncluded ? 0 : tracker.warmupExcludedMs / 1000,
    warmupIncluded,
    samples: s.seq,
    endedBy,
    containers,
    maxErrorPp: Math.max(...containers.map((c) => c.errorPp)),
    totalCpuSeconds: tot,
    cpuBusyPct: measuredMs > 0 ? (tot / (measuredMs / 1000)) * 100 : 0,
  };
}
