// Reader for LXC's config format (lxc.container.conf(5)): `key = value` lines, full-line `#`
// comments, blank lines, lxc.include of files and directories. Every line is kept, with its
// exact text and line ending, so the writer (lxc-write.ts) can change one key and leave the
// rest of the file byte-for-byte as it was.
import { readFileSync, readdirSync, statSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

export interface EntryLine {
  type: 'entry';
  key: string;
  /** The value as LXC sees it: trimmed, one pair of matching outer quotes removed. */
  value: string;
  file: string;
  /** 1-based. */
  line: number;
  /** The line's text without its line ending. */
  raw: string;
}

export interface OtherLine {
  /** comment: `#` after optional blanks; blank: only blanks; invalid: a line LXC refuses. */
  type: 'comment' | 'blank' | 'invalid';
  file: string;
  line: number;
  raw: string;
  /** Why an invalid line is invalid. */
  problem?: string;
}

export type ConfigLine = (EntryLine | OtherLine) & { /** '\n', '\r\n' or '' (last line without one). */ eol: string };

export interface ConfigDocument {
  file: string;
  lines: ConfigLine[];
}

export type Severity = 'error' | 'warning';

export interface ConfigProblem {
  severity: Severity;
  file: string;
  line: number;
  key?: string;
  message: string;
}

/** `file:line: key: what is wrong` — the one format every config message uses. */
export function formatProblem(p: ConfigProblem): string {
  return `${p.file}${p.line > 0 ? ':' + p.line : ''}: ${p.severity === 'warning' ? 'warning: ' : ''}${p.key ? p.key + ': ' : ''}${p.message}`;
}

// LXC trims blanks with lxc_char_left_gc/right_gc: space, tab, and stray CR/LF.
const BLANKS = /^[ \t\r\n]+|[ \t\r\n]+$/g;

/** Split one logical line into key and value the way LXC's parse_line() does. */
export function parseLine(raw: string, file: string, line: number): EntryLine | OtherLine {
  const text = raw.replace(BLANKS, '');
  if (text === '') return { type: 'blank', file, line, raw };
  if (text.startsWith('#')) return { type: 'comment', file, line, raw };
  const eq = text.indexOf('=');
  if (eq < 0) {
    // LXC silently skips lines that do not start with "lxc." before looking for "="; we
    // report them (they are almost always a typo), but only lxc.* lines are errors.
    return {
      type: 'invalid', file, line, raw,
      problem: text.startsWith('lxc.') ? 'not a "key = value" line (no "=")' : 'not a "key = value" line; ignored',
    };
  }
  const key = text.slice(0, eq).replace(BLANKS, '');
  let value = text.slice(eq + 1).replace(BLANKS, '');
  if (value.length > 1 && (value[0] === '"' || value[0] === "'") && value[value.length - 1] === value[0]) value = value.slice(1, -1);
  if (key === '') return { type: 'invalid', file, line, raw, problem: 'empty key before "="' };
  return { type: 'entry', key, value, file, line, raw };
}

/** Parse one file's text; no includes are followed. */
export function parseConfig(text: string, file: string): ConfigDocument {
  const lines: ConfigLine[] = [];
  const re = /\r?\n/g;
  let start = 0;
  let n = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    lines.push({ ...parseLine(text.slice(start, m.index), file, ++n), eol: m[0] });
    start = m.index + m[0].length;
  }
  if (start < text.length) lines.push({ ...parseLine(text.slice(start), file, ++n), eol: '' });
  return { file, lines };
}

export function entries(doc: ConfigDocument): (EntryLine & { eol: string })[] {
  return doc.lines.filter((l): l is EntryLine & { eol: string } => l.type === 'entry');
}

export interface LoadedConfig {
  /** The file asked for. */
  root: ConfigDocument;
  /** Every document read, the root first, by the path it was read from. */
  documents: Map<string, ConfigDocument>;
  /**
   * The effective entries in LXC's order: an lxc.include entry is followed by the entries
   * of what it includes. This is what the converter reads.
   */
  entries: EntryLine[];
  /** Extra files a config names whose content matters (lxc.mount.fstab), by resolved path. */
  files: Map<string, string>;
  /** Include and read problems, and invalid lines. */
  problems: ConfigProblem[];
}

export interface LoadOptions {
  /** Read a file (tests inject an in-memory tree). */
  readFile?: (path: string) => string;
  /** List a directory, or undefined when the path is not a directory. */
  readDir?: (path: string) => string[] | undefined;
  /** Canonical path for cycle detection. */
  realpath?: (path: string) => string;
  /** Deepest include nesting followed (a runaway chain of distinct files is an error too). */
  maxDepth?: number;
}

const fsOps = {
  readFile: (p: string) => readFileSync(p, 'utf8'),
  readDir: (p: string): string[] | undefined => {
    let st;
    try {
      st = statSync(p);
    } catch {
      return undefined;
    }
    if (!st.isDirectory()) return undefined;
    // Only regular files (or links to them) ending in .conf, as LXC's do_includedir().
    return readdirSync(p).filter((f) => f.endsWith('.conf') && safeIsFile(join(p, f)));
  },
  realpath: (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  },
};

function safeIsFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * A path written in a config: LXC resolves relative paths against its own working
 * directory, which nobody means; we resolve them against the directory of the file that
 * names them, which is what a relative path in a config file is read as everywhere else.
 */
export function resolveConfigPath(value: string, fromFile: string): string {
  return isAbsolute(value) ? value : join(dirname(fromFile), value);
}

function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOENT') return 'no such file or directory';
  if (err?.code === 'EACCES') return 'permission denied';
  if (err?.code === 'EISDIR') return 'is a directory';
  return err?.code ?? String(err?.message ?? e);
}

/** Read a config file and everything it includes. Never throws for bad content or missing includes: they become problems. */
export function loadConfig(path: string, opts: LoadOptions = {}): LoadedConfig {
  const ops = { ...fsOps, ...opts };
  const maxDepth = opts.maxDepth ?? 32;
  const documents = new Map<string, ConfigDocument>();
  const files = new Map<string, string>();
  const problems: ConfigProblem[] = [];
  const out: EntryLine[] = [];

  const readDoc = (file: string): ConfigDocument => {
    const doc = parseConfig(ops.readFile(file), file);
    if (!documents.has(file)) documents.set(file, doc);
    for (const l of doc.lines) {
      if (l.type === 'invalid') {
        const lxc = l.raw.trim().startsWith('lxc.');
        problems.push({ severity: lxc || l.problem?.startsWith('empty') ? 'error' : 'warning', file, line: l.line, message: l.problem! });
      }
    }
    return doc;
  };

  // stack: canonical paths of the files being read (cycle detection); shown: the same as written.
  const walk = (doc: ConfigDocument, stack: string[], shown: string[]): void => {
    for (const l of doc.lines) {
      if (l.type !== 'entry') continue;
      out.push(l);
      if (l.key === 'lxc.include' && l.value !== '') include(l, stack, shown);
      if (l.key === 'lxc.mount.fstab' && l.value !== '') {
        const p = resolveConfigPath(l.value, l.file);
        if (!files.has(p)) {
          try {
            files.set(p, ops.readFile(p));
          } catch (e) {
            problems.push({ severity: 'error', file: l.file, line: l.line, key: l.key, message: `cannot read ${p}: ${errnoText(e)}` });
          }
        }
      }
    }
  };

  const include = (l: EntryLine, stack: string[], shown: string[]): void => {
    const target = resolveConfigPath(l.value, l.file);
    const where = { severity: 'error' as const, file: l.file, line: l.line, key: l.key };
    const dirFiles = ops.readDir(target);
    if (!dirFiles && l.value.endsWith('/')) {
      // A drop-in directory that does not exist includes nothing: LXC's own userns.conf
      // names userns.conf.d/, which few hosts have. A missing file is an error.
      let exists = true;
      try {
        ops.readFile(target);
      } catch (e) {
        exists = (e as NodeJS.ErrnoException)?.code !== 'ENOENT';
      }
      if (!exists) {
        problems.push({ ...where, severity: 'warning', message: `include directory ${target} does not exist; nothing included` });
        return;
      }
    }
    const targets = dirFiles ? [...dirFiles].sort().map((f) => join(target, f)) : [target];
    for (const t of targets) {
      const real = ops.realpath(t);
      if (stack.includes(real)) {
        const chain = [...shown.slice(stack.indexOf(real)), t].join(' -> ');
        problems.push({ ...where, message: `include cycle: ${chain}` });
        continue;
      }
      if (stack.length >= maxDepth) {
        problems.push({ ...where, message: `includes nested deeper than ${maxDepth} files` });
        continue;
      }
      let doc: ConfigDocument;
      try {
        doc = readDoc(t);
      } catch (e) {
        problems.push({ ...where, message: `cannot include ${t}: ${errnoText(e)}` });
        continue;
      }
      walk(doc, [...stack, real], [...shown, t]);
    }
  };

  let root: ConfigDocument;
  try {
    root = readDoc(path);
  } catch (e) {
    root = { file: path, lines: [] };
    problems.push({ severity: 'error', file: path, line: 0, message: `cannot read config: ${errnoText(e)}` });
    return { root, documents, entries: out, files, problems };
  }
  walk(root, [ops.realpath(path)], [path]);
  return { root, documents, entries: out, files, problems };
}
