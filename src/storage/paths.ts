// Where containers live. Persistent: <lxtspath>/NAME/{config,rootfs} (LXC's layout, base
// path from -P/--lxtspath or LXTS_PATH). Runtime: <rundir>/NAME/ (monitor socket, pid,
// exit status, console log, lock). Every path is built from a validated name.
import { join } from 'node:path';
import { validateName } from '../names.js';

export const DEFAULT_LXTSPATH = '/var/lib/lxts';
export const DEFAULT_RUNDIR = '/run/lxts';

export interface Locations {
  lxtspath: string;
  rundir: string;
}

export function locations(opts: Partial<Locations> = {}): Locations {
  return {
    lxtspath: opts.lxtspath ?? process.env.LXTS_PATH ?? DEFAULT_LXTSPATH,
    rundir: opts.rundir ?? process.env.LXTS_RUNDIR ?? DEFAULT_RUNDIR,
  };
}

export interface ContainerPaths {
  dir: string;
  config: string;
  rootfs: string;
  run: string;
  sock: string;
  monitorPid: string;
  exit: string;
  consoleLog: string;
  lock: string;
  /** What the start wrote for later commands: cgroup parent, init pid, start time. */
  runtime: string;
}

export function containerPaths(name: string, loc: Locations): ContainerPaths {
  validateName(name);
  const dir = join(loc.lxtspath, name);
  // Runtime dirs of containers from different lxtspaths must not collide: the default
  // path keeps LXC's plain NAME, any other one gets a short hash of its lxtspath.
  const run = join(loc.rundir, loc.lxtspath === DEFAULT_LXTSPATH ? name : `${name}.${hash(loc.lxtspath)}`);
  return {
    dir,
    config: join(dir, 'config'),
    rootfs: join(dir, 'rootfs'),
    run,
    sock: join(run, 'monitor.sock'),
    monitorPid: join(run, 'monitor.pid'),
    exit: join(run, 'exit'),
    consoleLog: join(run, 'console.log'),
    lock: join(loc.rundir, `.${name}.${hash(loc.lxtspath)}.lock`),
    runtime: join(run, 'runtime.json'),
  };
}

/** FNV-1a, 8 hex digits: a stable short tag, not a security measure. */
export function hash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
