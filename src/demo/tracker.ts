// The demo's arithmetic, pure: turn successive cgroup CPU-usage readings into shares of the
// CPU, the cumulative (measured) split and its error against the target. Fed with synthetic
// readings by the unit tests, with cgroup readings by runDemo.

export interface ContainerSample {
  index: number;
  name: string;
  /** Target share, percent of the group (the split). */
  target: number;
  /** Share of the containers' total CPU time in the last interval, percent. */
  share: number;
  /** CPU time in the last interval as percent of one CPU's wall time (100 = the whole CPU). */
  cpuPct: number;
  /** Share of the containers' total CPU time since the warm-up ended, percent (null during warm-up). */
  cumulative: number | null;
  /** cumulative − target in percentage points, signed (null during warm-up). */
  errorPp: number | null;
  /** CPU seconds used since the warm-up ended (0 during warm-up). */
  cpuSeconds: number;
  /** CPU seconds used since the container started being measured (including the warm-up). */
  cpuSecondsTotal: number;
}

export interface DemoSample {
  /** 1, 2, ... */
  seq: number;
  /** Milliseconds since the measurement started (all containers running). */
  elapsedMs: number;
  /** Length of the interval this sample covers, ms (measured, not nominal). */
  intervalMs: number;
  /** True while in the warm-up: the sample is shown but not counted in the cumulative split. */
  warmup: boolean;
  containers: ContainerSample[];
  /** Sum of cpuPct: how busy the pinned CPU was with the demo in the last interval. */
  totalCpuPct: number;
  /** max |errorPp| (null during warm-up). */
  maxErrorPp: number | null;
}

/** Turns readings (time in ms, per-container usage in µs) into samples. */
export class ShareTracker {
  private t0 = 0;
  private tPrev = 0;
  private prev: number[] = [];
  private start: number[] = [];
  /** Usage at the end of the warm-up: the base of the cumulative split. */
  private base: number[] | undefined;
  private baseT = 0;
  private seq = 0;
  private last: DemoSample | undefined;

  constructor(
    readonly names: readonly string[],
    readonly targets: readonly number[],
    /** Samples ending at or before this many ms after start are warm-up. */
    readonly warmupMs: number,
  ) {
    if (names.length !== targets.length) throw new Error('names and targets differ in length');
  }

  /** The first reading: when all containers are running. */
  begin(tMs: number, usageUsec: readonly number[]): void {
    this.check(usageUsec);
    this.t0 = this.tPrev = tMs;
    this.prev = [...usageUsec];
    this.start = [...usageUsec];
    this.base = this.warmupMs <= 0 ? [...usageUsec] : undefined;
    this.baseT = tMs;
    this.seq = 0;
    this.last = undefined;
  }

  /** A reading at time tMs; returns the sample for the interval since the previous reading. */
  update(tMs: number, usageUsec: readonly number[]): DemoSample {
    this.check(usageUsec);
    const n = this.names.length;
    const dt = Math.max(tMs - this.tPrev, 1e-9);
    // usage counters only grow; a smaller value (a counter reset) counts as no progress
    const d = usageUsec.map((u, i) => Math.max(0, u - this.prev[i]!));
    const total = d.reduce((a, b) => a + b, 0);
    const elapsedMs = tMs - this.t0;
    // the warm-up ends with the first reading at or after warmupMs: that reading becomes the
    // base of the cumulative split, and the sample ending there is the last warm-up sample
    const endsWarmup = this.base === undefined && elapsedMs >= this.warmupMs - 1e-6;
    const base = this.base;
    let cum: number[] | undefined;
    if (base) {
      cum = usageUsec.map((u, i) => Math.max(0, u - base[i]!));
    }
    const cumTotal = cum ? cum.reduce((a, b) => a + b, 0) : 0;
    const containers: ContainerSample[] = [];
    for (let i = 0; i < n; i++) {
      const cumulative = cum && cumTotal > 0 ? (cum[i]! / cumTotal) * 100 : null;
      containers.push({
        index: i,
        name: this.names[i]!,
        target: this.targets[i]!,
        share: total > 0 ? (d[i]! / total) * 100 : 0,
        cpuPct: (d[i]! / 1000 / dt) * 100,
        cumulative,
        errorPp: cumulative === null ? null : cumulative - this.targets[i]!,
        cpuSeconds: cum ? cum[i]! / 1e6 : 0,
        cpuSecondsTotal: Math.max(0, usageUsec[i]! - this.start[i]!) / 1e6,
      });
    }
    const errs = containers.map((c) => c.errorPp).filter((e): e is number => e !== null);
    const sample: DemoSample = {
      seq: ++this.seq,
      elapsedMs,
      intervalMs: dt,
      warmup: base === undefined,
      containers,
      totalCpuPct: containers.reduce((a, c) => a + c.cpuPct, 0),
      maxErrorPp: errs.length === n ? Math.max(...errs.map(Math.abs)) : null,
    };
    if (endsWarmup) {
      this.base = [...usageUsec];
      this.baseT = tMs;
    }
    this.tPrev = tMs;
    this.prev = [...usageUsec];
    this.last = sample;
    return sample;
  }

  /** The latest sample, if any. */
  get lastSample(): DemoSample | undefined {
    return this.last;
  }

  /** Is the warm-up over (the cumulative split is being measured)? */
  get measuring(): boolean {
    return this.base !== undefined;
  }

  /** Milliseconds of the cumulative window up to the latest sample (0 during warm-up). */
  get measuredMs(): number {
    return this.base === undefined ? 0 : this.tPrev - this.baseT;
  }

  /** Milliseconds of warm-up actually excluded (from begin() to the base reading). */
  get warmupExcludedMs(): number {
    return this.base === undefined ? this.tPrev - this.t0 : this.baseT - this.t0;
  }

  private check(u: readonly number[]): void {
    if (u.length !== this.names.length) throw new Error(`expected ${this.names.length} readings, got ${u.length}`);
  }
}
