// ContainerSpec -> LaunchPlan. Pure: everything it needs from the host (the host template's
// layout, the staging directory) comes in through CompileContext, so the same spec always
// compiles to the same plan and tests can golden-check it without root.
import { DEFAULT_ENV, type ContainerSpec, type MountSpec } from '../spec.js';
import type { LaunchPlan, PlanStep } from './encode.js';
import { CLONE, MS, RLIMIT } from './ops.js';
import type { OpName } from './ops.js';
import { capabilityMask, CAPABILITIES, maskToNames } from '../security/capabilities.js';
import { defaultFilter, encodeFilter } from '../security/seccomp.js';
import { checkIdMap } from '../userns.js';
import { hostTemplateEtcFiles, type HostLayout } from '../template/host-layout.js';
import { LxtsError, ExitCode } from '../errors.js';

export interface CompileContext {
  /** Host layout for the `host` rootfs kind. */
  hostLayout?: HostLayout;
  /** An existing empty host directory the in-memory rootfs is mounted on (only inside the container's mount namespace). */
  stagingDir?: string;
  /** Kill the container when the calling process dies (foreground runs). */
  dieWithParent?: boolean;
  /**
   * Mount the container's own cgroup tree read-only at /sys/fs/cgroup (pure cgroup v2 hosts,
   * with a cgroup namespace: the container sees its own cgroup as the root).
   */
  cgroup2Mount?: boolean;
  /** Detached start: lxts-exec stays as the container's monitor (docs/plan-format.md). */
  monitor?: MonitorContext;
}

export interface MonitorContext {
  /** Runtime dir: monitor.sock, monitor.pid, exit. */
  dir: string;
  /** Console log file ('' for none) and the size of the in-memory ring buffer. */
  consoleLog: string;
  ringBytes: number;
  /** Run by the monitor after the container's init exited (clean-up in TypeScript). */
  onExit?: string[];
}

const NS_FLAGS: Record<string, number> = {
  pid: CLONE.NEWPID,
  mount: CLONE.NEWNS,
  uts: CLONE.NEWUTS,
  ipc: CLONE.NEWIPC,
  net: CLONE.NEWNET,
  user: CLONE.NEWUSER,
};

const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];

export function compilePlan(spec: ContainerSpec, ctx: CompileContext = {}): LaunchPlan {
  const steps: PlanStep[] = [];
  const add = (op: OpName, ...args: (string | number | bigint | Buffer)[]): void => {
    steps.push({ op, args: args.map((a) => (Buffer.isBuffer(a) ? a : String(a))) });
  };
  const ns = new Set(spec.namespaces);
  if (!ns.has('mount')) throw new LxtsError('a container needs its own mount namespace (namespace "mount")', ExitCode.CONFIG);

  // The cgroup namespace is unshared after the barrier, once the child sits in its own
  // cgroup: cloning it earlier would root the namespace at lxts's cgroup instead.
  let cloneFlags = 0;
  for (const n of ns) if (NS_FLAGS[n]) cloneFlags |= NS_FLAGS[n]!;
  if (ctx.dieWithParent) add('PDEATHSIG', 9);
  if (ctx.monitor) {
    add('MONITOR', ctx.monitor.dir);
    // A detached container's stdio is its console: a pty the monitor keeps and logs.
    add('CONSOLE', ctx.monitor.consoleLog, ctx.monitor.ringBytes);
    if (ctx.monitor.onExit?.length) add('ON_EXIT', ctx.monitor.onExit[0]!, ...ctx.monitor.onExit);
  } else if (spec.process.terminal) add('PTY');
  if ((ctx.monitor || spec.process.terminal) && ns.has('user') && spec.idmap) {
    // The container's root must own its console: root, and group tty (5) where it is mapped.
    const uid = hostId(spec.idmap.uid, 0);
    const gid = hostId(spec.idmap.gid, 5) ?? hostId(spec.idmap.gid, 0);
    if (uid === undefined || gid === undefined) throw new LxtsError('a user namespace needs its root (id 0) mapped, for uid and gid', ExitCode.CONFIG);
    add('PTY_OWNER', uid, gid);
  }
  add('CLONE', cloneFlags >>> 0);
  add('BARRIER');
  if (ns.has('user')) {
    if (!spec.idmap?.uid.length || !spec.idmap.gid.length) throw new LxtsError('a user namespace needs uid and gid maps (lxc.idmap, --idmap)', ExitCode.CONFIG);
    checkIdMap('uid', spec.idmap.uid);
    checkIdMap('gid', spec.idmap.gid);
    // The maps are written while the child waits at the barrier; now it becomes the
    // namespace's root (its host uid is the mapped one: unprivileged on the host).
    add('SETUSER', 0, 0);
  }
  if (ns.has('cgroup')) add('UNSHARE', CLONE.NEWCGROUP);
  // A new network namespace's lo starts down; programs expect 127.0.0.1 to answer.
  if (ns.has('net')) add('LINK_UP', 'lo');
  // First thing in the new mount namespace: nothing we mount may propagate to the host,
  // and the old root's unmount after pivot_root must not either.
  add('MOUNT', '', '/', '', MS.REC | MS.PRIVATE, '');

  const rootfsMount = spec.rootfs.kind === 'dir' ? spec.rootfs.path! : (ctx.stagingDir ?? '');
  addHooks(spec, 'pre-mount', spec.hooks.preMount, rootfsMount, add);
  addRootfs(spec, ctx, add);
  addStandardMounts(spec, ns, add);
  if (ctx.cgroup2Mount && ns.has('cgroup')) {
    add('MOUNT_IN', 'cgroup2', 'sys/fs/cgroup', 'cgroup2', MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RDONLY, '');
  }
  if (ctx.monitor || spec.process.terminal) {
    // System containers' init and getty expect the console at /dev/console; with a PTY the
    // container's stdio then names a tty of its own (`tty` prints /dev/console: the pty
    // itself comes from the host's devpts, which the container does not see).
    add('TOUCH_IN', 'dev/console', octal(0o600));
    add('CONSOLE_IN', 'dev/console');
  }
  for (const m of spec.mounts) addUserMount(m, add);
  addHooks(spec, 'mount', spec.hooks.mount, rootfsMount, add);
  addHooks(spec, 'autodev', spec.hooks.autodev, rootfsMount, add);
  add('PIVOT_ROOT');

  if (spec.rootfs.readonly) add('MOUNT', '', '/', '', MS.REMOUNT | MS.BIND | MS.RDONLY, '');
  if (ns.has('uts')) add('HOSTNAME', spec.hostname);
  for (const [key, value] of Object.entries(spec.sysctls)) add('WRITE', '/proc/sys/' + key.replace(/\./g, '/'), value);
  // Masks and read-only paths come after pivot_root: their bind sources must be the
  // container's own /proc and /dev/null, not the host's.
  for (const p of spec.maskedPaths) add('MASK_IN', p);
  for (const p of spec.readonlyPaths) add('READONLY_IN', p);
  for (const r of spec.process.rlimits) {
    const res = RLIMIT[r.type];
    if (res === undefined) throw new LxtsError(`unknown rlimit "${r.type}" (one of ${Object.keys(RLIMIT).join(', ')})`, ExitCode.CONFIG);
    add('RLIMIT', res, limit(r.soft), limit(r.hard));
  }

  // LXC's start hook: inside the container, just before its command, still privileged.
  addHooks(spec, 'start', spec.hooks.start, '/', add);
  const caps = capabilityMask(spec.capabilities);
  add('CAPBSET', caps);
  // Installed while this process still holds CAP_SYS_ADMIN (no no_new_privs needed); it
  // filters only mount(2), so the steps after it are unaffected.
  if (spec.seccomp === 'default') add('SECCOMP', encodeFilter(defaultFilter()));
  add('SETUSER', spec.process.uid, spec.process.gid, ...spec.process.additionalGids);
  add('CHDIR', spec.process.cwd);
  add('CAPS', caps);
  if (spec.process.noNewPrivileges) add('NO_NEW_PRIVS');
  if (spec.init) add('INIT');
  add('ENV', ...spec.process.env);
  const [file, ...rest] = spec.process.args;
  if (!file) throw new LxtsError('no command to run', ExitCode.USAGE);
  add('EXEC', file, file, ...rest);
  return { steps };
}

type Add = (op: OpName, ...args: (string | number | bigint)[]) => void;

function addRootfs(spec: ContainerSpec, ctx: CompileContext, add: Add): void {
  if (spec.rootfs.kind === 'dir') {
    const path = spec.rootfs.path;
    if (!path || !path.startsWith('/')) throw new LxtsError('rootfs path must be absolute', ExitCode.CONFIG);
    // pivot_root needs the new root to be a mount point: bind it onto itself.
    add('MOUNT', path, path, '', MS.BIND | MS.REC, '');
    add('ROOT', path);
    return;
  }
  if (spec.rootfs.kind === 'overlay') {
    // The overlay is mounted on the staging dir inside the child's own mount namespace (made
    // private just before): the host's mount table never sees it and nothing needs unmounting.
    const staging = ctx.stagingDir;
    if (!staging) throw new Error('compilePlan: the overlay rootfs needs stagingDir');
    add('MOUNT', 'overlay', staging, 'overlay', 0, overlayMountData(spec.rootfs));
    add('ROOT', staging);
    return;
  }
  const layout = ctx.hostLayout;
  const staging = ctx.stagingDir;
  if (!layout || !staging) throw new Error('compilePlan: the host rootfs needs hostLayout and stagingDir');
  add('MOUNT', 'lxts-rootfs', staging, 'tmpfs', MS.NOSUID | MS.NODEV, 'mode=755,size=256m');
  add('ROOT', staging);
  roBind(add, '/usr', 'usr', 0o755, true);
  for (const e of layout.top) {
    if (e.kind === 'symlink') add('SYMLINK_IN', e.target!, e.name);
    else roBind(add, '/' + e.name, e.name, 0o755, true);
  }
  for (const [dir, mode] of [['etc', 0o755], ['tmp', 0o1777], ['var', 0o755], ['var/tmp', 0o1777], ['var/log', 0o755], ['root', 0o700], ['run', 0o755], ['home', 0o755], ['mnt', 0o755], ['opt', 0o755]] as const) {
    add('MKDIR_IN', dir, octal(mode));
  }
  for (const f of hostTemplateEtcFiles(spec.hostname, layout)) add('WRITE_IN', f.path, octal(f.mode), f.content);
  for (const f of layout.etcBinds) {
    add('TOUCH_IN', 'etc/' + f, octal(0o644));
    add('MOUNT_IN', '/etc/' + f, 'etc/' + f, '', MS.BIND, '');
    add('MOUNT_IN', '', 'etc/' + f, '', MS.REMOUNT | MS.BIND | MS.RDONLY, '');
  }
  for (const d of layout.etcDirBinds) roBind(add, '/etc/' + d, 'etc/' + d, 0o755, false);
}

/** overlayfs mount data: lowerdir=L1:L2,upperdir=U,workdir=W (L1 topmost). */
export function overlayMountData(r: { lower?: string[]; upper?: string; work?: string }): string {
  const lower = r.lower ?? [];
  if (!lower.length || !r.upper || !r.work) throw new LxtsError('an overlay rootfs needs at least one lower dir, an upper dir and a work dir', ExitCode.CONFIG);
  for (const p of [...lower, r.upper, r.work]) {
    if (!p.startsWith('/')) throw new LxtsError(`overlay rootfs path "${p}" must be absolute`, ExitCode.CONFIG);
    // ',' separates mount options and ':' lower layers; overlayfs's backslash escapes are not worth the risk.
    if (/[,:\\]/.test(p)) throw new LxtsError(`overlay rootfs path "${p}" contains ",", ":" or "\\", which overlayfs mount options cannot take`, ExitCode.CONFIG);
  }
  return `lowerdir=${lower.join(':')},upperdir=${r.upper},workdir=${r.work}`;
}

/** The host id an id inside the container maps to (undefined when unmapped). */
function hostId(ranges: { inside: number; outside: number; count: number }[], id: number): number | undefined {
  const r = ranges.find((x) => id >= x.inside && id < x.inside + x.count);
  return r ? r.outside + (id - r.inside) : undefined;
}

/** HOOK steps with LXC's environment (and, for hook version 0, its arguments). */
function addHooks(spec: ContainerSpec, type: string, cmds: string[], rootfsMount: string, add: Add): void {
  for (const cmd of cmds) {
    const line = spec.hooks.version === 0 ? `${cmd} ${spec.name} lxc ${type}` : cmd;
    add(
      'HOOK',
      line,
      `LXC_NAME=${spec.name}`,
      `LXC_ROOTFS_MOUNT=${rootfsMount}`,
      `LXC_ROOTFS_PATH=${spec.rootfs.path ?? spec.rootfs.upper ?? ''}`,
      `LXC_HOOK_TYPE=${type}`,
      'LXC_HOOK_SECTION=lxc',
      `LXC_HOOK_VERSION=${spec.hooks.version}`,
      DEFAULT_ENV[0]!,
    );
  }
}

function roBind(add: Add, src: string, target: string, mode: number, rec: boolean): void {
  add('MKDIR_IN', target, octal(mode));
  add('MOUNT_IN', src, target, '', MS.BIND | (rec ? MS.REC : 0), '');
  add('MOUNT_IN', '', target, '', MS.REMOUNT | MS.BIND | MS.RDONLY, '');
}

function addStandardMounts(spec: ContainerSpec, ns: Set<string>, add: Add): void {
  add('MKDIR_IN', 'proc', octal(0o555));
  add('MOUNT_IN', 'proc', 'proc', 'proc', MS.NOSUID | MS.NODEV | MS.NOEXEC, '');
  add('MKDIR_IN', 'sys', octal(0o555));
  add('MOUNT_IN', 'sysfs', 'sys', 'sysfs', MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RDONLY, '');
  add('MKDIR_IN', 'dev', octal(0o755));
  add('MOUNT_IN', 'tmpfs', 'dev', 'tmpfs', MS.NOSUID | MS.STRICTATIME, 'mode=755,size=65536k');
  // Bind the host's device nodes rather than mknod: the same code works in a user namespace.
  for (const d of DEVICES) {
    add('TOUCH_IN', 'dev/' + d, octal(0o666));
    add('MOUNT_IN', '/dev/' + d, 'dev/' + d, '', MS.BIND, '');
  }
  add('MKDIR_IN', 'dev/pts', octal(0o755));
  add('MOUNT_IN', 'devpts', 'dev/pts', 'devpts', MS.NOSUID | MS.NOEXEC, 'newinstance,ptmxmode=0666,mode=0620,gid=5');
  add('SYMLINK_IN', 'pts/ptmx', 'dev/ptmx');
  add('MKDIR_IN', 'dev/shm', octal(0o1777));
  add('MOUNT_IN', 'shm', 'dev/shm', 'tmpfs', MS.NOSUID | MS.NODEV | MS.NOEXEC, 'mode=1777,size=65536k');
  if (ns.has('ipc')) {
    // An mqueue mount shows the queues of the mounter's IPC namespace: only with our own.
    add('MKDIR_IN', 'dev/mqueue', octal(0o755));
    add('MOUNT_IN', 'mqueue', 'dev/mqueue', 'mqueue', MS.NOSUID | MS.NODEV | MS.NOEXEC, '');
  }
  add('SYMLINK_IN', '/proc/self/fd', 'dev/fd');
  add('SYMLINK_IN', '/proc/self/fd/0', 'dev/stdin');
  add('SYMLINK_IN', '/proc/self/fd/1', 'dev/stdout');
  add('SYMLINK_IN', '/proc/self/fd/2', 'dev/stderr');
  void spec;
}

/** Mount option words -> MS_* flags; the rest becomes the data string. */
const FLAG_OPTIONS: Record<string, [set: number, clear: number]> = {
  ro: [MS.RDONLY, 0],
  rw: [0, MS.RDONLY],
  nosuid: [MS.NOSUID, 0],
  suid: [0, MS.NOSUID],
  nodev: [MS.NODEV, 0],
  dev: [0, MS.NODEV],
  noexec: [MS.NOEXEC, 0],
  exec: [0, MS.NOEXEC],
  noatime: [MS.NOATIME, 0],
  nodiratime: [MS.NODIRATIME, 0],
  relatime: [MS.RELATIME, 0],
  strictatime: [MS.STRICTATIME, 0],
  sync: [MS.SYNCHRONOUS, 0],
  dirsync: [MS.DIRSYNC, 0],
  bind: [MS.BIND, 0],
  rbind: [MS.BIND | MS.REC, 0],
  defaults: [0, 0],
};
const LXC_ONLY = /^(create=(dir|file)|optional)$/;

export function parseMountOptions(options: string[]): { flags: number; data: string; create?: 'dir' | 'file'; optional: boolean } {
  let flags = 0;
  const data: string[] = [];
  let create: 'dir' | 'file' | undefined;
  let optional = false;
  for (const o of options) {
    const f = FLAG_OPTIONS[o];
    if (f) flags = (flags | f[0]) & ~f[1];
    else if (LXC_ONLY.test(o)) {
      if (o === 'optional') optional = true;
      else create = o.slice(7) as 'dir' | 'file';
    } else if (o) data.push(o);
  }
  return { flags, data: data.join(','), create, optional };
}

function addUserMount(m: MountSpec, add: Add): void {
  const target = m.target.replace(/^\/+/, '');
  if (!target) throw new LxtsError(`mount target ${JSON.stringify(m.target)} would cover the root`, ExitCode.CONFIG);
  const o = parseMountOptions(m.options);
  const isBind = (o.flags & MS.BIND) !== 0 || m.type === 'bind' || m.type === 'rbind';
  if (o.create === 'dir') add('MKDIR_IN', target, octal(0o755));
  else if (o.create === 'file') add('TOUCH_IN', target, octal(0o644));
  if (isBind) {
    const rec = (o.flags & MS.REC) !== 0 || m.type === 'rbind' ? MS.REC : 0;
    add('MOUNT_IN', m.source, target, '', MS.BIND | rec, '');
    // A bind mount ignores every flag but MS_REC; per-mount flags need a remount.
    const extra = o.flags & ~(MS.BIND | MS.REC);
    if (extra) add('MOUNT_IN', '', target, '', MS.REMOUNT | MS.BIND | extra, '');
  } else {
    add('MOUNT_IN', m.source, target, m.type, o.flags, o.data);
  }
}

function limit(v: number | 'unlimited'): string {
  return v === 'unlimited' ? 'inf' : String(v);
}

function octal(n: number): string {
  return n.toString(8).padStart(4, '0');
}

/** Human-readable listing for `--dry-run`: step numbers match lxts-exec's error reports. */
export function formatPlan(plan: LaunchPlan): string {
  return plan.steps
    .map((s, i) => {
      const args = s.args.map((a, j) => (Buffer.isBuffer(a) ? `<${a.length} bytes>` : fmtArg(s.op, j, a)));
      return `${String(i + 1).padStart(3)}  ${s.op.padEnd(12)} ${args.join(' ')}`.trimEnd();
    })
    .join('\n');
}

function flagNames(table: Record<string, number>, v: number): string {
  const names = Object.entries(table).filter(([, bit]) => bit && (v & bit) === bit).map(([n]) => n.toLowerCase());
  return names.length ? names.join('|') : '0';
}

function fmtArg(op: OpName, index: number, a: string): string {
  if ((op === 'CLONE' || op === 'UNSHARE') && index === 0) return flagNames(CLONE, Number(a));
  if ((op === 'MOUNT' || op === 'MOUNT_IN') && index === 3) return flagNames(MS, Number(a));
  if ((op === 'CAPBSET' || op === 'CAPS') && index === 0) {
    const mask = BigInt(a);
    const dropped = CAPABILITIES.filter((_, i) => !((mask >> BigInt(i)) & 1n));
    return dropped.length <= CAPABILITIES.length / 2 ? `all-except:${dropped.join(',') || '-'}` : `only:${maskToNames(mask).join(',') || '-'}`;
  }
  if (a === '') return "''";
  if (op === 'WRITE_IN' && a.includes('\n')) return JSON.stringify(a.length > 40 ? a.slice(0, 37) + '...' : a);
  return /[\s'"]/.test(a) ? JSON.stringify(a) : a;
}
