// lxts restart NAME   (stop, then start)
import { parse, helpText } from './args.js';
import { COMMON_OPTIONS, COMMON_HELP, nameArg, pathOpts } from './common.js';
import { Container } from '../container.js';
import { requireRoot, usageError } from '../errors.js';

const OPTIONS = { ...COMMON_OPTIONS, timeout: { type: 'string', short: 't' }, kill: { type: 'boolean', short: 'k' } } as const;
const USAGE = 'lxts restart NAME [-t SECONDS] [-k]';

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, OPTIONS, true);
  if (v.help) {
    process.stdout.write(helpText(USAGE, 'Stop the container (if it runs) and start it again in the background.', [
      ['-t, --timeout SECONDS', 'grace period of the stop (default 30)'],
      ['-k, --kill', 'kill instead of a clean shutdown'],
      ...COMMON_HELP,
    ]));
    return 0;
  }
  const { name } = nameArg(v, positionals, USAGE);
  const timeout = v.timeout === undefined ? 30 : Number(v.timeout);
  if (!Number.isFinite(timeout) || timeout < 0) throw usageError(`--timeout needs a number of seconds, got "${v.timeout}"`);
  requireRoot('lxts restart');
  const c = new Container(name, pathOpts(v));
  if (await c.isRunning()) await c.stop({ timeoutSec: timeout, kill: v.kill });
  const { pid } = await c.start();
  process.stderr.write(`restarted ${name} (init pid ${pid})\n`);
  return 0;
}
