// A small tar reader and writer. The reader lists (and, on request, reads) entries of a
// stream: ustar with prefix, pax extended headers (path, linkpath, size) and GNU long
// names. The host's tar extracts; this reader is how we look at an archive before we let
// it touch the disk (path traversal, whiteouts, docker-save manifests). The writer builds
// archives for the tests and small generated files.
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { LxtsError } from '../errors.js';
import { fileCompression, DECOMPRESSORS, type Compression } from './util.js';

export type TarType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarEntry {
  path: string;
  type: TarType;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname: string;
}

const TYPEFLAG: Record<string, TarType> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo' };

/** Return true from onEntry to receive the entry's content in onData. */
export type OnEntry = (e: TarEntry) => boolean | void;

class TarParser {
  private buf: Buffer[] = [];
  private buffered = 0;
  private state: 'header' | 'data' | 'meta' | 'end' = 'header';
  private remaining = 0;
  private padding = 0;
  private metaKind = '';
  private metaChunks: Buffer[] = [];
  private collect: Buffer[] | undefined;
  private current: TarEntry | undefined;
  private pax: Record<string, string> = {};
  private gnuName: string | undefined;
  private gnuLink: string | undefined;
  private zeroBlocks = 0;

  constructor(
    private onEntry: OnEntry,
    private onData: (e: TarEntry, data: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    this.buf.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.state === 'end') {
        this.buf = [];
        this.buffered = 0;
        return;
      }
      if (this.state === 'header') {
        if (this.buffered < 512) return;
        this.header(this.take(512));
        continue;
      }
      // data or meta: body bytes then padding
      if (this.remaining > 0) {
        if (this.buffered === 0) return;
        const n = Math.min(this.remaining, this.buffered);
        const piece = this.take(n);
        this.remaining -= n;
        if (this.state === 'meta') this.metaChunks.push(piece);
        else this.collect?.push(piece);
        if (this.remaining > 0) return;
      }
      if (this.padding > 0) {
        if (this.buffered === 0) return;
        const n = Math.min(this.padding, this.buffered);
        this.take(n);
        this.padding -= n;
        if (this.padding > 0) return;
      }
      this.finishBody();
    }
  }

  end(): void {
    if (this.state === 'data' || this.state === 'meta' || (this.state === 'header' && this.buffered > 0)) throw new LxtsError('truncated tar archive');
  }

  private take(n: number): Buffer {
    const all = this.buf.length === 1 ? this.buf[0]! : Buffer.concat(this.buf);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.buf = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  private header(h: Buffer): void {
    if (h.every((b) => b === 0)) {
      if (++this.zeroBlocks >= 2) this.state = 'end';
      return;
    }
    this.zeroBlocks = 0;
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    const stored = parseOctal(h.subarray(148, 156));
    if (stored !== sum) throw new LxtsError('not a tar archive (header checksum mismatch)');
    const flag = String.fromCharCode(h[156]!);
    const size = parseNumber(h.subarray(124, 136));
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      this.state = 'meta';
      this.metaKind = flag;
      this.metaChunks = [];
      this.remaining = size;
      this.padding = (512 - (size % 512)) % 512;
      if (size === 0) this.finishBody();
      return;
    }
    const magic = h.subarray(257, 263).toString('latin1');
    let name = cstr(h.subarray(0, 100));
    if (magic.startsWith('ustar')) {
      const prefix = cstr(h.subarray(345, 500));
      if (prefix && magic === 'ustar\u0000') name = prefix + '/' + name;
    }
    let linkname = cstr(h.subarray(157, 257));
    if (this.gnuName !== undefined) name = this.gnuName;
    if (this.gnuLink !== undefined) linkname = this.gnuLink;
    if (this.pax.path !== undefined) name = this.pax.path;
    if (this.pax.linkpath !== undefined) linkname = this.pax.linkpath;
    const type = TYPEFLAG[flag];
    const entry: TarEntry = {
      path: name,
      type: type ?? 'file',
      size: this.pax.size !== undefined ? Number(this.pax.size) : size,
      mode: parseOctal(h.subarray(100, 108)),
      uid: this.pax.uid !== undefined ? Number(this.pax.uid) : parseNumber(h.subarray(108, 116)),
      gid: this.pax.gid !== undefined ? Number(this.pax.gid) : parseNumber(h.subarray(116, 124)),
      mtime: parseNumber(h.subarray(136, 148)),
      linkname,
    };
    if (!type) throw new LxtsError(`unsupported tar entry type "${flag}" for ${name}`);
    this.pax = {};
    this.gnuName = this.gnuLink = undefined;
    // Only regular files carry data (hard links, devices, dirs have size 0 in practice).
    const bodySize = entry.type === 'file' ? entry.size : 0;
    const want = this.onEntry(entry) === true;
    this.current = entry;
    this.collect = want ? [] : undefined;
    this.state = 'data';
    this.remaining = bodySize;
    this.padding = (512 - (bodySize % 512)) % 512;
    if (bodySize === 0) this.finishBody();
  }

  private finishBody(): void {
    if (this.state === 'meta') {
      const data = Buffer.concat(this.metaChunks);
      if (this.metaKind === 'x') this.pax = parsePax(data);
      else if (this.metaKind === 'L') this.gnuName = cstr(data);
      else if (this.metaKind === 'K') this.gnuLink = cstr(data);
    } else if (this.collect && this.current) {
      this.onData(this.current, Buffer.concat(this.collect));
    }
    this.collect = undefined;
    this.current = undefined;
    this.state = 'header';
  }
}

function cstr(b: Buffer): string {
  const z = b.indexOf(0);
  return (z < 0 ? b : b.subarray(0, z)).toString('utf8');
}

function parseOctal(b: Buffer): number {
  const s = cstr(b).trim();
  return s ? parseInt(s, 8) : 0;
}

/** Octal, or GNU base-256 for big values. */
function parseNumber(b: Buffer): number {
  if (b[0]! & 0x80) {
    let v = 0;
    for (let i = 1; i < b.length; i++) v = v * 256 + b[i]!;
    return v;
  }
  return parseOctal(b);
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const sp = data.indexOf(0x20, pos);
    if (sp < 0) break;
    const len = Number(data.subarray(pos, sp).toString('latin1'));
    if (!len) break;
    const rec = data.subarray(sp + 1, pos + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    pos += len;
  }
  return out;
}

/** Feed a stream through the parser. */
export function scanTarStream(stream: Readable, onEntry: OnEntry, onData: (e: TarEntry, data: Buffer) => void = () => {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = new TarParser(onEntry, onData);
    let failed = false;
    stream.on('data', (c: Buffer) => {
      if (failed) return;
      try {
        p.push(c);
      } catch (e) {
        failed = true;
        stream.destroy();
        reject(e);
      }
    });
    stream.on('error', (e) => {
      if (!failed) reject(e instanceof LxtsError ? e : new LxtsError(`reading tar archive: ${e.message}`));
      failed = true;
    });
    stream.on('end', () => {
      if (failed) return;
      try {
        p.end();
        resolve();
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** A decompressed stream of a (possibly compressed) file: gzip in-process, the rest by the host's tools. */
export function openDecompressed(path: string, compression: Compression = fileCompression(path), signal?: AbortSignal): Readable {
  if (compression === 'none') return createReadStream(path);
  if (compression === 'gzip') {
    const src = createReadStream(path);
    const gz = createGunzip();
    src.on('error', (e) => gz.destroy(e));
    return src.pipe(gz);
  }
  const [prog, args, pkg] = DECOMPRESSORS[compression];
  const child = spawn(prog, [...args, path], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const onAbort = (): void => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  child.on('error', (e: NodeJS.ErrnoException) => child.stdout.destroy(new LxtsError(e.code === 'ENOENT' ? `${prog} is needed to read ${path}: apt-get install ${pkg}` : e.message)));
  child.on('close', (code) => {
    signal?.removeEventListener('abort', onAbort);
    if (code !== 0 && code !== null) child.stdout.destroy(new LxtsError(`${prog} could not decompress ${path}: ${err.trim().split('\n').pop() ?? 'exit ' + code}`));
  });
  // If the reader stops early (an error in the parser), do not leave the decompressor behind.
  child.stdout.on('close', () => {
    if (child.exitCode === null) onAbort();
  });
  return child.stdout;
}

/** List every entry of a tar file (any compression). */
export async function listTar(path: string, signal?: AbortSignal): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  await scanTarStream(openDecompressed(path, undefined, signal), (e) => {
    out.push(e);
  });
  return out;
}

/** Read some small files out of a tar file: names as stored, leading "./" ignored. */
export async function readTarFiles(path: string, wanted: (name: string) => boolean, signal?: AbortSignal): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  await scanTarStream(
    openDecompressed(path, undefined, signal),
    (e) => e.type === 'file' && wanted(normalizeTarPath(e.path)),
    (e, d) => out.set(normalizeTarPath(e.path), d),
  );
  return out;
}

/** "./a//b/" -> "a/b"; "." and "./" -> "". */
export function normalizeTarPath(p: string): string {
  return p
    .split('/')
    .filter((x) => x !== '' && x !== '.')
    .join('/');
}

/**
 * Why an archive is unsafe to extract, or undefined: absolute names, ".." components,
 * hard links that point outside, and entries that would be written through a symlink the
 * archive itself created earlier (a -> /etc, then a/passwd).
 */
export function unsafeEntry(entries: TarEntry[]): string | undefined {
  const symlinks = new Set<string>();
  for (const e of entries) {
    if (e.path.startsWith('/')) return `absolute path "${e.path}"`;
    if (e.path.split('/').includes('..')) return `path with ".." "${e.path}"`;
    const p = normalizeTarPath(e.path);
    if (e.type === 'hardlink') {
      if (e.linkname.startsWith('/') || e.linkname.split('/').includes('..')) return `hard link "${e.path}" -> "${e.linkname}" points outside the archive`;
    }
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (symlinks.has(prefix)) return `entry "${e.path}" would be written through the symlink "${prefix}"`;
    }
    if (e.type === 'symlink') symlinks.add(p);
    else symlinks.delete(p);
  }
  return undefined;
}

// ---- writer ----

export interface TarInput {
  path: string;
  type?: TarType;
  content?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
}

const FLAG_OF: Record<TarType, string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };

/** A complete tar archive (ustar; pax headers for long names). */
export function makeTar(entries: TarInput[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? 'file';
    const data = type === 'file' ? Buffer.from(e.content ?? '') : Buffer.alloc(0);
    const path = type === 'dir' && !e.path.endsWith('/') ? e.path + '/' : e.path;
    const linkname = e.linkname ?? '';
    const pax: string[] = [];
    if (Buffer.byteLength(path) > 99) pax.push(paxRecord('path', path));
    if (Buffer.byteLength(linkname) > 99) pax.push(paxRecord('linkpath', linkname));
    if (pax.length) {
      const body = Buffer.from(pax.join(''));
      blocks.push(header({ name: 'PaxHeader', flag: 'x', size: body.length, mode: 0o644, uid: 0, gid: 0, mtime: 0, linkname: '' }), pad(body));
    }
    blocks.push(
      header({
        name: path.slice(0, 99),
        flag: FLAG_OF[type],
        size: data.length,
        mode: e.mode ?? (type === 'dir' ? 0o755 : type === 'symlink' ? 0o777 : 0o644),
        uid: e.uid ?? 0,
        gid: e.gid ?? 0,
        mtime: e.mtime ?? 1700000000,
        linkname: linkname.slice(0, 99),
      }),
    );
    if (data.length) blocks.push(pad(data));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

function paxRecord(k: string, v: string): string {
  const body = ` ${k}=${v}\n`;
  const base = Buffer.byteLength(body);
  let len = base + 1;
  while (len !== base + String(len).length) len = base + String(len).length;
  return `${len}${body}`;
}

function pad(b: Buffer): Buffer {
  const r = b.length % 512;
  return r ? Buffer.concat([b, Buffer.alloc(512 - r)]) : b;
}

function header(h: { name: string; flag: string; size: number; mode: number; uid: number; gid: number; mtime: number; linkname: string }): Buffer {
  const b = Buffer.alloc(512);
  b.write(h.name, 0, 100, 'utf8');
  b.write(octal(h.mode, 8), 100, 'latin1');
  b.write(octal(h.uid, 8), 108, 'latin1');
  b.write(octal(h.gid, 8), 116, 'latin1');
  b.write(octal(h.size, 12), 124, 'latin1');
  b.write(octal(h.mtime, 12), 136, 'latin1');
  b.write('        ', 148, 'latin1');
  b.write(h.flag, 156, 'latin1');
  b.write(h.linkname, 157, 100, 'utf8');
  b.write('ustar\u0000', 257, 'latin1');
  b.write('00', 263, 'latin1');
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i]!;
  b.write(octal(sum, 7), 148, 'latin1');
  b[155] = 0x20;
  return b;
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}
