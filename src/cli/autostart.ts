// lxts autostart   (lxc-autostart): start every container with lxc.start.auto = 1, in
// lxc.start.order, waiting lxc.start.delay seconds after each; or stop them (--kill,
// --shutdown) in the reverse order; --list says what would be done.
//
// Selection follows lxc-autostart(1) (checked against LXC 5.0.2's behaviour):
// - without -g/-a only containers in no lxc.group (the NULL group) are selected;
// - `-g A,B` selects group A, then B; an empty element (`-g web,` or `-g ""`) is the NULL
//   group; -g may repeat, its lists are concatenated; each container is taken once, in the
//   pass of the first group it matches;
// - -a ignores groups; -A ignores lxc.start.auto;
// - within a group pass, lower lxc.start.order starts first (ties: by name), as the man page
//   of lxc.container.conf says and LXC 5.0.2 does; stopping goes the other way round.
import { parse, helpText } from './args.js';
import { Container, type ContainerState } from '../container.js';
import { LxtsError, usageError, ExitCode } from '../errors.js';
import type { Locations } from '../storage/paths.js';

const OPTIONS = {
  lxtspath: { type: 'string', short: 'P' },
  list: { type: 'boolean', short: 'L' },
  kill: { type: 'boolean', short: 'k' },
  shutdown: { type: 'boolean', short: 's' },
  timeout: { type: 'string', short: 't' },
  groups: { type: 'string', short: 'g', multiple: true },
  all: { type: 'boolean', short: 'a' },
  'ignore-auto': { type: 'boolean', short: 'A' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  debug: { type: 'boolean' },
} as const;
const USAGE = 'lxts autostart [-L] [-k | -s [-t SECONDS]] [-g GROUPS]... [-a] [-A]';

export type AutostartAction = 'start' | 'kill' | 'shutdown';

export interface AutostartEntry {
  name: string;
  order: number;
  delay: number;
  groups: string[];
  state: ContainerState;
}

export interface PlanOptions {
  action?: AutostartAction;
  /** Groups in order; '' is the NULL group. Default ['']. Ignored with `all`. */
  groups?: string[];
  all?: boolean;
  ignoreAuto?: boolean;
}

/** `-g` values as lxc-autostart reads them: comma lists, concatenated; '' = NULL group. */
export function parseGroups(values: string[] | undefined): string[] | undefined {
  if (!values) return undefined;
  return values.flatMap((v) => v.split(','));
}

/**
 * Which containers an autostart run acts on, in order. Starting skips running containers,
 * stopping skips stopped ones; a container whose config cannot be read is reported in
 * `problems` and skipped.
 */
export async function autostartPlan(loc: Partial<Locations>, o: PlanOptions = {}): Promise<{ entries: AutostartEntry[]; problems: string[] }> {
  const action = o.action ?? 'start';
  const problems: string[] = [];
  const all: AutostartEntry[] = [];
  for (const c of Container.list(loc)) {
    let stored;
    try {
      stored = c.loadSpec('start').stored;
    } catch (e) {
      problems.push(`${c.name}: ${(e as Error).message}`);
      continue;
    }
    if (!o.ignoreAuto && !stored.start.auto) continue;
    const st = (await c.state().catch(() => ({ state: 'BROKEN' as ContainerState }))).state;
    const running = st === 'RUNNING' || st === 'FROZEN' || st === 'STOPPING';
    if (action === 'start' ? running : !running) continue;
    all.push({ name: c.name, order: stored.start.order, delay: stored.start.delay, groups: stored.groups, state: st });
  }
  all.sort((a, b) => a.order - b.order || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let picked: AutostartEntry[];
  if (o.all) picked = all;
  else {
    picked = [];
    const taken = new Set<string>();
    for (const g of o.groups ?? ['']) {
      for (const e of all) {
        if (taken.has(e.name)) continue;
        if (g === '' ? e.groups.length === 0 : e.groups.includes(g)) {
          taken.add(e.name);
          picked.push(e);
        }
      }
    }
  }
  return { entries: action === 'start' ? picked : picked.reverse(), problems };
}

export async function run(argv: string[]): Promise<number> {
  const { values: v } = parse(argv, OPTIONS);
  if (v.help) {
    process.stdout.write(helpText(USAGE, 'Start every container with lxc.start.auto = 1, lowest lxc.start.order first, waiting lxc.start.delay seconds after each; or stop them in the reverse order (lxc-autostart). Without -g or -a, only containers in no lxc.group are selected.', [
      ['-L, --list', 'print what would be done (NAME and delay), do nothing'],
      ['-k, --kill', 'kill the selected running containers (SIGKILL)'],
      ['-s, --shutdown', 'stop them cleanly (halt signal), killing any still up after -t'],
      ['-t, --timeout SECONDS', 'grace period for --shutdown (default 60)'],
      ['-g, --groups LIST', 'comma-separated lxc.group names, processed in order; an empty name ("", leading/trailing comma) is the no-group set; may repeat'],
      ['-a, --all', 'every auto container, whatever its groups'],
      ['-A, --ignore-auto', 'ignore lxc.start.auto (with -a: every container)'],
      ['--json', 'with -L: the list as JSON'],
      ['-P, --lxtspath DIR', 'where containers live (default /var/lib/lxts, or $LXTS_PATH)'],
    ]));
    return 0;
  }
  if (v.kill && v.shutdown) throw usageError('--kill and --shutdown exclude each other');
  let timeout = 60;
  if (v.timeout !== undefined) {
    timeout = Number(v.timeout);
    if (!/^\d*\.?\d+$/.test(v.timeout) || !Number.isFinite(timeout)) throw usageError(`--timeout needs seconds, got "${v.timeout}"`);
    if (!v.shutdown) throw usageError('--timeout applies to --shutdown only');
  }
  if (v.all && v.groups) throw usageError('-a (all) and -g (groups) exclude each other');
  const action: AutostartAction = v.kill ? 'kill' : v.shutdown ? 'shutdown' : 'start';
  const loc = v.lxtspath !== undefined ? { lxtspath: v.lxtspath } : {};
  const { entries, problems } = await autostartPlan(loc, { action, groups: parseGroups(v.groups), all: v.all, ignoreAuto: v['ignore-auto'] });
  for (const p of problems) process.stderr.write(`lxts: skipping ${p}\n`);

  if (v.list) {
    if (v.json) process.stdout.write(JSON.stringify(entries.map((e) => ({ name: e.name, order: e.order, delay: e.delay, groups: e.groups })), null, 2) + '\n');
    else process.stdout.write(entries.map((e) => (action === 'start' ? `${e.name} ${e.delay}` : e.name) + '\n').join(''));
    return problems.length ? ExitCode.GENERIC : 0;
  }

  let failed = problems.length;
  let stop = false;
  let wake: (() => void) | undefined;
  const onSig = (): void => {
    stop = true;
    wake?.();
  };
  process.once('SIGINT', onSig);
  try {
    for (let i = 0; i < entries.length && !stop; i++) {
      const e = entries[i]!;
      const c = new Container(e.name, loc);
      try {
        if (action === 'start') {
          const r = await c.start();
          for (const w of r.warnings) process.stderr.write(`lxts: ${e.name}: ${w}\n`);
          process.stdout.write(`started ${e.name} (init pid ${r.pid})\n`);
          // The delay gives the container time to come up before the next one (none after the last).
          if (e.delay > 0 && i < entries.length - 1) {
            await new Promise<void>((r) => {
              const t = setTimeout(r, e.delay * 1000);
              wake = () => {
                clearTimeout(t);
                r();
              };
            });
          }
        } else {
          await c.stop(action === 'kill' ? { kill: true } : { timeoutSec: timeout });
          process.stdout.write(`stopped ${e.name}\n`);
        }
      } catch (err) {
        failed++;
        const msg = err instanceof LxtsError ? err.message : (err as Error).message;
        process.stderr.write(`lxts: ${action === 'start' ? 'starting' : 'stopping'} ${e.name} failed: ${msg}\n`);
      }
    }
  } finally {
    process.removeListener('SIGINT', onSig);
  }
  if (stop) return 130;
  return failed ? ExitCode.GENERIC : 0;
}
