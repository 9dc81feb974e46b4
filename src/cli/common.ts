// Options every container command shares: the container name (positional, or -n as LXC
// spells it) and the lxtspath (-P, LXTS_PATH).
import { usageError } from '../errors.js';
import type { Options } from './args.js';

export const COMMON_OPTIONS = {
  name: { type: 'string', short: 'n' },
  lxtspath: { type: 'string', short: 'P' },
  help: { type: 'boolean', short: 'h' },
  debug: { type: 'boolean' },
} satisfies Options;

export const COMMON_HELP: [string, string][] = [
  ['-n, --name NAME', 'the container (or give NAME as the first argument)'],
  ['-P, --lxtspath DIR', 'where containers live (default /var/lib/lxts, or $LXTS_PATH)'],
];

/** The container name: `-n NAME` or the first positional. */
export function nameArg(values: { name?: string }, positionals: string[], usage: string): { name: string; rest: string[] } {
  if (values.name !== undefined) return { name: values.name, rest: positionals };
  const [name, ...rest] = positionals;
  if (!name) throw usageError('no container name given', `usage: ${usage}`);
  return { name, rest };
}

export function pathOpts(values: { lxtspath?: string }): { lxtspath?: string } {
  return values.lxtspath !== undefined ? { lxtspath: values.lxtspath } : {};
}
