// lxts snapshot (lxc-snapshot): snapshots live in <dir>/snaps/snapN/, each one laid out like
// a container of its own in the lxtspath <dir>/snaps (config, rootfs or overlay/delta, plus
// `ts` and `comment`), as LXC does — `lxts start -P <dir>/snaps snap0` would run it.
//
// A snapshot of a directory container is a full copy (cp -a --reflink=auto: a CoW clone on
// btrfs/xfs): an overlay over the live rootfs would change whenever the container does. A
// snapshot of an overlay container copies its writable layer over the same lower layers,
// as LXC does. The container must be stopped: a copy of a live rootfs is not consistent.
import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { Container, removeTree } from '../container.js';
import { LxtsError, ExitCode } from '../errors.js';
import { validateName } from '../names.js';
import { assertNoDependents, copyLocked, copyTree, lockContainer, requireStopped, rewriteConfig, unregisterFromOrigin } from './copy.js';
import { overlayRootfsPath } from './overlay.js';

export interface SnapshotInfo {
  name: string;
  /** The snapshot's dir: <dir>/snaps/snapN. */
  path: string;
  /** When it was taken (ISO 8601), from its `ts` file. */
  timestamp: string | null;
  comment: string | null;
  kind: 'dir' | 'overlay';
}

export function snapsPath(c: Container): string {
  return `${c.paths.dir}/snaps`;
}

function snapContainer(c: Container, snap: string): Container {
  const name = validateName(snap);
  return new Container(name, { lxtspath: snapsPath(c), rundir: c.loc.rundir });
}

function readOpt(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').replace(/\n$/, '');
  } catch {
    return null;
  }
}

function requireContainer(c: Container): void {
  if (!c.exists()) throw new LxtsError(`no container named "${c.name}" in ${c.loc.lxtspath}`, ExitCode.GENERIC, 'see `lxts ls`');
}

export function listSnapshots(c: Container): SnapshotInfo[] {
  requireContainer(c);
  let names: string[];
  try {
    names = readdirSync(snapsPath(c));
  } catch {
    return [];
  }
  return names
    .filter((n) => /^snap\d+$/.test(n) && existsSync(`${snapsPath(c)}/${n}/config`))
    .sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)))
    .map((n) => {
      const dir = `${snapsPath(c)}/${n}`;
      const cfg = readFileSync(`${dir}/config`, 'utf8');
      return {
        name: n,
        path: dir,
        timestamp: readOpt(`${dir}/ts`),
        comment: readOpt(`${dir}/comment`),
        kind: /^\s*lxc\.rootfs(\.path)?\s*=\s*overlay(fs)?:/m.test(cfg) ? 'overlay' : 'dir',
      };
    });
}

/** Take a snapshot of a stopped container: snap0, snap1, ... */
export async function createSnapshot(c: Container, opts: { comment?: string } = {}): Promise<SnapshotInfo> {
  const lock = await lockContainer(c);
  try {
    requireContainer(c);
    await requireStopped(c, 'a snapshot of a running container would not be consistent');
    let next = 0;
    try {
      for (const n of readdirSync(snapsPath(c))) {
        const m = /^snap(\d+)$/.exec(n);
        if (m) next = Math.max(next, Number(m[1]) + 1);
      }
    } catch {
      /* no snaps dir yet */
    }
    const snap = snapContainer(c, `snap${next}`);
    const { stored } = c.loadSpec('start');
    const overlay = stored.rootfs?.backend === 'overlay';
    const ts = new Date().toISOString();
    await copyLocked(c, snap, { snapshot: overlay, header: `snapshot ${snap.name} of ${c.name}, taken by lxts snapshot on ${ts}` });
    try {
      writeFileSync(`${snap.paths.dir}/ts`, ts + '\n');
      if (opts.comment) writeFileSync(`${snap.paths.dir}/comment`, opts.comment.replace(/\n?$/, '\n'));
    } catch (err) {
      unregisterFromOrigin(snap);
      removeTree(snap.paths.dir);
      throw err;
    }
    return { name: snap.name, path: snap.paths.dir, timestamp: ts, comment: opts.comment ?? null, kind: overlay ? 'overlay' : 'dir' };
  } finally {
    lock.release();
  }
}

function requireSnapshot(c: Container, snap: string): Container {
  const s = snapContainer(c, snap);
  if (!s.exists()) {
    const have = listSnapshots(c).map((x) => x.name);
    throw new LxtsError(`container "${c.name}" has no snapshot "${snap}"`, ExitCode.GENERIC, have.length ? `its snapshots: ${have.join(', ')}` : 'it has no snapshots');
  }
  return s;
}

export async function destroySnapshot(c: Container, snap: string): Promise<void> {
  const lock = await lockContainer(c);
  try {
    requireContainer(c);
    const s = requireSnapshot(c, snap);
    assertNoDependents(s, 'destroy snapshot');
    unregisterFromOrigin(s);
    removeTree(s.paths.dir);
  } finally {
    lock.release();
  }
}

/**
 * Restore a snapshot: into a new container `newName` (a copy; an overlay snapshot gives an
 * overlay copy over the same lower layers), or into the container itself (stopped), whose
 * rootfs (or writable layer) and config are replaced by the snapshot's.
 */
export async function restoreSnapshot(c: Container, snap: string, opts: { newName?: string } = {}): Promise<Container> {
  if (opts.newName !== undefined) {
    requireContainer(c);
    const s = requireSnapshot(c, snap);
    const dest = new Container(opts.newName, c.loc);
    const overlay = s.loadSpec('start').stored.rootfs?.backend === 'overlay';
    const sl = await lockContainer(s);
    try {
      const dl = await lockContainer(dest);
      try {
        await copyLocked(s, dest, { snapshot: overlay, header: `restored from snapshot ${snap} of ${c.name} by lxts snapshot on ${new Date().toISOString()}` });
      } finally {
        dl.release();
      }
    } finally {
      sl.release();
    }
    return dest;
  }
  const lock = await lockContainer(c);
  try {
    requireContainer(c);
    const s = requireSnapshot(c, snap);
    await requireStopped(c, 'restoring a snapshot replaces its root filesystem');
    const cur = c.loadSpec('start').stored.rootfs;
    const from = s.loadSpec('start').stored.rootfs;
    if (!cur || !from) throw new LxtsError(`cannot restore: no lxc.rootfs.path in ${!cur ? c.paths.config : s.paths.config}`, ExitCode.CONFIG);
    let target: string;
    let source: string;
    let rootfs: string;
    if (from.backend === 'dir') {
      // The rootfs others may layer on is about to change under them.
      assertNoDependents(c, 'restore');
      target = cur.backend === 'dir' ? cur.path : c.paths.rootfs;
      source = from.path;
      rootfs = `dir:${target}`;
    } else {
      if (cur.backend !== 'overlay') throw new LxtsError(`cannot restore overlay snapshot ${snap} into "${c.name}", whose rootfs is a directory`, ExitCode.GENERIC, `restore it as a new container: lxts snapshot ${c.name} -r ${snap} -N NEWNAME`);
      target = cur.upper;
      source = from.upper;
      rootfs = overlayRootfsPath(from.lower.split(':'), target);
    }
    const config = rewriteConfig(readFileSync(s.paths.config, 'utf8'), s.paths.config, {
      name: c.name, srcDir: s.paths.dir, destDir: c.paths.dir, rootfs, newMacs: false,
      header: `restored from snapshot ${snap} by lxts snapshot on ${new Date().toISOString()}`,
    }).replace(/^# snapshot [^\n]*\n/m, '');
    // Copy beside the target, then swap with two renames: a failed copy changes nothing.
    const tmp = `${dirname(target)}/.${basename(target)}.restore-${process.pid}`;
    const old = `${dirname(target)}/.${basename(target)}.old-${process.pid}`;
    try {
      await copyTree(source, tmp);
    } catch (err) {
      if (existsSync(tmp)) removeTree(tmp);
      throw err;
    }
    const had = existsSync(target);
    if (had) renameSync(target, old);
    try {
      renameSync(tmp, target);
      const cfgTmp = `${c.paths.config}.${process.pid}.tmp`;
      writeFileSync(cfgTmp, config, { mode: 0o600 });
      renameSync(cfgTmp, c.paths.config);
    } catch (err) {
      if (existsSync(target) && had) removeTree(target);
      if (had) renameSync(old, target);
      if (existsSync(tmp)) removeTree(tmp);
      throw err;
    }
    if (had) removeTree(old);
    return c;
  } finally {
    lock.release();
  }
}
