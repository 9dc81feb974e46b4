// The demo's input: a split of one CPU between 2..8 containers, the CPU to pin them to, and the
// cgroup weights that express the split. Pure functions (unit-tested without root).
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { usageError } from '../errors.js';

export const MIN_PARTS = 2;
export const MAX_PARTS = 8;

/** "75/25", "50/30/20" (also "75,25" or "75:25") -> [75, 25]; validated. */
export function parseSplit(text: string): number[] {
  const s = text.trim();
  const parts = s.split(/\s*[/,:]\s*/);
  for (const p of parts) {
    if (!/^\d+$/.test(p)) {
      throw usageError(
        `--split needs whole percentages separated by "/", e.g. 75/25 or 50/30/20; got "${text}"`,
        p === '' ? 'an empty part: check for a doubled or trailing "/"' : `"${p}" is not a whole number`,
      );
    }
  }
  return validateSplit(parts.map(Number), `--split ${s}`);
}

/** Checks a split given as numbers: 2..8 positive integers adding up to exactly 100. */
export function validateSplit(split: readonly number[], what = `split ${split.join('/')}`): number[] {
  if (!Array.isArray(split)) throw usageError('split must be an array of percentages, e.g. [75, 25]');
  if (split.length < MIN_PARTS || split.length > MAX_PARTS) {
    throw usageError(`${what} has ${split.length} part${split.length === 1 ? '' : 's'}; the demo runs ${MIN_PARTS} to ${MAX_PARTS} containers`, 'e.g. 75/25 or 50/30/20');
  }
  for (const p of split) {
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 1) {
      throw usageError(`${what}: every part must be a whole percentage of at least 1, got ${String(p)}`);
    }
  }
  const sum = split.reduce((a, b) => a + b, 0);
  if (sum !== 100) {
    throw usageError(`${what} adds up to ${sum}, not 100`, `the parts are percentages of one CPU; e.g. ${suggest(split)}`);
  }
  return [...split];
}

/** A nearby valid split for the hint: scale to 100 and give the rounding rest to the largest part. */
function suggest(split: readonly number[]): string {
  const sum = split.reduce((a, b) => a + Math.max(0, b), 0);
  if (sum <= 0 || split.length < MIN_PARTS || split.length > MAX_PARTS) return '75/25';
  const out = split.map((p) => Math.max(1, Math.round((Math.max(0, p) * 100) / sum)));
  const diff = 100 - out.reduce((a, b) => a + b, 0);
  const i = out.indexOf(Math.max(...out));
  out[i] = out[i]! + diff;
  return out.every((p) => p >= 1) ? out.join('/') : '75/25';
}

export interface CpuWeights {
  /** cgroup v1 cpu.shares (2..262144). */
  shares: number;
  /** cgroup v2 cpu.weight (1..10000). */
  weight: number;
}

/**
 * Weights for each part, in both scales so neither version converts (conversions round):
 * v2 weight = part × 100 (75/25 -> 7500/2500). v1 shares = part × 1024 / 100, the familiar
 * scale where 1024 is the default (75/25 -> 768/256), when that is a whole number for every
 * part; otherwise part × 100 (50/30/20 -> 5000/3000/2000), so the ratio is always exact.
 */
export function weightsFor(split: readonly number[]): CpuWeights[] {
  const exact1024 = split.every((p) => (p * 1024) % 100 === 0);
  return split.map((p) => ({ shares: exact1024 ? (p * 1024) / 100 : p * 100, weight: p * 100 }));
}

/** "0-3,5" -> [0,1,2,3,5]; throws on garbage. */
export function parseCpuRange(s: string): number[] {
  const out: number[] = [];
  for (const part of s.trim().split(',')) {
    if (!part) continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`bad CPU list "${s}"`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let i = a; i <= b; i++) out.push(i);
  }
  return [...new Set(out)].sort((x, y) => x - y);
}

export interface CpuSources {
  /** /sys/devices/system/cpu/online */
  online?: string;
  /** Cpus_allowed_list from /proc/self/status */
  allowed?: string;
  /** os.availableParallelism() */
  parallelism?: number;
}

export function readCpuSources(): CpuSources {
  const src: CpuSources = { parallelism: availableParallelism() };
  try {
    src.online = readFileSync('/sys/devices/system/cpu/online', 'utf8');
  } catch { /* not there: fall back to the count */ }
  try {
    const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) src.allowed = m[1]!;
  } catch { /* not there */ }
  return src;
}

/** CPUs the demo may use: online, and allowed for this process when that is known. */
export function usableCpus(src: CpuSources): number[] {
  let online: number[] = [];
  if (src.online !== undefined) {
    try {
      online = parseCpuRange(src.online);
    } catch { /* fall back */ }
  }
  if (online.length === 0) online = Array.from({ length: Math.max(1, src.parallelism ?? 1) }, (_, i) => i);
  if (src.allowed !== undefined) {
    try {
      const allowed = parseCpuRange(src.allowed);
      const both = online.filter((c) => allowed.includes(c));
      if (both.length) return both;
    } catch { /* ignore */ }
  }
  return online;
}

/** The CPU to pin to: the requested one if usable, else the last usable CPU (0 on a 1-CPU machine). */
export function chooseCpu(requested: number | undefined, src: CpuSources = readCpuSources()): number {
  const cpus = usableCpus(src);
  if (requested === undefined) return cpus[cpus.length - 1]!;
  if (!Number.isInteger(requested) || requested < 0) throw usageError(`--cpu needs a CPU number (0, 1, ...), got ${String(requested)}`);
  if (!cpus.includes(requested)) {
    throw usageError(`CPU ${requested} does not exist or is not available here`, `available CPUs: ${formatList(cpus)}`);
  }
  return requested;
}

function formatList(ns: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < ns.length; ) {
    let j = i;
    while (j + 1 < ns.length && ns[j + 1] === ns[j]! + 1) j++;
    out.push(i === j ? String(ns[i]) : `${ns[i]}-${ns[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

export function validateDuration(sec: number, what = 'duration'): number {
  if (typeof sec !== 'number' || !Number.isFinite(sec) || sec <= 0) throw usageError(`${what} must be a number of seconds greater than 0, got ${String(sec)}`);
  if (sec > 24 * 3600) throw usageError(`${what} of ${sec} s is longer than a day; that is not a demo`);
  return sec;
}
