// CgroupResources -> list of (controller, file, value) writes for the version serving each
// controller. Pure: the caller supplies which version serves a controller and which optional
// files exist, so this is unit-tested without a cgroup tree.
import {
  sharesToWeight, weightToShares, ioWeightToBlkioWeight, blkioWeightToIoWeight,
  formatCpuMax, parseCpuMax, parseCpuList, formatCpuList, v1Bytes, v2Bytes, parseSizeOrMax, checkDevice,
  SHARES_MIN, SHARES_MAX, WEIGHT_MIN, WEIGHT_MAX, CFS_PERIOD_MIN, CFS_PERIOD_MAX, CFS_QUOTA_MIN,
} from './convert.js';
import { CgroupError } from './error.js';

export interface CgroupResources {
  cpu?: {
    /** v2 scale 1..10000 */ weight?: number;
    /** v1 scale 2..262144 */ shares?: number;
    /** null = unlimited */ quotaUs?: number | null;
    periodUs?: number;
    /** cpuset list "0-1,3" */ cpus?: string;
    mems?: string;
  };
  memory?: { max?: number | null; high?: number | null; swapMax?: number | null /* bytes; null = unlimited */ };
  pids?: { max?: number | null };
  io?: {
    /** v2 scale 1..10000 (converted to blkio.weight 10..1000 on v1) */ weight?: number;
    throttle?: { device: string /* "MAJ:MIN" */; rbps?: number; wbps?: number; riops?: number; wiops?: number }[];
  };
  frozen?: boolean;
  /** lxc.cgroup.KEY = V (version 1) / lxc.cgroup2.KEY = V (version 2) */
  raw?: { version: 1 | 2; key: string; value: string }[];
}

/** Logical controllers: cpu cpuacct cpuset memory io pids freezer devices. */
export type Logical = 'cpu' | 'cpuacct' | 'cpuset' | 'memory' | 'io' | 'pids' | 'freezer' | 'devices';

export interface CgWrite {
  /** Logical controller whose hierarchy holds the file. */
  controller: Logical;
  file: string;
  value: string;
  /** A raw key from the config: the file must exist (else "unknown cgroup key"). */
  raw?: string;
}

export interface PlanContext {
  /** Version serving a logical controller, undefined when no hierarchy serves it. */
  version(c: Logical): 1 | 2 | undefined;
  /** Does an optional file exist in the container's cgroup (memsw, io.weight vs io.bfq.weight...)? */
  has(c: Logical, file: string): boolean;
  /** CPUs / memory nodes the parent allows (for cpuset validation); undefined = do not check. */
  availableCpus?: number[];
  availableMems?: number[];
  /** Why a controller is missing for this container (not delegated, no-internal-process rule). */
  unavailable?(c: Logical): string | undefined;
}

function need(ctx: PlanContext, c: Logical, what: string): 1 | 2 {
  const v = ctx.version(c);
  const why = v ? undefined : ctx.unavailable?.(c);
  if (why) throw new CgroupError(`${what}: ${why}`);
  if (!v) {
    throw new CgroupError(`${what} needs the ${c === 'io' ? 'io/blkio' : c} cgroup controller, which this host does not provide (not mounted, or not delegated to lxts)`);
  }
  return v;
}

function int(what: string, n: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new CgroupError(`${what} must be an integer in ${min}..${max === Number.MAX_SAFE_INTEGER ? 'max' : max}, got ${String(n)}`);
  }
  return n;
}

/** Smallest memory limit lxts accepts: below this the kernel OOM-kills the container's first exec. */
export const MEMORY_MIN = 1024 * 1024;

function bytes(what: string, n: number | null): number | null {
  if (n === null) return null;
  return int(what, n, 0);
}

function checkSet(what: string, list: string, avail: number[] | undefined): string {
  const want = parseCpuList(list);
  if (want.length === 0) throw new CgroupError(`${what} ${JSON.stringify(list)} is empty`);
  if (avail && avail.length > 0) {
    const bad = want.filter((c) => !avail.includes(c));
    if (bad.length) {
      throw new CgroupError(`${what} ${JSON.stringify(list)} names ${what === 'cpuset cpus' ? 'CPUs' : 'memory nodes'} that do not exist or are not available to lxts: ${formatCpuList(bad)} (available: ${formatCpuList(avail)})`);
    }
  }
  return formatCpuList(want);
}

/** Plan the writes for structured resources. Raw keys are planned by planRaw (called from planWrites). */
export function planWrites(r: CgroupResources, ctx: PlanContext): CgWrite[] {
  const w: CgWrite[] = [];
  const cpu = r.cpu;
  if (cpu) {
    if (cpu.shares !== undefined || cpu.weight !== undefined) {
      const v = need(ctx, 'cpu', 'cpu shares/weight');
      if (cpu.shares !== undefined) int('cpu shares', cpu.shares, SHARES_MIN, SHARES_MAX);
      if (cpu.weight !== undefined) int('cpu weight', cpu.weight, WEIGHT_MIN, WEIGHT_MAX);
      // the native value when given, converted only when just the other one is given
      if (v === 1) w.push({ controller: 'cpu', file: 'cpu.shares', value: String(cpu.shares ?? weightToShares(cpu.weight!)) });
      else w.push({ controller: 'cpu', file: 'cpu.weight', value: String(cpu.weight ?? sharesToWeight(cpu.shares!)) });
    }
    if (cpu.quotaUs !== undefined || cpu.periodUs !== undefined) {
      const v = need(ctx, 'cpu', 'cpu quota');
      if (cpu.periodUs !== undefined) int('cpu period (us)', cpu.periodUs, CFS_PERIOD_MIN, CFS_PERIOD_MAX);
      if (cpu.quotaUs !== undefined && cpu.quotaUs !== null) int('cpu quota (us)', cpu.quotaUs, CFS_QUOTA_MIN);
      if (v === 1) {
        if (cpu.periodUs !== undefined) w.push({ controller: 'cpu', file: 'cpu.cfs_period_us', value: String(cpu.periodUs) });
        if (cpu.quotaUs !== undefined) w.push({ controller: 'cpu', file: 'cpu.cfs_quota_us', value: cpu.quotaUs === null ? '-1' : String(cpu.quotaUs) });
      } else {
        // "QUOTA PERIOD"; without a quota keep it unlimited, without a period the kernel keeps its own
        w.push({ controller: 'cpu', file: 'cpu.max', value: formatCpuMax(cpu.quotaUs === undefined ? null : cpu.quotaUs, cpu.periodUs) });
      }
    }
    if (cpu.cpus !== undefined) {
      need(ctx, 'cpuset', 'cpuset cpus');
      w.push({ controller: 'cpuset', file: 'cpuset.cpus', value: checkSet('cpuset cpus', cpu.cpus, ctx.availableCpus) });
    }
    if (cpu.mems !== undefined) {
      need(ctx, 'cpuset', 'cpuset mems');
      w.push({ controller: 'cpuset', file: 'cpuset.mems', value: checkSet('cpuset mems', cpu.mems, ctx.availableMems) });
    }
  }
  const mem = r.memory;
  if (mem) {
    const v = need(ctx, 'memory', 'a memory limit');
    const max = mem.max === undefined ? undefined : bytes('memory max', mem.max);
    const high = mem.high === undefined ? undefined : bytes('memory high', mem.high);
    const swap = mem.swapMax === undefined ? undefined : bytes('memory swap max', mem.swapMax);
    if (max !== undefined && max !== null && max < MEMORY_MIN) {
      throw new CgroupError(`memory max ${max} bytes is below the minimum lxts accepts (${MEMORY_MIN} bytes = 1M): the container could not even start`);
    }
    if (v === 1) {
      if (max !== undefined) w.push({ controller: 'memory', file: 'memory.limit_in_bytes', value: v1Bytes(max) });
      // v1 has no memory.high; its soft limit is the closest (reclaim target under pressure)
      if (high !== undefined) w.push({ controller: 'memory', file: 'memory.soft_limit_in_bytes', value: v1Bytes(high) });
      if (swap !== undefined) {
        if (!ctx.has('memory', 'memory.memsw.limit_in_bytes')) {
          if (swap !== null) throw new CgroupError('memory swap max needs swap accounting, and memory.memsw.limit_in_bytes is missing (boot with swapaccount=1)');
        } else {
          // v1 limits memory+swap together: memsw = max + swap (unlimited when either is)
          const memsw = swap === null || max === undefined || max === null ? null : max + swap;
          if (swap !== null && (max === undefined || max === null)) {
            throw new CgroupError('memory swap max on cgroup v1 needs memory max as well (memory.memsw.limit_in_bytes = max + swap)');
          }
          w.push({ controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: v1Bytes(memsw) });
        }
      }
    } else {
      if (max !== undefined) w.push({ controller: 'memory', file: 'memory.max', value: v2Bytes(max) });
      if (high !== undefined) w.push({ controller: 'memory', file: 'memory.high', value: v2Bytes(high) });
      if (swap !== undefined) {
        if (!ctx.has('memory', 'memory.swap.max')) {
          if (swap !== null) throw new CgroupError('memory swap max needs swap accounting, and memory.swap.max is missing (kernel without CONFIG_MEMCG_SWAP or swapaccount=0)');
        } else w.push({ controller: 'memory', file: 'memory.swap.max', value: v2Bytes(swap) });
      }
    }
  }
  if (r.pids && r.pids.max !== undefined) {
    need(ctx, 'pids', 'a pids limit');
    const m = r.pids.max === null ? null : int('pids max', r.pids.max, 1);
    w.push({ controller: 'pids', file: 'pids.max', value: m === null ? 'max' : String(m) });
  }
  const io = r.io;
  if (io) {
    if (io.weight !== undefined) {
      const v = need(ctx, 'io', 'io weight');
      int('io weight', io.weight, WEIGHT_MIN, WEIGHT_MAX);
      if (v === 1) {
        const bw = ioWeightToBlkioWeight(io.weight);
        if (ctx.has('io', 'blkio.weight')) w.push({ controller: 'io', file: 'blkio.weight', value: String(bw) });
        else if (ctx.has('io', 'blkio.bfq.weight')) w.push({ controller: 'io', file: 'blkio.bfq.weight', value: String(bw) });
        else throw new CgroupError('io weight needs a proportional I/O scheduler: neither blkio.weight nor blkio.bfq.weight exists (use the bfq scheduler)');
      } else if (ctx.has('io', 'io.weight')) {
        w.push({ controller: 'io', file: 'io.weight', value: `default ${io.weight}` });
      } else if (ctx.has('io', 'io.bfq.weight')) {
        w.push({ controller: 'io', file: 'io.bfq.weight', value: `default ${ioWeightToBlkioWeight(io.weight)}` });
      } else {
        throw new CgroupError('io weight needs a proportional I/O scheduler: neither io.weight nor io.bfq.weight exists (use the bfq scheduler or io.cost)');
      }
    }
    for (const t of io.throttle ?? []) {
      const v = need(ctx, 'io', 'io throttling');
      const dev = checkDevice(t.device);
      const lim = { rbps: t.rbps, wbps: t.wbps, riops: t.riops, wiops: t.wiops };
      for (const [k, n] of Object.entries(lim)) if (n !== undefined) int(`io ${k} for ${dev}`, n, 0);
      if (v === 1) {
        const files: [keyof typeof lim, string][] = [['rbps', 'read_bps_device'], ['wbps', 'write_bps_device'], ['riops', 'read_iops_device'], ['wiops', 'write_iops_device']];
        for (const [k, f] of files) if (lim[k] !== undefined) w.push({ controller: 'io', file: `blkio.throttle.${f}`, value: `${dev} ${lim[k]}` });
      } else {
        const parts = Object.entries(lim).filter(([, n]) => n !== undefined).map(([k, n]) => `${k}=${n === 0 ? 'max' : n}`);
        if (parts.length) w.push({ controller: 'io', file: 'io.max', value: `${dev} ${parts.join(' ')}` });
      }
    }
  }
  for (const raw of r.raw ?? []) w.push(...planRaw(raw, ctx));
  return w;
}

/** Logical controller of a cgroup file name: "memory.max" -> memory, "blkio.weight" -> io, "cgroup.freeze" -> freezer. */
export function controllerOfKey(key: string): Logical | 'cgroup' | undefined {
  const prefix = key.split('.')[0];
  switch (prefix) {
    case 'cpu': case 'cpuacct': case 'cpuset': case 'memory': case 'pids': case 'devices': return prefix;
    case 'blkio': case 'io': return 'io';
    case 'freezer': return 'freezer';
    case 'cgroup': return 'cgroup';
    default: return undefined;
  }
}

const rawLabel = (v: 1 | 2, key: string) => `lxc.${v === 1 ? 'cgroup' : 'cgroup2'}.${key}`;

function checkKey(key: string): void {
  if (!/^[a-z0-9_]+(\.[a-z0-9_]+)+$/.test(key)) throw new CgroupError(`unknown cgroup key ${JSON.stringify(key)}: not a cgroup file name`);
}

/**
 * Structured equivalent of a raw key written for the other cgroup version: lxc.cgroup.cpu.shares
 * on a v2 host becomes cpu.shares (converted to cpu.weight), lxc.cgroup2.memory.max on v1 becomes
 * memory.limit_in_bytes, and so on. undefined when there is no equivalent.
 */
export function rawToStructured(version: 1 | 2, key: string, value: string): CgroupResources | undefined {
  const v = value.trim();
  const label = rawLabel(version, key);
  const num = (what: string): number => {
    if (!/^\d+$/.test(v)) throw new CgroupError(`${label} = ${JSON.stringify(value)}: ${what} must be a number`);
    return Number(v);
  };
  const size = (): number | null => {
    if (v === '-1') return null;
    try { return parseSizeOrMax(v); } catch { throw new CgroupError(`${label} = ${JSON.stringify(value)}: not a size`); }
  };
  if (version === 1) {
    switch (key) {
      case 'cpu.shares': return { cpu: { shares: num('shares') } };
      case 'cpu.cfs_quota_us': return { cpu: { quotaUs: v === '-1' ? null : num('quota') } };
      case 'cpu.cfs_period_us': return { cpu: { periodUs: num('period') } };
      case 'cpuset.cpus': return { cpu: { cpus: v } };
      case 'cpuset.mems': return { cpu: { mems: v } };
      case 'memory.limit_in_bytes': return { memory: { max: size() } };
      case 'memory.soft_limit_in_bytes': return { memory: { high: size() } };
      case 'pids.max': return { pids: { max: v === 'max' ? null : num('pids.max') } };
      case 'blkio.weight': return { io: { weight: blkioWeightToIoWeight(num('blkio.weight')) } };
      case 'blkio.throttle.read_bps_device': case 'blkio.throttle.write_bps_device':
      case 'blkio.throttle.read_iops_device': case 'blkio.throttle.write_iops_device': {
        const m = /^(\d+:\d+)\s+(\d+)$/.exec(v);
        if (!m) throw new CgroupError(`${label} = ${JSON.stringify(value)}: expected "MAJ:MIN VALUE"`);
        const k = ({ read_bps_device: 'rbps', write_bps_device: 'wbps', read_iops_device: 'riops', write_iops_device: 'wiops' } as const)[key.slice('blkio.throttle.'.length) as 'read_bps_device'];
        return { io: { throttle: [{ device: m[1]!, [k]: Number(m[2]) }] } };
      }
      case 'freezer.state':
        if (v === 'FROZEN') return { frozen: true };
        if (v === 'THAWED') return { frozen: false };
        return undefined;
      default: return undefined;
    }
  }
  switch (key) {
    case 'cpu.weight': return { cpu: { weight: num('weight') } };
    case 'cpu.max': {
      let q: { quotaUs: number | null; periodUs?: number };
      try { q = parseCpuMax(v); } catch { throw new CgroupError(`${label} = ${JSON.stringify(value)}: expected "QUOTA [PERIOD]" or "max [PERIOD]"`); }
      return { cpu: q.periodUs === undefined ? { quotaUs: q.quotaUs } : { quotaUs: q.quotaUs, periodUs: q.periodUs } };
    }
    case 'cpuset.cpus': return { cpu: { cpus: v } };
    case 'cpuset.mems': return { cpu: { mems: v } };
    case 'memory.max': return { memory: { max: size() } };
    case 'memory.high': return { memory: { high: size() } };
    case 'pids.max': return { pids: { max: v === 'max' ? null : num('pids.max') } };
    case 'io.weight': {
      const m = /^(?:default\s+)?(\d+)$/.exec(v);
      if (!m) return undefined;
      return { io: { weight: Number(m[1]) } };
    }
    case 'io.max': {
      const p = v.split(/\s+/);
      if (!/^\d+:\d+$/.test(p[0] ?? '')) throw new CgroupError(`${label} = ${JSON.stringify(value)}: expected "MAJ:MIN rbps=N wbps=N riops=N wiops=N"`);
      const t: { device: string; rbps?: number; wbps?: number; riops?: number; wiops?: number } = { device: p[0]! };
      for (const kv of p.slice(1)) {
        const m = /^(rbps|wbps|riops|wiops)=(\d+|max)$/.exec(kv);
        if (!m) throw new CgroupError(`${label} = ${JSON.stringify(value)}: bad field ${JSON.stringify(kv)}`);
        t[m[1] as 'rbps'] = m[2] === 'max' ? 0 : Number(m[2]);
      }
      return { io: { throttle: [t] } };
    }
    case 'cgroup.freeze':
      if (v === '1') return { frozen: true };
      if (v === '0') return { frozen: false };
      return undefined;
    default: return undefined;
  }
}

/** Writes for one raw key (direct when the key's version serves its controller, else via its structured equivalent). */
export function planRaw(raw: { version: 1 | 2; key: string; value: string }, ctx: PlanContext): CgWrite[] {
  const { version, key, value } = raw;
  const label = rawLabel(version, key);
  checkKey(key);
  const c = controllerOfKey(key);
  if (c === undefined) throw new CgroupError(`unknown cgroup key ${label}: no cgroup controller named "${key.split('.')[0]}"`);
  const logical: Logical = c === 'cgroup' ? 'freezer' : c;
  const served = c === 'cgroup' ? (version === 2 && ctx.version('freezer') === 2 ? 2 : version === 2 ? undefined : 1) : ctx.version(logical);
  if (c === 'cgroup' && version === 1) throw new CgroupError(`unknown cgroup key ${label}: cgroup.* files are not settable limits on cgroup v1`);
  if (served === version) {
    if (version === 2 && c === 'devices') {
      throw new CgroupError(`${label}: cgroup v2 has no devices files (device access is an eBPF program); use lxc.cgroup.devices.* only on a v1 devices hierarchy`);
    }
    return [{ controller: logical, file: key, value, raw: label }];
  }
  const structured = rawToStructured(version, key, value);
  if (structured && (served !== undefined || c === 'cgroup')) {
    const mapped = { ...structured };
    if (mapped.frozen !== undefined) {
      // freezing is an action, not a write: handled by apply() via the frozen flag
      return [{ controller: 'freezer', file: '', value: mapped.frozen ? 'freeze' : 'thaw' }];
    }
    return planWrites(mapped, ctx);
  }
  if (served === undefined) {
    throw new CgroupError(`${label}: the ${logical} controller is not available on this host`);
  }
  const other = version === 1 ? 'lxc.cgroup2' : 'lxc.cgroup';
  throw new CgroupError(
    `${label}: the ${logical} controller is served by cgroup v${served} here, and ${key} has no cgroup v${served} equivalent; use ${other}.<key> or the structured option`,
  );
}
