// The template contract (context, result, Template) and argument helpers, apart from the
// registry in index.ts so that templates can import them without an import cycle.
import { parseArgs } from 'node:util';
import { usageError } from '../errors.js';

export interface TemplateContext {
  /** Validated container name. */
  name: string;
  /** <lxtspath>/NAME (exists, empty but for what the template creates). */
  containerDir: string;
  /** <containerDir>/rootfs (exists, empty): the root filesystem is written here. */
  rootfs: string;
  /** Template arguments (after `--` on the command line). */
  args: string[];
  /** e.g. /var/cache/lxts (LXTS_CACHE overrides); templates create subdirectories as needed. */
  cacheDir: string;
  /** Progress lines for long work; fraction in 0..1 when known. */
  onProgress(message: string, fraction?: number): void;
  /** Ctrl-C: child processes are stopped and create() throws. */
  signal?: AbortSignal;
}

export interface TemplateResult {
  /** LXC config lines the container's config gets, in order, e.g. ['lxc.init.cmd', '/sbin/init']. */
  config: [string, string][];
  /** 'system' (boots an init) or 'application' (runs one program). */
  kind: 'system' | 'application';
}

export interface Template {
  name: string;
  summary: string;
  /** Its --help text: its own arguments. */
  help: string;
  create(ctx: TemplateContext): Promise<TemplateResult>;
}

export type TemplateOptions = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;
export type TemplateValues = Record<string, string | boolean | string[] | undefined>;

/**
 * Parse a template's own arguments (strict: unknown options and stray words are usage
 * errors naming the template). `--help` is always accepted and returned as values.help.
 */
export function parseTemplateArgs(template: string, args: string[], options: TemplateOptions): TemplateValues {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    if (positionals.length) throw usageError(`template ${template}: unexpected argument "${positionals[0]}"`, `see: lxts create -t ${template} -- --help`);
    return values as TemplateValues;
  } catch (e) {
    if (e instanceof Error && 'code' in e && typeof (e as { code: unknown }).code === 'string' && String((e as { code: string }).code).startsWith('ERR_PARSE_ARGS')) {
      throw usageError(`template ${template}: ${e.message.split('\n')[0]}`, `see: lxts create -t ${template} -- --help`);
    }
    throw e;
  }
}

/** Whether the template arguments ask for help: the caller prints template.help and creates nothing. */
export function wantsHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** The help text of a template: usage line, what it makes, its options. */
export function templateHelp(name: string, about: string, rows: [string, string][]): string {
  const all: [string, string][] = [...rows, ['-h, --help', 'this help']];
  const w = Math.max(...all.map((r) => r[0].length));
  return [`usage: lxts create -t ${name} -n NAME [-- TEMPLATE-OPTIONS]`, '', about, '', 'template options:', ...all.map(([a, b]) => `  ${a.padEnd(w)}  ${b}`)].join('\n') + '\n';
}
