// Overlay rootfs: LXC's `lxc.rootfs.path = overlay:LOWER[:LOWER...]:UPPER`. The overlay
// itself is mounted by the plan (src/plan/compile.ts) inside the container's own mount
// namespace; what the host side does is only what LXC's ovl_mount does before mounting:
// check the lower layers and create UPPER and the workdir beside it if they are missing.
import { mkdirSync, statSync, lstatSync, realpathSync } from 'node:fs';
import type { ContainerSpec, RootfsSpec } from '../spec.js';
import { LxtsError, ExitCode } from '../errors.js';
import { ensureStagingDir } from '../launch.js';

/** Where a snapshot copy keeps its writable layer and workdir (LXC's LXC_OVERLAY_DELTA_PATH / _WORK_PATH). */
export const OVERLAY_DELTA = 'overlay/delta';
export const OVERLAY_WORK = 'overlay/work';

/** The `lxc.rootfs.path` value of an overlay: overlay:L1:L2:UPPER (L1 topmost). */
export function overlayRootfsPath(lower: string[], upper: string): string {
  return `overlay:${lower.join(':')}:${upper}`;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Host-side preparation of a spec's rootfs before a start: for an overlay, every lower layer
 * must be a directory; UPPER, the workdir and the (empty) staging mount point are created if
 * missing. Nothing is mounted here.
 */
export function prepareRootfs(spec: ContainerSpec): void {
  if (spec.rootfs.kind === 'dir') checkRootfsDir(spec.rootfs.path!);
  if (spec.rootfs.kind !== 'overlay') return;
  for (const d of spec.rootfs.lower ?? []) checkRootfsDir(d);
  prepareOverlay(spec.rootfs);
  ensureStagingDir();
}

export function prepareOverlay(r: RootfsSpec): void {
  for (const l of r.lower ?? []) {
    if (!isDir(l)) throw new LxtsError(`overlay rootfs: the lower layer ${l} does not exist or is not a directory`, ExitCode.CONFIG, 'was the container it was copied from destroyed or moved?');
  }
  for (const d of [r.upper, r.work]) {
    if (!d) throw new LxtsError('overlay rootfs: no upper dir', ExitCode.CONFIG);
    mkdirSync(d, { recursive: true, mode: 0o755 });
  }
}

/**
 * A configured rootfs must be what it says: a directory that is not itself a symlink (a
 * rootfs dir swapped for a link to / would hand the host's root to the container), and never
 * the host's root. Links higher up the path (e.g. /var/lib on another disk) are fine.
 */
export function checkRootfsDir(path: string): void {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new LxtsError(`rootfs ${path} does not exist`, ExitCode.CONFIG, 'check lxc.rootfs.path in the container\'s config');
  }
  if (real === '/') throw new LxtsError(`rootfs ${path} is the host's root directory`, ExitCode.CONFIG, 'lxc.rootfs.path must name the container\'s own root filesystem');
  if (lstatSync(path).isSymbolicLink()) throw new LxtsError(`rootfs ${path} escapes through a symlink to ${real}`, ExitCode.CONFIG, 'name the real directory in lxc.rootfs.path, or replace the link by the directory');
  if (!isDir(real)) throw new LxtsError(`rootfs ${path} is not a directory`, ExitCode.CONFIG);
}
