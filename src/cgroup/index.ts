// The cgroup layer: one interface (ContainerCgroup), a v1 and a v2 driver chosen per controller.
// Synchronous on purpose: cgroup files are tiny, and this runs on the container start path
// while the child waits at the barrier.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { CgroupError, errnoOf, fsError } from './error.js';
import { detectCgroupHost, type CgroupHost, type V1Hierarchy } from './detect.js';
import { planWrites, type CgroupResources, type CgWrite, type Logical, type PlanContext } from './resources.js';
import {
  parseKeyValues, parseV1Bytes, parseV2Max, parseIoStat, parseBlkioServiceBytes, parseCpuList,
} from './convert.js';
import { sleepSync, readFile, readOpt, writeFile, exists, readPids, rmdirQuiet } from './fsutil.js';
import { enableV2Controllers, releaseHostLeaf, type V2Enable } from './v2.js';

export { CgroupError } from './error.js';
export type { CgroupResources, Logical, CgWrite, PlanContext } from './resources.js';
export { planWrites, planRaw, rawToStructured, controllerOfKey, MEMORY_MIN } from './resources.js';
export {
  parseSize, parseSizeOrMax, sharesToWeight, weightToShares, parseCpus, cpusToQuota, quotaToCpus,
  formatCpuMax, parseCpuMax, parseCpuList, formatCpuList, blkioWeightToIoWeight, ioWeightToBlkioWeight,
  DEFAULT_CFS_PERIOD,
} from './convert.js';
export { detectCgroupHost, parseCgroupHost, resetCgroupHostCache } from './detect.js';
export type { CgroupHost, ControllerInfo, V1Hierarchy, V2Hierarchy, DetectSources } from './detect.js';
export { describeCgroupHost, formatCgroupHost } from './describe.js';
export type { HostDescription, ControllerDescription } from './describe.js';

export interface CgroupStats {
  cpu: { usageUsec: number; userUsec: number; systemUsec: number; perCpuUsec?: number[]; throttledUsec: number; nrThrottled: number };
  memory: { current: number; peak?: number; limit: number | null; oomKills: number; oomEvents: number };
  pids: { current: number; max: number | null };
  io: { readBytes: number; writeBytes: number };
}

/** USER_HZ: cpuacct.stat counts in these ticks (100 on every Linux architecture lxts targets). */
const USER_HZ = 100;
const WAIT_MS = 10_000;

interface Hier {
  version: 1 | 2;
  mount: string;
  /** This process's own cgroup dir in this hierarchy (base of everything lxts creates). */
  base: string;
  /** base/<parent components>: the dirs lxts may create, outermost first. */
  chain: string[];
  /** The container's dir. */
  dir: string;
  /** Logical controllers served here. */
  controllers: Logical[];
  /** v2 only: controllers enabled for the container, and the unavailable ones with the reason. */
  v2?: V2Enable;
}

const V1_TO_LOGICAL: Record<string, Logical> = {
  cpu: 'cpu', cpuacct: 'cpuacct', cpuset: 'cpuset', memory: 'memory', blkio: 'io', pids: 'pids', freezer: 'freezer', devices: 'devices',
};

function words(s: string | undefined): string[] {
  return (s ?? '').trim().split(/\s+/).filter(Boolean);
}

function checkName(name: string): void {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$/.test(name) || name.includes('..')) {
    throw new CgroupError(`invalid cgroup name ${JSON.stringify(name)}: use letters, digits, ".", "_" and "-", not starting with "." or "-"`);
  }
}

function parentParts(parent: string): string[] {
  const parts = parent.split('/').filter((p) => p !== '');
  if (parent.startsWith('/') || parts.length === 0 || parts.some((p) => p === '.' || p === '..' || !/^[A-Za-z0-9_.-]+$/.test(p))) {
    throw new CgroupError(`invalid cgroup parent ${JSON.stringify(parent)}: a relative path below lxts's own cgroup, e.g. "lxts"`);
  }
  return parts;
}

/** Remove a dir we created; in a fake tree (tests) its plain files go first. */
function removeDir(dir: string, fake: boolean): string | undefined {
  if (fake && fs.existsSync(dir)) {
    for (const f of fs.readdirSync(dir, { withFileTypes: true })) if (f.isFile()) fs.unlinkSync(path.join(dir, f.name));
  }
  return rmdirQuiet(dir);
}

function mkdirOnce(dir: string): boolean {
  try {
    fs.mkdirSync(dir);
    return true;
  } catch (e) {
    if (errnoOf(e) === 'EEXIST') return false;
    const code = errnoOf(e);
    const hint = code === 'EROFS' ? 'the cgroup file system is mounted read-only: run lxts where it can manage cgroups (root, writable /sys/fs/cgroup)'
      : code === 'EAGAIN' ? 'cgroup.max.depth or cgroup.max.descendants of a parent is reached' : undefined;
    throw fsError(code === 'EAGAIN' ? 'cannot create cgroup (depth or descendants limit reached)' : 'cannot create cgroup', dir, e, hint);
  }
}

/** v1 cpuset: a new cgroup starts with empty cpus/mems; copy them from the parent. */
function fillCpuset(dir: string): void {
  const parent = path.dirname(dir);
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    const cur = (readOpt(path.join(dir, f)) ?? '').trim();
    if (cur !== '') continue;
    const pv = (readOpt(path.join(parent, f)) ?? '').trim();
    if (pv === '') continue;
    writeFile(path.join(dir, f), pv, 'cannot initialise cpuset');
  }
}

export class ContainerCgroup {
  readonly name: string;
  readonly host: CgroupHost;
  /** controller -> absolute dir of the container's cgroup in the hierarchy serving it. */
  readonly paths: Record<string, string>;
  private readonly hiers: Hier[];
  private readonly byLogical = new Map<Logical, Hier>();
  private destroyed = false;
  private applied = false;

  private constructor(name: string, host: CgroupHost, hiers: Hier[]) {
    this.name = name;
    this.host = host;
    this.hiers = hiers;
    const paths: Record<string, string> = {};
    for (const h of hiers) {
      for (const c of h.controllers) {
        if (h.version === 2 && h.v2 && ['cpu', 'cpuset', 'memory', 'io', 'pids'].includes(c) && !h.v2.enabled.includes(c)) continue;
        this.byLogical.set(c, h);
        paths[c] = h.dir;
        if (c === 'io' && h.version === 1) paths.blkio = h.dir;
      }
      if (h.version === 2) paths.unified = h.dir;
    }
    this.paths = paths;
  }

  /**
   * Create the container's cgroup below this process's own cgroup in every hierarchy:
   * `<mount><own path>/<parent>/<name>`, parent defaulting to "lxts". Fails with nothing left behind.
   */
  /**
   * The cgroup of a container started by another lxts process (freeze, stats, post-stop),
   * or undefined when it exists in no hierarchy.
   */
  static open(name: string, opts: { parent?: string; host?: CgroupHost } = {}): ContainerCgroup | undefined {
    checkName(name);
    const parts = parentParts(opts.parent ?? 'lxts');
    const host = opts.host ?? detectCgroupHost();
    const hiers = ContainerCgroup.layout(name, parts, host).filter((h) => fs.existsSync(h.dir));
    if (hiers.length === 0) return undefined;
    for (const h of hiers) {
      if (h.version !== 2) continue;
      const enabled = words(readOpt(path.join(path.dirname(h.dir), 'cgroup.subtree_control')));
      h.v2 = { enabled, unavailable: {}, movedSelf: false };
    }
    const cg = new ContainerCgroup(name, host, hiers);
    cg.applied = true;
    return cg;
  }

  private static layout(name: string, parts: string[], host: CgroupHost): Hier[] {
    const hiers: Hier[] = [];
    const mk = (version: 1 | 2, mount: string, base: string, controllers: Logical[]): Hier => {
      const chain: string[] = [];
      let d = base;
      for (const p of parts) chain.push((d = path.join(d, p)));
      return { version, mount, base, chain, dir: path.join(d, name), controllers };
    };
    for (const h of host.v1) {
      const logical = h.controllers.map((c) => V1_TO_LOGICAL[c]).filter((c): c is Logical => !!c);
      if (logical.length) hiers.push(mk(1, h.mount, h.ownDir, logical));
    }
    if (host.v2) {
      const v2logical = (Object.entries(host.controllers) as [Logical, (typeof host.controllers)[string]][])
        .filter(([k, info]) => info.version === 2 && k !== 'blkio' as string)
        .map(([k]) => k);
      if (v2logical.length) hiers.push(mk(2, host.v2.mount, host.v2.ownDir, [...new Set(v2logical)]));
    }
    return hiers;
  }

  /** Is the container frozen (v1 freezer.state FROZEN, v2 cgroup.events frozen 1)? */
  isFrozen(): boolean {
    this.alive();
    const h = this.freezerHier();
    if (h.version === 1) return (readOpt(path.join(h.dir, 'freezer.state')) ?? '').trim() === 'FROZEN';
    return /^frozen 1$/m.test(readOpt(path.join(h.dir, 'cgroup.events')) ?? '');
  }

  static create(name: string, opts: { parent?: string; host?: CgroupHost } = {}): ContainerCgroup {
    checkName(name);
    const parts = parentParts(opts.parent ?? 'lxts');
    const host = opts.host ?? detectCgroupHost();
    const hiers = ContainerCgroup.layout(name, parts, host);
    if (hiers.length === 0) {
      throw new CgroupError('no cgroup hierarchy is mounted on this host (neither cgroup v1 controllers nor cgroup2 in /proc/self/mountinfo)', {
        hint: 'mount cgroup2 at /sys/fs/cgroup (mount -t cgroup2 none /sys/fs/cgroup)',
      });
    }
    const created: string[] = [];
    const fake = !!host.fakeTree;
    try {
      for (const h of hiers) ContainerCgroup.makeIn(h, name, created, fake);
    } catch (e) {
      for (const d of created.reverse()) removeDir(d, fake);
      for (const h of hiers) if (h.v2?.movedSelf) releaseHostLeaf(h.base, h.chain, fake);
      throw e;
    }
    return new ContainerCgroup(name, host, hiers);
  }

  private static makeIn(h: Hier, name: string, created: string[], fake: boolean): void {
    if (!fs.existsSync(h.base)) throw new CgroupError(`lxts's own cgroup ${h.base} does not exist (was this process moved?)`, { file: h.base });
    for (let attempt = 0; ; attempt++) {
      for (const d of h.chain) {
        if (mkdirOnce(d)) created.push(d);
        if (h.version === 1 && h.controllers.includes('cpuset')) fillCpuset(d);
      }
      if (h.version === 2 && !h.v2) h.v2 = enableV2Controllers(h.base, h.chain, h.controllers, fake);
      try {
        fs.mkdirSync(h.dir);
        created.push(h.dir);
        break;
      } catch (e) {
        const code = errnoOf(e);
        if (code === 'EEXIST') {
          throw new CgroupError(`cgroup ${h.dir} already exists: a container named ${JSON.stringify(name)} is running, or an earlier run left it behind (remove it with rmdir)`, { file: h.dir, errno: 'EEXIST' });
        }
        // a concurrent lxts removed the empty parent between our mkdirs: build it again
        if (code === 'ENOENT' && attempt < 5) continue;
        throw fsError('cannot create cgroup', h.dir, e, code === 'EAGAIN' ? 'cgroup.max.depth or cgroup.max.descendants of a parent is reached' : undefined);
      }
    }
    if (h.version === 1 && h.controllers.includes('cpuset')) fillCpuset(h.dir);
  }

  private hier(c: Logical): Hier | undefined {
    return this.byLogical.get(c);
  }

  private alive(): void {
    if (this.destroyed) throw new CgroupError(`cgroup of ${this.name} was destroyed`);
  }

  /** Controllers the container cannot have (v2 parent does not delegate them), with the reason. */
  unavailable(): Record<string, string> {
    const r: Record<string, string> = {};
    for (const h of this.hiers) if (h.v2) Object.assign(r, h.v2.unavailable);
    return r;
  }

  private planContext(): PlanContext {
    const unavailable = this.unavailable();
    const avail = (file1: string, file2: string): number[] | undefined => {
      const h = this.hier('cpuset');
      if (!h) return undefined;
      const parent = path.dirname(h.dir);
      const s = readOpt(path.join(parent, file1)) ?? readOpt(path.join(parent, file2));
      if (s === undefined || s.trim() === '') return undefined;
      try { return parseCpuList(s); } catch { return undefined; }
    };
    const v1 = this.hier('cpuset')?.version === 1;
    const ctx: PlanContext = {
      version: (c) => this.hier(c)?.version,
      has: (c, file) => { const h = this.hier(c); return !!h && exists(path.join(h.dir, file)); },
      unavailable: (c) => unavailable[c === 'io' ? 'io' : c],
    };
    const cpus = v1 ? avail('cpuset.effective_cpus', 'cpuset.cpus') : avail('cpuset.cpus.effective', 'cpuset.cpus');
    const mems = v1 ? avail('cpuset.effective_mems', 'cpuset.mems') : avail('cpuset.mems.effective', 'cpuset.mems');
    if (cpus) ctx.availableCpus = cpus;
    else if (this.hier('cpuset') && !this.host.fakeTree) ctx.availableCpus = [...Array(os.cpus().length).keys()];
    if (mems) ctx.availableMems = mems;
    return ctx;
  }

  /**
   * Write limits. Values are checked before the kernel sees them; a value the kernel rejects
   * gives a CgroupError with the file and errno text. When the first apply() fails and no
   * process was attached yet, the cgroup is destroyed (a failed start leaves nothing behind).
   */
  apply(r: CgroupResources): void {
    this.alive();
    const first = !this.applied;
    this.applied = true;
    try {
      this.applyWrites(planWrites(r, this.planContext()));
      if (r.frozen === true) this.freeze();
      else if (r.frozen === false) this.thaw();
    } catch (e) {
      if (first && this.pids().length === 0) {
        try { this.destroy(); } catch { /* report the original error */ }
      }
      throw e;
    }
  }

  private applyWrites(writes: CgWrite[]): void {
    const failed: { w: CgWrite; e: unknown }[] = [];
    const doWrite = (w: CgWrite): void => {
      if (w.controller === 'freezer' && w.file === '') {
        if (w.value === 'freeze') this.freeze(); else this.thaw();
        return;
      }
      const h = this.hier(w.controller);
      if (!h) throw new CgroupError(`${w.raw ?? w.file}: the ${w.controller} controller is not available to this container`);
      const file = path.join(h.dir, w.file);
      if (w.raw && !exists(file)) {
        throw new CgroupError(`unknown cgroup key ${w.raw}: there is no file ${w.file} in ${h.dir}`, { file, errno: 'ENOENT' });
      }
      writeFile(file, w.value, `cannot set ${w.file}`);
    };
    for (const w of writes) {
      try { doWrite(w); } catch (e) {
        if (e instanceof CgroupError && e.errno === undefined) throw e; // our own validation: no retry helps
        failed.push({ w, e });
      }
    }
    // some pairs depend on order (memsw >= limit, raising vs lowering): retry what failed once
    for (const { w } of failed) doWrite(w);
  }

  /** Move a process (all its threads) into the container's cgroup in every hierarchy. */
  attach(pid: number): void {
    this.alive();
    if (!Number.isInteger(pid) || pid <= 0) throw new CgroupError(`invalid pid ${pid}`);
    for (const h of this.hiers) writeFile(path.join(h.dir, 'cgroup.procs'), String(pid), `cannot move pid ${pid} into cgroup`);
  }

  /** Processes in the container (union over hierarchies). */
  pids(): number[] {
    const s = new Set<number>();
    for (const h of this.hiers) for (const p of readPids(path.join(h.dir, 'cgroup.procs'))) s.add(p);
    return [...s].sort((a, b) => a - b);
  }

  private file(c: Logical, f: string): string | undefined {
    const h = this.hier(c);
    return h ? readOpt(path.join(h.dir, f)) : undefined;
  }

  /** CPU time used, in microseconds: one file read (for live views). */
  cpuUsageUsec(): number {
    const h = this.hier('cpuacct') ?? this.hier('cpu');
    if (!h) return 0;
    if (h.version === 1) {
      const s = readOpt(path.join(h.dir, 'cpuacct.usage'));
      return s ? Math.floor(Number(s.trim()) / 1000) : 0;
    }
    const s = readFile(path.join(h.dir, 'cpu.stat'));
    const m = /^usage_usec (\d+)/m.exec(s);
    return m ? Number(m[1]) : 0;
  }

  stats(): CgroupStats {
    this.alive();
    const st: CgroupStats = {
      cpu: { usageUsec: 0, userUsec: 0, systemUsec: 0, throttledUsec: 0, nrThrottled: 0 },
      memory: { current: 0, limit: null, oomKills: 0, oomEvents: 0 },
      pids: { current: 0, max: null },
      io: { readBytes: 0, writeBytes: 0 },
    };
    // cpu
    const acct = this.hier('cpuacct');
    if (acct?.version === 1) {
      st.cpu.usageUsec = Math.floor(Number((this.file('cpuacct', 'cpuacct.usage') ?? '0').trim()) / 1000);
      const kv = parseKeyValues(this.file('cpuacct', 'cpuacct.stat') ?? '');
      st.cpu.userUsec = Math.round(((kv.user ?? 0) * 1e6) / USER_HZ);
      st.cpu.systemUsec = Math.round(((kv.system ?? 0) * 1e6) / USER_HZ);
      const per = this.file('cpuacct', 'cpuacct.usage_percpu');
      if (per) st.cpu.perCpuUsec = per.trim().split(/\s+/).filter(Boolean).map((n) => Math.floor(Number(n) / 1000));
    } else if (acct?.version === 2) {
      const kv = parseKeyValues(readOpt(path.join(acct.dir, 'cpu.stat')) ?? '');
      st.cpu.usageUsec = kv.usage_usec ?? 0;
      st.cpu.userUsec = kv.user_usec ?? 0;
      st.cpu.systemUsec = kv.system_usec ?? 0;
    }
    const cpu = this.hier('cpu');
    if (cpu) {
      const kv = parseKeyValues(readOpt(path.join(cpu.dir, 'cpu.stat')) ?? '');
      st.cpu.nrThrottled = kv.nr_throttled ?? 0;
      st.cpu.throttledUsec = cpu.version === 1 ? Math.floor((kv.throttled_time ?? 0) / 1000) : (kv.throttled_usec ?? 0);
    }
    // memory
    const mem = this.hier('memory');
    if (mem?.version === 1) {
      st.memory.current = Number((this.file('memory', 'memory.usage_in_bytes') ?? '0').trim());
      const peak = this.file('memory', 'memory.max_usage_in_bytes');
      if (peak !== undefined) st.memory.peak = Number(peak.trim());
      st.memory.limit = parseV1Bytes(this.file('memory', 'memory.limit_in_bytes') ?? '-1');
      const oc = parseKeyValues(this.file('memory', 'memory.oom_control') ?? '');
      st.memory.oomKills = oc.oom_kill ?? 0;
      // v1 has no separate OOM event counter: count the kills (under_oom is a state, not a count)
      st.memory.oomEvents = oc.oom_kill ?? 0;
    } else if (mem?.version === 2) {
      st.memory.current = Number((this.file('memory', 'memory.current') ?? '0').trim());
      const peak = this.file('memory', 'memory.peak');
      if (peak !== undefined) st.memory.peak = Number(peak.trim());
      st.memory.limit = parseV2Max(this.file('memory', 'memory.max') ?? 'max');
      const ev = parseKeyValues(this.file('memory', 'memory.events') ?? '');
      st.memory.oomKills = ev.oom_kill ?? 0;
      st.memory.oomEvents = ev.oom ?? 0;
    }
    // pids
    if (this.hier('pids')) {
      st.pids.current = Number((this.file('pids', 'pids.current') ?? '0').trim());
      st.pids.max = parseV2Max(this.file('pids', 'pids.max') ?? 'max');
    } else {
      st.pids.current = this.pids().length;
    }
    // io
    const io = this.hier('io');
    if (io?.version === 1) {
      st.io = parseBlkioServiceBytes(this.file('io', 'blkio.throttle.io_service_bytes_recursive') ?? this.file('io', 'blkio.throttle.io_service_bytes') ?? '');
    } else if (io?.version === 2) {
      st.io = parseIoStat(this.file('io', 'io.stat') ?? '');
    }
    return st;
  }

  private freezerHier(): Hier {
    const h = this.hier('freezer');
    if (!h) throw new CgroupError('freezing needs the v1 freezer controller or cgroup v2 (cgroup.freeze); neither is available');
    return h;
  }

  private waitFor(what: string, file: string, done: () => boolean, timeoutMs = WAIT_MS): void {
    const t0 = Date.now();
    for (let delay = 1; !done(); delay = Math.min(delay * 2, 50)) {
      if (Date.now() - t0 > timeoutMs) throw new CgroupError(`timed out after ${timeoutMs} ms waiting for ${what}`, { file });
      sleepSync(delay);
    }
  }

  /** Freeze every process in the container; returns once the kernel reports the cgroup frozen. */
  freeze(): void {
    this.alive();
    const h = this.freezerHier();
    if (h.version === 1) {
      const f = path.join(h.dir, 'freezer.state');
      writeFile(f, 'FROZEN', 'cannot freeze');
      this.waitFor('freezer.state FROZEN', f, () => {
        const s = readFile(f).trim();
        if (s === 'THAWED') writeFile(f, 'FROZEN', 'cannot freeze');
        return s === 'FROZEN';
      });
    } else {
      const f = path.join(h.dir, 'cgroup.freeze');
      writeFile(f, '1', 'cannot freeze');
      const ev = path.join(h.dir, 'cgroup.events');
      this.waitFor('cgroup.events frozen 1', ev, () => /^frozen 1$/m.test(readFile(ev)));
    }
  }

  /** Thaw the container; returns once the kernel reports it thawed. */
  thaw(): void {
    this.alive();
    const h = this.freezerHier();
    if (h.version === 1) {
      const f = path.join(h.dir, 'freezer.state');
      writeFile(f, 'THAWED', 'cannot thaw');
      this.waitFor('freezer.state THAWED', f, () => readFile(f).trim() === 'THAWED');
    } else {
      const f = path.join(h.dir, 'cgroup.freeze');
      writeFile(f, '0', 'cannot thaw');
      const ev = path.join(h.dir, 'cgroup.events');
      this.waitFor('cgroup.events frozen 0', ev, () => !/^frozen 1$/m.test(readFile(ev)));
    }
  }

  /** Kill every process of the container (v2 cgroup.kill; v1 SIGKILL each pid until empty). */
  killAll(): void {
    this.alive();
    const v2 = this.hiers.find((h) => h.version === 2);
    const killFile = v2 ? path.join(v2.dir, 'cgroup.kill') : undefined;
    const useKillFile = !!killFile && exists(killFile) && !this.host.fakeTree;
    const fz = this.hier('freezer');
    const v1Frozen = fz?.version === 1 && (readOpt(path.join(fz.dir, 'freezer.state')) ?? '').trim() !== 'THAWED';
    const round = (): void => {
      if (useKillFile) writeFile(killFile!, '1', 'cannot kill the container');
      for (const pid of this.pids()) {
        try { process.kill(pid, 'SIGKILL'); } catch (e) { if (errnoOf(e) !== 'ESRCH') throw fsError(`cannot kill pid ${pid}`, 'kill(2)', e); }
      }
      // v1 frozen tasks only die once thawed
      if (v1Frozen) writeFile(path.join(fz!.dir, 'freezer.state'), 'THAWED', 'cannot thaw to kill');
    };
    round();
    const t0 = Date.now();
    let last = 0;
    this.waitFor('the container to be empty', this.hiers[0]!.dir + '/cgroup.procs', () => {
      if (this.pids().length === 0) return true;
      if (Date.now() - last > 200) { last = Date.now(); round(); }
      return false;
    }, WAIT_MS + (Date.now() - t0));
  }

  private keyHier(key: string): Hier {
    const prefix = key.split('.')[0];
    const logical: Logical | undefined = prefix === 'cgroup' ? undefined : (V1_TO_LOGICAL[prefix!] ?? (prefix === 'io' ? 'io' : undefined));
    if (!/^[a-z0-9_]+(\.[a-z0-9_]+)+$/.test(key)) throw new CgroupError(`unknown cgroup key ${JSON.stringify(key)}`);
    const h = logical ? this.hier(logical) : (this.hiers.find((x) => x.version === 2) ?? this.hiers[0]);
    if (!h) throw new CgroupError(`unknown cgroup key ${key}: no ${prefix} controller for this container`);
    return h;
  }

  /** Read a cgroup file of the container (lxc-cgroup NAME KEY). */
  get(key: string): string {
    this.alive();
    const h = this.keyHier(key);
    const f = path.join(h.dir, key);
    if (!exists(f)) throw new CgroupError(`unknown cgroup key ${key}: there is no file ${key} in ${h.dir}`, { file: f, errno: 'ENOENT' });
    return readFile(f).trim();
  }

  /**
   * Write a cgroup file live (lxc-cgroup NAME KEY VALUE). A key of the other version with a
   * structured equivalent (cpu.shares on v2, memory.max on v1, ...) is converted.
   */
  set(key: string, value: string): void {
    this.alive();
    const h = this.keyHier(key);
    const f = path.join(h.dir, key);
    if (exists(f)) {
      writeFile(f, value, `cannot set ${key}`);
      return;
    }
    const other: 1 | 2 = h.version === 1 ? 2 : 1;
    this.applyWrites(planWrites({ raw: [{ version: other, key, value }] }, this.planContext()));
  }

  /** Kill what is left, remove the cgroup in every hierarchy and the empty lxts parent. Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    const fake = !!this.host.fakeTree;
    const errors: string[] = [];
    if (!fake && this.hiers.some((h) => fs.existsSync(h.dir))) {
      try {
        if (this.pids().length) this.killAll();
        const fz = this.hier('freezer');
        if (fz?.version === 2 && exists(path.join(fz.dir, 'cgroup.freeze'))) writeFile(path.join(fz.dir, 'cgroup.freeze'), '0');
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    for (const h of this.hiers) {
      let err: string | undefined;
      for (let i = 0; i < 100; i++) {
        err = removeDir(h.dir, fake);
        if (err !== 'EBUSY') break;
        sleepSync(20); // the last task is still on its way out
      }
      if (err) errors.push(`cannot remove cgroup ${h.dir}: ${err}`);
      // the parent chain, innermost first: stop at the first that is still in use
      for (const d of [...h.chain].reverse()) {
        const e = removeDir(d, fake);
        if (e === 'EBUSY' || e === 'ENOTEMPTY' || e === 'EEXIST') {
          if (h.v2?.movedSelf && d === h.chain[h.chain.length - 1]) releaseHostLeaf(h.base, h.chain, fake);
          break;
        }
      }
    }
    this.destroyed = true;
    if (errors.length) throw new CgroupError(errors.join('; '));
  }
}
