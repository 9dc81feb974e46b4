// lxts demo [--split 75/25] [--cpu N] [--duration 20] [--json]
// The quick start's main job: one CPU partitioned between containers by cgroup CPU weights,
// shown live. The logic is the library's (src/demo/run-demo.ts); this file only draws.
import { usageError } from '../errors.js';
import { parse, helpText, intOption, type Options } from './args.js';
import { parseSplit } from '../demo/split.js';
import type { DemoEvent, DemoInfo, DemoSummary } from '../demo/run-demo.js';
import type { DemoSample } from '../demo/tracker.js';
import { renderHeader, renderFrame, renderPlainLine, renderSummary } from '../demo/view.js';

const OPTIONS = {
  split: { type: 'string', short: 's' },
  cpu: { type: 'string', short: 'c' },
  duration: { type: 'string', short: 'd' },
  json: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} satisfies Options;

const HELP = helpText(
  'lxts demo [--split 75/25] [--cpu N] [--duration 20] [--json]',
  'Partition one CPU between containers with cgroup CPU weights, and watch it happen. Starts\n' +
    'one container per part of the split (from the embedded host template), pins all of them to\n' +
    'one CPU, gives each a CPU weight in proportion to its part, runs a busy loop in each, and\n' +
    'shows every second how the kernel divides the CPU, measured by the cgroups\' own CPU\n' +
    'accounting. Ends after --duration or Ctrl-C with a summary, and removes everything it\n' +
    'created. Needs root.',
  [
    ['-s, --split A/B[/C...]', 'percent of the CPU per container, 2 to 8 parts adding up to 100 (default 75/25)'],
    ['-c, --cpu N', 'the CPU to pin the containers to (default: the last one)'],
    ['-d, --duration SECONDS', 'how long to run (default 20; the first second is warm-up)'],
    ['--json', 'print only the summary, as JSON'],
    ['--no-color', 'no colours (also: NO_COLOR=1)'],
    ['--debug', 'show the full error detail'],
  ],
);

export const DEFAULT_SPLIT = '75/25';
export const DEFAULT_DURATION = 20;

export interface DemoArgs {
  split: number[];
  cpu?: number;
  durationSec: number;
  json: boolean;
  noColor: boolean;
  help: boolean;
}

export function parseDemoArgs(argv: string[]): DemoArgs {
  const { values: v } = parse(argv, OPTIONS);
  const out: DemoArgs = {
    split: parseSplit(v.split ?? DEFAULT_SPLIT),
    durationSec: DEFAULT_DURATION,
    json: !!v.json,
    noColor: !!v['no-color'],
    help: !!v.help,
  };
  const cpu = intOption('cpu', v.cpu, 0, 65535);
  if (cpu !== undefined) out.cpu = cpu;
  if (v.duration !== undefined) {
    if (!/^(\d+(\.\d*)?|\.\d+)$/.test(v.duration) || !(Number(v.duration) > 0)) {
      throw usageError(`--duration needs a number of seconds greater than 0, got "${v.duration}"`);
    }
    out.durationSec = Number(v.duration);
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  const a = parseDemoArgs(argv);
  const { runDemo } = await import('../demo/run-demo.js');

  const out = process.stdout;
  const tty = out.isTTY === true && !a.json;
  const color = tty && !a.noColor && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
  const view = a.json ? undefined : tty ? new LiveView(color) : new PlainView();

  // Ctrl-C (and a closed terminal, or `kill`) end the demo early: summary, clean-up, exit.
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, stop);
  let summary: DemoSummary;
  try {
    summary = await runDemo({
      split: a.split,
      ...(a.cpu !== undefined ? { cpu: a.cpu } : {}),
      durationSec: a.durationSec,
      signal: ac.signal,
      onEvent: (e) => view?.event(e),
    });
  } finally {
    view?.close();
    for (const s of signals) process.off(s, stop);
  }
  if (a.json) out.write(JSON.stringify(summary, null, 2) + '\n');
  else view!.summary(summary);
  return 0;
}

interface View {
  event(e: DemoEvent): void;
  summary(s: DemoSummary): void;
  close(): void;
}

/** stdout is not a terminal: the header, then one line per sample. */
class PlainView implements View {
  event(e: DemoEvent): void {
    if (e.type === 'running') process.stdout.write(renderHeader(e.info, { width: 100, color: false }).join('\n') + '\n\n');
    else if (e.type === 'sample') process.stdout.write(renderPlainLine(e.sample) + '\n');
  }

  summary(s: DemoSummary): void {
    process.stdout.write('\n' + renderSummary(s, { width: 100, color: false }).join('\n') + '\n');
  }

  close(): void {}
}

const CSI = '\x1b[';

/** A terminal: the header once, then the bars redrawn in place every sample. */
class LiveView implements View {
  private info: DemoInfo | undefined;
  private sample: DemoSample | undefined;
  private status: string | undefined;
  /** Lines of the frame on screen (the cursor sits below it). */
  private drawn = 0;
  private cursorHidden = false;
  private readonly onResize = (): void => this.redrawAll();
  private readonly restore = (): void => {
    if (this.cursorHidden) process.stdout.write(`${CSI}?25h`);
  };

  constructor(private readonly color: boolean) {
    process.stdout.on('resize', this.onResize);
    process.on('exit', this.restore);
  }

  private get width(): number {
    return Math.max(40, process.stdout.columns || 80);
  }

  private write(s: string): void {
    process.stdout.write(s);
  }

  event(e: DemoEvent): void {
    switch (e.type) {
      case 'starting':
        this.write(`\r${CSI}K Starting container ${e.index + 1} of ${e.of} (${e.name})…`);
        break;
      case 'running':
        this.info = e.info;
        this.write(`\r${CSI}K${CSI}?25l`);
        this.cursorHidden = true;
        this.write(renderHeader(e.info, { width: this.width, color: this.color }).join('\n') + '\n\n');
        this.drawFrame();
        break;
      case 'sample':
        this.sample = e.sample;
        this.drawFrame();
        break;
      case 'stopping':
        this.status = e.reason === 'abort' ? 'Stopped early (Ctrl-C). Removing the containers…' : 'Done. Removing the containers…';
        if (this.info) this.drawFrame();
        break;
      case 'cleaned':
        this.status = 'Containers and cgroups removed.';
        if (this.info) this.drawFrame();
        else this.write(`\r${CSI}K`);
        break;
    }
  }

  /** Rewrite the frame in place: cursor up to its first line, each line then erase-to-end. One write, no flicker. */
  private drawFrame(): void {
    if (!this.info) return;
    const opts = { width: this.width, color: this.color, ...(this.status ? { status: this.status } : {}) };
    const lines = renderFrame(this.info, this.sample, opts);
    let s = this.drawn > 0 ? `\r${CSI}${this.drawn}A` : '\r';
    for (const l of lines) s += `${l}${CSI}K\n`;
    // a frame shorter than the last one: clear what is left below
    if (lines.length < this.drawn) s += `${CSI}J`;
    this.write(s);
    this.drawn = lines.length;
  }

  /** After a resize lines may have wrapped: start over on a clean screen. */
  private redrawAll(): void {
    if (!this.info) return;
    this.write(`${CSI}H${CSI}2J`);
    this.write(renderHeader(this.info, { width: this.width, color: this.color }).join('\n') + '\n\n');
    this.drawn = 0;
    this.drawFrame();
  }

  summary(s: DemoSummary): void {
    // the cursor is on the line below the frame, where the terminal may have echoed ^C: clear it
    this.write(`\r${CSI}K\n` + renderSummary(s, { width: this.width, color: this.color }).join('\n') + '\n');
  }

  close(): void {
    process.stdout.off('resize', this.onResize);
    // a start that failed midway leaves the progress line: clear it so the error reads clean
    if (!this.info) this.write(`\r${CSI}K`);
    this.restore();
    this.cursorHidden = false;
    process.off('exit', this.restore);
  }
}
