// lxts config validate|show|get|set|unset|keys   (LXC-format config files, without a container)
import { Container } from '../container.js';
import { readFileSync, renameSync, statSync, writeFileSync, chmodSync, unlinkSync } from 'node:fs';
import { basename, dirname, extname } from 'node:path';
import { LxtsError, ExitCode, usageError } from '../errors.js';
import { nameProblem } from '../names.js';
import { loadConfig, parseConfig, formatProblem, type ConfigProblem } from '../config/lxc-parse.js';
import { configToSpec, type Conversion } from '../config/lxc-to-spec.js';
import { checkEntry, KEYS } from '../config/lxc-keys.js';
import { getAll, setKey, addKey, unsetKey, serialize } from '../config/lxc-write.js';
import { renderKeyTable } from '../config/key-doc.js';
import { parse, helpText, type Options } from './args.js';

const HELP = helpText(
  'lxts config SUBCOMMAND [OPTIONS] ...',
  'Read, check and edit container configs in LXC\'s format (lxc.container.conf(5)).\n\n' +
    'subcommands:\n' +
    '  validate FILE...              check files (includes followed); exit 3 on errors\n' +
    '  show FILE                     the ContainerSpec the file gives, as JSON\n' +
    '  get NAME|--file FILE KEY        the effective value(s) of KEY (includes followed)\n' +
    '  set NAME|--file FILE KEY VALUE  set KEY, keeping comments and order (--add: one more line)\n' +
    '  unset NAME|--file FILE KEY      remove every line of KEY\n' +
    '  keys                          the key table: what lxts applies, stores, ignores (--markdown)\n\n' +
    'get, set and unset take a container NAME (its config under -P LXTSPATH) or --file FILE.\nErrors read FILE:LINE: KEY: what is wrong.',
  [
    ['--json', 'validate, show: machine-readable output'],
    ['--all', 'show: also the stored keys (network, hooks, ...) and the problems'],
    ['--execute', 'show: as lxts execute runs it (lxc.execute.cmd under a minimal init)'],
    ['-n, --name NAME', 'show: container name (default: from the path, .../NAME/config)'],
    ['-f, --file FILE', 'get, set, unset: a config file instead of a container\'s'],
    ['-P, --lxtspath DIR', 'get, set, unset: where the container lives (default /var/lib/lxts)'],
    ['--add', 'set: add a line to a multi-valued key instead of replacing the last one'],
    ['--markdown', 'keys: as the Markdown table of docs/config.md'],
  ],
);

const OPTIONS = {
  json: { type: 'boolean' },
  all: { type: 'boolean' },
  execute: { type: 'boolean' },
  name: { type: 'string', short: 'n' },
  file: { type: 'string', short: 'f' },
  lxtspath: { type: 'string', short: 'P' },
  add: { type: 'boolean' },
  markdown: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} satisfies Options;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, OPTIONS, true);
  const [sub, ...args] = positionals;
  if (v.help || sub === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  switch (sub) {
    case 'validate': return validate(args, !!v.json);
    case 'show': return show(args, v);
    case 'get': return get(...target(args, v, 'get'));
    case 'set': return set(...target(args, v, 'set'), !!v.add);
    case 'unset': return unset(...target(args, v, 'unset'));
    case 'keys': return keys(!!v.markdown);
    case undefined: throw usageError('no subcommand given', 'usage: lxts config validate|show|get|set|unset|keys ... (lxts config --help)');
    default: throw usageError(`unknown subcommand "config ${sub}"`, 'run `lxts config --help`');
  }
}

/** Container name from a path: /var/lib/lxts/NAME/config -> NAME, web.conf -> web. */
function nameFromPath(file: string): string {
  const n = basename(file) === 'config' ? basename(dirname(file)) : basename(file, extname(file));
  return nameProblem(n) ? 'lxc' : n;
}

function convert(file: string, opts: { name?: string; execute?: boolean }): Conversion & { file: string } {
  const loaded = loadConfig(file);
  const c = configToSpec(
    { entries: loaded.entries, files: loaded.files, problems: loaded.problems, file },
    { name: opts.name ?? nameFromPath(file), mode: opts.execute ? 'execute' : 'start', hostEnv: process.env },
  );
  return { ...c, file };
}

function problemJson(p: ConfigProblem): object {
  return { file: p.file, line: p.line, ...(p.key ? { key: p.key } : {}), message: p.message };
}

function validate(files: string[], json: boolean): number {
  if (files.length === 0) throw usageError('no file given', 'usage: lxts config validate FILE...');
  const results = files.map((f) => {
    const c = convert(f, {});
    const stored = c.used.filter((u) => u.support === 'stored');
    return {
      file: f,
      errors: c.problems.filter((p) => p.severity === 'error'),
      warnings: c.problems.filter((p) => p.severity === 'warning'),
      keys: c.used.reduce((n, u) => n + u.count, 0),
      stored,
    };
  });
  const valid = results.every((r) => r.errors.length === 0);
  if (json) {
    process.stdout.write(JSON.stringify({
      valid,
      files: results.map((r) => ({
        file: r.file, valid: r.errors.length === 0, keys: r.keys,
        errors: r.errors.map(problemJson), warnings: r.warnings.map(problemJson),
        stored: r.stored.map((u) => ({ key: u.name, count: u.count })),
      })),
    }, null, 2) + '\n');
  } else {
    for (const r of results) {
      for (const p of [...r.errors, ...r.warnings].sort((a, b) => (a.file === b.file ? a.line - b.line : 0))) process.stderr.write(formatProblem(p) + '\n');
      const storedFamilies = [...new Set(r.stored.map((u) => familyOf(u.name)))];
      const notes = [
        `${r.keys} key${r.keys === 1 ? '' : 's'}`,
        ...(r.warnings.length ? [`${r.warnings.length} warning${r.warnings.length === 1 ? '' : 's'}`] : []),
        ...(storedFamilies.length ? [`stored for later, not applied yet: ${storedFamilies.join(' ')}`] : []),
      ];
      if (r.errors.length === 0) process.stdout.write(`${r.file}: valid (${notes.join('; ')})\n`);
      else process.stderr.write(`${r.file}: ${r.errors.length} error${r.errors.length === 1 ? '' : 's'}\n`);
    }
  }
  return valid ? 0 : ExitCode.CONFIG;
}

/** A short name for the summary: lxc.net.[i].ipv4.address -> lxc.net.*, lxc.cgroup2.devices.allow -> lxc.cgroup*.devices.* */
function familyOf(name: string): string {
  if (/^lxc\.cgroup2?\.devices\./.test(name)) return 'lxc.cgroup*.devices.*';
  const m = /^lxc\.(net|hook|signal|start|console|tty|cgroup\.dir|seccomp)\./.exec(name);
  return m ? `lxc.${m[1]}.*` : name;
}

function show(args: string[], v: { json?: boolean; all?: boolean; execute?: boolean; name?: string }): number {
  if (args.length !== 1) throw usageError('show takes one file', 'usage: lxts config show [--all] [--execute] FILE');
  const c = convert(args[0]!, v);
  const errors = c.problems.filter((p) => p.severity === 'error');
  if (!v.all) for (const p of c.problems) process.stderr.write(formatProblem(p) + '\n');
  if (errors.length && !v.all) return ExitCode.CONFIG;
  const out = v.all ? { spec: c.spec, stored: c.stored, problems: c.problems.map((p) => ({ severity: p.severity, ...problemJson(p) })) } : c.spec;
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  return errors.length ? ExitCode.CONFIG : 0;
}

/** `--file FILE KEY...`, or `NAME KEY...` for a container's own config (-P for its lxtspath). */
function target(args: string[], v: { file?: string; lxtspath?: string }, what: string): [string[], string] {
  if (v.file !== undefined) return [args, v.file];
  const [name, ...rest] = args;
  if (!name) throw usageError(`no container NAME or --file given`, `usage: lxts config ${what} NAME KEY${what === 'set' ? ' VALUE' : ''}`);
  const c = new Container(name, v.lxtspath !== undefined ? { lxtspath: v.lxtspath } : {});
  if (!c.exists()) throw new LxtsError(`no container named "${name}" in ${c.loc.lxtspath}`, ExitCode.GENERIC, 'see `lxts ls`, or give a file with --file');
  return [rest, c.paths.config];
}

function get(args: string[], f: string): number {
  if (args.length !== 1) throw usageError('get takes one KEY', 'usage: lxts config get --file FILE KEY');
  const key = args[0]!;
  const loaded = loadConfig(f);
  const fatal = loaded.problems.find((p) => p.severity === 'error' && p.line === 0);
  if (fatal) throw new LxtsError(formatProblem(fatal), ExitCode.CONFIG);
  const def = KEYS.find((d) => d.name === key || d.pattern?.test(key));
  const values = getAll(loaded.entries, key);
  if (values.length === 0) return 1; // like git config: unset is status 1, no output
  for (const x of def?.multi ? values : values.slice(-1)) process.stdout.write(x + '\n');
  return 0;
}

function readDoc(f: string) {
  try {
    return parseConfig(readFileSync(f, 'utf8'), f);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new LxtsError(`cannot read ${f}: ${code === 'ENOENT' ? 'no such file' : code ?? String(e)}`, ExitCode.CONFIG);
  }
}

/** Replace the file atomically (a crash leaves the old or the new file, never half of one). */
function writeAtomic(f: string, text: string): void {
  const tmp = `${f}.lxts-tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text, { mode: 0o644 });
    try {
      chmodSync(tmp, statSync(f).mode & 0o7777);
    } catch {
      /* new file: keep 0644 */
    }
    renameSync(tmp, f);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* not created */ }
    throw new LxtsError(`cannot write ${f}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, ExitCode.GENERIC);
  }
}

function set(args: string[], f: string, add: boolean): number {
  if (args.length !== 2) throw usageError('set takes KEY and VALUE', 'usage: lxts config set --file FILE KEY VALUE (VALUE "" clears a list key)');
  const [key, value] = args as [string, string];
  const r = checkEntry(key, value);
  if (!r.ok && r.severity === 'error') throw new LxtsError(`${key}: ${r.message}`, ExitCode.CONFIG);
  if (!r.ok) process.stderr.write(`lxts: warning: ${key}: ${r.message.replace(/; ignored$/, '')} (written anyway)\n`);
  if (add && r.ok && !r.match?.def.multi) throw usageError(`${key} takes one value; --add is for list keys such as lxc.mount.entry`);
  let doc;
  try {
    statSync(f);
    doc = readDoc(f);
  } catch (e) {
    if (e instanceof LxtsError) throw e;
    doc = parseConfig('', f); // a new file
  }
  try {
    if (add) addKey(doc, key, value);
    else setKey(doc, key, value);
  } catch (e) {
    throw new LxtsError(`${key}: ${(e as Error).message}`, ExitCode.CONFIG);
  }
  writeAtomic(f, serialize(doc));
  return 0;
}

function unset(args: string[], f: string): number {
  if (args.length !== 1) throw usageError('unset takes one KEY', 'usage: lxts config unset --file FILE KEY');
  const doc = readDoc(f);
  if (unsetKey(doc, args[0]!) === 0) return 1;
  writeAtomic(f, serialize(doc));
  return 0;
}

function keys(markdown: boolean): number {
  if (markdown) {
    process.stdout.write(renderKeyTable() + '\n');
    return 0;
  }
  const w = Math.max(...KEYS.map((k) => k.name.length));
  process.stdout.write(KEYS.map((k) => `${k.name.padEnd(w)}  ${k.support.padEnd(11)}  ${k.description}\n`).join(''));
  return 0;
}
