// Overlay rootfs: LXC's `lxc.rootfs.path = overlay:LOWER[:LOWER...]:UPPER`. The overlay
// itself is mounted by the plan (src/plan/compile.ts) inside the container's own mount
// namespace; what the host side does is only what LXC's ovl_mount does before mounting:
// check the lower layers and create UPPER and the workdir beside it if they are missing.
import { mkdirSync, statSync } from 'node:fs';
import type { ContainerSpec, RootfsSpec } from '../spec.js';
import { LxtsError, ExitCode } from '../errors.js';
import { STAGING_DIR } from '../launch.js';

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
  if (spec.rootfs.kind !== 'overlay') return;
  prepareOverlay(spec.rootfs);
  mkdirSync(STAGING_DIR, { recursive: true, mode: 0o700 });
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
