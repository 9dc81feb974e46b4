// lxts wait NAME -s STATE [-t TIMEOUT]   (lxc-wait)
import { parse, helpText } from './args.js';
import { COMMON_OPTIONS, COMMON_HELP, nameArg, pathOpts } from './common.js';
import { Container, type ContainerState } from '../container.js';
import { usageError, LxtsError } from '../errors.js';

const OPTIONS = { ...COMMON_OPTIONS, state: { type: 'string', short: 's' }, timeout: { type: 'string', short: 't' } } as const;
const USAGE = 'lxts wait NAME -s STATE [-t SECONDS]';
const STATES = ['STOPPED', 'RUNNING', 'FROZEN', 'STOPPING'];

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, OPTIONS, true);
  if (v.help) {
    process.stdout.write(helpText(USAGE, 'Wait until a container reaches a state.', [['-s, --state STATE', STATES.join(', ') + ' (several with |)'], ['-t, --timeout SECONDS', 'give up after this long (exit 1); default: wait forever'], ...COMMON_HELP]));
    return 0;
  }
  const { name } = nameArg(v, positionals, USAGE);
  if (!v.state) throw usageError('no state given', `usage: ${USAGE}`);
  const wanted = v.state.toUpperCase().split('|');
  for (const s of wanted) if (!STATES.includes(s)) throw usageError(`unknown state "${s}" (one of ${STATES.join(', ')})`);
  const timeout = v.timeout === undefined ? -1 : Number(v.timeout);
  if (!Number.isFinite(timeout)) throw usageError(`--timeout needs seconds, got "${v.timeout}"`);
  const c = new Container(name, pathOpts(v));
  if (!c.exists()) throw new LxtsError(`no container named "${name}"`);
  const deadline = timeout < 0 ? Infinity : Date.now() + timeout * 1000;
  for (;;) {
    const s = (await c.state()).state;
    if (wanted.includes(s)) return 0;
    if (Date.now() >= deadline) {
      process.stderr.write(`lxts: ${name} did not reach ${wanted.join('|')} within ${timeout} s (it is ${s})\n`);
      return 1;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
export type { ContainerState };
