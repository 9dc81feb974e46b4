// What the API and the dashboard show of a container: the library's ContainerInfo plus its
// network addresses and its limits (live from the cgroup when it runs, from the config when not).
import { readFileSync, readlinkSync } from 'node:fs';
import { Container, type ContainerInfo } from '../container.js';
import { sharesToWeight, weightToShares, type ContainerCgroup } from '../cgroup/index.js';

export interface ContainerLimits {
  /** cgroup v2 scale (1..10000, default 100); converted from cpu.shares on v1. */
  cpuWeight: number | null;
  /** cgroup v1 scale (2..262144, default 1024); converted from cpu.weight on v2. */
  cpuShares: number | null;
  /** The file the host really uses for the weight: cpu.shares (v1) or cpu.weight (v2). */
  cpuWeightKey: 'cpu.shares' | 'cpu.weight' | null;
  /** CPU bandwidth limit in CPUs (0.5 = half a CPU); null = none. */
  cpuQuota: number | null;
  /** cpuset CPUs ("0-1"); null = unknown/none. */
  cpuset: string | null;
  /** bytes; null = no limit. */
  memoryMax: number | null;
  /** null = no limit. */
  pidsMax: number | null;
}

export interface ContainerNetwork {
  /** own: a network namespace of its own; host: the host's; null: not running. */
  mode: 'own' | 'host' | null;
  ipv4: string[];
  ipv6: string[];
}

export interface ContainerView extends ContainerInfo {
  network: ContainerNetwork;
  limits: ContainerLimits;
  /** CPU use in the last interval, percent of one CPU (the stats stream fills it in). */
  cpuPct: number | null;
}

const NO_LIMITS: ContainerLimits = { cpuWeight: null, cpuShares: null, cpuWeightKey: null, cpuQuota: null, cpuset: null, memoryMax: null, pidsMax: null };

/** IPv4 addresses of a network namespace from /proc/PID/net/fib_trie ("/32 host LOCAL" leaves). */
export function parseFibTrie(text: string): string[] {
  const out: string[] = [];
  let last: string | undefined;
  for (const line of text.split('\n')) {
    const m = /\|--\s+(\d+\.\d+\.\d+\.\d+)/.exec(line);
    if (m) last = m[1];
    else if (/\/32 host LOCAL/.test(line) && last && !out.includes(last)) out.push(last);
  }
  return out;
}

/** Global IPv6 addresses from /proc/PID/net/if_inet6 (link-local and loopback left out). */
export function parseIfInet6(text: string): string[] {
  const out: string[] = [];
  for (const line of text.trim().split('\n')) {
    const [hex, , , scope, , dev] = line.trim().split(/\s+/);
    if (!hex || hex.length !== 32 || dev === 'lo' || scope !== '00') continue;
    const groups = hex.match(/.{4}/g)!.map((g) => parseInt(g, 16).toString(16));
    // compress the longest run of zero groups
    let best = -1, bestLen = 0;
    for (let i = 0; i < 8; ) {
      if (groups[i] !== '0') { i++; continue; }
      let j = i;
      while (j < 8 && groups[j] === '0') j++;
      if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
      i = j;
    }
    const s = best < 0 ? groups.join(':') : `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

export function networkOf(pid: number | null): ContainerNetwork {
  if (!pid) return { mode: null, ipv4: [], ipv6: [] };
  try {
    const own = readlinkSync(`/proc/${pid}/ns/net`) !== readlinkSync('/proc/self/ns/net');
    const v4 = parseFibTrie(readFileSync(`/proc/${pid}/net/fib_trie`, 'utf8'));
    let v6: string[] = [];
    try {
      v6 = parseIfInet6(readFileSync(`/proc/${pid}/net/if_inet6`, 'utf8'));
    } catch {
      /* no IPv6 */
    }
    // loopback (127.0.0.0/8) is in every namespace: list the others
    return { mode: own ? 'own' : 'host', ipv4: own ? v4.filter((a) => !a.startsWith('127.')) : [], ipv6: own ? v6 : [] };
  } catch {
    return { mode: null, ipv4: [], ipv6: [] };
  }
}

function tryGet(cg: ContainerCgroup, key: string): string | undefined {
  try {
    return cg.get(key);
  } catch {
    return undefined;
  }
}

function num(s: string | undefined): number | null {
  if (s === undefined) return null;
  const n = Number(s.trim());
  return Number.isFinite(n) ? n : null;
}

/** Live limits of a running container's cgroup. */
export function liveLimits(cg: ContainerCgroup, info: ContainerInfo): ContainerLimits {
  const l: ContainerLimits = { ...NO_LIMITS };
  const w = num(tryGet(cg, 'cpu.weight'));
  const sh = w === null ? num(tryGet(cg, 'cpu.shares')) : null;
  if (w !== null) {
    l.cpuWeight = w;
    l.cpuShares = weightToShares(w);
    l.cpuWeightKey = 'cpu.weight';
  } else if (sh !== null) {
    l.cpuShares = sh;
    l.cpuWeightKey = 'cpu.shares';
    l.cpuWeight = sharesToWeight(Math.min(262144, Math.max(2, sh)));
  }
  const max = tryGet(cg, 'cpu.max');
  if (max !== undefined) {
    const [q, p] = max.split(/\s+/);
    l.cpuQuota = q === 'max' || !q ? null : Number(q) / Number(p || 100000);
  } else {
    const q = num(tryGet(cg, 'cpu.cfs_quota_us'));
    const p = num(tryGet(cg, 'cpu.cfs_period_us'));
    l.cpuQuota = q === null || q < 0 || !p ? null : q / p;
  }
  l.cpuset = tryGet(cg, 'cpuset.cpus') ?? null;
  l.memoryMax = info.stats?.memory.limit ?? null;
  l.pidsMax = info.stats?.pids.max ?? null;
  return l;
}

/** Limits from the config (a stopped container). */
export function configLimits(c: Container): ContainerLimits {
  try {
    const r = c.loadSpec('start').spec.resources ?? {};
    const l: ContainerLimits = { ...NO_LIMITS };
    if (r.cpu?.weight !== undefined) l.cpuWeight = r.cpu.weight;
    if (r.cpu?.shares !== undefined) l.cpuShares = r.cpu.shares;
    if (l.cpuWeight === null && l.cpuShares !== null) l.cpuWeight = sharesToWeight(Math.min(262144, Math.max(2, l.cpuShares)));
    if (l.cpuShares === null && l.cpuWeight !== null) l.cpuShares = weightToShares(l.cpuWeight);
    if (r.cpu?.quotaUs) l.cpuQuota = r.cpu.quotaUs / (r.cpu.periodUs ?? 100000);
    l.cpuset = r.cpu?.cpus ?? null;
    l.memoryMax = r.memory?.max ?? null;
    l.pidsMax = r.pids?.max ?? null;
    return l;
  } catch {
    return { ...NO_LIMITS };
  }
}

/** One container as the API shows it. Throws the library's LxtsError when it does not exist. */
export async function viewOf(c: Container): Promise<ContainerView> {
  const info = await c.info();
  let limits: ContainerLimits = { ...NO_LIMITS };
  if (info.state === 'RUNNING' || info.state === 'FROZEN' || info.state === 'STOPPING') {
    const cg = c.cgroup();
    limits = cg ? liveLimits(cg, info) : configLimits(c);
  } else {
    limits = configLimits(c);
  }
  return { ...info, network: networkOf(info.state === 'STOPPED' ? null : info.pid), limits, cpuPct: null };
}

/** A row for a container whose info cannot be read (half-created, vanished): it still lists. */
export function brokenView(c: Container, note: string): ContainerView {
  return {
    name: c.name, state: 'BROKEN', note, pid: null, monitorPid: null, autostart: false, rootfs: null, configPath: c.paths.config,
    hostname: null, startedAt: null, stats: null, network: { mode: null, ipv4: [], ipv6: [] }, limits: { ...NO_LIMITS }, cpuPct: null,
  };
}
