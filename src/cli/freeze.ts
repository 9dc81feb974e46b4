// lxts freeze NAME / lxts unfreeze NAME   (lxc-freeze, lxc-unfreeze)
import { parse, helpText } from './args.js';
import { COMMON_OPTIONS, COMMON_HELP, nameArg, pathOpts } from './common.js';
import { Container } from '../container.js';
import { requireRoot } from '../errors.js';

export async function freezeCommand(argv: string[], thaw: boolean): Promise<number> {
  const cmd = thaw ? 'unfreeze' : 'freeze';
  const { values: v, positionals } = parse(argv, COMMON_OPTIONS, true);
  if (v.help) {
    process.stdout.write(helpText(`lxts ${cmd} NAME`, thaw ? 'Thaw a frozen container: its processes run again.' : 'Freeze every process of a container (cgroup freezer): they stop using CPU until\n`lxts unfreeze`.', COMMON_HELP));
    return 0;
  }
  const { name } = nameArg(v, positionals, `lxts ${cmd} NAME`);
  requireRoot(`lxts ${cmd}`);
  const c = new Container(name, pathOpts(v));
  if (thaw) await c.unfreeze();
  else await c.freeze();
  return 0;
}

export const run = (argv: string[]): Promise<number> => freezeCommand(argv, false);
