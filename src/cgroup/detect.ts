// Which cgroup version serves which controller, where it is mounted, and where this process
// sits in each hierarchy. Pure v1, pure v2 and hybrid (v1 controllers beside a cgroup2 mount).
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Controllers lxts manages. v1 names; on v2 blkio is "io" and freezer is core (cgroup.freeze). */
export const V1_CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'blkio', 'pids', 'freezer', 'devices'] as const;
export const V2_CONTROLLERS = ['cpu', 'cpuset', 'memory', 'io', 'pids'] as const;

export interface ControllerInfo {
  /** Controller name as the serving version spells it (v1: blkio, freezer; v2: io). */
  name: string;
  version: 1 | 2;
  /** Mount point of the hierarchy (absolute, includes any test root prefix). */
  mount: string;
  /** This process's cgroup in that hierarchy, relative to the mount ("/" = root of the mount). */
  ownPath: string;
  /** mount + ownPath. */
  ownDir: string;
}

export interface V1Hierarchy {
  mount: string;
  /** Controllers co-mounted on this hierarchy (e.g. ["cpu","cpuacct"]). */
  controllers: string[];
  ownPath: string;
  ownDir: string;
}

export interface V2Hierarchy {
  mount: string;
  ownPath: string;
  ownDir: string;
  /** Controllers in the root's cgroup.controllers (those not bound to a v1 hierarchy). */
  rootControllers: string[];
}

export interface CgroupHost {
  layout: 'v1' | 'v2' | 'hybrid' | 'none';
  /** Per logical controller (cpu, cpuacct, cpuset, memory, io, pids, freezer, devices): who serves it. */
  controllers: Record<string, ControllerInfo>;
  v1: V1Hierarchy[];
  v2?: V2Hierarchy;
  /** Built from a temporary directory laid out like a cgroup tree (tests): rmdir also removes plain files. */
  fakeTree?: boolean;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

interface MountEntry { root: string; mountPoint: string; fstype: string; superOpts: string[] }

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const a = line.slice(0, sep).split(' ');
    const b = line.slice(sep + 3).split(' ');
    if (a.length < 5 || b.length < 3) continue;
    out.push({ root: unescapeMount(a[3]!), mountPoint: unescapeMount(a[4]!), fstype: b[0]!, superOpts: b[2]!.split(',') });
  }
  return out;
}

/** /proc/self/cgroup -> map "controller list" -> path; v2 under key "" (hierarchy 0). */
export function parseProcCgroup(text: string): { v1: Map<string, string>; v2?: string } {
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') v2 = m[3]!;
    else for (const c of m[2]!.split(',')) if (c) v1.set(c, m[3]!);
  }
  return v2 === undefined ? { v1 } : { v1, v2 };
}

/** Path of `own` relative to the mount's root (a cgroup namespace or a bind mount of a subtree). */
function relativeToMountRoot(own: string, mountRoot: string): string {
  if (mountRoot === '/' || mountRoot === '') return own || '/';
  if (own === mountRoot) return '/';
  if (own.startsWith(mountRoot + '/')) return own.slice(mountRoot.length);
  return own || '/';
}

function joinDir(mount: string, own: string): string {
  return own === '/' ? mount : path.join(mount, own);
}

export interface DetectSources {
  /** Contents of /proc/self/mountinfo. */
  mountinfo: string;
  /** Contents of /proc/self/cgroup. */
  procCgroup: string;
  /** Prefix for every mount point (a temporary directory laid out like /sys/fs/cgroup), for tests. */
  rootPrefix?: string;
}

/** Build the host description from mountinfo + /proc/self/cgroup (reads the v2 root's cgroup.controllers). */
export function parseCgroupHost(src: DetectSources): CgroupHost {
  const prefix = src.rootPrefix ?? '';
  const own = parseProcCgroup(src.procCgroup);
  const controllers: Record<string, ControllerInfo> = {};
  const v1: V1Hierarchy[] = [];
  let v2: V2Hierarchy | undefined;
  const seen = new Set<string>();
  for (const m of parseMountinfo(src.mountinfo)) {
    if (m.fstype === 'cgroup') {
      const ctrls = m.superOpts.filter((o) => (V1_CONTROLLERS as readonly string[]).includes(o));
      if (ctrls.length === 0) continue; // name=systemd and friends: no controller
      const key = ctrls.slice().sort().join(',');
      if (seen.has(key)) continue;
      seen.add(key);
      const mount = prefix + m.mountPoint;
      const ownPath = relativeToMountRoot(own.v1.get(ctrls[0]!) ?? '/', m.root);
      const h: V1Hierarchy = { mount, controllers: ctrls, ownPath, ownDir: joinDir(mount, ownPath) };
      v1.push(h);
      for (const c of ctrls) controllers[c] = { name: c, version: 1, mount, ownPath, ownDir: h.ownDir };
    } else if (m.fstype === 'cgroup2' && !v2) {
      const mount = prefix + m.mountPoint;
      let rootControllers: string[] = [];
      try {
        rootControllers = fs.readFileSync(path.join(mount, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
      } catch { /* unreadable: no controllers */ }
      const ownPath = relativeToMountRoot(own.v2 ?? '/', m.root);
      // A process started from a parked lxts (the monitor, its post-stop hook) inherits the
      // leaf `<own>/<parent>/.lxts-host`: its lxts base is still <own>.
      const base = ownPath.replace(/\/[^/]+\/\.lxts-host$/, '') || '/';
      v2 = { mount, ownPath: base, ownDir: joinDir(mount, base), rootControllers };
    }
  }
  if (v2) {
    for (const c of V2_CONTROLLERS) {
      const v1name = c === 'io' ? 'blkio' : c;
      if (controllers[v1name]) continue; // bound to v1: cannot be on v2 at the same time
      if (v2.rootControllers.includes(c)) {
        const info: ControllerInfo = { name: c, version: 2, mount: v2.mount, ownPath: v2.ownPath, ownDir: v2.ownDir };
        controllers[c] = info;
        if (c === 'io') controllers.blkio = info;
        if (c === 'cpu' && !controllers.cpuacct) controllers.cpuacct = info; // v2 cpu.stat is always there
      }
    }
    // freeze and kill are core cgroup2 files, no controller needed
    if (!controllers.freezer) controllers.freezer = { name: 'freeze', version: 2, mount: v2.mount, ownPath: v2.ownPath, ownDir: v2.ownDir };
    if (!controllers.cpuacct) controllers.cpuacct = { name: 'cpu', version: 2, mount: v2.mount, ownPath: v2.ownPath, ownDir: v2.ownDir };
  }
  if (controllers.blkio && !controllers.io) controllers.io = controllers.blkio;
  const hasV1 = v1.length > 0;
  const layout: CgroupHost['layout'] = hasV1 ? (v2 ? 'hybrid' : 'v1') : v2 ? 'v2' : 'none';
  const host: CgroupHost = v2 ? { layout, controllers, v1, v2 } : { layout, controllers, v1 };
  if (src.rootPrefix) host.fakeTree = true;
  return host;
}

let cached: CgroupHost | undefined;

/** The running host's layout (cached for the life of the process). */
export function detectCgroupHost(): CgroupHost {
  if (!cached) {
    cached = parseCgroupHost({
      mountinfo: fs.readFileSync('/proc/self/mountinfo', 'utf8'),
      procCgroup: fs.readFileSync('/proc/self/cgroup', 'utf8'),
    });
  }
  return cached;
}

/** Forget the cached layout (tests). */
export function resetCgroupHostCache(): void {
  cached = undefined;
}
