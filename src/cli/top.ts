// lxts top   (lxc-top): CPU, memory, processes and block I/O of every running container,
// live. CPU % is the container cgroup's CPU time over the wall time between two samples
// (100 % = one CPU busy, as in top(1)). On a terminal the table is redrawn in place on the
// alternate screen until q or Ctrl-C; with --once, --json or a non-terminal stdout it prints
// one table (from two samples `-d` seconds apart) and exits.
import { parse, helpText } from './args.js';
import { COMMON_HELP } from './common.js';
import { Container, type ContainerState } from '../container.js';
import { formatBytes, table } from './format.js';
import { usageError } from '../errors.js';
import type { Locations } from '../storage/paths.js';

const OPTIONS = {
  lxtspath: { type: 'string', short: 'P' },
  delay: { type: 'string', short: 'd' },
  sort: { type: 'string', short: 's' },
  reverse: { type: 'boolean', short: 'r' },
  once: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  debug: { type: 'boolean' },
} as const;
const USAGE = 'lxts top [-d SECONDS] [-s cpu|mem|pids|io|name] [-r] [--once] [--json]';

/** Sort keys; LXC's lxc-top letters (c, m, b, n) work too. */
const SORTS: Record<string, SortKey> = { cpu: 'cpu', c: 'cpu', mem: 'mem', memory: 'mem', m: 'mem', pids: 'pids', p: 'pids', io: 'io', blkio: 'io', b: 'io', name: 'name', n: 'name' };
type SortKey = 'cpu' | 'mem' | 'pids' | 'io' | 'name';

export interface TopRow {
  name: string;
  state: ContainerState;
  pid: number | null;
  /** CPU use over the last interval, 100 = one CPU; null on the first sample. */
  cpuPercent: number | null;
  cpuUsec: number;
  memory: { current: number; limit: number | null };
  pids: { current: number; max: number | null };
  io: { readBytes: number; writeBytes: number };
}

interface Sample {
  rows: TopRow[];
  at: number;
}

/** One sample of every running container; CPU % against `prev` (same container, same init). */
export async function sample(loc: Partial<Locations>, prev?: Sample): Promise<Sample> {
  const rows: TopRow[] = [];
  const containers = Container.list(loc);
  const states = await Promise.all(containers.map((c) => c.state().catch(() => null)));
  const at = performance.now();
  containers.forEach((c, i) => {
    const st = states[i];
    if (!st || (st.state !== 'RUNNING' && st.state !== 'FROZEN' && st.state !== 'STOPPING')) return;
    let stats;
    try {
      stats = c.cgroup()?.stats();
    } catch {
      return; // stopped between the state and the read
    }
    if (!stats) return;
    const before = prev?.rows.find((r) => r.name === c.name && r.pid === st.pid);
    const dt = prev ? (at - prev.at) * 1000 : 0; // µs
    rows.push({
      name: c.name,
      state: st.state,
      pid: st.pid,
      cpuPercent: before && dt > 0 ? Math.max(0, ((stats.cpu.usageUsec - before.cpuUsec) / dt) * 100) : null,
      cpuUsec: stats.cpu.usageUsec,
      memory: { current: stats.memory.current, limit: stats.memory.limit },
      pids: { current: stats.pids.current, max: stats.pids.max },
      io: { readBytes: stats.io.readBytes, writeBytes: stats.io.writeBytes },
    });
  });
  return { rows, at };
}

export function sortRows(rows: TopRow[], key: SortKey, reverse = false): TopRow[] {
  const val = (r: TopRow): number => (key === 'cpu' ? r.cpuPercent ?? -1 : key === 'mem' ? r.memory.current : key === 'pids' ? r.pids.current : r.io.readBytes + r.io.writeBytes);
  // Numbers: biggest first (as top); names: alphabetical. -r turns either round.
  const cmp = (a: TopRow, b: TopRow): number => (key === 'name' ? a.name.localeCompare(b.name) : val(b) - val(a) || a.name.localeCompare(b.name));
  const out = [...rows].sort(cmp);
  return reverse ? out.reverse() : out;
}

function render(rows: TopRow[], width?: number): string {
  const fmtCpu = (x: number | null): string => (x === null ? '-' : x.toFixed(1));
  const body = rows.map((r) => [
    r.name + (r.state !== 'RUNNING' ? ` (${r.state.toLowerCase()})` : ''),
    fmtCpu(r.cpuPercent),
    formatBytes(r.memory.current) + (r.memory.limit !== null && Number.isFinite(r.memory.limit) ? ' / ' + formatBytes(r.memory.limit) : ''),
    String(r.pids.current) + (r.pids.max !== null && Number.isFinite(r.pids.max) ? ` / ${r.pids.max}` : ''),
    formatBytes(r.io.readBytes),
    formatBytes(r.io.writeBytes),
  ]);
  if (rows.length > 1) {
    const sum = (f: (r: TopRow) => number): number => rows.reduce((a, r) => a + f(r), 0);
    const cpu = rows.every((r) => r.cpuPercent === null) ? null : sum((r) => r.cpuPercent ?? 0);
    body.push(['TOTAL', fmtCpu(cpu), formatBytes(sum((r) => r.memory.current)), String(sum((r) => r.pids.current)), formatBytes(sum((r) => r.io.readBytes)), formatBytes(sum((r) => r.io.writeBytes))]);
  }
  let text = table(['NAME', 'CPU%', 'MEMORY', 'PIDS', 'BLKIO-R', 'BLKIO-W'], body);
  if (width) text = text.split('\n').map((l) => l.slice(0, width)).join('\n');
  return text;
}

function parseDelay(s: string | undefined): number {
  if (s === undefined) return 1;
  const n = Number(s);
  if (!/^\d*\.?\d+$/.test(s) || !(n >= 0.1 && n <= 3600)) throw usageError(`--delay needs seconds between 0.1 and 3600, got "${s}"`);
  return n;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function run(argv: string[]): Promise<number> {
  const { values: v } = parse(argv, OPTIONS);
  if (v.help) {
    process.stdout.write(helpText(USAGE, 'Show CPU, memory, processes and block I/O of every running container, refreshed live (lxc-top). CPU % is cgroup CPU time over wall time, 100 = one CPU. Keys: q or Ctrl-C quits.', [
      ['-d, --delay SECONDS', 'refresh period (default 1; decimals allowed, at least 0.1)'],
      ['-s, --sort KEY', 'cpu, mem, pids, io or name (default; lxc-top letters c, m, b, n too)'],
      ['-r, --reverse', 'reverse the sort'],
      ['--once', 'print one table and exit (also when stdout is not a terminal)'],
      ['--json', 'one snapshot as JSON and exit'],
      COMMON_HELP[1]!,
    ]));
    return 0;
  }
  const delay = parseDelay(v.delay);
  const key = SORTS[(v.sort ?? 'name').toLowerCase()];
  if (!key) throw usageError(`unknown sort key "${v.sort}" (one of cpu, mem, pids, io, name)`);
  const loc = v.lxtspath !== undefined ? { lxtspath: v.lxtspath } : {};

  if (v.once || v.json || !process.stdout.isTTY) {
    const first = await sample(loc);
    await sleep(first.rows.length ? delay * 1000 : 0);
    const s = first.rows.length ? await sample(loc, first) : first;
    const rows = sortRows(s.rows, key, v.reverse);
    if (v.json) process.stdout.write(JSON.stringify({ time: new Date().toISOString(), intervalSec: delay, containers: rows }, null, 2) + '\n');
    else process.stdout.write(rows.length ? render(rows) : 'no running containers\n');
    return 0;
  }
  return live(loc, delay, key, v.reverse ?? false);
}

/** The live view: alternate screen, hidden cursor, redrawn every `delay` s; q or Ctrl-C ends it. */
async function live(loc: Partial<Locations>, delay: number, key: SortKey, reverse: boolean): Promise<number> {
  const out = process.stdout;
  const stdin = process.stdin;
  let done = false;
  let wake: (() => void) | undefined;
  const quit = (): void => {
    done = true;
    wake?.();
  };
  const restore = (): void => {
    out.write('\x1b[?25h\x1b[?1049l');
    if (stdin.isTTY && stdin.isRaw) stdin.setRawMode(false);
  };
  const onKey = (d: Buffer): void => {
    const s = d.toString();
    if (s === 'q' || s === 'Q' || s === '\x03' || s === '\x04') quit();
    else wake?.(); // any other key: refresh now
  };
  process.once('SIGINT', quit);
  process.once('SIGTERM', quit);
  process.once('exit', restore); // even on a crash, leave the terminal usable
  out.on('resize', () => wake?.());
  out.write('\x1b[?1049h\x1b[?25l');
  if (stdin.isTTY) {
    stdin.setRawMode(true);
    stdin.on('data', onKey);
    stdin.resume();
  }
  try {
    const draw = (s: Sample): void => {
      const rows = sortRows(s.rows, key, reverse);
      const head = `lxts top — ${new Date().toLocaleTimeString()}, ${rows.length} running, every ${delay} s, sorted by ${key}${reverse ? ' (reversed)' : ''}; q quits\n\n`;
      const height = (out.rows ?? 24) - 3;
      const text = rows.length ? render(rows.length > height ? rows.slice(0, height) : rows, out.columns) : 'no running containers\n';
      out.write('\x1b[H' + (head + text).replace(/\n/g, '\x1b[K\n') + '\x1b[J');
    };
    let prev = await sample(loc);
    draw(prev);
    while (!done) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, delay * 1000);
        wake = () => {
          clearTimeout(t);
          r();
        };
      });
      wake = undefined;
      if (done) break;
      prev = await sample(loc, prev);
      draw(prev);
    }
  } finally {
    process.removeListener('SIGINT', quit);
    process.removeListener('SIGTERM', quit);
    stdin.off('data', onKey);
    restore();
    process.removeListener('exit', restore);
    stdin.pause();
  }
  return 0;
}
