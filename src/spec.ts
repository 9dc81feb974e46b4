// ContainerSpec: the one normal form. LXC config files, OCI bundles and CLI flags all become
// this; the plan compiler (src/plan/compile.ts) turns it into a LaunchPlan for lxts-exec.
import type { CgroupResources } from './cgroup/index.js';

export type NamespaceKind = 'pid' | 'mount' | 'uts' | 'ipc' | 'net' | 'cgroup' | 'user';
export const ALL_NAMESPACES: readonly NamespaceKind[] = ['pid', 'mount', 'uts', 'ipc', 'net', 'cgroup'];

export interface MountSpec {
  /** Host path for bind mounts; a device or "none" for filesystems. */
  source: string;
  /** Path inside the container (absolute or relative to the rootfs; resolved inside it). */
  target: string;
  /** Filesystem type; "none" or "bind" for bind mounts. */
  type: string;
  /** fstab-style options: ro, rw, bind, rbind, nosuid, nodev, noexec, create=dir|file, optional, size=... */
  options: string[];
}

export interface RlimitSpec {
  /** Lower-case name without the RLIMIT_ prefix: nofile, nproc, core, ... */
  type: string;
  soft: number | 'unlimited';
  hard: number | 'unlimited';
}

export interface ProcessSpec {
  args: string[];
  /** K=V entries; the default is a clean environment, never the host's. */
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  /** Allocate a pty for the command (lxts execute does when stdin is a terminal). */
  terminal: boolean;
  rlimits: RlimitSpec[];
  noNewPrivileges: boolean;
}

export interface CapabilitySpec {
  /** Capabilities dropped from the default set (lxc.cap.drop). */
  drop: string[];
  /** When set, only these are kept (lxc.cap.keep); drop is ignored. */
  keep?: string[];
  /** Added back on top of the defaults (CLI --cap-add). */
  add: string[];
}

export interface RootfsSpec {
  /**
   * A directory on the host, the embedded `host` template assembled in memory, or an
   * overlayfs of `upper` on `lower` mounted inside the container's mount namespace only.
   */
  kind: 'dir' | 'host' | 'overlay';
  /** Directory path (kind dir). */
  path?: string;
  /** kind overlay: the read-only layers, topmost first (overlayfs lowerdir order). */
  lower?: string[];
  /** kind overlay: the writable layer (LXC: <dir>/overlay/delta or <dir>/delta0). */
  upper?: string;
  /** kind overlay: overlayfs workdir, on the same filesystem as upper (LXC: dirname(upper)/work). */
  work?: string;
  readonly: boolean;
}

export interface ContainerSpec {
  name: string;
  hostname: string;
  namespaces: NamespaceKind[];
  rootfs: RootfsSpec;
  /** Extra mounts after the standard ones, in order (lxc.mount.entry). */
  mounts: MountSpec[];
  process: ProcessSpec;
  /** A minimal init as PID 1 that runs the command as PID 2 (lxc-execute style). */
  init: boolean;
  capabilities: CapabilitySpec;
  maskedPaths: string[];
  readonlyPaths: string[];
  sysctls: Record<string, string>;
  resources: CgroupResources;
  /**
   * seccomp: 'default' refuses superblock remounts, which without a user namespace would
   * reach the host's filesystem (src/security/seccomp.ts); 'unconfined' installs nothing.
   */
  seccomp: 'default' | 'unconfined';
  /**
   * LXC's hooks that run inside the container's namespaces (lxc.hook.pre-mount, mount,
   * autodev: before pivot_root, with the host's /bin/sh; start: just before the command, with
   * the container's). Shell command lines; `version` 0 appends LXC's arguments NAME lxc TYPE.
   * The host-side hooks are run by the Container (src/hooks.ts).
   */
  hooks: { preMount: string[]; mount: string[]; autodev: string[]; start: string[]; version: 0 | 1 };
  /**
   * With a user namespace (namespace "user"): which host ids the container's ids are. The
   * container's root is then an unprivileged host user (LXC's lxc.idmap, `--userns`).
   */
  idmap?: { uid: IdRange[]; gid: IdRange[] };
}

export interface IdRange {
  /** First id inside the container. */
  inside: number;
  /** First id on the host. */
  outside: number;
  count: number;
}

/** LXC's usual unprivileged map: the container's 0..65535 are the host's 100000..165535. */
export const DEFAULT_IDMAP = { uid: [{ inside: 0, outside: 100000, count: 65536 }], gid: [{ inside: 0, outside: 100000, count: 65536 }] };

export const DEFAULT_ENV = [
  'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'HOME=/root',
  'TERM=xterm',
  'container=lxts',
];

export const DEFAULT_MASKED_PATHS = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** LXC's default drops for containers (lxc.cap.drop in common.conf). */
export const DEFAULT_CAP_DROP = ['mac_admin', 'mac_override', 'sys_time', 'sys_module', 'sys_rawio'];

/** A spec with every default filled in; callers override fields. */
export function defaultSpec(name: string, args: string[]): ContainerSpec {
  return {
    name,
    hostname: name,
    namespaces: [...ALL_NAMESPACES],
    rootfs: { kind: 'host', readonly: false },
    mounts: [],
    process: {
      args,
      env: [...DEFAULT_ENV],
      cwd: '/',
      uid: 0,
      gid: 0,
      additionalGids: [],
      terminal: false,
      rlimits: [],
      noNewPrivileges: false,
    },
    init: false,
    capabilities: { drop: [...DEFAULT_CAP_DROP], add: [] },
    maskedPaths: [...DEFAULT_MASKED_PATHS],
    readonlyPaths: [...DEFAULT_READONLY_PATHS],
    sysctls: {},
    resources: {},
    seccomp: 'default',
    hooks: { preMount: [], mount: [], autodev: [], start: [], version: 0 },
  };
}
