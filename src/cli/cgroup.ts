// lxts cgroup NAME KEY [VALUE]   (lxc-cgroup): read or write a cgroup file of a running container.
import { parse, helpText } from './args.js';
import { COMMON_OPTIONS, COMMON_HELP, nameArg, pathOpts } from './common.js';
import { Container } from '../container.js';
import { requireRoot, usageError } from '../errors.js';

const USAGE = 'lxts cgroup NAME KEY [VALUE]';

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, COMMON_OPTIONS, true);
  if (v.help) {
    process.stdout.write(helpText(USAGE, 'Read (no VALUE) or set a cgroup file of a running container, live: e.g.\n`lxts cgroup web cpu.shares 512` or `lxts cgroup web memory.max 1G`. A key of the other\ncgroup version is converted where an equivalent exists (cpu.shares <-> cpu.weight).', COMMON_HELP));
    return 0;
  }
  const { name, rest } = nameArg(v, positionals, USAGE);
  const [key, value, ...extra] = rest;
  if (!key || extra.length) throw usageError(`usage: ${USAGE}`);
  requireRoot('lxts cgroup');
  const c = new Container(name, pathOpts(v));
  if (value === undefined) process.stdout.write((await c.cgroupGet(key)) + '\n');
  else await c.cgroupSet(key, value);
  return 0;
}
