// lxts attach NAME [-- CMD ARGS]   (lxc-attach)
import { parse, helpText, splitAtCommand } from './args.js';
import { COMMON_OPTIONS, COMMON_HELP, nameArg, pathOpts } from './common.js';
import { Container } from '../container.js';
import { requireRoot, usageError } from '../errors.js';

const OPTIONS = {
  ...COMMON_OPTIONS,
  env: { type: 'string', short: 'e', multiple: true },
  cwd: { type: 'string', short: 'w' },
  user: { type: 'string', short: 'u' },
  tty: { type: 'boolean', short: 't' },
  'no-tty': { type: 'boolean', short: 'T' },
} as const;
const USAGE = 'lxts attach NAME [OPTIONS] [-- COMMAND [ARGS...]]';

export async function run(argv: string[]): Promise<number> {
  const dd = argv.indexOf('--');
  const own = dd >= 0 ? argv.slice(0, dd) : splitAtCommand(argv, OPTIONS).own;
  const { values: v, positionals } = parse(own, OPTIONS, true);
  if (v.help) {
    process.stdout.write(helpText(USAGE, 'Run a command (default /bin/sh) inside a running container: in its namespaces and\ncgroup, with its capabilities and environment. Its exit status is lxts\'s.', [
      ['-e, --env K=V', 'set a variable (repeatable)'],
      ['-w, --cwd DIR', 'working directory inside (default /)'],
      ['-u, --user UID[:GID]', 'run as this user'],
      ['-t / -T', 'force / refuse a pty (default: when stdin is a terminal)'],
      ...COMMON_HELP,
    ]));
    return 0;
  }
  const { name, rest } = nameArg(v, positionals, USAGE);
  const command = dd >= 0 ? argv.slice(dd + 1) : rest;
  let uid: number | undefined;
  let gid: number | undefined;
  if (v.user !== undefined) {
    const m = /^(\d+)(?::(\d+))?$/.exec(v.user);
    if (!m) throw usageError(`--user needs UID or UID:GID, got "${v.user}"`);
    uid = Number(m[1]);
    gid = Number(m[2] ?? m[1]);
  }
  for (const kv of v.env ?? []) if (!/^[^=]+=/.test(kv)) throw usageError(`--env needs KEY=VALUE, got "${kv}"`);
  requireRoot('lxts attach');
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) process.on(s, () => {});
  const terminal = v.tty ? true : v['no-tty'] ? false : process.stdin.isTTY === true && process.stdout.isTTY === true;
  const { code } = await new Container(name, pathOpts(v)).attach(command.length ? command : ['/bin/sh'], { env: v.env, cwd: v.cwd, uid, gid, terminal });
  return code;
}
