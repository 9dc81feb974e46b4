// The demo's terminal view, as pure functions from (info, sample, width) to lines of text. The
// CLI writes them (redrawn in place on a TTY, a line per sample otherwise); the unit tests check
// them against a width. No I/O here.
import type { DemoInfo, DemoSummary } from './run-demo.js';
import type { DemoSample } from './tracker.js';

/** Colour-blind-safe palette (Okabe–Ito, as xterm-256 colours): orange, sky blue, bluish green, vermillion, blue, yellow, reddish purple, grey. */
export const PALETTE = [214, 74, 36, 166, 25, 221, 175, 250];

export interface ViewOptions {
  /** Terminal width in columns (lines never reach it, so nothing wraps). */
  width: number;
  /** ANSI colours and attributes. */
  color: boolean;
}

const ESC = '\x1b[';

interface Paint {
  fg(n: number, s: string): string;
  bg(bgN: number, fgN: number, s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

function paint(color: boolean): Paint {
  if (!color) return { fg: (_n, s) => s, bg: (_b, _f, s) => s, bold: (s) => s, dim: (s) => s };
  return {
    fg: (n, s) => `${ESC}38;5;${n}m${s}${ESC}39m`,
    bg: (b, f, s) => `${ESC}48;5;${b};38;5;${f}m${s}${ESC}39;49m`,
    bold: (s) => `${ESC}1m${s}${ESC}22m`,
    dim: (s) => `${ESC}2m${s}${ESC}22m`,
  };
}

// eslint-disable-next-line no-control-regex
const ANSI_RE = /\x1b\[[0-9;?]*[A-Za-z]/g;

export function stripAnsi(s: string): string {
  return s.replace(ANSI_RE, '');
}

/** Columns a line takes (every character the view uses is one column wide). */
export function visibleWidth(s: string): number {
  return [...stripAnsi(s)].length;
}

/** Cut a line to at most `max` visible columns, keeping escape sequences intact. */
export function truncate(s: string, max: number): string {
  if (visibleWidth(s) <= max) return s;
  let out = '';
  let cols = 0;
  for (let i = 0; i < s.length; ) {
    ANSI_RE.lastIndex = 0;
    const m = s[i] === '\x1b' ? /^\x1b\[[0-9;?]*[A-Za-z]/.exec(s.slice(i)) : null;
    if (m) {
      out += m[0];
      i += m[0].length;
      continue;
    }
    const ch = String.fromCodePoint(s.codePointAt(i)!);
    if (cols + 1 > max) {
      i += ch.length;
      continue; // skip text, keep later escapes (resets)
    }
    out += ch;
    cols++;
    i += ch.length;
  }
  return out;
}

/** Word-wrap plain text to lines of fewer than `width` columns, each starting with `indent`. */
export function wrap(text: string, width: number, indent = ' '): string[] {
  const max = Math.max(20, width - 1) - indent.length;
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > max) {
      out.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(indent + line);
  return out.map((l) => truncate(l, Math.max(20, width - 1)));
}

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/**
 * A horizontal bar `cells` wide filled to `pct` percent with a target marker at `targetPct`.
 * Without colour: █ filled, · empty, │ the target.
 */
export function bar(pct: number, targetPct: number | undefined, cells: number, colour: number, p: Paint, color: boolean): string {
  const fill = Math.max(0, Math.min(cells, (pct / 100) * cells));
  const full = Math.floor(fill);
  const eighth = Math.round((fill - full) * 8);
  const mark = targetPct === undefined ? -1 : Math.min(cells - 1, Math.max(0, Math.floor((targetPct / 100) * cells)));
  let out = '';
  let run = '';
  let runKind: 'fill' | 'empty' | '' = '';
  const flush = (): void => {
    if (!run) return;
    out += runKind === 'fill' ? p.fg(colour, run) : color ? p.fg(240, run) : run;
    run = '';
  };
  for (let j = 0; j < cells; j++) {
    if (j === mark) {
      flush();
      const covered = fill >= j + 0.5;
      out += color ? (covered ? p.bg(colour, 231, p.bold('┃')) : p.bold(p.fg(231, '┃'))) : '│';
      runKind = '';
      continue;
    }
    let ch: string;
    let kind: 'fill' | 'empty';
    if (j < full) {
      ch = '█';
      kind = 'fill';
    } else if (j === full && eighth > 0) {
      ch = eighth === 8 ? '█' : EIGHTHS[eighth]!;
      kind = 'fill';
    } else {
      ch = color ? '░' : '·';
      kind = 'empty';
    }
    if (kind !== runKind) flush();
    runKind = kind;
    run += ch;
  }
  flush();
  return out;
}

function pct(n: number, digits = 1): string {
  return `${n.toFixed(digits)}%`;
}

function signedPp(n: number): string {
  const s = n.toFixed(2);
  return `${n >= 0 && !s.startsWith('-') ? '+' : ''}${s === '-0.00' ? '+0.00' : s} pp`;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}

interface Columns {
  name: number;
  bar: number;
}

const FIXED = 1 + 1 + 1 + 6 + 2 + 4 + 2 + 8 + 2 + 9; // spaces and the number columns
const MAX_BAR = 60;
const MIN_BAR = 10;

function columns(info: DemoInfo, width: number): Columns {
  const name = Math.max(9, ...info.containers.map((c) => c.name.length));
  const avail = width - 1 - FIXED - name;
  return { name, bar: Math.max(MIN_BAR, Math.min(MAX_BAR, avail)) };
}

function hostLine(info: DemoInfo): string {
  const v = info.cgroup.cpu;
  const ws = info.containers.map((c) => (info.weightFile === 'cpu.weight' ? c.weight : c.shares)).join(':');
  return `cgroup v${v ?? '?'} ${info.weightFile} ${ws}`;
}

/** The lines printed once above the live view: what is shown and how to read it. */
export function renderHeader(info: DemoInfo, view: ViewOptions): string[] {
  const p = paint(view.color);
  // prose reads best in lines of at most 100 columns
  const o = { ...view, width: Math.min(view.width, 100) };
  const n = info.containers.length;
  const interval = info.intervalMs === 1000 ? 'second' : `${info.intervalMs} ms`;
  return [
    ...wrap(`lxts demo: ${n} containers share CPU ${info.cpu}, split ${info.split.join('/')} by CPU weight`, o.width).map(p.bold),
    ...wrap(
      `Each runs a busy loop and wants the whole CPU; all are pinned to CPU ${info.cpu} (cpuset), ` +
        `so the kernel divides it by weight: ${hostLine(info)}.`,
      o.width,
    ),
    ...wrap(
      `Bars: share of CPU ${info.cpu} in the last ${interval}, ${o.color ? '┃' : '│'} the target. ` +
        `Measured: cumulative, from the cgroups' own CPU accounting` +
        (info.warmupMs > 0 ? ` (the first ${info.warmupMs === 1000 ? 'second' : `${info.warmupMs / 1000} s`} is warm-up, not counted).` : '.'),
      o.width,
    ),
  ];
}

/**
 * The live part: a column header, one row per container, a status line. `sample` undefined
 * before the first sample. Every line is shorter than `o.width`.
 */
export function renderFrame(info: DemoInfo, sample: DemoSample | undefined, o: ViewOptions & { status?: string }): string[] {
  const p = paint(o.color);
  const col = columns(info, o.width);
  const lastHdr = info.intervalMs === 1000 ? 'last 1 s' : `last ${info.intervalMs} ms`;
  const head =
    ' ' + ''.padEnd(col.name) + ' ' + lastHdr.padEnd(col.bar) + ' ' + 'now'.padStart(6) + '  ' + 'goal'.padStart(4) + '  ' + 'measured'.padStart(8) + '  ' + 'error'.padStart(9);
  const lines = [p.dim(head)];
  for (const [i, c] of info.containers.entries()) {
    const colour = PALETTE[i % PALETTE.length]!;
    const s = sample?.containers[i];
    const name = p.bold(p.fg(colour, c.name.padEnd(col.name)));
    const b = bar(s?.share ?? 0, c.target, col.bar, colour, p, o.color);
    const now = s ? pct(s.share).padStart(6) : '     -';
    const goal = `${c.target}%`.padStart(4);
    let measured: string;
    let err: string;
    if (!s) {
      measured = ''.padStart(8);
      err = ''.padStart(9);
    } else if (s.cumulative === null || s.errorPp === null) {
      measured = p.dim('warm-up'.padStart(8));
      err = ''.padStart(9);
    } else {
      measured = p.bold(pct(s.cumulative, 2).padStart(8));
      const e = signedPp(s.errorPp).padStart(9);
      err = Math.abs(s.errorPp) < 1 ? p.fg(36, e) : Math.abs(s.errorPp) < 3 ? p.fg(221, e) : p.fg(166, e);
    }
    lines.push(` ${name} ${b} ${now}  ${goal}  ${measured}  ${err}`);
  }
  lines.push('');
  lines.push(statusLine(info, sample, o, p));
  return lines.map((l) => truncate(l, o.width - 1));
}

function statusLine(info: DemoInfo, sample: DemoSample | undefined, o: ViewOptions & { status?: string }, p: Paint): string {
  if (o.status) return ' ' + o.status;
  if (!sample) return ' ' + p.dim('starting…');
  const total = info.durationSec * 1000;
  const cells = 20;
  const done = Math.round(Math.min(1, sample.elapsedMs / total) * cells);
  const progress = p.fg(74, '━'.repeat(done)) + p.dim('─'.repeat(cells - done));
  const busy = `CPU ${info.cpu} busy ${pct(Math.min(sample.totalCpuPct, 999))}`;
  const line = ` ${p.bold(`${seconds(sample.elapsedMs)}`)} of ${seconds(total)} ${progress}  ${busy}`;
  const hint = 'Ctrl-C ends early';
  return visibleWidth(line) + 2 + hint.length < o.width ? `${line}  ${p.dim(hint)}` : line;
}

/** One plain line per sample (stdout is not a terminal): compact, greppable. */
export function renderPlainLine(sample: DemoSample): string {
  const cs = sample.containers;
  const t = `${(sample.elapsedMs / 1000).toFixed(1)} s`.padStart(7);
  const now = cs.map((c) => c.share.toFixed(1)).join('/');
  const parts = [`${t}  now ${now} %`];
  if (cs.every((c) => c.cumulative !== null)) {
    parts.push(`measured ${cs.map((c) => c.cumulative!.toFixed(2)).join('/')} %`);
    parts.push(`error ${cs.map((c) => signedPp(c.errorPp!).replace(' pp', '')).join('/')} pp`);
  } else {
    parts.push('(warm-up, not counted)');
  }
  parts.push(`busy ${sample.totalCpuPct.toFixed(1)}%`);
  return parts.join('  ');
}

/** The closing table. */
export function renderSummary(s: DemoSummary, o: ViewOptions): string[] {
  const p = paint(o.color);
  const w = s.weightFile === 'cpu.weight' ? 'weight' : 'shares';
  const name = Math.max(9, ...s.containers.map((c) => c.name.length));
  const how = s.endedBy === 'abort' ? ', stopped early' : '';
  const warm = s.warmupIncluded ? 'warm-up included: stopped before it ended' : `after a ${s.warmupSec.toFixed(0)} s warm-up`;
  const lines: string[] = [];
  lines.push(...wrap(`Result: CPU ${s.cpu}, cgroup v${s.cgroup.cpu ?? '?'} ${s.weightFile}, ${s.measuredSec.toFixed(1)} s measured (${warm}${how})`, o.width, '').map(p.bold));
  lines.push('');
  const row = (a: string, b: string, c: string, d: string, e: string, f: string): string =>
    `   ${a.padEnd(name)}  ${b.padStart(6)}  ${c.padStart(6)}  ${d.padStart(8)}  ${e.padStart(8)}  ${f.padStart(9)}`;
  lines.push(p.dim(row('container', w, 'target', 'measured', 'error', 'CPU time')));
  for (const [i, c] of s.containers.entries()) {
    const colour = PALETTE[i % PALETTE.length]!;
    const line = row(c.name, String(w === 'weight' ? c.weight : c.shares), pct(c.target, 0), pct(c.measured, 2), `${c.errorPp.toFixed(2)} pp`, `${c.cpuSeconds.toFixed(2)} s`);
    lines.push(line.replace(c.name, p.bold(p.fg(colour, c.name))));
  }
  lines.push(row('total', '', '100%', '100.00%', '', `${s.totalCpuSeconds.toFixed(2)} s`));
  lines.push('');
  const max = s.maxErrorPp;
  const [verdict, colour] = max < 1
    ? [`Max error ${max.toFixed(2)} pp: the kernel split CPU ${s.cpu} as the weights say.`, 36]
    : max < 3
      ? [`Max error ${max.toFixed(2)} pp: close to the target (a longer run averages more).`, 221]
      : [`Max error ${max.toFixed(2)} pp: far from the target (a very short run?).`, 166];
  lines.push(...wrap(verdict, o.width, '').map((l) => p.bold(p.fg(colour, l))));
  const other = 100 - s.cpuBusyPct;
  lines.push(...wrap(
    `The containers used ${s.cpuBusyPct.toFixed(1)}% of CPU ${s.cpu}` +
      (other >= 2 ? `; other work on that CPU took the rest (the split holds anyway: weights are relative).` : '.'),
    o.width, ''));
  return lines.map((l) => (l ? truncate(' ' + l, Math.max(o.width - 1, 20)) : ''));
}
