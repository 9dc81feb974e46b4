// Small helpers around node:util parseArgs (built in: no start-up cost of a CLI library).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usageError } from '../errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Split `[options] [--] CMD ARGS...` at the command: everything from the first positional
 * (or after `--`) belongs to the container's command, so its own flags are not ours.
 */
export function splitAtCommand(argv: string[], options: Options): { own: string[]; command: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return { own: argv.slice(0, i), command: argv.slice(i + 1) };
    if (!a.startsWith('-') || a === '-') return { own: argv.slice(0, i), command: argv.slice(i) };
    if (a.includes('=')) continue;
    const opt = a.startsWith('--') ? options[a.slice(2)] : Object.values(options).find((o) => o.short === a.slice(1));
    if (opt?.type === 'string' && !(a.startsWith('-') && !a.startsWith('--') && a.length > 2)) i++;
  }
  return { own: argv, command: [] };
}

type Parsed<T extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: boolean; strict: true }>>;

export function parse<T extends Options>(argv: string[], options: T, allowPositionals = false): Parsed<T> {
  return parseArgs({ args: argv, options, allowPositionals, strict: true });
}

export function intOption(name: string, v: string | undefined, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw usageError(`--${name} needs a whole number, got "${v}"`);
  const n = Number(v);
  if (n < min || n > max) throw usageError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** `--help` text: a usage line, a sentence, then the option table. */
export function helpText(usage: string, about: string, rows: [string, string][]): string {
  const w = Math.max(...rows.map((r) => r[0].length));
  return [`usage: ${usage}`, '', about, '', 'options:', ...rows.map(([a, b]) => `  ${a.padEnd(w)}  ${b}`)].join('\n') + '\n';
}
