// lxts kill NAME [SIGNAL]   (signal the container's init)
import { parse, helpText } from './args.js';
import { COMMON_OPTIONS, COMMON_HELP, nameArg, pathOpts } from './common.js';
import { Container, signalNumber } from '../container.js';
import { requireRoot } from '../errors.js';

const OPTIONS = { ...COMMON_OPTIONS, signal: { type: 'string', short: 's' } } as const;
const USAGE = 'lxts kill NAME [SIGNAL]';

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, OPTIONS, true);
  if (v.help) {
    process.stdout.write(helpText(USAGE, 'Send a signal (default SIGKILL) to the container\'s init through its monitor.', [
      ['-s, --signal SIG', 'the signal: a name (TERM, SIGUSR1, RTMIN+3) or a number'],
      ...COMMON_HELP,
    ]));
    return 0;
  }
  const { name, rest } = nameArg(v, positionals, USAGE);
  const sig = v.signal ?? rest[0] ?? 'SIGKILL';
  signalNumber(sig);
  requireRoot('lxts kill');
  await new Container(name, pathOpts(v)).kill(sig);
  return 0;
}
