// lxts destroy NAME [-f]   (lxc-destroy)
import { parse, helpText } from './args.js';
import { COMMON_OPTIONS, COMMON_HELP, nameArg, pathOpts } from './common.js';
import { Container } from '../container.js';
import { requireRoot } from '../errors.js';

const OPTIONS = { ...COMMON_OPTIONS, force: { type: 'boolean', short: 'f' }, quiet: { type: 'boolean', short: 'q' } } as const;
const USAGE = 'lxts destroy NAME [-f]';

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, OPTIONS, true);
  if (v.help) {
    process.stdout.write(helpText(USAGE, 'Destroy a container: its config and root filesystem. A running container is refused\nunless -f, which kills it first.', [['-f, --force', 'stop (kill) it first if it runs'], ...COMMON_HELP]));
    return 0;
  }
  const { name } = nameArg(v, positionals, USAGE);
  requireRoot('lxts destroy');
  await new Container(name, pathOpts(v)).destroy({ force: v.force });
  if (!v.quiet) process.stderr.write(`destroyed ${name}\n`);
  return 0;
}
