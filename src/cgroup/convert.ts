// Pure conversions between the structured resource form and cgroup file values.
// No file system access here: everything is unit-tested without root.
import { CgroupError } from './error.js';

/** cgroup v1 cpu.shares range (kernel MIN_SHARES/MAX_SHARES). */
export const SHARES_MIN = 2;
export const SHARES_MAX = 262144;
/** cgroup v2 cpu.weight / io.weight range. */
export const WEIGHT_MIN = 1;
export const WEIGHT_MAX = 10000;
/** cgroup v1 blkio.weight range. */
export const BLKIO_WEIGHT_MIN = 10;
export const BLKIO_WEIGHT_MAX = 1000;
/** CFS bandwidth limits enforced by the kernel (1 ms .. 1 s for the period, >= 1 ms quota). */
export const CFS_PERIOD_MIN = 1000;
export const CFS_PERIOD_MAX = 1_000_000;
export const CFS_QUOTA_MIN = 1000;
export const DEFAULT_CFS_PERIOD = 100_000;
/** v1 memory "unlimited" reads back as PAGE_COUNTER_MAX * PAGE_SIZE (about 2^63); anything this big is no limit. */
export const V1_UNLIMITED_THRESHOLD = 2 ** 62;

function checkInt(what: string, n: number, min: number, max: number): void {
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new CgroupError(`${what} must be an integer in ${min}..${max}, got ${n}`);
  }
}

/**
 * cpu.shares (v1, 2..262144) -> cpu.weight (v2, 1..10000): the linear mapping used by
 * systemd, runc and crun: 1 + ((shares - 2) * 9999) / 262142, integer division.
 * 2 -> 1, 1024 -> 39, 262144 -> 10000.
 */
export function sharesToWeight(shares: number): number {
  checkInt('cpu shares', shares, SHARES_MIN, SHARES_MAX);
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** cpu.weight -> cpu.shares, the inverse mapping: 2 + ((weight - 1) * 262142) / 9999. 1 -> 2, 100 -> 2597, 10000 -> 262144. */
export function weightToShares(weight: number): number {
  checkInt('cpu weight', weight, WEIGHT_MIN, WEIGHT_MAX);
  return 2 + Math.floor(((weight - 1) * 262142) / 9999);
}

/** blkio.weight (v1, 10..1000) -> io.weight (v2, 1..10000), as crun/runc: 1 + (w - 10) * 9999 / 990. */
export function blkioWeightToIoWeight(w: number): number {
  checkInt('blkio weight', w, BLKIO_WEIGHT_MIN, BLKIO_WEIGHT_MAX);
  return 1 + Math.floor(((w - 10) * 9999) / 990);
}

/** io.weight (1..10000) -> blkio.weight (10..1000): 10 + (w - 1) * 990 / 9999. */
export function ioWeightToBlkioWeight(w: number): number {
  checkInt('io weight', w, WEIGHT_MIN, WEIGHT_MAX);
  return 10 + Math.floor(((w - 1) * 990) / 9999);
}

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1024, kb: 1024, kib: 1024,
  m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3,
  t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4,
};

/**
 * Parse a size like LXC/docker do, binary units: "512M", "1G", "1.5g", "100k", "4096", "2GiB".
 * "max", "-1", "unlimited" and "none" give Infinity (the caller maps it to null = no limit).
 * Throws a CgroupError on anything else.
 */
export function parseSize(s: string): number {
  const t = String(s).trim().toLowerCase();
  if (t === 'max' || t === '-1' || t === 'unlimited' || t === 'none') return Infinity;
  const m = /^(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)$/.exec(t);
  const unit = m ? SIZE_UNITS[m[2]!] : undefined;
  if (!m || unit === undefined) {
    throw new CgroupError(`invalid size ${JSON.stringify(s)}: expected a number with an optional unit (K, M, G, T; e.g. 512M, 1.5G) or "max"`);
  }
  const n = Math.floor(parseFloat(m[1]!) * unit);
  if (!Number.isSafeInteger(n)) throw new CgroupError(`invalid size ${JSON.stringify(s)}: too large`);
  return n;
}

/** Size to a nullable byte count: "max" -> null. */
export function parseSizeOrMax(s: string): number | null {
  const n = parseSize(s);
  return n === Infinity ? null : n;
}

/** "0.5" -> 0.5 CPUs (throws on garbage, zero, negative). */
export function parseCpus(s: string | number): number {
  const t = typeof s === 'number' ? String(s) : s.trim();
  if (!/^(\d+(\.\d+)?|\.\d+)$/.test(t) || !(parseFloat(t) > 0)) {
    throw new CgroupError(`invalid CPU count ${JSON.stringify(s)}: expected a positive number such as 0.5 or 2`);
  }
  return parseFloat(t);
}

/** CPUs (e.g. 0.5) -> CFS quota in microseconds for the given period: 0.5 @ 100000 -> 50000. */
export function cpusToQuota(cpus: number | string, periodUs: number = DEFAULT_CFS_PERIOD): number {
  const c = typeof cpus === 'string' ? parseCpus(cpus) : cpus;
  if (!(c > 0) || !Number.isFinite(c)) throw new CgroupError(`invalid CPU count ${cpus}: must be positive`);
  checkInt('CPU period (us)', periodUs, CFS_PERIOD_MIN, CFS_PERIOD_MAX);
  const q = Math.round(c * periodUs);
  return Math.max(q, CFS_QUOTA_MIN);
}

/** Quota/period -> CPUs (null quota -> null, unlimited). */
export function quotaToCpus(quotaUs: number | null, periodUs: number = DEFAULT_CFS_PERIOD): number | null {
  return quotaUs === null || quotaUs < 0 ? null : quotaUs / periodUs;
}

/** v2 cpu.max value: "50000 100000", "max 100000"; with no period given only the quota ("50000") so the kernel keeps its period. */
export function formatCpuMax(quotaUs: number | null | undefined, periodUs?: number): string {
  const q = quotaUs === null || quotaUs === undefined ? 'max' : String(quotaUs);
  return periodUs === undefined ? q : `${q} ${periodUs}`;
}

/** Parse v2 cpu.max: "max 100000" -> {quotaUs: null, periodUs: 100000}. */
export function parseCpuMax(s: string): { quotaUs: number | null; periodUs?: number } {
  const parts = s.trim().split(/\s+/);
  const q = parts[0];
  if (!q || parts.length > 2 || (q !== 'max' && !/^\d+$/.test(q)) || (parts[1] !== undefined && !/^\d+$/.test(parts[1]))) {
    throw new CgroupError(`invalid cpu.max value ${JSON.stringify(s)}: expected "QUOTA [PERIOD]" or "max [PERIOD]"`);
  }
  const r: { quotaUs: number | null; periodUs?: number } = { quotaUs: q === 'max' ? null : Number(q) };
  if (parts[1] !== undefined) r.periodUs = Number(parts[1]);
  return r;
}

/** Parse a CPU/memory-node list "0-1,3" into sorted unique numbers; throws on garbage. "" -> []. */
export function parseCpuList(s: string): number[] {
  const t = s.trim();
  if (t === '') return [];
  const out = new Set<number>();
  for (const part of t.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new CgroupError(`invalid CPU list ${JSON.stringify(s)}: expected e.g. "0-1,3"`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new CgroupError(`invalid CPU list ${JSON.stringify(s)}: range ${part} goes backwards`);
    if (b - a > 65536) throw new CgroupError(`invalid CPU list ${JSON.stringify(s)}: range too large`);
    for (let i = a; i <= b; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

/** Format numbers as a compact list: [0,1,2,5] -> "0-2,5". */
export function formatCpuList(ns: number[]): string {
  const s = [...new Set(ns)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j]! + 1) j++;
    out.push(i === j ? `${s[i]}` : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/** Nullable byte count -> v2 value ("max" for null). */
export function v2Bytes(n: number | null): string {
  return n === null ? 'max' : String(n);
}

/** Nullable byte count -> v1 value (-1 for null). */
export function v1Bytes(n: number | null): string {
  return n === null ? '-1' : String(n);
}

/** Parse a v1 byte value: huge numbers (unlimited) -> null. */
export function parseV1Bytes(s: string): number | null {
  const n = Number(s.trim());
  if (!Number.isFinite(n) || n < 0 || n >= V1_UNLIMITED_THRESHOLD) return null;
  return n;
}

/** Parse a v2 value that may be "max". */
export function parseV2Max(s: string): number | null {
  const t = s.trim();
  return t === 'max' ? null : Number(t);
}

/** Parse "key value" lines (cpu.stat, memory.events, memory.stat, cpuacct.stat) into a map. */
export function parseKeyValues(s: string): Record<string, number> {
  const r: Record<string, number> = {};
  for (const line of s.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) r[k] = Number(v);
  }
  return r;
}

/** v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 ..." -> total read and written bytes. */
export function parseIoStat(s: string): { readBytes: number; writeBytes: number } {
  let readBytes = 0;
  let writeBytes = 0;
  for (const line of s.split('\n')) {
    for (const kv of line.trim().split(/\s+/).slice(1)) {
      const [k, v] = kv.split('=');
      if (k === 'rbytes') readBytes += Number(v) || 0;
      if (k === 'wbytes') writeBytes += Number(v) || 0;
    }
  }
  return { readBytes, writeBytes };
}

/** v1 blkio.throttle.io_service_bytes: "8:0 Read 123" lines (plus "Total" lines) -> totals. */
export function parseBlkioServiceBytes(s: string): { readBytes: number; writeBytes: number } {
  let readBytes = 0;
  let writeBytes = 0;
  for (const line of s.split('\n')) {
    const p = line.trim().split(/\s+/);
    if (p.length !== 3 || !/^\d+:\d+$/.test(p[0]!)) continue;
    if (p[1] === 'Read') readBytes += Number(p[2]) || 0;
    if (p[1] === 'Write') writeBytes += Number(p[2]) || 0;
  }
  return { readBytes, writeBytes };
}

/** Validate a block device "MAJ:MIN". */
export function checkDevice(dev: string): string {
  if (!/^\d+:\d+$/.test(dev)) throw new CgroupError(`invalid block device ${JSON.stringify(dev)}: expected "MAJOR:MINOR", e.g. 8:0`);
  return dev;
}
