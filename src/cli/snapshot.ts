// lxts snapshot NAME [-c COMMENT] | -L [--json] | -r SNAP [-N NEWNAME] | -d SNAP   (lxc-snapshot)
import { parse, helpText } from './args.js';
import { COMMON_OPTIONS, COMMON_HELP, nameArg, pathOpts } from './common.js';
import { Container } from '../container.js';
import { requireRoot, usageError } from '../errors.js';
import { table } from './format.js';

const OPTIONS = {
  ...COMMON_OPTIONS,
  comment: { type: 'string', short: 'c' },
  list: { type: 'boolean', short: 'L' },
  json: { type: 'boolean' },
  restore: { type: 'string', short: 'r' },
  newname: { type: 'string', short: 'N' },
  destroy: { type: 'string', short: 'd' },
  quiet: { type: 'boolean', short: 'q' },
} as const;
const USAGE = 'lxts snapshot NAME [-c COMMENT] | -L [--json] | -r SNAP [-N NEWNAME] | -d SNAP';

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, OPTIONS, true);
  if (v.help) {
    process.stdout.write(helpText(USAGE,
      'Snapshots of a stopped container, kept in NAME/snaps/snapN (config, rootfs, ts, comment).\n' +
      'A directory container\'s snapshot is a full copy (cp -a --reflink=auto); an overlay\n' +
      'container\'s is a copy of its writable layer over the same lower layers. Running\n' +
      'containers are refused: stop them first.',
      [
        ['(no action)', 'take a snapshot: snap0, snap1, ...'],
        ['-c, --comment TEXT', 'with a comment'],
        ['-L, --list', 'list the snapshots (--json for JSON)'],
        ['-r, --restore SNAP', 'restore SNAP into NAME (stopped), replacing its rootfs and config'],
        ['-N, --newname NEW', 'with -r: restore into a new container NEW instead'],
        ['-d, --destroy SNAP', 'destroy snapshot SNAP'],
        ['-q, --quiet', 'print nothing on success'],
        ...COMMON_HELP,
      ]));
    return 0;
  }
  const { name, rest } = nameArg(v, positionals, USAGE);
  if (rest.length) throw usageError(`unexpected argument "${rest[0]}"`, `usage: ${USAGE}`);
  const actions = [v.list, v.restore !== undefined, v.destroy !== undefined].filter(Boolean).length;
  if (actions > 1) throw usageError('give one of -L, -r and -d', `usage: ${USAGE}`);
  if (v.newname !== undefined && v.restore === undefined) throw usageError('-N needs -r SNAP');
  if (v.comment !== undefined && actions) throw usageError('-c goes with taking a snapshot');
  const c = new Container(name, pathOpts(v));
  const S = await import('../storage/snapshot.js');
  if (v.list) {
    const snaps = S.listSnapshots(c);
    if (v.json) process.stdout.write(JSON.stringify(snaps, null, 2) + '\n');
    else if (snaps.length) process.stdout.write(table(['SNAPSHOT', 'TAKEN', 'KIND', 'COMMENT'], snaps.map((s) => [s.name, s.timestamp ?? '-', s.kind, s.comment?.split('\n')[0] ?? ''])));
    else if (!v.quiet) process.stderr.write(`${name} has no snapshots\n`);
    return 0;
  }
  requireRoot('lxts snapshot');
  // Ctrl-C stops the cp (same process group); lxts stays to remove the half-made copy.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => {});
  if (v.destroy !== undefined) {
    await S.destroySnapshot(c, v.destroy);
    if (!v.quiet) process.stderr.write(`destroyed snapshot ${v.destroy} of ${name}\n`);
    return 0;
  }
  if (v.restore !== undefined) {
    const to = await S.restoreSnapshot(c, v.restore, { newName: v.newname });
    if (!v.quiet) process.stderr.write(v.newname !== undefined ? `restored snapshot ${v.restore} of ${name} as ${to.name}\n` : `restored ${name} from snapshot ${v.restore}\n`);
    return 0;
  }
  const snap = await S.createSnapshot(c, { comment: v.comment });
  if (!v.quiet) process.stderr.write(`took snapshot ${snap.name} of ${name}\n`);
  process.stdout.write(snap.name + '\n');
  return 0;
}
