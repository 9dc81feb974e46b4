// A snapshot of the host's processes as a container system sees them: the process tree, each
// process's PID in every PID namespace it belongs to (NSpid in /proc/PID/status), and which
// container it belongs to. `lxts ps --tree` and the dashboard's process tree both draw it.
//
// Container membership comes from the cgroup path: lxts puts every container in
// `<own cgroup>/<parent, default "lxts">/<cgroup name>` in every hierarchy, and a process
// cannot leave its container's cgroup (the container sees its own cgroup as its root). The
// monitor (lxts-exec, the container init's parent) stays outside the container's cgroup: it is
// recognised as the parent of the container's top process.
//
// Reads only /proc (a fake one in the unit tests): no root needed, nothing is changed.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface HostProcess {
  pid: number;
  ppid: number;
  /** PIDs from the outermost (this reader's) PID namespace to the innermost: [4242, 1]. */
  nspid: number[];
  comm: string;
  /** argv; empty for kernel threads and zombies. */
  cmdline: string[];
  /** R, S, D, Z, T, ... */
  state: string;
  uid: number;
  /** Resident memory, KiB (0 for kernel threads). */
  rssKiB: number;
  /** The PID namespace's inode ("pid:[4026531836]"), or null when unreadable. */
  pidns: string | null;
  /** Name of the container this process belongs to, or null (a host process). */
  container: string | null;
  /**
   * monitor: lxts-exec holding a container; init: a container's top process (PID 1 in its
   * namespace for system containers); container: any other process in a container; host.
   */
  role: 'monitor' | 'init' | 'container' | 'host';
  kernelThread: boolean;
  children: number[];
}

export interface ContainerProcesses {
  /** The container's name (from the cgroup name; ".<hash>" of a non-default lxtspath removed). */
  name: string;
  /** The cgroup directory name (NAME or NAME.<lxtspath hash>). */
  cgroup: string;
  /** True when the container belongs to the lxtspath the caller asked about. */
  known: boolean;
  monitorPid: number | null;
  /** The container's top process (its PID 1 when it has its own PID namespace). */
  initPid: number | null;
  pidns: string | null;
  /** Every process in the container, host PIDs, in tree order. */
  pids: number[];
}

export interface HostSnapshot {
  takenAt: string;
  /** The host's PID 1 as this process sees it. */
  hostInit: number | null;
  processes: HostProcess[];
  containers: ContainerProcesses[];
  /** PIDs with no parent in the snapshot (PID 1, kthreadd, ...). */
  roots: number[];
}

export interface KnownContainer {
  name: string;
  /** The cgroup dir name, `Container.cgroupName`. */
  cgroupName: string;
  /** Parent cgroup path components below lxts's own cgroup (default "lxts"). */
  cgroupParent?: string;
}

export interface SnapshotOptions {
  /** /proc by default (tests pass a fake tree). */
  procRoot?: string;
  /** Containers of the lxtspath in view, to name them exactly. Others found are listed too, with known=false. */
  known?: KnownContainer[];
  /** Parent cgroup names that hold containers (default ["lxts"]). */
  cgroupParents?: string[];
  /** Leave out kernel threads (children of kthreadd), default true. */
  skipKernelThreads?: boolean;
}

function readOr(file: string, fallback: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

/** Parse /proc/PID/status into the fields the snapshot uses. Exported for the unit tests. */
export function parseStatus(text: string): { name: string; state: string; ppid: number; uid: number; nspid: number[]; rssKiB: number } {
  const field = (k: string): string | undefined => {
    const m = new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(text);
    return m?.[1];
  };
  const nspid = (field('NSpid') ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
  const pid = Number((field('Pid') ?? '').trim());
  return {
    name: field('Name') ?? '',
    state: (field('State') ?? '?').trim().charAt(0),
    ppid: Number((field('PPid') ?? '0').trim()) || 0,
    uid: Number((field('Uid') ?? '0').trim().split(/\s+/)[0]) || 0,
    // kernels before 4.1 have no NSpid: the PID in this namespace is all we know
    nspid: nspid.length ? nspid : Number.isFinite(pid) && pid > 0 ? [pid] : [],
    rssKiB: Number(/(\d+)/.exec(field('VmRSS') ?? '')?.[1] ?? 0),
  };
}

/**
 * Which lxts container a /proc/PID/cgroup text puts the process in: the directory below a
 * container parent ("lxts"), or null. Exported for the unit tests.
 */
export function containerCgroupOf(cgroupText: string, parents: readonly string[] = ['lxts']): string | null {
  for (const line of cgroupText.split('\n')) {
    const path = line.split(':').slice(2).join(':');
    if (!path) continue;
    const parts = path.split('/').filter(Boolean);
    for (let i = 0; i < parts.length - 1; i++) {
      if (parents.includes(parts[i]!)) return parts[i + 1]!;
    }
  }
  return null;
}

/** "web.1a2b3c4d" (a container of a non-default lxtspath) -> "web". */
export function displayName(cgroupName: string): string {
  return cgroupName.replace(/\.[0-9a-f]{8}$/, '');
}

/** A snapshot of the host's process tree with PID namespaces and container membership. */
export function hostSnapshot(opts: SnapshotOptions = {}): HostSnapshot {
  const proc = opts.procRoot ?? '/proc';
  const parents = opts.cgroupParents ?? [...new Set(['lxts', ...(opts.known ?? []).map((k) => (k.cgroupParent ?? 'lxts').split('/').pop()!)])];
  const knownBy = new Map((opts.known ?? []).map((k) => [k.cgroupName, k.name]));
  let entries: string[] = [];
  try {
    entries = readdirSync(proc).filter((e) => /^\d+$/.test(e));
  } catch {
    entries = [];
  }
  const byPid = new Map<number, HostProcess>();
  const cgOf = new Map<number, string | null>();
  for (const e of entries) {
    const pid = Number(e);
    const dir = join(proc, e);
    const statusText = readOr(join(dir, 'status'), '');
    if (!statusText) continue; // exited while we looked
    const st = parseStatus(statusText);
    const cmd = readOr(join(dir, 'cmdline'), '');
    let pidns: string | null = null;
    try {
      pidns = readlinkSync(join(dir, 'ns', 'pid'));
    } catch {
      pidns = null;
    }
    byPid.set(pid, {
      pid,
      ppid: st.ppid,
      nspid: st.nspid.length ? st.nspid : [pid],
      comm: st.name,
      cmdline: cmd ? cmd.replace(/\0$/, '').split('\0') : [],
      state: st.state,
      uid: st.uid,
      rssKiB: st.rssKiB,
      pidns,
      container: null,
      role: 'host',
      kernelThread: false,
      children: [],
    });
    cgOf.set(pid, containerCgroupOf(readOr(join(dir, 'cgroup'), ''), parents));
  }
  // kernel threads: kthreadd (ppid 0, named kthreadd) and its children
  const kthreadd = [...byPid.values()].find((p) => p.ppid === 0 && p.comm === 'kthreadd')?.pid;
  for (const p of byPid.values()) {
    if (p.pid === kthreadd || (kthreadd !== undefined && p.ppid === kthreadd)) p.kernelThread = true;
  }
  const skipK = opts.skipKernelThreads ?? true;
  const procs = [...byPid.values()].filter((p) => !(skipK && p.kernelThread)).sort((a, b) => a.pid - b.pid);
  const inSnap = new Map(procs.map((p) => [p.pid, p]));
  for (const p of procs) {
    const parent = inSnap.get(p.ppid);
    if (parent && p.ppid !== p.pid) parent.children.push(p.pid);
  }
  const roots = procs.filter((p) => !inSnap.has(p.ppid) || p.ppid === p.pid).map((p) => p.pid);

  // containers: processes grouped by cgroup name
  const groups = new Map<string, ContainerProcesses>();
  for (const p of procs) {
    const cg = cgOf.get(p.pid) ?? null;
    if (!cg) continue;
    const name = knownBy.get(cg) ?? displayName(cg);
    p.container = name;
    p.role = 'container';
    let g = groups.get(cg);
    if (!g) {
      g = { name, cgroup: cg, known: knownBy.has(cg), monitorPid: null, initPid: null, pidns: null, pids: [] };
      groups.set(cg, g);
    }
  }
  for (const g of groups.values()) {
    // the top process: in the container, its parent is not
    const members = procs.filter((p) => cgOf.get(p.pid) === g.cgroup);
    const tops = members.filter((p) => cgOf.get(p.ppid) !== g.cgroup);
    // prefer the one that is PID 1 in its own namespace
    const top = tops.find((p) => p.nspid[p.nspid.length - 1] === 1) ?? tops[0];
    if (top) {
      top.role = 'init';
      g.initPid = top.pid;
      g.pidns = top.pidns;
      const parent = inSnap.get(top.ppid);
      if (parent && parent.comm === 'lxts-exec' && !cgOf.get(parent.pid)) {
        parent.role = 'monitor';
        parent.container = g.name;
        g.monitorPid = parent.pid;
      }
    }
    // tree order: from the top processes down (a process attached later may be a second top)
    const order: number[] = [];
    const seen = new Set<number>();
    const walk = (pid: number): void => {
      if (seen.has(pid)) return;
      seen.add(pid);
      order.push(pid);
      for (const c of inSnap.get(pid)?.children ?? []) if (cgOf.get(c) === g.cgroup) walk(c);
    };
    for (const t of [...(top ? [top] : []), ...tops.filter((t) => t !== top)]) walk(t.pid);
    for (const m of members) walk(m.pid);
    g.pids = order;
  }
  const containers = [...groups.values()].sort((a, b) => Number(b.known) - Number(a.known) || a.name.localeCompare(b.name) || a.cgroup.localeCompare(b.cgroup));
  return {
    takenAt: new Date().toISOString(),
    hostInit: inSnap.has(1) ? 1 : (roots[0] ?? null),
    processes: procs,
    containers,
    roots,
  };
}

/** "host 4242 → 1": a process's PID in each namespace, outermost first. */
export function formatNsPids(nspid: readonly number[]): string {
  return nspid.join(' → ');
}

/** A short command line for display: argv joined, or [comm] for kernel threads. */
export function commandOf(p: Pick<HostProcess, 'cmdline' | 'comm'>, max = 80): string {
  const s = p.cmdline.length ? p.cmdline.join(' ') : `[${p.comm}]`;
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

export interface TreeTextOptions {
  /** Include the host's processes outside containers (the whole tree). */
  all?: boolean;
  /** Command column width. */
  width?: number;
}

/**
 * The text of `lxts ps --tree`: per container, its monitor and processes with the host PID
 * and the PID inside the container side by side; the host's PID 1 first, for comparison.
 */
export function formatTree(snap: HostSnapshot, opts: TreeTextOptions = {}): string {
  const byPid = new Map(snap.processes.map((p) => [p.pid, p]));
  const width = opts.width ?? 60;
  const rows: [string, string, string, string][] = [];
  const head: [string, string, string, string] = ['CONTAINER', 'HOST PID', 'CONTAINER PID', 'COMMAND'];
  const inner = (p: HostProcess): string => (p.nspid.length > 1 ? p.nspid.slice(1).join(' → ') : '-');
  const hostInit = snap.hostInit !== null ? byPid.get(snap.hostInit) : undefined;
  if (hostInit) rows.push(['(host)', String(hostInit.pid), '-', `${commandOf(hostInit, width)}   <- the host's PID 1`]);
  for (const g of snap.containers) {
    rows.push(['', '', '', '']);
    const label = g.name;
    let first = true;
    const lbl = (): string => {
      const l = first ? label : '';
      first = false;
      return l;
    };
    if (g.monitorPid !== null) {
      const m = byPid.get(g.monitorPid)!;
      rows.push([lbl(), String(m.pid), '-', `${m.comm}   (monitor)`]);
    }
    const inGroup = new Set(g.pids);
    const draw = (pid: number, prefix: string, last: boolean, depth: number): void => {
      const p = byPid.get(pid);
      if (!p) return;
      const branch = depth === 0 ? (g.monitorPid !== null ? '└─ ' : '') : last ? '└─ ' : '├─ ';
      const pre = depth === 0 ? '' : prefix;
      rows.push([lbl(), String(p.pid), inner(p), `${pre}${branch}${commandOf(p, width)}`]);
      const kids = p.children.filter((c) => inGroup.has(c));
      const childPrefix = depth === 0 ? (g.monitorPid !== null ? '   ' : '') : prefix + (last ? '   ' : '│  ');
      kids.forEach((c, i) => draw(c, childPrefix, i === kids.length - 1, depth + 1));
    };
    const tops = g.pids.filter((pid) => !inGroup.has(byPid.get(pid)?.ppid ?? -1));
    tops.forEach((t, i) => draw(t, '', i === tops.length - 1, 0));
  }
  if (opts.all) {
    rows.push(['', '', '', '']);
    const inContainer = new Set(snap.containers.flatMap((g) => [...g.pids, ...(g.monitorPid !== null ? [g.monitorPid] : [])]));
    const draw = (pid: number, prefix: string, last: boolean, depth: number): void => {
      const p = byPid.get(pid);
      if (!p || inContainer.has(pid)) return;
      rows.push([depth === 0 ? '(host)' : '', String(p.pid), '-', `${depth === 0 ? '' : prefix + (last ? '└─ ' : '├─ ')}${commandOf(p, width)}`]);
      const kids = p.children.filter((c) => !inContainer.has(c));
      const cp = depth === 0 ? '' : prefix + (last ? '   ' : '│  ');
      kids.forEach((c, i) => draw(c, cp, i === kids.length - 1, depth + 1));
    };
    snap.roots.forEach((r, i) => draw(r, '', i === snap.roots.length - 1, 0));
  }
  if (!snap.containers.length) rows.push(['', '', '', '(no running containers)']);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 3 ? c : i === 1 || i === 2 ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}
