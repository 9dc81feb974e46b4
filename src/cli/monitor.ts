// lxts monitor [NAME...]   (lxc-monitor): a stream of state changes, one line each, until
// interrupted. The watching itself is src/events.ts (shared with the REST server).
import { parse, helpText } from './args.js';
import { COMMON_HELP } from './common.js';
import { Container } from '../container.js';
import { StateWatcher, type StateEvent } from '../events.js';
import { LxtsError, usageError } from '../errors.js';
import { validateName } from '../names.js';

const OPTIONS = {
  lxtspath: { type: 'string', short: 'P' },
  name: { type: 'string', short: 'n', multiple: true },
  json: { type: 'boolean' },
  initial: { type: 'boolean' },
  interval: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  debug: { type: 'boolean' },
} as const;
const USAGE = 'lxts monitor [NAME...] [--json] [--initial] [--interval MS]';

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, OPTIONS, true);
  if (v.help) {
    process.stdout.write(helpText(USAGE, 'Print every state change (STOPPED, RUNNING, STOPPING, FROZEN, BROKEN) of all containers, or of the named ones, as it happens: `TIME NAME STATE`. Runs until interrupted (Ctrl-C).', [
      ['NAME..., -n NAME', 'only these containers (each must exist)'],
      ['--json', 'one JSON object per line: {time, name, state, previous, pid}'],
      ['--initial', 'first print the current state of every watched container'],
      ['--interval MS', 'poll period (default 200; the run dir is also watched for changes)'],
      COMMON_HELP[1]!,
    ]));
    return 0;
  }
  const names = [...(v.name ?? []), ...positionals];
  const loc = v.lxtspath !== undefined ? { lxtspath: v.lxtspath } : {};
  for (const n of names) {
    validateName(n);
    if (!new Container(n, loc).exists()) throw new LxtsError(`no container named "${n}" in ${new Container(n, loc).loc.lxtspath}`, 1, 'see `lxts ls`');
  }
  let intervalMs = 200;
  if (v.interval !== undefined) {
    intervalMs = Number(v.interval);
    if (!/^\d+(\.\d+)?$/.test(v.interval) || intervalMs < 10 || intervalMs > 60000) throw usageError(`--interval needs milliseconds between 10 and 60000, got "${v.interval}"`);
  }
  const out = (ev: StateEvent): void => {
    if (v.json) process.stdout.write(JSON.stringify(ev) + '\n');
    else process.stdout.write(`${ev.time} ${ev.name} ${ev.state}${ev.note ? ` (${ev.note})` : ''}\n`);
  };
  const w = new StateWatcher({ ...loc, names: names.length ? [...new Set(names)] : undefined, intervalMs });
  w.on('change', out);
  const initial = await w.start();
  if (v.initial) {
    for (const [name, s] of initial) out({ time: new Date().toISOString(), name, state: s.state, previous: null, pid: s.pid });
  }
  return new Promise<number>((resolve) => {
    const end = (code: number) => (): void => {
      w.close();
      process.stdout.write('', () => resolve(code));
    };
    process.once('SIGINT', end(0));
    process.once('SIGTERM', end(0));
    process.stdout.on('error', end(0)); // reader went away (| head)
  });
}
