// lxts create NAME -t TEMPLATE [-- TEMPLATE-ARGS]   (lxc-create)
import { parse, helpText } from './args.js';
import { COMMON_OPTIONS, COMMON_HELP, nameArg, pathOpts } from './common.js';
import { Container } from '../container.js';
import { TEMPLATES } from '../template/index.js';
import { requireRoot, usageError } from '../errors.js';

const OPTIONS = { ...COMMON_OPTIONS, template: { type: 'string', short: 't' }, quiet: { type: 'boolean', short: 'q' } } as const;
const USAGE = 'lxts create NAME -t TEMPLATE [OPTIONS] [-- TEMPLATE-ARGS...]';

export async function run(argv: string[]): Promise<number> {
  const dd = argv.indexOf('--');
  const own = dd >= 0 ? argv.slice(0, dd) : argv;
  const targs = dd >= 0 ? argv.slice(dd + 1) : [];
  const { values: v, positionals } = parse(own, OPTIONS, true);
  if (v.help) {
    const list = Object.values(TEMPLATES).map((t) => `  ${t.name.padEnd(8)} ${t.summary}`).join('\n');
    process.stdout.write(helpText(USAGE, 'Create a container from a template: its config and root filesystem under the lxtspath.\nTemplate arguments go after `--`; `lxts create x -t TEMPLATE -- --help` lists them.\n\ntemplates:\n' + list, [
      ['-t, --template NAME', 'the template'],
      ['-q, --quiet', 'no progress output'],
      ...COMMON_HELP,
    ]));
    return 0;
  }
  if (v.template && targs.includes('--help')) {
    const t = TEMPLATES[v.template];
    if (t) {
      process.stdout.write(t.help.endsWith('\n') ? t.help : t.help + '\n');
      return 0;
    }
  }
  const { name } = nameArg(v, positionals, USAGE);
  if (!v.template) throw usageError('no template given', `usage: ${USAGE} (templates: ${Object.keys(TEMPLATES).join(', ')})`);
  requireRoot('lxts create');
  const c = new Container(name, pathOpts(v));
  const ac = new AbortController();
  const onSig = (): void => ac.abort();
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  const tty = process.stderr.isTTY;
  let last = '';
  try {
    await c.create(v.template, targs, {
      signal: ac.signal,
      onProgress: v.quiet
        ? undefined
        : (msg, fraction) => {
            const pct = fraction === undefined ? '' : `${Math.round(fraction * 100).toString().padStart(3)}% `;
            const line = `${pct}${msg}`;
            if (tty) process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 80) - 1)}`);
            else if (line !== last) process.stderr.write(line + '\n');
            last = line;
          },
    });
  } finally {
    if (tty && last) process.stderr.write('\r\x1b[2K');
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
  }
  if (!v.quiet) process.stderr.write(`created ${name} (${c.paths.dir})\n`);
  return 0;
}
