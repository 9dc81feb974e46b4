// lxts copy NAME -n NEW [--snapshot] [--ephemeral] [-P PATH] [-p NEWPATH]   (lxc-copy)
import { randomBytes } from 'node:crypto';
import { parse, helpText } from './args.js';
import { COMMON_OPTIONS, COMMON_HELP, pathOpts } from './common.js';
import { Container } from '../container.js';
import { requireRoot, usageError } from '../errors.js';

const OPTIONS = {
  ...COMMON_OPTIONS,
  newname: { type: 'string', short: 'N' },
  newpath: { type: 'string', short: 'p' },
  snapshot: { type: 'boolean', short: 's' },
  ephemeral: { type: 'boolean', short: 'e' },
  daemon: { type: 'boolean', short: 'd' },
  quiet: { type: 'boolean', short: 'q' },
} as const;
const USAGE = 'lxts copy NAME -n NEWNAME [-s|--snapshot] [-e|--ephemeral] [-P PATH] [-p NEWPATH]';

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, OPTIONS, true);
  if (v.help) {
    process.stdout.write(helpText(USAGE,
      'Copy a stopped container. By default the copy is complete and independent (its rootfs\n' +
      'copied with cp -a --reflink=auto). With --snapshot the copy\'s rootfs is an overlay: its\n' +
      'own writable layer (NEW/overlay/delta) over NAME\'s rootfs, which NAME keeps; NAME cannot\n' +
      'be destroyed while such copies exist. --ephemeral makes such an overlay copy, starts it in\n' +
      'the background and destroys it when it stops (lxc.ephemeral = 1). LXC\'s spelling\n' +
      '`-n NAME -N NEWNAME` works too.',
      [
        ['NAME', 'the container to copy'],
        ['-n, --name NEWNAME', 'the new container (with -N: the container to copy, as in lxc-copy)'],
        ['-N, --newname NEWNAME', 'the new container (lxc-copy\'s spelling)'],
        ['-s, --snapshot', 'an overlay copy over NAME\'s rootfs (fast, shares NAME\'s files)'],
        ['-e, --ephemeral', 'an overlay copy started now and destroyed when it stops (NEWNAME optional)'],
        ['-d, --daemon', 'with -e: start in the background (the default; accepted for lxc-copy)'],
        ['-p, --newpath DIR', 'lxtspath of the new container (default: NAME\'s)'],
        ['-q, --quiet', 'print nothing on success'],
        [COMMON_HELP[1]![0], COMMON_HELP[1]![1]],
      ]));
    return 0;
  }
  let name: string | undefined;
  let newName: string | undefined;
  if (v.newname !== undefined) {
    name = v.name ?? positionals[0];
    newName = v.newname;
    if (v.name !== undefined && positionals.length) throw usageError(`unexpected argument "${positionals[0]}"`, `usage: ${USAGE}`);
  } else {
    name = positionals[0];
    newName = v.name;
  }
  if (positionals.length > 1) throw usageError(`unexpected argument "${positionals[1]}"`, `usage: ${USAGE}`);
  if (!name) throw usageError('no container to copy given', `usage: ${USAGE}`);
  if (newName === undefined) {
    if (!v.ephemeral) throw usageError('no name for the copy given (-n NEWNAME)', `usage: ${USAGE}`);
    newName = `${name.slice(0, 56)}-${randomBytes(3).toString('hex')}`;
  }
  requireRoot('lxts copy');
  // Ctrl-C stops the cp (same process group); lxts stays to remove the half-made copy.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => {});
  const src = new Container(name, pathOpts(v));
  new Container(newName, pathOpts(v)); // validate the new name before any work
  const { copyContainer } = await import('../storage/copy.js');
  const r = await copyContainer(src, newName, { newPath: v.newpath, snapshot: v.snapshot, ephemeral: v.ephemeral });
  for (const w of r.warnings) process.stderr.write(`lxts: warning: ${w}\n`);
  if (!v.quiet) {
    const where = r.container.loc.lxtspath !== src.loc.lxtspath ? ` in ${r.container.loc.lxtspath}` : '';
    if (v.ephemeral) process.stderr.write(`started ephemeral copy ${newName}${where} of ${name} (init pid ${r.pid}); it is destroyed when it stops\n`);
    else process.stderr.write(`copied ${name} to ${newName}${where}${v.snapshot ? ' (overlay snapshot copy)' : ''}\n`);
  }
  if (v.ephemeral) process.stdout.write(newName + '\n');
  return 0;
}
