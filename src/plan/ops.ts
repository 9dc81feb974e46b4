// The LaunchPlan opcodes shared with native/lxts-exec.c (keep both tables in sync;
// docs/plan-format.md describes each one). Numbers are part of the wire format:
// never renumber, only append.

export const Op = {
  CLONE: 1, //         flags                         parent: clone the child with these CLONE_* flags
  PTY: 2, //           (none)                        parent: allocate a pty; the child gets the slave as stdio
  BARRIER: 3, //       (none)                        child: wait until the caller says go
  UNSHARE: 4, //       flags                         child: unshare(flags)
  MOUNT: 5, //         src target fstype flags data  child: mount(2) with absolute paths
  ROOT: 6, //          path                          child: set the root that *_IN steps resolve under
  MOUNT_IN: 7, //      src target fstype flags data  child: mount onto target resolved inside ROOT
  MKDIR_IN: 8, //      path mode                     child: mkdir -p inside ROOT
  TOUCH_IN: 9, //      path mode                     child: create an empty file inside ROOT if missing
  WRITE_IN: 10, //     path mode content             child: create/truncate a file inside ROOT and write it
  SYMLINK_IN: 11, //   target path                   child: create symlink path -> target inside ROOT
  MASK_IN: 12, //      path                          child: hide path (dir: read-only empty tmpfs, file: /dev/null)
  PIVOT_ROOT: 13, //   (none)                        child: pivot_root into ROOT, detach the old root
  HOSTNAME: 14, //     name                          child: sethostname
  WRITE: 15, //        path content                  child: write an existing file (sysctls)
  RLIMIT: 16, //       resource soft hard            child: setrlimit ("inf" = unlimited)
  CHDIR: 17, //        path                          child: chdir
  CAPBSET: 18, //      keepmask                      child: drop every capability not in mask from the bounding set
  SETUSER: 19, //      uid gid [gid...]              child: setgroups, setresgid, setresuid (capabilities kept)
  CAPS: 20, //         mask                          child: effective = permitted = inheritable = mask; ambient cleared
  NO_NEW_PRIVS: 21, // (none)                        child: prctl(PR_SET_NO_NEW_PRIVS)
  SECCOMP: 22, //      filter bytes                  child: install a seccomp BPF program (struct sock_filter[])
  INIT: 23, //         (none)                        child: fork; this process stays PID 1 as a minimal init
  ENV: 24, //          K=V...                        child: the environment for EXEC
  EXEC: 25, //         file argv0 [argv...]          child: execvp file (PATH from ENV)
  PDEATHSIG: 26, //    signal                        parent: die with this signal when the caller dies
  READONLY_IN: 27, //  path                          child: bind path onto itself read-only (nosuid,nodev,noexec); ENOENT is fine
  SETNS: 28, //        path nstype                   parent: open path (/proc/PID/ns/X) and setns before CLONE (attach)
  MONITOR: 29, //      dir                           parent: run detached as the monitor: dir/monitor.sock, monitor.pid, exit
  CONSOLE: 30, //      logpath ringbytes             parent: console pty; the monitor logs it and serves it on the socket
  CONSOLE_IN: 31, //   path                          child: bind the console pty onto path inside ROOT (dev/console)
  ON_EXIT: 32, //      file argv0 [argv...]          parent: after the exit file, run this (LXTS_EXIT_CODE, LXTS_CONTAINER_PID)
  LINK_UP: 33, //      name                          child: set a network interface up (lo of a new network namespace)
  HOOK: 34, //         cmdline [K=V...]              child: run /bin/sh -c cmdline with that environment and wait (LXC's in-namespace hooks)
  PTY_OWNER: 35, //    uid gid                       parent: chown the PTY/CONSOLE slave (to the container's root in a user namespace)
} as const;

export type OpName = keyof typeof Op;
export type OpCode = (typeof Op)[OpName];

const names = new Map<number, OpName>(Object.entries(Op).map(([k, v]) => [v, k as OpName]));
export function opName(code: number): OpName | undefined {
  return names.get(code);
}

// Linux constants the plan carries as numbers (x86_64 and every other Linux arch agree).
export const CLONE = {
  NEWNS: 0x00020000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
} as const;

export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOSYMFOLLOW: 256,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  MOVE: 8192,
  REC: 16384,
  SILENT: 32768,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
} as const;

export const RLIMIT: Record<string, number> = {
  cpu: 0,
  fsize: 1,
  data: 2,
  stack: 3,
  core: 4,
  rss: 5,
  nproc: 6,
  nofile: 7,
  memlock: 8,
  as: 9,
  locks: 10,
  sigpending: 11,
  msgqueue: 12,
  nice: 13,
  rtprio: 14,
  rttime: 15,
};
