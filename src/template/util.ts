// Helpers shared by the templates: child processes that die with an abort, paths resolved
// inside a rootfs (never outside it), config-line quoting, compression detection.
import { spawn, type SpawnOptions } from 'node:child_process';
import { lstatSync, readlinkSync, mkdirSync, writeFileSync, chmodSync, openSync, readSync, closeSync, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { LxtsError } from '../errors.js';
import { commandLine } from '../config/lxc-values.js';

export function throwIfAborted(signal: AbortSignal | undefined, what = 'template'): void {
  if (signal?.aborted) throw new LxtsError(`${what} interrupted`, 130);
}

export interface RunOptions {
  signal?: AbortSignal;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Called with each line of stdout and stderr (stderr lines are also kept for the error). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Pipe this into the child's stdin. */
  stdin?: Readable;
  /** Pipe the child's stdout here instead of reading lines. */
  stdout?: Writable;
  /** What the error message calls the command (default: its name). */
  what?: string;
}

/**
 * Run a program to completion in its own process group. On abort the whole group gets
 * SIGTERM, then SIGKILL after 3 s; the promise rejects with an LxtsError. A non-zero exit
 * rejects with the last line of stderr.
 */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<void> {
  const what = opts.what ?? cmd;
  throwIfAborted(opts.signal, what);
  return new Promise((resolve, reject) => {
    const so: SpawnOptions = { cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] };
    const child = spawn(cmd, args, so);
    const tail: string[] = [];
    let killTimer: NodeJS.Timeout | undefined;
    let aborted = false;
    const killGroup = (sig: NodeJS.Signals): void => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        /* already gone */
      }
    };
    const onAbort = (): void => {
      aborted = true;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), 3000);
      killTimer.unref();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.stdin) {
      opts.stdin.on('error', (e) => child.stdin?.destroy(e));
      child.stdin!.on('error', () => {
        /* the child closed its stdin early: its exit status tells */
      });
      opts.stdin.pipe(child.stdin!);
    }
    if (opts.stdout) child.stdout!.pipe(opts.stdout);
    else createInterface({ input: child.stdout! }).on('line', (l) => opts.onLine?.(l, 'stdout'));
    createInterface({ input: child.stderr! }).on('line', (l) => {
      if (l.trim()) tail.push(l);
      if (tail.length > 20) tail.shift();
      opts.onLine?.(l, 'stderr');
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      opts.signal?.removeEventListener('abort', onAbort);
      reject(new LxtsError(e.code === 'ENOENT' ? `${what}: ${cmd} not found on the host` : `${what}: ${e.message}`));
    });
    child.on('close', (code, sig) => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      if (aborted) return reject(new LxtsError(`${what} interrupted`, 130));
      if (code === 0) return resolve();
      const last = tail.filter((l) => !/^\s*$/.test(l)).slice(-1)[0];
      reject(new LxtsError(`${what} failed (${sig ? 'killed by ' + sig : 'exit status ' + code})${last ? ': ' + last.trim() : ''}`));
    });
  });
}

/** Run a program and return its stdout (small outputs only). */
export async function capture(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  const lines: string[] = [];
  await run(cmd, args, { ...opts, onLine: (l, s) => (s === 'stdout' ? lines.push(l) : opts.onLine?.(l, s)) });
  return lines.join('\n');
}

/**
 * Resolve `rel` inside `root` as if `root` were `/`: symlinks are followed, but an absolute
 * link or `..` never leaves the root (like chroot, or securejoin). The last component is
 * followed too unless `followLast` is false. Returns a host path below `root`.
 */
export function resolveIn(root: string, rel: string, followLast = true): string {
  const rootAbs = root.replace(/\/+$/, '');
  const parts = rel.split('/').filter((p) => p && p !== '.');
  const out: string[] = [];
  let links = 0;
  while (parts.length) {
    const p = parts.shift()!;
    if (p === '..') {
      out.pop();
      continue;
    }
    const cand = rootAbs + '/' + [...out, p].join('/');
    let st;
    try {
      st = lstatSync(cand);
    } catch {
      out.push(p);
      continue;
    }
    if (st.isSymbolicLink() && (followLast || parts.length > 0)) {
      if (++links > 40) throw new LxtsError(`too many levels of symbolic links resolving ${rel} in ${root}`);
      const target = readlinkSync(cand);
      if (target.startsWith('/')) out.length = 0;
      parts.unshift(...target.split('/').filter((x) => x && x !== '.'));
      continue;
    }
    out.push(p);
  }
  return rootAbs + (out.length ? '/' + out.join('/') : '');
}

/** Write a file inside a rootfs (parents created, symlinks resolved inside the rootfs). */
export function writeFileIn(root: string, rel: string, content: string | Buffer, mode = 0o644): void {
  const path = resolveIn(root, rel);
  mkdirSync(path.slice(0, path.lastIndexOf('/')), { recursive: true });
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
}

export function mkdirIn(root: string, rel: string, mode = 0o755): string {
  const path = resolveIn(root, rel);
  if (!existsSync(path)) {
    mkdirSync(path, { recursive: true });
    chmodSync(path, mode);
  }
  return path;
}

/**
 * Quote an argv into one LXC command line (lxc.init.cmd, lxc.execute.cmd) that the config
 * reader splits back into the same argv: blanks separate words, '...' and "..." quote, and
 * quoted pieces next to each other join into one word (so a word may hold both quotes).
 */
export function quoteCommand(args: string[]): string {
  return args.map(quoteWord).join(' ');
}

export function quoteWord(a: string): string {
  if (/[\n\r\0]/.test(a)) throw new LxtsError(`command word ${JSON.stringify(a)} contains a newline or NUL: it cannot be written in a config file`);
  if (a !== '' && !/[\s'"]/.test(a)) return a;
  if (!a.includes("'")) return `'${a}'`;
  if (!a.includes('"')) return `"${a}"`;
  // both kinds: 'it'"'"'s "x"' style pieces
  return a
    .split("'")
    .map((piece) => (piece === '' ? '' : `'${piece}'`))
    .join(`"'"`);
}

/**
 * Split a command line the way the LXC config reader does (used by tests and local metadata).
 * The one implementation is the config reader's; an unbalanced quote is an LxtsError here.
 */
export function splitCommand(v: string): string[] {
  try {
    return commandLine(v);
  } catch (e) {
    throw new LxtsError((e as Error).message);
  }
}

export type Compression = 'none' | 'gzip' | 'xz' | 'zstd' | 'bzip2';

export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.length >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  return 'none';
}

export function fileCompression(path: string): Compression {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(8);
    const n = readSync(fd, b, 0, 8, 0);
    return detectCompression(b.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

/** The host program that decompresses a format to stdout. */
export const DECOMPRESSORS: Record<Exclude<Compression, 'none'>, [string, string[], string]> = {
  gzip: ['gzip', ['-dc'], 'gzip'],
  xz: ['xz', ['-dc'], 'xz-utils'],
  zstd: ['zstd', ['-dcq'], 'zstd'],
  bzip2: ['bzip2', ['-dc'], 'bzip2'],
};

export function hostsFile(hostname: string): string {
  return `127.0.0.1\tlocalhost\n127.0.1.1\t${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n`;
}

export function which(prog: string): string | undefined {
  for (const d of (process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    if (d && existsSync(`${d}/${prog}`)) return `${d}/${prog}`;
  }
  return undefined;
}
