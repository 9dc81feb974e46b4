// lxts ps [--tree] [--all] [--json]: the processes of the running containers, each with its
// PID on the host and its PID inside the container, side by side (from /proc/PID/status NSpid).
import { parse, helpText } from './args.js';
import { COMMON_HELP, pathOpts } from './common.js';
import { Container } from '../container.js';
import { hostSnapshot, formatTree, commandOf, type KnownContainer } from '../host/process-tree.js';
import { table } from './format.js';

const OPTIONS = {
  tree: { type: 'boolean', short: 't' },
  all: { type: 'boolean', short: 'a' },
  json: { type: 'boolean' },
  lxtspath: { type: 'string', short: 'P' },
  help: { type: 'boolean', short: 'h' },
  debug: { type: 'boolean' },
} as const;

/** The containers of an lxtspath, as the snapshot names them. */
export function knownContainers(opts: { lxtspath?: string; rundir?: string }): KnownContainer[] {
  return Container.list(opts).map((c) => ({ name: c.name, cgroupName: c.cgroupName, cgroupParent: c.runtime()?.cgroupParent ?? 'lxts' }));
}

export async function run(argv: string[]): Promise<number> {
  const { values: v } = parse(argv, OPTIONS);
  if (v.help) {
    process.stdout.write(helpText('lxts ps [--tree] [--all] [--json]', 'Show the processes of the running containers with their PID on the host and inside the\ncontainer (from NSpid in /proc/PID/status): every container has its own PID 1.', [
      ['-t, --tree', 'draw the process tree, from each container\'s monitor (lxts-exec) down'],
      ['-a, --all', 'with --tree: the host\'s processes outside containers too'],
      ['--json', 'the whole snapshot, machine-readable'],
      ['-P, --lxtspath DIR', COMMON_HELP[1]![1]],
    ]));
    return 0;
  }
  const snap = hostSnapshot({ known: knownContainers(pathOpts(v)) });
  if (v.json) {
    process.stdout.write(JSON.stringify(snap, null, 2) + '\n');
    return 0;
  }
  const cols = process.stdout.isTTY ? Math.max(40, (process.stdout.columns ?? 120) - 50) : 80;
  if (v.tree) {
    process.stdout.write(formatTree(snap, { all: v.all, width: cols }));
    return 0;
  }
  const byPid = new Map(snap.processes.map((p) => [p.pid, p]));
  const rows: string[][] = [];
  for (const g of snap.containers) {
    for (const pid of g.pids) {
      const p = byPid.get(pid)!;
      rows.push([g.name, String(p.pid), p.nspid.length > 1 ? p.nspid.slice(1).join(' → ') : '-', p.role === 'init' ? 'init' : '', commandOf(p, cols)]);
    }
  }
  process.stdout.write(rows.length ? table(['CONTAINER', 'HOST PID', 'CONTAINER PID', 'ROLE', 'COMMAND'], rows) : 'no running containers\n');
  return 0;
}
