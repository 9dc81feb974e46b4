// lxts copy (lxc-copy): a full copy of a container, or an overlay "snapshot copy" whose
// rootfs is a writable layer over the origin's. Also the tree-copy and dependency helpers
// that snapshots (snapshot.ts) share.
//
// Copying files: `cp -a --reflink=auto --one-file-system` (GNU coreutils). -a keeps owners
// (numerically), modes, timestamps, xattrs (file capabilities, ACLs, overlayfs' trusted.*
// opaque markers), hard links within the tree, symlinks as symlinks and device nodes, fifos
// and sockets as such; --reflink=auto makes the copy a CoW clone on btrfs/xfs and a plain
// copy elsewhere; --one-file-system never follows a mount point out of the tree. tar would
// need --xattrs --acls --numeric-owner --hard-dereference care and a pipe; rsync (LXC's
// choice) is not always installed.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Container, removeTree } from '../container.js';
import { acquireLock, type Lock } from './lock.js';
import { parseConfig, parseLine } from '../config/lxc-parse.js';
import { setKey, serialize } from '../config/lxc-write.js';
import { LxtsError, ExitCode, usageError } from '../errors.js';
import { OVERLAY_DELTA, OVERLAY_WORK, overlayRootfsPath } from './overlay.js';

/** In an origin's dir: its snapshot copies, two lines each (lxtspath, name); LXC's lxc_snapshots. */
export const DEPENDENTS_FILE = 'lxts_snapshots';
/** In a snapshot copy's dir: the origin whose rootfs it layers on (lxtspath, name); LXC's lxc_rdepends. */
export const ORIGIN_FILE = 'lxts_rdepends';

export interface CopyOptions {
  /** lxtspath of the new container (default: the origin's; lxc-copy -p). */
  newPath?: string;
  /** The new rootfs is an overlay over the origin's (the origin must stay). */
  snapshot?: boolean;
  /** An overlay copy, started now and destroyed when it stops (lxc.ephemeral = 1). */
  ephemeral?: boolean;
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    child.on('error', (e) => reject(new LxtsError(`cannot run ${cmd}: ${e.message}`)));
    child.on('close', (code, sig) => {
      if (code === 0) resolve();
      else {
        const why = err.trim().split('\n').slice(0, 3).join('; ');
        reject(new LxtsError(sig ? `${cmd} was interrupted (${sig}); nothing was kept` : `${cmd} failed (exit ${code})${why ? ': ' + why : ''}`, sig ? 130 : ExitCode.GENERIC));
      }
    });
  });
}

function mountsBelow(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\040/g, ' '))
    .filter((m) => m === dir || m.startsWith(dir + '/'));
}

/** Copy the tree at `src` to `dest` (which must not exist) with everything a rootfs needs. */
export async function copyTree(src: string, dest: string): Promise<void> {
  if (!existsSync(src)) throw new LxtsError(`cannot copy ${src}: it does not exist`);
  const m = mountsBelow(src).filter((p) => p !== src);
  if (m.length) throw new LxtsError(`refusing to copy ${src}: ${m[0]} is mounted below it`, ExitCode.GENERIC, 'unmount it first');
  if (existsSync(dest)) throw new LxtsError(`cannot copy to ${dest}: it exists`);
  await run('cp', ['-a', '--reflink=auto', '--one-file-system', '--', src, dest]);
}

/**
 * Copy the merged view of an overlay (UPPER on LOWER...) into `dest`, as a plain directory.
 * The overlay is mounted read-only (UPPER as the topmost lower layer: its whiteouts and opaque
 * dirs apply, nothing is written) in a private mount namespace of its own that ends with the
 * copy: the host's mount table never sees it.
 */
export async function flattenOverlay(lower: string[], upper: string, dest: string, scratch: string): Promise<void> {
  if (existsSync(dest)) throw new LxtsError(`cannot copy to ${dest}: it exists`);
  mkdirSync(scratch, { mode: 0o700 });
  try {
    await run('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c',
      'mount -t overlay -o "ro,lowerdir=$1" overlay "$2" && exec cp -a --reflink=auto --one-file-system -- "$2" "$3"',
      'sh', [upper, ...lower].join(':'), scratch, dest]);
  } finally {
    rmdirSync(scratch);
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface RewriteOptions {
  name: string;
  /** Paths below srcDir in any value become the same paths below destDir (log files, fstab, hooks). */
  srcDir: string;
  destDir: string;
  /** The new lxc.rootfs.path value. */
  rootfs: string;
  ephemeral?: boolean;
  /** A comment line put first. */
  header?: string;
  /** Give fixed MAC addresses a new random host part (LXC does unless --keepmac). */
  newMacs?: boolean;
}

/** The copied config: every untouched line byte-for-byte, comments kept. */
export function rewriteConfig(text: string, file: string, o: RewriteOptions): string {
  const doc = parseConfig(text, file);
  const re = new RegExp(escapeRe(o.srcDir.replace(/\/+$/, '')) + '(?=/|$|[\\s:,])', 'g');
  doc.lines = doc.lines.map((l) => {
    if (l.type !== 'entry' || l.key === 'lxc.rootfs.path' || !re.test(l.value)) return l;
    re.lastIndex = 0;
    return { ...parseLine(l.raw.replace(re, o.destDir.replace(/\/+$/, '')), l.file, l.line), eol: l.eol };
  });
  setKey(doc, 'lxc.uts.name', o.name);
  setKey(doc, 'lxc.rootfs.path', o.rootfs);
  if (o.ephemeral) setKey(doc, 'lxc.ephemeral', '1');
  if (o.newMacs !== false) {
    const macKeys = new Set(doc.lines.filter((l) => l.type === 'entry' && /^lxc\.net\.\d+\.hwaddr$/.test(l.key)).map((l) => (l as { key: string }).key));
    for (const k of macKeys) {
      const last = [...doc.lines].reverse().find((l) => l.type === 'entry' && l.key === k) as { value: string } | undefined;
      const m = /^([0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}):[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/i.exec(last?.value ?? '');
      if (m) setKey(doc, k, `${m[1]}:${[...randomBytes(3)].map((b) => b.toString(16).padStart(2, '0')).join(':')}`);
    }
  }
  const eol = doc.lines.find((l) => l.eol !== '')?.eol ?? '\n';
  return (o.header ? `# ${o.header}${eol}` : '') + serialize(doc);
}

function writeAtomic(file: string, data: string, mode = 0o600): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode });
  renameSync(tmp, file);
}

// ---- dependencies between an origin and its overlay copies ----

interface Ref {
  lxtspath: string;
  name: string;
}

function readPairs(file: string): Ref[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n');
  const out: Ref[] = [];
  for (let i = 0; i + 1 < lines.length; i += 2) if (lines[i] && lines[i + 1]) out.push({ lxtspath: lines[i]!, name: lines[i + 1]! });
  return out;
}

function pairsText(refs: Ref[]): string {
  return refs.map((r) => `${r.lxtspath}\n${r.name}\n`).join('');
}

/** The container whose rootfs this overlay copy layers on, if it was made by lxts copy/snapshot. */
export function originOf(c: Container): Container | undefined {
  const [r] = readPairs(`${c.paths.dir}/${ORIGIN_FILE}`);
  if (!r) return undefined;
  try {
    return new Container(r.name, { lxtspath: r.lxtspath, rundir: c.loc.rundir });
  } catch {
    return undefined;
  }
}

function sameRef(c: Container, r: Ref): boolean {
  return c.loc.lxtspath === r.lxtspath && c.name === r.name;
}

/** Overlay copies that still use `c`'s rootfs as their lower layer ("NAME in PATH"). */
export function liveDependents(c: Container): string[] {
  return readPairs(`${c.paths.dir}/${DEPENDENTS_FILE}`)
    .filter((r) => {
      try {
        const d = new Container(r.name, { lxtspath: r.lxtspath, rundir: c.loc.rundir });
        const o = originOf(d);
        return d.exists() && !!o && sameRef(o, { lxtspath: c.loc.lxtspath, name: c.name });
      } catch {
        return false;
      }
    })
    .map((r) => (r.lxtspath === c.loc.lxtspath ? r.name : `${r.name} (in ${r.lxtspath})`));
}

/** Refuse to destroy or overwrite a rootfs that overlay copies are built on. */
export function assertNoDependents(c: Container, action: string): void {
  const deps = liveDependents(c);
  if (deps.length) {
    throw new LxtsError(`cannot ${action} "${c.name}": its rootfs is the lower layer of the snapshot cop${deps.length > 1 ? 'ies' : 'y'} ${deps.join(', ')}`, ExitCode.GENERIC,
      `destroy ${deps.length > 1 ? 'them' : 'it'} first (lxts destroy ${deps[0]!.split(' ')[0]}${deps[0]!.includes(' (in ') ? ' -P ' + deps[0]!.replace(/^.* \(in (.*)\)$/, '$1') : ''})`);
  }
}

function register(origin: Container, dep: Container): void {
  const file = `${origin.paths.dir}/${DEPENDENTS_FILE}`;
  const refs = readPairs(file).filter((r) => !sameRef(dep, r));
  refs.push({ lxtspath: dep.loc.lxtspath, name: dep.name });
  writeAtomic(file, pairsText(refs), 0o644);
}

/** Take a (destroyed or destroying) overlay copy out of its origin's list. */
export function unregisterFromOrigin(dep: Container): void {
  const origin = originOf(dep);
  if (!origin) return;
  const file = `${origin.paths.dir}/${DEPENDENTS_FILE}`;
  if (!existsSync(file)) return;
  const refs = readPairs(file).filter((r) => !sameRef(dep, r));
  try {
    if (refs.length) writeAtomic(file, pairsText(refs), 0o644);
    else rmSync(file, { force: true });
  } catch {
    /* the origin went away meanwhile */
  }
}

// ---- the copy ----

async function requireStopped(c: Container, why: string, hint?: string): Promise<void> {
  const st = await c.state();
  if (st.state !== 'STOPPED') {
    throw new LxtsError(`container "${c.name}" is ${st.state.toLowerCase()}: ${why}`, ExitCode.GENERIC, `stop it first: lxts stop ${c.name}${c.loc.lxtspath !== '/var/lib/lxts' ? ' -P ' + c.loc.lxtspath : ''}${hint ? ` (${hint})` : ''}`);
  }
}

export function lockContainer(c: Container): Promise<Lock> {
  return acquireLock(c.paths.lock, `container "${c.name}"`);
}

/**
 * Copy `src` to a new container `dest` (both locked by the caller, src stopped). A failure
 * leaves nothing behind: the new dir is removed and the origin's list restored.
 */
export async function copyLocked(src: Container, dest: Container, o: { snapshot?: boolean; ephemeral?: boolean; header: string }): Promise<void> {
  if (!src.exists()) throw new LxtsError(`no container named "${src.name}" in ${src.loc.lxtspath}`, ExitCode.GENERIC, 'see `lxts ls`');
  if (existsSync(dest.paths.dir)) throw new LxtsError(`container "${dest.name}" already exists in ${dest.loc.lxtspath}`, ExitCode.GENERIC);
  const { stored } = src.loadSpec('start');
  const r = stored.rootfs;
  if (!r) throw new LxtsError(`container "${src.name}" has no lxc.rootfs.path: nothing to copy`, ExitCode.CONFIG);
  mkdirSync(dest.loc.lxtspath, { recursive: true, mode: 0o755 });
  mkdirSync(dest.paths.dir, { mode: 0o770 });
  let origin: Container | undefined;
  try {
    let rootfs: string;
    const delta = `${dest.paths.dir}/${OVERLAY_DELTA}`;
    const work = `${dest.paths.dir}/${OVERLAY_WORK}`;
    if (r.backend === 'dir') {
      if (o.snapshot) {
        // Only the writable layer is new; the origin's rootfs is the (read-only) lower.
        mkdirSync(delta, { recursive: true, mode: 0o755 });
        mkdirSync(work, { mode: 0o755 });
        rootfs = overlayRootfsPath([r.path], delta);
        origin = src;
      } else {
        await copyTree(r.path, dest.paths.rootfs);
        rootfs = `dir:${dest.paths.rootfs}`;
      }
    } else {
      const lower = r.lower.split(':');
      if (o.snapshot) {
        // As LXC does: the new copy gets a copy of the writable layer over the same lowers.
        mkdirSync(`${dest.paths.dir}/overlay`, { mode: 0o755 });
        await copyTree(r.upper, delta);
        mkdirSync(work, { mode: 0o755 });
        rootfs = overlayRootfsPath(lower, delta);
        origin = originOf(src);
      } else {
        await flattenOverlay(lower, r.upper, dest.paths.rootfs, `${dest.paths.dir}/.flatten`);
        rootfs = `dir:${dest.paths.rootfs}`;
      }
    }
    const text = rewriteConfig(readFileSync(src.paths.config, 'utf8'), src.paths.config, {
      name: dest.name, srcDir: src.paths.dir, destDir: dest.paths.dir, rootfs, ephemeral: o.ephemeral, header: o.header,
    });
    writeAtomic(dest.paths.config, text);
    if (origin) {
      writeFileSync(`${dest.paths.dir}/${ORIGIN_FILE}`, pairsText([{ lxtspath: origin.loc.lxtspath, name: origin.name }]), { mode: 0o644 });
      register(origin, dest);
    }
  } catch (err) {
    if (origin) {
      try {
        unregisterFromOrigin(dest);
      } catch {
        /* best effort */
      }
    }
    removeTree(dest.paths.dir);
    throw err;
  }
}

/**
 * lxts copy: NAME -> NEW. The origin must be stopped (a copy of a live rootfs is not
 * consistent, and an overlay over a rootfs that is being written is undefined). With
 * `ephemeral`, the copy is started (in the background) and destroyed when it stops.
 */
export async function copyContainer(src: Container, newName: string, opts: CopyOptions = {}): Promise<{ container: Container; pid?: number; warnings: string[] }> {
  const dest = new Container(newName, { lxtspath: opts.newPath ?? src.loc.lxtspath, rundir: src.loc.rundir });
  if (dest.paths.dir === src.paths.dir) throw usageError('cannot copy a container onto itself');
  const snapshot = !!(opts.snapshot || opts.ephemeral);
  const srcLock = await lockContainer(src);
  try {
    const destLock = await lockContainer(dest);
    try {
      if (!src.exists()) throw new LxtsError(`no container named "${src.name}" in ${src.loc.lxtspath}`, ExitCode.GENERIC, 'see `lxts ls`');
      await requireStopped(src, snapshot ? 'an overlay snapshot copy needs a stopped origin (its rootfs becomes the copy\'s lower layer)' : 'a copy of a running container\'s rootfs would not be consistent');
      const kind = opts.ephemeral ? 'ephemeral overlay copy' : snapshot ? 'overlay snapshot copy' : 'copy';
      await copyLocked(src, dest, { snapshot, ephemeral: opts.ephemeral, header: `${kind} of ${src.name} (${src.paths.dir}), made by lxts copy on ${new Date().toISOString()}` });
    } finally {
      destLock.release();
    }
  } finally {
    srcLock.release();
  }
  if (!opts.ephemeral) return { container: dest, warnings: [] };
  try {
    const { pid, warnings } = await dest.start();
    return { container: dest, pid, warnings };
  } catch (err) {
    unregisterFromOrigin(dest);
    removeTree(dest.paths.dir);
    throw err;
  }
}

export { requireStopped };
