// Shared helpers for the benchmarks: statistics, timing of external commands, the
// environment block, tables, and rewriting one section of docs/benchmarks.md.
//
// Benchmarks measure; they never install anything and never assert. A peer that is not
// installed is reported as "not installed".
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync, accessSync, constants } from 'node:fs';
import { cpus, release } from 'node:os';
import { delimiter, join } from 'node:path';

export const REPO = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
export const DOC = join(REPO, 'docs', 'benchmarks.md');

export interface Summary {
  n: number;
  median: number;
  p90: number;
  min: number;
  max: number;
  mean: number;
}

export function summarize(xs: number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return { n: 0, median: NaN, p90: NaN, min: NaN, max: NaN, mean: NaN };
  const q = (p: number): number => {
    // Linear interpolation between closest ranks (the common "R-7" definition).
    const h = (n - 1) * p;
    const lo = Math.floor(h);
    const hi = Math.min(n - 1, lo + 1);
    return s[lo] + (h - lo) * (s[hi] - s[lo]);
  };
  return { n, median: q(0.5), p90: q(0.9), min: s[0], max: s[n - 1], mean: s.reduce((a, b) => a + b, 0) / n };
}

/** Monotonic milliseconds. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Absolute path of an executable on PATH, or undefined ("not installed"). */
export function which(cmd: string): string | undefined {
  if (cmd.includes('/')) return existsSync(cmd) ? cmd : undefined;
  const dirs = (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter);
  for (const d of [...dirs, '/usr/sbin', '/sbin']) {
    const p = join(d, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** First line of `cmd --version` (or the given args), or "" when it cannot be run. */
export function versionOf(cmd: string, args = ['--version']): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
  return ((r.stdout || r.stderr || '').split('\n')[0] ?? '').trim();
}

export interface RunResult {
  ms: number;
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Run a command to completion, stdio to /dev/null except stderr (kept for diagnosis). Times spawn to exit. */
export function timeCommand(argv: string[], opts: SpawnSyncOptions = {}): RunResult {
  const t0 = nowMs();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 60_000, ...opts });
  const ms = nowMs() - t0;
  return { ms, status: r.status, signal: r.signal, stderr: String(r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

export function fmtMs(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

export function fmtRatio(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  return x.toFixed(2) + '×';
}

/** A Markdown table; the first row is the header. Also fine to print on a terminal. */
export function mdTable(rows: string[][], align?: ('l' | 'r')[]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => '| ' + r.map((c, i) => ((align?.[i] ?? 'l') === 'r' ? (c ?? '').padStart(widths[i]) : (c ?? '').padEnd(widths[i]))).join(' | ') + ' |';
  const sep = '|' + widths.map((w, i) => ((align?.[i] ?? 'l') === 'r' ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|') + '|';
  return [line(rows[0]), sep, ...rows.slice(1).map(line)].join('\n');
}

export interface Environment {
  date: string;
  kernel: string;
  cpu: string;
  cores: number;
  os: string;
  node: string;
  cgroups: string;
  commit: string;
}

export function environment(): Environment {
  const cpu = cpus()[0]?.model?.trim() || 'unknown';
  let os = 'unknown';
  try {
    const rel = readFileSync('/etc/os-release', 'utf8');
    os = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(rel)?.[1] ?? os;
  } catch {
    /* keep unknown */
  }
  let cg = 'unknown';
  try {
    const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n');
    const v1 = mounts.filter((l) => l.split(' ')[2] === 'cgroup').length;
    const v2 = mounts.some((l) => l.split(' ')[2] === 'cgroup2');
    cg = v1 && v2 ? 'hybrid (v1 controllers + a v2 mount)' : v1 ? 'v1' : v2 ? 'v2' : 'none';
  } catch {
    /* keep unknown */
  }
  const git = (args: string[]): string => spawnSync('git', args, { cwd: REPO, encoding: 'utf8' }).stdout?.trim() ?? '';
  const head = git(['rev-parse', '--short', 'HEAD']);
  const dirty = git(['status', '--porcelain', '--untracked-files=no', '--', 'src', 'native', 'bin']) ? ' + uncommitted changes' : '';
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    kernel: release(),
    cpu,
    cores: cpus().length,
    os,
    node: process.version,
    cgroups: cg,
    commit: (head || 'unknown') + dirty,
  };
}

export function envBlock(e: Environment, extra: Record<string, string> = {}): string {
  const rows: [string, string][] = [
    ['Date', e.date],
    ['Kernel', `Linux ${e.kernel}`],
    ['CPU', `${e.cpu}, ${e.cores} cores`],
    ['OS', e.os],
    ['Node.js', e.node],
    ['cgroups', e.cgroups],
    ['lxts commit', e.commit],
    ...Object.entries(extra),
  ];
  return rows.map(([k, v]) => `- **${k}:** ${v}`).join('\n');
}

/** The command that reproduces this run, as a user would type it. */
export function reproduceCommand(args: string[]): string {
  return 'npm run bench' + (args.length ? ' -- ' + args.join(' ') : '');
}

const DOC_HEADER = `# Benchmarks

Measured by \`npm run bench\` (source: \`bench/\`). Every section below is rewritten by the run
that produced it, with the machine it ran on and the exact command; peers are measured in the
same run, and results are given as ratios against them so that runs on different machines stay
comparable. Benchmarks install nothing: a peer that is not installed on the machine is listed
as "not installed".

Run one benchmark: \`npm run bench -- startup\` or \`npm run bench -- demo\`; \`--quick\` for a
short run (fewer repetitions, shorter demo), \`--no-doc\` to print without touching this file.
Root is required (namespaces, mounts, cgroups).
`;

/** Replace (or append) the section between the bench markers for `id` in docs/benchmarks.md. */
export function writeSection(id: string, body: string): void {
  const begin = `<!-- bench:${id}:begin -->`;
  const end = `<!-- bench:${id}:end -->`;
  let doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : DOC_HEADER;
  const block = `${begin}\n${body.trim()}\n${end}`;
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  if (i >= 0 && j > i) doc = doc.slice(0, i) + block + doc.slice(j + end.length);
  else doc = doc.trimEnd() + '\n\n' + block + '\n';
  writeFileSync(DOC, doc);
}

export function log(msg: string): void {
  process.stderr.write(msg + '\n');
}
