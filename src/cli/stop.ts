// lxts stop NAME [-t TIMEOUT] [-k]   (lxc-stop)
import { parse, helpText } from './args.js';
import { COMMON_OPTIONS, COMMON_HELP, nameArg, pathOpts } from './common.js';
import { Container } from '../container.js';
import { requireRoot, usageError } from '../errors.js';

const OPTIONS = { ...COMMON_OPTIONS, timeout: { type: 'string', short: 't' }, kill: { type: 'boolean', short: 'k' }, quiet: { type: 'boolean', short: 'q' } } as const;
const USAGE = 'lxts stop NAME [-t SECONDS] [-k]';

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, OPTIONS, true);
  if (v.help) {
    process.stdout.write(helpText(USAGE, 'Stop a container: send its halt signal (lxc.signal.halt; default SIGPWR, which a\nsystem init treats as "shut down"), and SIGKILL it if it has not stopped after the\ntimeout. Returns when the container and its cgroup are gone.', [
      ['-t, --timeout SECONDS', 'grace period before SIGKILL (default 30)'],
      ['-k, --kill', 'kill now, no grace period (also cleans up after a lost monitor)'],
      ...COMMON_HELP,
    ]));
    return 0;
  }
  const { name } = nameArg(v, positionals, USAGE);
  const timeout = v.timeout === undefined ? 30 : Number(v.timeout);
  if (!Number.isFinite(timeout) || timeout < 0) throw usageError(`--timeout needs a number of seconds, got "${v.timeout}"`);
  requireRoot('lxts stop');
  const { code, warnings } = await new Container(name, pathOpts(v)).stop({ timeoutSec: timeout, kill: v.kill });
  for (const w of warnings) process.stderr.write(`lxts: warning: ${w}\n`);
  if (!v.quiet) process.stderr.write(`stopped ${name}${code === null ? '' : ` (init exit status ${code})`}\n`);
  return 0;
}
