// lxts-exec: carries out a LaunchPlan (docs/plan-format.md) between clone and exec, then
// stays as the container's monitor. It holds no policy: every decision is in the plan, so
// this file only knows how to perform each step and how to report what went wrong.
//
// Process layout:
//   lxts-exec (monitor)  -- reads the plan on fd 3, clones, relays `g`, forwards signals,
//    |                      relays the pty, reports `exit N` and exits with N. With MONITOR
//    |                      it runs detached: command socket, console ring/log, exit file,
//    |                      ON_EXIT. With SETNS it first joins a running container (attach).
//    +- child             -- setsid, pty, steps..., execvpe.  With INIT: stays as PID 1
//        +- command          and its fork runs the rest of the steps and execs.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <net/if.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>

#define LXTS_EXEC_VERSION "0.1.0"
#define PLAN_VERSION 1
#define CTL_FD 3
#define MAX_PLAN_BYTES (64u << 20) // a plan is a few KB; refuse anything absurd

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

// Exit codes shared with the shell convention (and podman/runc): setup failure, command not
// executable, command not found.
#define EXIT_SETUP 125
#define EXIT_NOEXEC 126
#define EXIT_NOTFOUND 127

// ---- opcode table: identical numbers to src/plan/ops.ts; never renumber, only append ----
enum {
  OP_CLONE = 1,
  OP_PTY = 2,
  OP_BARRIER = 3,
  OP_UNSHARE = 4,
  OP_MOUNT = 5,
  OP_ROOT = 6,
  OP_MOUNT_IN = 7,
  OP_MKDIR_IN = 8,
  OP_TOUCH_IN = 9,
  OP_WRITE_IN = 10,
  OP_SYMLINK_IN = 11,
  OP_MASK_IN = 12,
  OP_PIVOT_ROOT = 13,
  OP_HOSTNAME = 14,
  OP_WRITE = 15,
  OP_RLIMIT = 16,
  OP_CHDIR = 17,
  OP_CAPBSET = 18,
  OP_SETUSER = 19,
  OP_CAPS = 20,
  OP_NO_NEW_PRIVS = 21,
  OP_SECCOMP = 22,
  OP_INIT = 23,
  OP_ENV = 24,
  OP_EXEC = 25,
  OP_PDEATHSIG = 26,
  OP_READONLY_IN = 27,
  OP_SETNS = 28,
  OP_MONITOR = 29,
  OP_CONSOLE = 30,
  OP_CONSOLE_IN = 31,
  OP_ON_EXIT = 32,
  OP_LINK_UP = 33,
  OP_HOOK = 34,
  OP_PTY_OWNER = 35,
  OP_LAST = 35,
};

enum side { SIDE_NONE, SIDE_PARENT, SIDE_CHILD };
#define MANY UINT32_MAX

struct opinfo {
  const char *name; // lower-case, used in error reports
  unsigned char side;
  uint32_t min_args, max_args;
  int main_arg; // index of the argument named in error reports, -1 for none
};

static const struct opinfo OPS[OP_LAST + 1] = {
  [OP_CLONE] = {"clone", SIDE_PARENT, 1, 1, 0},
  [OP_PTY] = {"pty", SIDE_PARENT, 0, 0, -1},
  [OP_BARRIER] = {"barrier", SIDE_CHILD, 0, 0, -1},
  [OP_UNSHARE] = {"unshare", SIDE_CHILD, 1, 1, 0},
  [OP_MOUNT] = {"mount", SIDE_CHILD, 5, 5, 1},
  [OP_ROOT] = {"root", SIDE_CHILD, 1, 1, 0},
  [OP_MOUNT_IN] = {"mount_in", SIDE_CHILD, 5, 5, 1},
  [OP_MKDIR_IN] = {"mkdir_in", SIDE_CHILD, 2, 2, 0},
  [OP_TOUCH_IN] = {"touch_in", SIDE_CHILD, 2, 2, 0},
  [OP_WRITE_IN] = {"write_in", SIDE_CHILD, 3, 3, 0},
  [OP_SYMLINK_IN] = {"symlink_in", SIDE_CHILD, 2, 2, 1},
  [OP_MASK_IN] = {"mask_in", SIDE_CHILD, 1, 1, 0},
  [OP_PIVOT_ROOT] = {"pivot_root", SIDE_CHILD, 0, 0, -1},
  [OP_HOSTNAME] = {"hostname", SIDE_CHILD, 1, 1, 0},
  [OP_WRITE] = {"write", SIDE_CHILD, 2, 2, 0},
  [OP_RLIMIT] = {"rlimit", SIDE_CHILD, 3, 3, 0},
  [OP_CHDIR] = {"chdir", SIDE_CHILD, 1, 1, 0},
  [OP_CAPBSET] = {"capbset", SIDE_CHILD, 1, 1, -1},
  [OP_SETUSER] = {"setuser", SIDE_CHILD, 2, MANY, 0},
  [OP_CAPS] = {"caps", SIDE_CHILD, 1, 1, -1},
  [OP_NO_NEW_PRIVS] = {"no_new_privs", SIDE_CHILD, 0, 0, -1},
  [OP_SECCOMP] = {"seccomp", SIDE_CHILD, 1, 1, -1},
  [OP_INIT] = {"init", SIDE_CHILD, 0, 0, -1},
  [OP_ENV] = {"env", SIDE_CHILD, 0, MANY, -1},
  [OP_EXEC] = {"exec", SIDE_CHILD, 2, MANY, 0},
  [OP_PDEATHSIG] = {"pdeathsig", SIDE_PARENT, 1, 1, 0},
  [OP_READONLY_IN] = {"readonly_in", SIDE_CHILD, 1, 1, 0},
  [OP_SETNS] = {"setns", SIDE_PARENT, 2, 2, 0},
  [OP_MONITOR] = {"monitor", SIDE_PARENT, 1, 1, 0},
  [OP_CONSOLE] = {"console", SIDE_PARENT, 2, 2, 0},
  [OP_CONSOLE_IN] = {"console_in", SIDE_CHILD, 1, 1, 0},
  [OP_ON_EXIT] = {"on_exit", SIDE_PARENT, 2, MANY, 0},
  [OP_LINK_UP] = {"link_up", SIDE_CHILD, 1, 1, 0},
  [OP_HOOK] = {"hook", SIDE_CHILD, 1, MANY, 0},
  [OP_PTY_OWNER] = {"pty_owner", SIDE_PARENT, 2, 2, 0},
};

struct arg {
  char *s;      // NUL-terminated copy (in place in the plan buffer)
  uint32_t len; // byte length; SECCOMP bytes may contain NULs
};

struct step {
  uint32_t op;
  uint32_t nargs;
  struct arg *a;
};

struct plan {
  unsigned char *blob; // holds every argument
  uint32_t count;
  struct step *steps;
};

// The signals the monitor (and INIT) pass on to the container, as a host process would get them.
static const int FORWARDED[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
#define NFORWARDED (sizeof FORWARDED / sizeof FORWARDED[0])

// ---------------------------------------------------------------------------------------
// small helpers

static int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int read_full(int fd, void *buf, size_t len) {
  char *p = buf;
  while (len > 0) {
    ssize_t n = read(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      // Node may hand us a non-blocking socket; wait instead of spinning.
      struct pollfd pf = {.fd = fd, .events = POLLIN};
      if (poll(&pf, 1, -1) < 0 && errno != EINTR) return -1;
      continue;
    }
    if (n < 0) return -1;
    if (n == 0) {
      errno = EPIPE; // short plan: the caller went away mid-write
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

// fd 3 until the caller closes it; -1 afterwards, so a later fd 3 (an accepted client) never
// receives a report.
static int report_fd = CTL_FD;

// One report line to the caller. Failures are ignored: if the caller is gone there is nobody
// to tell, and the exit code still says it.
// Formats one protocol line (cut to fit, newline added); returns its length, -1 on error.
static int format_line(char *line, size_t size, const char *fmt, va_list ap) {
  int n = vsnprintf(line, size - 1, fmt, ap);
  if (n < 0) return -1;
  if ((size_t)n > size - 2) n = (int)(size - 2);
  line[n++] = '\n';
  return n;
}

static void report(const char *fmt, ...) {
  if (report_fd < 0) return;
  char line[4400];
  va_list ap;
  va_start(ap, fmt);
  int n = format_line(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n > 0) (void)write_all(report_fd, line, (size_t)n);
}

// Parse an unsigned decimal (base 10) or octal (base 8) number; the whole string must be used.
static int parse_u64(const char *s, int base, uint64_t *out) {
  char *end;
  if (*s == '\0' || *s == '-' || *s == '+' || *s == ' ') {
    errno = EINVAL;
    return -1;
  }
  errno = 0;
  unsigned long long v = strtoull(s, &end, base);
  if (errno != 0 || *end != '\0') {
    errno = errno ? errno : EINVAL;
    return -1;
  }
  *out = v;
  return 0;
}

static int parse_u32(const char *s, int base, uint32_t *out) {
  uint64_t v;
  if (parse_u64(s, base, &v) < 0) return -1;
  if (v > UINT32_MAX) {
    errno = ERANGE;
    return -1;
  }
  *out = (uint32_t)v;
  return 0;
}

static const char *nullable(const struct arg *a) { return a->len ? a->s : NULL; }

static void fd_path(char *buf, size_t size, int fd) { snprintf(buf, size, "/proc/self/fd/%d", fd); }

// close(2) that keeps the errno of an earlier failure intact.
static void close_keep_errno(int fd) {
  int e = errno;
  if (fd >= 0) close(fd);
  errno = e;
}

// Fork-like clone. lxts-exec is single-threaded, so the raw syscall is safe; glibc's clone()
// wrapper would want a separate stack.
static pid_t raw_clone(unsigned long flags) {
  return (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
}

// ---------------------------------------------------------------------------------------
// plan decoding

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

// Decodes the blob in place: each argument is moved 4 bytes back over its own length
// prefix so it can carry a terminating NUL without another allocation.
static int decode_plan(unsigned char *blob, uint32_t size, struct plan *plan) {
  if (size < 16 || memcmp(blob, "LXTSPLAN", 8) != 0 || le32(blob + 8) != PLAN_VERSION) return -1;
  uint32_t count = le32(blob + 12);
  if (count > size / 8) return -1;
  plan->count = count;
  plan->steps = calloc(count ? count : 1, sizeof(struct step));
  if (!plan->steps) return -1;
  size_t off = 16;
  for (uint32_t i = 0; i < count; i++) {
    struct step *s = &plan->steps[i];
    if (size - off < 8) return -1;
    s->op = le32(blob + off);
    s->nargs = le32(blob + off + 4);
    off += 8;
    if (s->nargs > (size - off) / 4) return -1;
    s->a = calloc(s->nargs ? s->nargs : 1, sizeof(struct arg));
    if (!s->a) return -1;
    for (uint32_t j = 0; j < s->nargs; j++) {
      if (size - off < 4) return -1;
      uint32_t len = le32(blob + off);
      off += 4;
      if (len > size - off) return -1;
      memmove(blob + off - 4, blob + off, len);
      blob[off - 4 + len] = '\0';
      s->a[j].s = (char *)blob + off - 4;
      s->a[j].len = len;
      off += len;
    }
  }
  return off == size ? 0 : -1;
}

// Steps that only make sense together: the console belongs to a detached monitor (a
// foreground run has PTY for that), and CONSOLE_IN needs a console or a PTY. MONITOR, CONSOLE and
// ON_EXIT may appear once. Returns the offending step or 0.
static uint32_t validate_combination(const struct plan *plan) {
  uint32_t seen[OP_LAST + 1] = {0}; // step number of the first occurrence
  for (uint32_t i = 0; i < plan->count; i++) {
    uint32_t op = plan->steps[i].op;
    if ((op == OP_MONITOR || op == OP_CONSOLE || op == OP_ON_EXIT) && seen[op]) return i + 1;
    if (!seen[op]) seen[op] = i + 1;
  }
  if (seen[OP_CONSOLE] && !seen[OP_MONITOR]) return seen[OP_CONSOLE];
  if (seen[OP_CONSOLE_IN] && !seen[OP_CONSOLE] && !seen[OP_PTY]) return seen[OP_CONSOLE_IN];
  if (seen[OP_PTY] && seen[OP_MONITOR]) return seen[OP_PTY]; // detached: stdin is /dev/null
  return 0;
}

// Checks opcodes and argument counts before anything is cloned, so a malformed plan fails
// with the step number and without a child to clean up. Returns the failing step or 0.
static uint32_t validate_plan(const struct plan *plan) {
  int have_exec = 0;
  for (uint32_t i = 0; i < plan->count; i++) {
    const struct step *s = &plan->steps[i];
    if (s->op == 0 || s->op > OP_LAST || OPS[s->op].name == NULL) return i + 1;
    if (s->nargs < OPS[s->op].min_args || s->nargs > OPS[s->op].max_args) return i + 1;
    // Only string arguments may not contain NULs (they are passed to C strings).
    if (s->op != OP_SECCOMP)
      for (uint32_t j = 0; j < s->nargs; j++)
        if (strlen(s->a[j].s) != s->a[j].len) return i + 1;
    if (s->op == OP_EXEC) have_exec = 1;
  }
  uint32_t bad = validate_combination(plan);
  if (bad) return bad;
  return have_exec ? 0 : plan->count + 1;
}

static int read_plan(struct plan *plan) {
  unsigned char hdr[4];
  if (read_full(CTL_FD, hdr, 4) < 0) return -1;
  uint32_t size = le32(hdr);
  if (size > MAX_PLAN_BYTES) {
    errno = E2BIG;
    return -1;
  }
  unsigned char *blob = malloc(size + 1);
  if (!blob) return -1;
  if (read_full(CTL_FD, blob, size) < 0) return -1;
  plan->blob = blob;
  if (decode_plan(blob, size, plan) < 0) {
    errno = EINVAL;
    return -1;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------
// child: step implementations. Each returns 0, or -1 with errno set.

struct child_state {
  int root_fd;      // ROOT: every *_IN path resolves beneath it
  int err_w;        // close-on-exec error pipe to the monitor
  int barrier_r;    // the monitor writes `g` here
  mode_t umask;     // the caller's umask, restored for the command
  char **envp;      // ENV
  int hook_status;  // HOOK: the failed hook's exit status (128+N if killed)
  unsigned long clone_flags;
  char console[64]; // CONSOLE: the pty slave's path (/dev/pts/N) as the monitor's mount ns names it
};

static struct child_state C = {.root_fd = -1, .err_w = -1, .barrier_r = -1};

// openat2 beneath ROOT: absolute paths and `..` stay inside, and no /proc magic link can be
// used to jump out, so a hostile rootfs cannot redirect a mount onto the host.
static int open_in_root(const char *path, int flags, mode_t mode) {
  if (C.root_fd < 0) {
    errno = EBADF; // *_IN before ROOT is a plan compiler bug
    return -1;
  }
  struct open_how how = {
      .flags = (uint64_t)(flags | O_CLOEXEC),
      .mode = (flags & O_CREAT) ? mode : 0,
      .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  return (int)syscall(SYS_openat2, C.root_fd, path[0] ? path : ".", &how, sizeof how);
}

// Splits path into its parent directory (opened beneath ROOT) and last component.
static int open_parent_in_root(const char *path, char *base, size_t base_size) {
  char dir[PATH_MAX];
  size_t len = strlen(path);
  while (len > 1 && path[len - 1] == '/') len--; // "a/b/" names b
  if (len >= sizeof dir) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(dir, path, len);
  dir[len] = '\0';
  char *slash = strrchr(dir, '/');
  const char *b = slash ? slash + 1 : dir;
  if (*b == '\0' || strcmp(b, ".") == 0 || strcmp(b, "..") == 0 || strlen(b) >= base_size) {
    errno = EINVAL;
    return -1;
  }
  strcpy(base, b);
  if (slash == dir)
    dir[1] = '\0'; // "/x": parent is the root
  else if (slash)
    *slash = '\0';
  else
    strcpy(dir, ".");
  return open_in_root(dir, O_PATH | O_DIRECTORY, 0);
}

// A bind remount changes the per-mount flags; in a user namespace the kernel refuses to
// clear the flags the mount was made with (they are locked: nosuid, nodev, noexec, the
// atime ones), so they are kept as they are, as runc and crun do. Without a user namespace
// this changes nothing the plan asked for.
static uint64_t keep_locked_flags(int fd, const char *path, uint64_t flags) {
  if ((flags & (MS_REMOUNT | MS_BIND)) != (MS_REMOUNT | MS_BIND)) return flags;
  struct statvfs sv;
  if ((fd >= 0 ? fstatvfs(fd, &sv) : statvfs(path, &sv)) < 0) return flags;
  if (sv.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

static int do_mount(const struct step *s) {
  uint64_t flags;
  if (parse_u64(s->a[3].s, 10, &flags) < 0) return -1;
  flags = keep_locked_flags(-1, s->a[1].s, flags);
  return mount(nullable(&s->a[0]), s->a[1].s, nullable(&s->a[2]), flags, nullable(&s->a[4]));
}

static int do_root(const struct step *s) {
  int fd = open(s->a[0].s, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  if (C.root_fd >= 0) close(C.root_fd);
  C.root_fd = fd;
  return 0;
}

// The target is resolved safely, then named to mount(2) by its /proc/self/fd magic link,
// so the kernel mounts on exactly the inode we resolved.
static int do_mount_in(const struct step *s) {
  uint64_t flags;
  if (parse_u64(s->a[3].s, 10, &flags) < 0) return -1;
  int fd = open_in_root(s->a[1].s, O_PATH, 0);
  if (fd < 0) return -1;
  char target[40];
  fd_path(target, sizeof target, fd);
  flags = keep_locked_flags(fd, NULL, flags);
  int r = mount(nullable(&s->a[0]), target, nullable(&s->a[2]), flags, nullable(&s->a[4]));
  close_keep_errno(fd);
  return r;
}

// mkdir -p, one component at a time: each parent is re-resolved from ROOT with openat2 and
// the component is created with mkdirat, so a symlink in the rootfs can never lead outside.
static int do_mkdir_in(const struct step *s) {
  uint32_t mode;
  if (parse_u32(s->a[1].s, 8, &mode) < 0) return -1;
  char prefix[PATH_MAX] = ".";
  size_t plen = 1;
  const char *p = s->a[0].s;
  while (*p) {
    while (*p == '/') p++;
    if (!*p) break;
    const char *end = strchrnul(p, '/');
    size_t clen = (size_t)(end - p);
    if (clen > NAME_MAX || plen + 1 + clen >= sizeof prefix) {
      errno = ENAMETOOLONG;
      return -1;
    }
    char comp[NAME_MAX + 1];
    memcpy(comp, p, clen);
    comp[clen] = '\0';
    int dfd = open_in_root(prefix, O_PATH | O_DIRECTORY, 0);
    if (dfd < 0) return -1;
    int r = mkdirat(dfd, comp, mode);
    close_keep_errno(dfd);
    if (r < 0 && errno != EEXIST) return -1;
    prefix[plen++] = '/';
    memcpy(prefix + plen, comp, clen + 1);
    plen += clen;
    p = end;
  }
  // An existing non-directory must not count as success.
  int fd = open_in_root(prefix, O_PATH | O_DIRECTORY, 0);
  if (fd < 0) return -1;
  close(fd);
  return 0;
}

static int do_touch_in(const struct step *s) {
  uint32_t mode;
  if (parse_u32(s->a[1].s, 8, &mode) < 0) return -1;
  // O_EXCL: an existing file (or device, or fifo) is left alone and never opened.
  int fd = open_in_root(s->a[0].s, O_WRONLY | O_CREAT | O_EXCL | O_NOCTTY, mode);
  if (fd < 0) return errno == EEXIST ? 0 : -1;
  return close(fd);
}

static int do_write_in(const struct step *s) {
  uint32_t mode;
  if (parse_u32(s->a[1].s, 8, &mode) < 0) return -1;
  // O_NONBLOCK: a fifo planted in the rootfs must not hang the start (ENXIO instead).
  int fd = open_in_root(s->a[0].s, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY | O_NONBLOCK, mode);
  if (fd < 0) return -1;
  struct stat st;
  int r = fstat(fd, &st);
  if (r == 0 && !S_ISREG(st.st_mode)) {
    errno = EINVAL; // only regular files are written
    r = -1;
  }
  if (r < 0) {
    close_keep_errno(fd);
    return -1;
  }
  if (write_all(fd, s->a[2].s, s->a[2].len) < 0) {
    close_keep_errno(fd);
    return -1;
  }
  return close(fd);
}

static int do_symlink_in(const struct step *s) {
  char base[NAME_MAX + 1];
  int dfd = open_parent_in_root(s->a[1].s, base, sizeof base);
  if (dfd < 0) return -1;
  int r = symlinkat(s->a[0].s, dfd, base);
  close_keep_errno(dfd);
  return (r < 0 && errno != EEXIST) ? -1 : 0;
}

// /dev/null to bind over masked files: the rootfs's own if it is the real device (a fake one
// could be a writable regular file), else the one lxts-exec sees.
static int open_dev_null(void) {
  int fd = open_in_root("/dev/null", O_PATH, 0);
  if (fd >= 0) {
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)) return fd;
    close(fd);
  }
  return open("/dev/null", O_PATH | O_CLOEXEC);
}

static int do_mask_in(const struct step *s) {
  int fd = open_in_root(s->a[0].s, O_PATH, 0);
  if (fd < 0) return errno == ENOENT ? 0 : -1;
  char target[40], source[40];
  fd_path(target, sizeof target, fd);
  struct stat st;
  int r = fstat(fd, &st);
  if (r == 0 && S_ISDIR(st.st_mode)) {
    r = mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0555");
  } else if (r == 0) {
    int null_fd = open_dev_null();
    if (null_fd < 0) {
      close_keep_errno(fd);
      return -1;
    }
    fd_path(source, sizeof source, null_fd);
    r = mount(source, target, NULL, MS_BIND, NULL);
    close_keep_errno(null_fd);
  }
  close_keep_errno(fd);
  return r;
}

// Write-protect a path: bind it onto itself, then remount that new mount read-only. The
// path is resolved again for the remount so the flags land on the bind, not beneath it.
// A path the kernel does not have (e.g. /proc/sysrq-trigger without CONFIG_MAGIC_SYSRQ)
// needs no protection.
static int do_readonly_in(const struct step *s) {
  int fd = open_in_root(s->a[0].s, O_PATH, 0);
  if (fd < 0) return errno == ENOENT ? 0 : -1;
  char target[40];
  fd_path(target, sizeof target, fd);
  int r = mount(target, target, NULL, MS_BIND | MS_REC, NULL);
  close_keep_errno(fd);
  if (r < 0) return -1;
  fd = open_in_root(s->a[0].s, O_PATH, 0);
  if (fd < 0) return -1;
  fd_path(target, sizeof target, fd);
  r = mount(NULL, target, NULL, keep_locked_flags(fd, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC), NULL);
  close_keep_errno(fd);
  return r;
}

// Bind the console pty slave onto path beneath ROOT (LXC's /dev/console). The slave is
// opened by name in the child's own mount namespace: a bind source must be a mount of this
// namespace, and the fd inherited from the monitor belongs to the host's. The device number
// is checked against our stdin (the slave), so the name cannot point elsewhere. Then the
// child's stdio is reopened through the bind, so the container sees /dev/console as its
// stdin/stdout/stderr (same tty, so the controlling terminal is unchanged). Must come
// before PIVOT_ROOT: afterwards the host's /dev/pts is gone.
static int do_console_in(const struct step *s) {
  struct stat want, got;
  if (fstat(0, &want) < 0) return -1;
  int src = open(C.console, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (src < 0) return -1;
  int bad = fstat(src, &got) < 0;
  if (!bad && (!S_ISCHR(got.st_mode) || got.st_rdev != want.st_rdev)) {
    errno = ENXIO; // not our console
    bad = 1;
  }
  if (bad) {
    close_keep_errno(src);
    return -1;
  }
  int dst = open_in_root(s->a[0].s, O_PATH, 0);
  if (dst < 0) {
    close_keep_errno(src);
    return -1;
  }
  char source[40], target[40];
  fd_path(source, sizeof source, src);
  fd_path(target, sizeof target, dst);
  int r = mount(source, target, NULL, MS_BIND, NULL);
  close_keep_errno(src);
  close_keep_errno(dst);
  if (r < 0) return -1;
  int fd = open_in_root(s->a[0].s, O_RDWR | O_NOCTTY, 0);
  if (fd < 0) return -1;
  bad = fstat(fd, &got) < 0;
  if (!bad && got.st_rdev != want.st_rdev) {
    errno = ENXIO; // something was mounted over it since
    bad = 1;
  }
  if (bad) {
    close_keep_errno(fd);
    return -1;
  }
  for (int i = 0; i < 3; i++)
    if (dup2(fd, i) < 0) {
      close_keep_errno(fd);
      return -1;
    }
  return close(fd);
}

// Set a network interface up in the child's (new) network namespace: a new namespace's lo
// starts down, and programs expect 127.0.0.1 to answer. One ioctl, no netlink needed.
static int do_link_up(const struct step *s) {
  struct ifreq ifr;
  if (s->a[0].len == 0 || s->a[0].len >= sizeof ifr.ifr_name) {
    errno = EINVAL;
    return -1;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, s->a[0].s, s->a[0].len);
  int r = ioctl(fd, SIOCGIFFLAGS, &ifr);
  if (r == 0) {
    ifr.ifr_flags |= IFF_UP;
    r = ioctl(fd, SIOCSIFFLAGS, &ifr);
  }
  close_keep_errno(fd);
  return r;
}

// pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves only
// the new root, without needing a directory for the old root inside the container.
static int do_pivot_root(void) {
  if (C.root_fd < 0) {
    errno = EBADF;
    return -1;
  }
  if (fchdir(C.root_fd) < 0) return -1;
  if (syscall(SYS_pivot_root, ".", ".") < 0) return -1;
  if (umount2(".", MNT_DETACH) < 0) return -1;
  return chdir("/");
}

static int do_write(const struct step *s) {
  int fd = open(s->a[0].s, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return -1;
  if (write_all(fd, s->a[1].s, s->a[1].len) < 0) {
    close_keep_errno(fd);
    return -1;
  }
  return close(fd);
}

static int parse_rlim(const char *s, rlim_t *out) {
  if (strcmp(s, "inf") == 0 || strcmp(s, "unlimited") == 0) {
    *out = RLIM_INFINITY;
    return 0;
  }
  uint64_t v;
  if (parse_u64(s, 10, &v) < 0) return -1;
  *out = (rlim_t)v;
  return 0;
}

// The plan normally carries the resource number; names (nofile, RLIMIT_NOFILE) are accepted
// too so a hand-written plan reads naturally.
static int parse_resource(const char *s, int *out) {
  static const char *const names[] = {"cpu",     "fsize", "data",   "stack",      "core",
                                      "rss",     "nproc", "nofile", "memlock",    "as",
                                      "locks",   "sigpending", "msgqueue", "nice", "rtprio",
                                      "rttime"};
  uint32_t v;
  if (parse_u32(s, 10, &v) == 0) {
    *out = (int)v;
    return 0;
  }
  if (strncasecmp(s, "RLIMIT_", 7) == 0) s += 7;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcasecmp(s, names[i]) == 0) {
      *out = (int)i;
      return 0;
    }
  errno = EINVAL;
  return -1;
}

static int do_rlimit(const struct step *s) {
  int res;
  struct rlimit rl;
  if (parse_resource(s->a[0].s, &res) < 0) return -1;
  if (parse_rlim(s->a[1].s, &rl.rlim_cur) < 0 || parse_rlim(s->a[2].s, &rl.rlim_max) < 0) return -1;
  return setrlimit(res, &rl);
}

// Drop from the bounding set every capability the kernel knows (PR_CAPBSET_READ says EINVAL
// past cap_last_cap) that the mask does not keep. No /proc needed.
static int do_capbset(const struct step *s) {
  uint64_t keep;
  if (parse_u64(s->a[0].s, 10, &keep) < 0) return -1;
  for (int cap = 0; cap < 64; cap++) {
    int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (r < 0 && errno == EINVAL) break;
    if (r < 0) return -1;
    if (r == 1 && !(keep & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) return -1;
  }
  return 0;
}

static int do_setuser(const struct step *s) {
  uint32_t uid, gid;
  if (parse_u32(s->a[0].s, 10, &uid) < 0 || parse_u32(s->a[1].s, 10, &gid) < 0) return -1;
  size_t ngroups = s->nargs - 2;
  gid_t *groups = calloc(ngroups ? ngroups : 1, sizeof(gid_t));
  if (!groups) return -1;
  for (size_t i = 0; i < ngroups; i++) {
    uint32_t g;
    if (parse_u32(s->a[2 + i].s, 10, &g) < 0) return -1;
    groups[i] = g;
  }
  // KEEPCAPS so a later CAPS step can still set the capabilities of a non-root user.
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return -1;
  if (setgroups(ngroups, groups) < 0) return -1;
  free(groups);
  if (setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0) return -1;
  // Changing the euid clears the parent-death signal; re-arm it.
  return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

static int do_caps(const struct step *s) {
  uint64_t mask;
  if (parse_u64(s->a[0].s, 10, &mask) < 0) return -1;
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  // Keep only what this process holds: a host whose own bounding set lacks a capability
  // (e.g. a nested container) cannot grant it, and capset would fail with EPERM.
  struct __user_cap_data_struct cur[2];
  if (syscall(SYS_capget, &hdr, cur) < 0) return -1;
  mask &= (uint64_t)cur[0].permitted | ((uint64_t)cur[1].permitted << 32);
  uint32_t lo = (uint32_t)mask, hi = (uint32_t)(mask >> 32);
  struct __user_cap_data_struct data[2] = {
      {.effective = lo, .permitted = lo, .inheritable = lo},
      {.effective = hi, .permitted = hi, .inheritable = hi},
  };
  if (syscall(SYS_capset, &hdr, data) < 0) return -1;
  return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

static int do_seccomp(const struct step *s) {
  uint32_t len = s->a[0].len;
  if (len == 0 || len % sizeof(struct sock_filter) != 0 || len / sizeof(struct sock_filter) > BPF_MAXINSNS) {
    errno = EINVAL;
    return -1;
  }
  // The bytes sit unaligned inside the plan buffer; the kernel wants an array.
  struct sock_filter *filter = malloc(len);
  if (!filter) return -1;
  memcpy(filter, s->a[0].s, len);
  struct sock_fprog prog = {.len = (unsigned short)(len / sizeof(struct sock_filter)), .filter = filter};
  int r = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
  int e = errno;
  free(filter);
  errno = e;
  return r;
}

static int do_env(const struct step *s) {
  char **envp = calloc(s->nargs + 1, sizeof(char *));
  if (!envp) return -1;
  for (uint32_t i = 0; i < s->nargs; i++) envp[i] = s->a[i].s;
  free(C.envp);
  C.envp = envp;
  return 0;
}

// Marks every fd >= 3 close-on-exec: only 0, 1 and 2 reach the container's command.
static void cloexec_from_3(void) {
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  long max = sysconf(_SC_OPEN_MAX);
  if (max < 0 || max > 1 << 20) max = 1 << 20;
  for (int fd = 3; fd < max; fd++) (void)fcntl(fd, F_SETFD, FD_CLOEXEC); // EBADF expected
}

// HOOK cmdline [K=V...]: LXC's hooks that run inside the container's namespaces — pre-mount,
// mount and autodev before pivot_root (the host's /bin/sh), start after it (the container's).
// /bin/sh -c cmdline with exactly the given environment and the child's stdio; waits for it.
static int do_hook(const struct step *s) {
  char **envp = calloc(s->nargs, sizeof(char *));
  if (!envp) return -1;
  for (uint32_t i = 1; i < s->nargs; i++) envp[i - 1] = s->a[i].s;
  pid_t pid = fork();
  if (pid < 0) {
    free(envp);
    return -1;
  }
  if (pid == 0) {
    char *argv[] = {"sh", "-c", s->a[0].s, NULL};
    cloexec_from_3(); // the barrier and error pipes are not the hook's
    execve("/bin/sh", argv, envp);
    _exit(127);
  }
  free(envp);
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return -1;
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return 0;
  C.hook_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  errno = ECANCELED;
  return -1;
}

static int do_exec(const struct step *s) {
  char **argv = calloc(s->nargs, sizeof(char *));
  if (!argv) return -1;
  for (uint32_t i = 1; i < s->nargs; i++) argv[i - 1] = s->a[i].s;
  static char *empty_env[] = {NULL};
  // execvpe looks PATH up in `environ`, so the plan's environment must be the current one.
  environ = C.envp ? C.envp : empty_env;
  umask(C.umask);
  cloexec_from_3();
  execvpe(s->a[0].s, argv, environ);
  return -1;
}

static int do_barrier(void) {
  char c = 0;
  ssize_t n;
  do n = read(C.barrier_r, &c, 1);
  while (n < 0 && errno == EINTR);
  // Anything but `g` means the monitor is aborting (it kills us too): leave quietly.
  if (n != 1 || c != 'g') _exit(EXIT_SETUP);
  close(C.barrier_r);
  C.barrier_r = -1;
  return 0;
}

static int do_init(void);

static int run_child_step(const struct step *s) {
  switch (s->op) {
  case OP_BARRIER: return do_barrier();
  case OP_UNSHARE: {
    uint64_t flags;
    if (parse_u64(s->a[0].s, 10, &flags) < 0) return -1;
    return unshare((int)flags);
  }
  case OP_MOUNT: return do_mount(s);
  case OP_ROOT: return do_root(s);
  case OP_MOUNT_IN: return do_mount_in(s);
  case OP_MKDIR_IN: return do_mkdir_in(s);
  case OP_TOUCH_IN: return do_touch_in(s);
  case OP_WRITE_IN: return do_write_in(s);
  case OP_SYMLINK_IN: return do_symlink_in(s);
  case OP_MASK_IN: return do_mask_in(s);
  case OP_READONLY_IN: return do_readonly_in(s);
  case OP_LINK_UP: return do_link_up(s);
  case OP_HOOK: return do_hook(s);
  case OP_CONSOLE_IN: return do_console_in(s);
  case OP_PIVOT_ROOT: return do_pivot_root();
  case OP_HOSTNAME: return sethostname(s->a[0].s, s->a[0].len);
  case OP_WRITE: return do_write(s);
  case OP_RLIMIT: return do_rlimit(s);
  case OP_CHDIR: return chdir(s->a[0].s);
  case OP_CAPBSET: return do_capbset(s);
  case OP_SETUSER: return do_setuser(s);
  case OP_CAPS: return do_caps(s);
  case OP_NO_NEW_PRIVS: return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  case OP_SECCOMP: return do_seccomp(s);
  case OP_INIT: return do_init();
  case OP_ENV: return do_env(s);
  case OP_EXEC: return do_exec(s);
  }
  errno = EINVAL;
  return -1;
}

static int exit_code_for(uint32_t op, int err) {
  if (op != OP_EXEC) return EXIT_SETUP;
  return err == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
}

// "name main-arg", with tabs/newlines replaced so the report stays one line.
static void describe_step(const struct step *s, const char *extra, char *out, size_t size) {
  const struct opinfo *info = s->op <= OP_LAST && OPS[s->op].name ? &OPS[s->op] : NULL;
  const char *arg = info && info->main_arg >= 0 && (uint32_t)info->main_arg < s->nargs ? s->a[info->main_arg].s : NULL;
  if (arg && !*arg) arg = NULL; // "console", not "console " for an empty log path
  if (!info)
    snprintf(out, size, "op %u", s->op);
  else
    snprintf(out, size, "%s%s%s%s%s", info->name, arg ? " " : "", arg ? arg : "", extra ? " " : "", extra ? extra : "");
  for (char *p = out; *p; p++)
    if ((unsigned char)*p < 0x20) *p = '?';
}

// Tells the monitor which step failed (N<TAB>what<TAB>errno, one write, so it is atomic)
// and ends the child with the code the monitor will exit with.
static void __attribute__((noreturn)) child_fail(uint32_t n, const struct step *s, const char *extra, int err) {
  char what[1024], msg[1200];
  describe_step(s, extra, what, sizeof what);
  int len = snprintf(msg, sizeof msg, "%u\t%s\t%d", n, what, err);
  if (len > 0) (void)write_all(C.err_w, msg, (size_t)len < sizeof msg ? (size_t)len : sizeof msg - 1);
  _exit(exit_code_for(s->op, err));
}

// ---------------------------------------------------------------------------------------
// INIT: a minimal PID 1. It blocks the signals it cares about and takes them with
// sigwaitinfo: a blocked signal is queued even for a namespace's init (the kernel drops only
// unblocked signals with the default action), and nothing runs in signal context.

static void __attribute__((noreturn)) init_loop(pid_t cmd, const sigset_t *set) {
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(set, &si);
    if (sig < 0) continue; // EINTR only
    if (sig != SIGCHLD) {
      // SI_KERNEL: the terminal sent it to the whole foreground group, which the command
      // shares with us; forwarding it would deliver it twice.
      if (si.si_code != SI_KERNEL) (void)kill(cmd, sig);
      continue;
    }
    // Reap every child: orphans re-parented to us as well as the command.
    for (;;) {
      int st;
      pid_t p = waitpid(-1, &st, WNOHANG);
      if (p <= 0) break;
      if (p == cmd) _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    }
  }
}

static int do_init(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (size_t i = 0; i < NFORWARDED; i++) sigaddset(&set, FORWARDED[i]);
  if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) return -1;
  pid_t pid = raw_clone(0);
  if (pid < 0) return -1;
  if (pid == 0) {
    // The command: carry on with the remaining steps, with the normal signal mask.
    if (sigprocmask(SIG_UNBLOCK, &set, NULL) < 0) return -1;
    return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  }
  // PID 1: keep nothing but stdio. Dropping the error pipe lets the monitor see the
  // command's exec; dropping the rest keeps mounts and files from being pinned.
  if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
    for (int fd = 3; fd < 1024; fd++) close(fd);
  (void)prctl(PR_SET_NAME, "init", 0, 0, 0);
  (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); // reap orphans even without a PID namespace
  init_loop(pid, &set);
}

// ---------------------------------------------------------------------------------------
// child entry

struct parent_fds {
  int err_r, err_w, barrier_r, barrier_w, pty_master, pty_slave;
};

static void reset_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++) (void)sigaction(sig, &sa, NULL); // KILL/STOP refuse: fine
  sigset_t none;
  sigemptyset(&none);
  (void)sigprocmask(SIG_SETMASK, &none, NULL);
}

static void __attribute__((noreturn)) child_main(const struct plan *plan, uint32_t clone_step, const struct parent_fds *f) {
  const struct step *cs = &plan->steps[clone_step ? clone_step - 1 : 0];
  close(CTL_FD);
  close(f->err_r);
  close(f->barrier_w);
  if (f->pty_master >= 0) close(f->pty_master);
  C.err_w = f->err_w;
  C.barrier_r = f->barrier_r;
  // The monitor blocked signals and ignores SIGPIPE; the container starts from defaults.
  reset_signals();
  if (setsid() < 0) child_fail(clone_step, cs, "setsid", errno);
  if (f->pty_slave >= 0) {
    for (int fd = 0; fd < 3; fd++)
      if (dup2(f->pty_slave, fd) < 0) child_fail(clone_step, cs, "pty", errno);
    if (ioctl(0, TIOCSCTTY, 0) < 0) child_fail(clone_step, cs, "pty", errno);
    if (f->pty_slave > 2) close(f->pty_slave);
  }
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) child_fail(clone_step, cs, "pdeathsig", errno);
  // The monitor may have died before PDEATHSIG was armed. getppid() cannot tell inside a
  // new PID namespace (it is 0), but the barrier pipe's write end dies with the monitor.
  struct pollfd pf = {.fd = C.barrier_r, .events = POLLIN};
  if (poll(&pf, 1, 0) == 1 && (pf.revents & (POLLHUP | POLLERR))) _exit(EXIT_SETUP);
  C.umask = umask(0); // plan modes are exact; the command gets the caller's umask back
  for (uint32_t i = 0; i < plan->count; i++) {
    const struct step *s = &plan->steps[i];
    if (OPS[s->op].side != SIDE_CHILD) continue;
    if (run_child_step(s) < 0) {
      char status[40];
      snprintf(status, sizeof status, "(exit status %d)", C.hook_status);
      child_fail(i + 1, s, s->op == OP_HOOK && C.hook_status ? status : NULL, errno);
    }
  }
  child_fail(plan->count, &plan->steps[plan->count - 1], NULL, EINVAL); // not reached: validated
}

// ---------------------------------------------------------------------------------------
// monitor

static struct {
  pid_t child;
  int ctl;          // fd 3, -1 once the caller closed it
  int err_r;        // error pipe, -1 once it hit EOF
  int barrier_w;
  int sfd;          // signalfd
  int master;       // PTY master (foreground relay) or -1
  int stdin_open;   // relay stdin to the pty
  int has_barrier, released, pidns;
  int execed;       // the `exec` report was made
  int forced_sig;   // signal we turned into SIGKILL (namespace init without a handler)
  int err_code;     // exit code after an `error` report, 0 if none
  int raw;
  struct termios saved;
  char in_buf[1024]; // stdin -> pty master, waiting for the master to accept it
  size_t in_len, in_off;
  char err_buf[1200];
  size_t err_len;
} M = {.child = -1, .ctl = CTL_FD, .err_r = -1, .barrier_w = -1, .sfd = -1, .master = -1};

// ---- detached monitor state (MONITOR, CONSOLE, ON_EXIT) ----

#define MAX_CLIENTS 16           // socket connections served at once
#define REQ_MAX 128              // a request line is a few words
#define LOG_MAX (1u << 20)       // the console log rotates to <log>.1 before passing this
#define RING_MIN 4096u           // live console output passes through the ring: at least one read
#define RING_MAX (64u << 20)     // a typo must not make the monitor huge
#define ON_EXIT_TIMEOUT_MS 30000 // then ON_EXIT's process group is SIGKILLed

enum { CL_FREE, CL_REQ, CL_WAIT, CL_CONSOLE };

struct client {
  int fd;
  unsigned char kind;
  unsigned char rd_eof; // console client half-closed: it only watches
  uint16_t len;         // request bytes so far
  uint64_t pos;         // console: absolute ring offset of the next byte to send
  char req[REQ_MAX];
};

static struct {
  int active;       // MONITOR given
  int dirfd;        // MONITOR dir (O_PATH): every runtime file is named relative to it
  int listen_fd;
  int files;        // monitor.sock and monitor.pid exist and are ours to remove
  int stopping;     // a `stop` was requested
  int skip_on_exit; // a `stop ... noexit` was requested: the caller cleans up
  int64_t deadline; // CLOCK_MONOTONIC ms at which `stop` escalates to SIGKILL; 0 = none
  char **on_exit;   // ON_EXIT file, argv0, argv..., NULL (copied: the plan is freed)
  int console;      // CONSOLE given
  int master;       // console pty master
  int slave;        // kept open so the master never reports EIO/POLLHUP (see main)
  char *ring;
  size_t ring_size;
  uint64_t ring_total; // bytes ever put in the ring
  int log_dirfd, log_fd;
  char *log_name;
  uint64_t log_size;
  char in_buf[1024]; // client input waiting for the master to accept it
  size_t in_len, in_off;
  struct client cl[MAX_CLIENTS];
} MON = {.dirfd = -1, .listen_fd = -1, .master = -1, .slave = -1, .log_dirfd = -1, .log_fd = -1};

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts); // cannot fail with a valid clock and pointer
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// Removes the runtime files this monitor created, once: after that a new monitor may own
// the same names, and must not lose them to us.
static void mon_remove_files(void) {
  if (!MON.files) return;
  (void)unlinkat(MON.dirfd, "monitor.sock", 0);
  (void)unlinkat(MON.dirfd, "monitor.pid", 0);
  MON.files = 0;
}

static void restore_tty(void) {
  if (M.raw) (void)tcsetattr(0, TCSADRAIN, &M.saved);
  M.raw = 0;
}

static void __attribute__((noreturn)) monitor_exit(int code) {
  restore_tty();
  mon_remove_files();
  _exit(code);
}

static void reap_child(void) {
  int st;
  while (waitpid(M.child, &st, 0) < 0 && errno == EINTR) {
  }
}

// Abort before the command runs: no child may outlive us, and no zombie is left.
static void __attribute__((noreturn)) abort_child(void) {
  if (M.child > 0) {
    (void)kill(M.child, SIGKILL);
    reap_child();
  }
  monitor_exit(EXIT_SETUP);
}

static void __attribute__((noreturn)) monitor_fail(uint32_t n, const char *what) {
  report("error %u %s: %s", n, what, strerror(errno));
  abort_child();
}

// ---- runtime files ----

// name.tmp, then rename: a reader sees the whole file or none.
static int write_file_atomic(int dirfd, const char *name, const char *content) {
  char tmp[64];
  snprintf(tmp, sizeof tmp, "%s.tmp", name);
  int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  if (write_all(fd, content, strlen(content)) < 0) {
    close_keep_errno(fd);
    (void)unlinkat(dirfd, tmp, 0);
    return -1;
  }
  if (close(fd) < 0) return -1;
  return renameat(dirfd, tmp, dirfd, name);
}

static int bind_sock(int s) {
  struct sockaddr_un a = {.sun_family = AF_UNIX, .sun_path = "monitor.sock"};
  return bind(s, (struct sockaddr *)&a, sizeof a);
}

// Is a monitor answering on monitor.sock (in the cwd)? A socket file left behind by a
// monitor that was SIGKILLed refuses connections.
static int sock_is_live(void) {
  int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe < 0) return 1; // cannot tell: do not steal it
  struct sockaddr_un a = {.sun_family = AF_UNIX, .sun_path = "monitor.sock"};
  int r = connect(probe, (struct sockaddr *)&a, sizeof a);
  int live = r == 0 || errno != ECONNREFUSED;
  close(probe);
  return live;
}

// Binds and listens on monitor.sock; the cwd is the monitor dir. The umask makes the socket
// 0600 from its creation, not after a chmod.
static int bind_listen_here(void) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return -1;
  mode_t old = umask(0177);
  int r = bind_sock(s);
  if (r < 0 && errno == EADDRINUSE) {
    if (sock_is_live())
      errno = EADDRINUSE; // another monitor runs this container
    else if ((r = unlink("monitor.sock")) == 0)
      r = bind_sock(s);
  }
  umask(old);
  if (r == 0) MON.files = 1;
  if (r == 0) r = listen(s, MAX_CLIENTS);
  if (r < 0) {
    close_keep_errno(s);
    return -1;
  }
  MON.listen_fd = s;
  return 0;
}

// Binds through fchdir so a long directory path does not hit sun_path's 108 bytes.
static int mon_listen(void) {
  int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (cwd < 0) return -1;
  if (fchdir(MON.dirfd) < 0) {
    close_keep_errno(cwd);
    return -1;
  }
  int r = bind_listen_here();
  int e = errno;
  if (fchdir(cwd) < 0 && r == 0) { // the child would start in the wrong directory
    r = -1;
    e = errno;
  }
  close(cwd);
  errno = e;
  return r;
}

// A detached monitor holds nothing of its caller: stdio on /dev/null (the container's too,
// unless it has a console), its own session, no SIGHUP from a terminal.
static int detach_stdio(void) {
  int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (fd < 0) return -1;
  for (int i = 0; i < 3; i++)
    if (dup2(fd, i) < 0) {
      close_keep_errno(fd);
      return -1;
    }
  close(fd);
  (void)setsid(); // EPERM: the caller already made us a session leader
  return 0;
}

static int mon_setup(const char *dir) {
  MON.dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (MON.dirfd < 0) return -1;
  if (unlinkat(MON.dirfd, "exit", 0) < 0 && errno != ENOENT) return -1; // an earlier run's status
  if (mon_listen() < 0) return -1;
  char line[32];
  snprintf(line, sizeof line, "%d\n", (int)getpid());
  if (write_file_atomic(MON.dirfd, "monitor.pid", line) < 0) return -1;
  if (detach_stdio() < 0) return -1;
  MON.active = 1;
  return 0;
}

static int copy_on_exit(const struct step *s) {
  // s->a[0] is the file, the rest argv; one NULL-terminated vector of copies.
  MON.on_exit = calloc(s->nargs + 1, sizeof(char *));
  if (!MON.on_exit) return -1;
  for (uint32_t i = 0; i < s->nargs; i++)
    if (!(MON.on_exit[i] = strdup(s->a[i].s))) return -1;
  return 0;
}

// ---- console: log file, ring buffer ----

static int log_reopen(int truncate) {
  int fd = openat(MON.log_dirfd, MON.log_name, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0600);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) < 0) {
    close_keep_errno(fd);
    return -1;
  }
  if (MON.log_fd >= 0) close(MON.log_fd);
  MON.log_fd = fd;
  MON.log_size = (uint64_t)st.st_size;
  return 0;
}

// The log's directory is held open and the file named relative to it, so rotation works
// whatever the monitor's cwd and even after it joined other namespaces.
static int log_open(const char *path) {
  char dir[PATH_MAX];
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  if (*base == '\0' || strlen(path) >= sizeof dir || strlen(base) > NAME_MAX - 2) {
    errno = *base ? ENAMETOOLONG : EINVAL;
    return -1;
  }
  if (slash == path)
    strcpy(dir, "/");
  else if (slash) {
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
  } else
    strcpy(dir, ".");
  MON.log_dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (MON.log_dirfd < 0) return -1;
  if (!(MON.log_name = strdup(base))) return -1;
  return log_reopen(0);
}

// Keeps one older generation (<log>.1). A failing write (disk full) is dropped: the
// container must never wait for its log.
static void log_write(const char *buf, size_t n) {
  if (MON.log_fd < 0) return;
  if (MON.log_size > 0 && MON.log_size + n > LOG_MAX) {
    char old[NAME_MAX + 1];
    snprintf(old, sizeof old, "%s.1", MON.log_name);
    (void)renameat(MON.log_dirfd, MON.log_name, MON.log_dirfd, old);
    if (log_reopen(1) < 0) { // keep the cap rather than grow the old generation
      close(MON.log_fd);
      MON.log_fd = -1;
      return;
    }
  }
  if (write_all(MON.log_fd, buf, n) == 0) MON.log_size += n;
}

static void ring_append(const char *buf, size_t n) {
  size_t idx = (size_t)(MON.ring_total % MON.ring_size);
  size_t first = n < MON.ring_size - idx ? n : MON.ring_size - idx;
  memcpy(MON.ring + idx, buf, first);
  memcpy(MON.ring, buf + first, n - first);
  MON.ring_total += n;
}

static int open_pty(struct parent_fds *f) {
  f->pty_master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (f->pty_master < 0) return -1;
  int e = 0;
  if (grantpt(f->pty_master) < 0 || unlockpt(f->pty_master) < 0) return -1;
  if ((e = ptsname_r(f->pty_master, C.console, sizeof C.console)) != 0) {
    errno = e;
    return -1;
  }
  f->pty_slave = open(C.console, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (f->pty_slave < 0) return -1;
  // The master never blocks the monitor: output is read when ready, input waits in a buffer.
  return fcntl(f->pty_master, F_SETFL, O_NONBLOCK);
}

static int console_setup(struct parent_fds *f, const char *logpath, const char *ringbytes) {
  uint32_t ring;
  if (parse_u32(ringbytes, 10, &ring) < 0) return -1;
  if (ring > RING_MAX) {
    errno = EINVAL;
    return -1;
  }
  MON.ring_size = ring < RING_MIN ? RING_MIN : ring;
  // malloc'd, not touched: a quiet console costs only the pages its output has filled.
  if (!(MON.ring = malloc(MON.ring_size))) return -1;
  if (*logpath && log_open(logpath) < 0) return -1;
  if (open_pty(f) < 0) return -1;
  struct winsize ws = {.ws_row = 24, .ws_col = 80}; // a getty wants some size
  if (ioctl(f->pty_master, TIOCSWINSZ, &ws) < 0) return -1;
  MON.console = 1;
  return 0;
}

// ---- command socket ----

static void client_line(struct client *c, const char *fmt, ...) {
  char line[160];
  va_list ap;
  va_start(ap, fmt);
  int n = format_line(line, sizeof line, fmt, ap);
  va_end(ap);
  // A fresh socket's buffer takes a line; a client that vanished is not our problem.
  if (n > 0) (void)send(c->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void client_drop(struct client *c) {
  close(c->fd);
  memset(c, 0, sizeof *c);
  c->fd = -1;
}

// Sends the console output the client has not seen yet. -1: the client is gone.
static int console_flush(struct client *c) {
  uint64_t oldest = MON.ring_total > MON.ring_size ? MON.ring_total - MON.ring_size : 0;
  if (c->pos < oldest) c->pos = oldest; // fell a whole ring behind: the oldest part is lost
  while (c->pos < MON.ring_total) {
    size_t idx = (size_t)(c->pos % MON.ring_size);
    size_t len = MON.ring_total - c->pos < MON.ring_size - idx ? (size_t)(MON.ring_total - c->pos) : MON.ring_size - idx;
    ssize_t n = send(c->fd, MON.ring + idx, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return 0; // POLLOUT brings us back
    if (n <= 0) return -1;
    c->pos += (uint64_t)n;
  }
  return 0;
}

static void console_write_master(void) {
  ssize_t n = write(MON.master, MON.in_buf + MON.in_off, MON.in_len - MON.in_off);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n < 0) {
    MON.in_len = MON.in_off = 0; // the pty is gone; input has nowhere to go
    return;
  }
  MON.in_off += (size_t)n;
  if (MON.in_off == MON.in_len) MON.in_len = MON.in_off = 0;
}

static void console_input(const char *buf, size_t n) {
  if (MON.master < 0 || MON.in_len || n == 0) return;
  if (n > sizeof MON.in_buf) n = sizeof MON.in_buf;
  memcpy(MON.in_buf, buf, n);
  MON.in_len = n;
  MON.in_off = 0;
  console_write_master();
}

// One read from a pty master: > 0 bytes read; 0 nothing more for now (EAGAIN), or the
// master is done (EOF/EIO: every slave closed) and is closed and set to -1; -1 interrupted
// (EINTR), call again.
static ssize_t read_master(int *master, char *buf, size_t size) {
  ssize_t n = read(*master, buf, size);
  if (n > 0) return n;
  if (n < 0 && errno == EINTR) return -1;
  if (n < 0 && errno == EAGAIN) return 0;
  close(*master);
  *master = -1;
  return 0;
}

// Reads what the console has into the ring and the log, and passes it on to every console
// client. Returns 0 when nothing more is there.
static int console_read_master(void) {
  char buf[4096];
  // EIO cannot happen while we hold the slave; if it does, stop polling a dead master.
  ssize_t n = read_master(&MON.master, buf, sizeof buf);
  if (n <= 0) return n < 0;
  ring_append(buf, (size_t)n);
  log_write(buf, (size_t)n);
  for (int k = 0; k < MAX_CLIENTS; k++)
    if (MON.cl[k].kind == CL_CONSOLE && console_flush(&MON.cl[k]) < 0) client_drop(&MON.cl[k]);
  return 1;
}

static const char *state_word(void) {
  if (MON.stopping) return "stopping";
  return M.execed ? "running" : "starting";
}

static int parse_signo(const char *s, uint32_t *sig) {
  return s && parse_u32(s, 10, sig) == 0 && *sig < NSIG ? 0 : -1;
}

static void request_stop(struct client *c, const char *sigs, const char *ms, const char *opt) {
  uint32_t sig, timeout;
  if (parse_signo(sigs, &sig) < 0 || !ms || parse_u32(ms, 10, &timeout) < 0 || (opt && strcmp(opt, "noexit") != 0)) {
    client_line(c, "error usage: stop <signo> <timeout_ms> [noexit]");
    client_drop(c);
    return;
  }
  if (sig && kill(M.child, (int)sig) < 0) {
    client_line(c, "error kill: %s", strerror(errno));
    client_drop(c);
    return;
  }
  // Several stops: each sends its signal, and the earliest deadline wins (`stop -k` after a
  // graceful stop kills at once).
  int64_t dl = now_ms() + timeout;
  if (!MON.deadline || dl < MON.deadline) MON.deadline = dl ? dl : 1;
  MON.stopping = 1;
  // `noexit`: the caller waits for `stopped` and cleans up itself, faster than the ON_EXIT
  // hook could (it would start a Node.js process); a container that ends on its own still
  // gets the hook.
  if (opt) MON.skip_on_exit = 1;
  c->kind = CL_WAIT; // `stopped <code>` comes from mon_finish
}

// One request line: state | kill SIG | stop SIG MS | wait | console. `extra` is what the
// client sent after the newline (console input typed ahead).
static void client_request(struct client *c, const char *extra, size_t extra_len) {
  char *w[4] = {NULL, NULL, NULL, NULL}, *save = NULL;
  int nw = 0;
  for (char *t = strtok_r(c->req, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save), nw++)
    if (nw < 4) w[nw] = t;
  const char *cmd = w[0] ? w[0] : "";
  if (strcmp(cmd, "state") == 0 && nw == 1) {
    client_line(c, "%s %d", state_word(), (int)M.child);
  } else if (strcmp(cmd, "kill") == 0 && nw == 2) {
    uint32_t sig;
    if (parse_signo(w[1], &sig) < 0)
      client_line(c, "error usage: kill <signo>");
    else if (kill(M.child, (int)sig) < 0)
      client_line(c, "error kill: %s", strerror(errno));
    else
      client_line(c, "ok");
  } else if (strcmp(cmd, "stop") == 0 && (nw == 3 || nw == 4)) {
    request_stop(c, w[1], w[2], nw == 4 ? w[3] : NULL);
    return;
  } else if (strcmp(cmd, "wait") == 0 && nw == 1) {
    c->kind = CL_WAIT;
    return;
  } else if (strcmp(cmd, "console") == 0 && nw == 1 && MON.console) {
    client_line(c, "ok");
    c->kind = CL_CONSOLE;
    c->pos = 0; // console_flush moves it to the oldest byte the ring still has
    if (console_flush(c) < 0) client_drop(c);
    else console_input(extra, extra_len);
    return;
  } else if (strcmp(cmd, "console") == 0 && nw == 1) {
    client_line(c, "error no console");
  } else {
    client_line(c, "error unknown request");
  }
  client_drop(c);
}

static void client_read_request(struct client *c) {
  ssize_t n = read(c->fd, c->req + c->len, REQ_MAX - 1 - c->len);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n < 0 || (n == 0 && c->len == 0)) {
    client_drop(c);
    return;
  }
  if (n == 0) { // EOF ends the request as a newline would
    c->req[c->len] = '\0';
    client_request(c, NULL, 0);
    return;
  }
  c->len = (uint16_t)(c->len + n);
  char *nl = memchr(c->req, '\n', c->len);
  if (nl) {
    *nl = '\0';
    c->req[c->len] = '\0';
    size_t extra = c->len - (size_t)(nl + 1 - c->req);
    client_request(c, nl + 1, extra);
  } else if (c->len >= REQ_MAX - 1) {
    client_line(c, "error request too long");
    client_drop(c);
  }
}

static void client_event(struct client *c, short rev) {
  if (c->kind == CL_REQ) {
    client_read_request(c);
  } else if (c->kind == CL_WAIT) {
    // Nothing more to read: only a full close (POLLHUP) frees the slot. A client that
    // half-closed after its request still gets its reply.
    if (rev & (POLLHUP | POLLERR)) client_drop(c);
  } else if (c->kind == CL_CONSOLE) {
    if (rev & POLLIN) {
      char buf[sizeof MON.in_buf];
      ssize_t n = read(c->fd, buf, sizeof buf);
      if (n < 0 && errno != EINTR && errno != EAGAIN) {
        client_drop(c);
        return;
      }
      if (n == 0) c->rd_eof = 1; // watches on; POLLHUP comes when it closes the rest
      if (n > 0) console_input(buf, (size_t)n);
    }
    if ((rev & POLLOUT) && console_flush(c) < 0) client_drop(c);
    else if ((rev & (POLLHUP | POLLERR)) && !(rev & POLLIN)) client_drop(c);
  }
}

// Only root may talk to the monitor: it can kill the container and type on its console.
static void mon_accept(void) {
  for (;;) {
    int fd = accept4(MON.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return; // EAGAIN, or a connection that died in the backlog
    struct ucred cr;
    socklen_t len = sizeof cr;
    struct client tmp = {.fd = fd};
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.uid != 0) {
      client_line(&tmp, "error permission denied");
      close(fd);
      continue;
    }
    int k = 0;
    while (k < MAX_CLIENTS && MON.cl[k].kind != CL_FREE) k++;
    if (k == MAX_CLIENTS) {
      client_line(&tmp, "error too many clients");
      close(fd);
      continue;
    }
    MON.cl[k] = (struct client){.fd = fd, .kind = CL_REQ};
  }
}

static void mon_check_deadline(void) {
  if (MON.deadline && now_ms() >= MON.deadline) {
    (void)kill(M.child, SIGKILL);
    MON.deadline = 0;
  }
}

static int poll_timeout(void) {
  if (!MON.deadline) return -1;
  int64_t left = MON.deadline - now_ms();
  return left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

// The container's init has exited (with code): leave the status for whoever looks next,
// give up the runtime names (a new start may take them while ON_EXIT runs), answer the
// waiters. Their connections close when the monitor exits, i.e. after ON_EXIT.
static void mon_finish(int code) {
  char line[16];
  snprintf(line, sizeof line, "%d\n", code);
  (void)write_file_atomic(MON.dirfd, "exit", line); // nobody left to tell if it fails
  mon_remove_files();
  if (MON.listen_fd >= 0) close(MON.listen_fd);
  MON.listen_fd = -1;
  for (int k = 0; k < MAX_CLIENTS; k++) {
    struct client *c = &MON.cl[k];
    if (c->kind == CL_WAIT) {
      client_line(c, "stopped %d", code);
    } else if (c->kind == CL_CONSOLE) {
      (void)console_flush(c);
      (void)shutdown(c->fd, SHUT_WR); // the console client sees EOF now
    } else if (c->kind == CL_REQ) {
      client_drop(c);
    }
  }
}

// ON_EXIT: fork+exec with LXTS_EXIT_CODE and LXTS_CONTAINER_PID added to our environment,
// in its own process group so a timeout kills whatever it started too.
static void run_on_exit(int code) {
  if (!MON.on_exit || MON.skip_on_exit) return;
  pid_t pid = raw_clone(0);
  if (pid < 0) return;
  if (pid == 0) {
    char v[24];
    reset_signals();
    (void)setpgid(0, 0);
    snprintf(v, sizeof v, "%d", code);
    if (setenv("LXTS_EXIT_CODE", v, 1) < 0) _exit(EXIT_SETUP);
    snprintf(v, sizeof v, "%d", (int)M.child);
    if (setenv("LXTS_CONTAINER_PID", v, 1) < 0) _exit(EXIT_SETUP);
    cloexec_from_3();
    execvp(MON.on_exit[0], MON.on_exit + 1);
    _exit(errno == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC);
  }
  int64_t end = now_ms() + ON_EXIT_TIMEOUT_MS;
  for (;;) {
    int st;
    pid_t p = waitpid(pid, &st, WNOHANG);
    if (p == pid || (p < 0 && errno != EINTR)) return;
    int64_t left = end - now_ms();
    if (left <= 0) {
      (void)kill(-pid, SIGKILL);
      (void)kill(pid, SIGKILL); // in case setpgid had not happened yet
      while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
      }
      return;
    }
    struct pollfd pf = {.fd = M.sfd, .events = POLLIN};
    (void)poll(&pf, 1, (int)left); // SIGCHLD wakes us; EINTR just loops
    struct signalfd_siginfo si;
    while (read(M.sfd, &si, sizeof si) == (ssize_t)sizeof si) {
    } // the container is gone: nothing to forward
  }
}

// ---- foreground relay and the container's end ----

// Turn the child's "N\twhat\terrno" into the `error` report.
static void report_child_error(void) {
  M.err_buf[M.err_len < sizeof M.err_buf ? M.err_len : sizeof M.err_buf - 1] = '\0';
  char *t1 = strchr(M.err_buf, '\t');
  char *t2 = strrchr(M.err_buf, '\t');
  if (!t1 || t1 == t2) {
    report("error 0 plan: %s", strerror(EPROTO));
    M.err_code = EXIT_SETUP;
    return;
  }
  *t1 = *t2 = '\0';
  int err = atoi(t2 + 1);
  report("error %s %s: %s", M.err_buf, t1 + 1, strerror(err));
  M.err_code = strncmp(t1 + 1, "exec ", 5) == 0 || strcmp(t1 + 1, "exec") == 0 ? exit_code_for(OP_EXEC, err) : EXIT_SETUP;
}

// Reads what the error pipe has. EOF without a message means the exec succeeded.
static void handle_err_pipe(void) {
  for (;;) {
    ssize_t n = read(M.err_r, M.err_buf + M.err_len, sizeof M.err_buf - 1 - M.err_len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return; // EAGAIN: more later (or a stray holder; the exit path decides)
    if (n > 0 && M.err_len + (size_t)n < sizeof M.err_buf - 1) {
      M.err_len += (size_t)n;
      continue;
    }
    if (n > 0) continue; // overlong: keep draining, the buffer holds the start
    close(M.err_r);
    M.err_r = -1;
    if (M.err_len) {
      report_child_error();
    } else if (M.released || !M.has_barrier) {
      M.execed = 1;
      report("exec");
    }
    return;
  }
}

static void handle_ctl(void) {
  char buf[64];
  ssize_t n = read(M.ctl, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    close(M.ctl);
    M.ctl = report_fd = -1;
    if (M.has_barrier && !M.released) abort_child(); // caller gave up before `g`
    return;
  }
  for (ssize_t i = 0; i < n; i++) {
    if (buf[i] == 'g' && !M.released) {
      M.released = 1;
      // EPIPE means the child already died (a step before BARRIER failed): its error report
      // and exit arrive through the error pipe and SIGCHLD, so nothing to do here.
      (void)write_all(M.barrier_w, "g", 1);
    } else if (buf[i] == 'k') {
      if (!M.released) abort_child();
      (void)kill(M.child, SIGKILL); // after `g`: ends like any killed container (exit 137)
    }
  }
}

// Does the child block, ignore or catch sig? (/proc/PID/status SigBlk|SigIgn|SigCgt)
static int child_takes_signal(int sig) {
  char path[40], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/status", (int)M.child);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 1; // cannot tell: plain forwarding
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 1;
  buf[n] = '\0';
  static const char *const keys[] = {"\nSigBlk:", "\nSigIgn:", "\nSigCgt:"};
  uint64_t mask = 0;
  for (size_t i = 0; i < 3; i++) {
    const char *p = strstr(buf, keys[i]);
    if (p) mask |= strtoull(p + strlen(keys[i]), NULL, 16);
  }
  return (int)((mask >> (sig - 1)) & 1);
}

// A namespace's PID 1 silently drops signals it has no handler for; the user expects Ctrl-C
// or `kill` to end the container as it would end the same program on the host.
static void forward_signal(int sig) {
  if (M.pidns && !child_takes_signal(sig)) {
    M.forced_sig = sig;
    (void)kill(M.child, SIGKILL);
  } else {
    (void)kill(M.child, sig);
  }
}

static void copy_winsize(void) {
  struct winsize ws;
  if (M.master >= 0 && ioctl(0, TIOCGWINSZ, &ws) == 0) (void)ioctl(M.master, TIOCSWINSZ, &ws);
}

// Copies what the pty master has to stdout. Returns 0 when the master is done (EIO: every
// slave closed) or, when draining, when nothing more is buffered.
static int relay_master(void) {
  char buf[4096];
  ssize_t n = read_master(&M.master, buf, sizeof buf);
  if (n <= 0) return n < 0;
  (void)write_all(1, buf, (size_t)n);
  return 1;
}

static void relay_stdin(void) {
  ssize_t n = read(0, M.in_buf, sizeof M.in_buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    M.stdin_open = 0; // the container keeps its pty; it just gets no more input
    return;
  }
  M.in_len = (size_t)n;
  M.in_off = 0;
}

static void flush_stdin_buf(void) {
  ssize_t n = write(M.master, M.in_buf + M.in_off, M.in_len - M.in_off);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n < 0) {
    M.in_len = M.in_off = 0;
    M.stdin_open = 0;
    return;
  }
  M.in_off += (size_t)n;
  if (M.in_off == M.in_len) M.in_len = M.in_off = 0;
}

static void __attribute__((noreturn)) finish(int status) {
  if (M.err_r >= 0) handle_err_pipe();
  if (M.master >= 0)
    while (relay_master()) {
    }
  if (MON.master >= 0)
    while (console_read_master()) {
    }
  // A failed start: the caller is still there and cleans up; no exit file, no ON_EXIT.
  if (M.err_code) monitor_exit(M.err_code);
  int code;
  if (WIFEXITED(status))
    code = WEXITSTATUS(status);
  else if (M.forced_sig && WTERMSIG(status) == SIGKILL)
    code = 128 + M.forced_sig;
  else
    code = 128 + WTERMSIG(status);
  report("exit %d", code);
  if (MON.active) mon_finish(code);
  run_on_exit(code);
  monitor_exit(code);
}

static void handle_signals(void) {
  struct signalfd_siginfo si;
  for (;;) {
    ssize_t n = read(M.sfd, &si, sizeof si);
    if (n < 0 && errno == EINTR) continue;
    if (n != (ssize_t)sizeof si) return;
    int sig = (int)si.ssi_signo;
    if (sig == SIGCHLD) {
      int st;
      pid_t p = waitpid(M.child, &st, WNOHANG);
      if (p == M.child) finish(st);
    } else if (sig == SIGWINCH) {
      copy_winsize();
    } else if (sig == SIGHUP && MON.active) {
      // detached: a hangup is not addressed to the container
    } else {
      forward_signal(sig);
    }
  }
}

#define MAX_POLL (8 + MAX_CLIENTS)

static void __attribute__((noreturn)) monitor_loop(void) {
  for (;;) {
    struct pollfd pf[MAX_POLL];
    int n = 0, i_err = -1, i_ctl = -1, i_sig, i_master = -1, i_in = -1, i_listen = -1, i_con = -1;
    int i_cl[MAX_CLIENTS];
    if (M.err_r >= 0) i_err = n, pf[n++] = (struct pollfd){.fd = M.err_r, .events = POLLIN};
    if (M.ctl >= 0) i_ctl = n, pf[n++] = (struct pollfd){.fd = M.ctl, .events = POLLIN};
    i_sig = n, pf[n++] = (struct pollfd){.fd = M.sfd, .events = POLLIN};
    if (M.master >= 0)
      i_master = n, pf[n++] = (struct pollfd){.fd = M.master, .events = (short)(POLLIN | (M.in_len ? POLLOUT : 0))};
    if (M.master >= 0 && M.stdin_open && !M.in_len) i_in = n, pf[n++] = (struct pollfd){.fd = 0, .events = POLLIN};
    if (MON.listen_fd >= 0) i_listen = n, pf[n++] = (struct pollfd){.fd = MON.listen_fd, .events = POLLIN};
    if (MON.master >= 0)
      i_con = n, pf[n++] = (struct pollfd){.fd = MON.master, .events = (short)(POLLIN | (MON.in_len ? POLLOUT : 0))};
    for (int k = 0; k < MAX_CLIENTS; k++) {
      const struct client *c = &MON.cl[k];
      i_cl[k] = -1;
      if (c->kind == CL_FREE) continue;
      short ev = 0; // CL_WAIT: POLLHUP (always reported) says the client went away
      if (c->kind == CL_REQ) ev = POLLIN;
      // Console input is read only when the master took the previous chunk.
      if (c->kind == CL_CONSOLE && !c->rd_eof && !MON.in_len) ev |= POLLIN;
      if (c->kind == CL_CONSOLE && c->pos < MON.ring_total) ev |= POLLOUT;
      i_cl[k] = n, pf[n++] = (struct pollfd){.fd = c->fd, .events = ev};
    }
    if (poll(pf, (nfds_t)n, poll_timeout()) < 0) {
      if (errno == EINTR) continue;
      monitor_fail(0, "poll");
    }
    // Errors first: the error report must precede the exit, and `exec` any output.
    if (i_err >= 0 && pf[i_err].revents) handle_err_pipe();
    if (i_ctl >= 0 && pf[i_ctl].revents) handle_ctl();
    if (i_master >= 0 && (pf[i_master].revents & POLLOUT)) flush_stdin_buf();
    if (i_master >= 0 && (pf[i_master].revents & (POLLIN | POLLHUP | POLLERR))) (void)relay_master();
    if (i_in >= 0 && pf[i_in].revents) relay_stdin();
    // Clients before the master read and accept: both can free or fill slots.
    for (int k = 0; k < MAX_CLIENTS; k++)
      if (i_cl[k] >= 0 && pf[i_cl[k]].revents && MON.cl[k].kind != CL_FREE) client_event(&MON.cl[k], pf[i_cl[k]].revents);
    if (i_con >= 0 && MON.master >= 0 && (pf[i_con].revents & POLLOUT) && MON.in_len) console_write_master();
    if (i_con >= 0 && MON.master >= 0 && (pf[i_con].revents & (POLLIN | POLLHUP | POLLERR))) (void)console_read_master();
    if (i_listen >= 0 && pf[i_listen].revents) mon_accept();
    mon_check_deadline();
    if (pf[i_sig].revents) handle_signals();
  }
}

// Raw mode on our terminal so keys (Ctrl-C included) go to the container's line discipline.
static void enter_raw_mode(void) {
  if (!isatty(0) || tcgetattr(0, &M.saved) < 0) return;
  struct termios raw = M.saved;
  cfmakeraw(&raw);
  if (tcsetattr(0, TCSADRAIN, &raw) == 0) M.raw = 1;
}

// ---- parent-side steps ----

struct ns_join {
  int fd;
  uint32_t nstype, step;
};

// SETNS: every path is opened before the first setns, so a path after a `mnt` join is not
// resolved in the container's mount namespace (or a pid in its /proc).
static void open_ns(const struct step *s, uint32_t n, struct ns_join *j, const char *what) {
  if (parse_u32(s->a[1].s, 10, &j->nstype) < 0) monitor_fail(n, what);
  j->fd = open(s->a[0].s, O_RDONLY | O_CLOEXEC);
  if (j->fd < 0) monitor_fail(n, what);
  j->step = n;
}

static void join_namespaces(const struct plan *plan, struct ns_join *joins, uint32_t njoins) {
  for (uint32_t i = 0; i < njoins; i++) {
    if (setns(joins[i].fd, (int)joins[i].nstype) < 0) {
      char what[1024];
      describe_step(&plan->steps[joins[i].step - 1], NULL, what, sizeof what);
      monitor_fail(joins[i].step, what);
    }
    close(joins[i].fd);
  }
}

static void parse_clone(const struct step *s, uint32_t n, const char *what, unsigned long *clone_flags) {
  uint64_t flags;
  // Only namespace flags: anything else (CLONE_VM, CLONE_THREAD...) breaks fork semantics.
  const uint64_t allowed = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;
  if (parse_u64(s->a[0].s, 10, &flags) < 0) monitor_fail(n, what);
  if (flags & ~allowed) {
    errno = EINVAL;
    monitor_fail(n, what);
  }
  *clone_flags = (unsigned long)flags;
}

static void set_pdeathsig(const struct step *s, uint32_t n, const char *what) {
  uint32_t sig;
  pid_t caller = getppid();
  if (parse_u32(s->a[0].s, 10, &sig) < 0 || sig == 0 || sig >= NSIG) {
    errno = EINVAL;
    monitor_fail(n, what);
  }
  if (prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) < 0) monitor_fail(n, what);
  if (getppid() != caller) monitor_exit(EXIT_SETUP); // the caller died just before
}

// Parent-side steps run before the clone, whatever their position in the plan; SETNS joins
// come last, in plan order, after every other parent step (they may change our mount ns).
static uint32_t run_parent_steps(const struct plan *plan, struct parent_fds *f, unsigned long *clone_flags) {
  uint32_t clone_step = 0, njoins = 0;
  struct ns_join *joins = calloc(plan->count ? plan->count : 1, sizeof *joins);
  if (!joins) monitor_fail(0, "plan");
  for (uint32_t i = 0; i < plan->count; i++) {
    const struct step *s = &plan->steps[i];
    char what[1024];
    describe_step(s, NULL, what, sizeof what);
    switch (s->op) {
    case OP_CLONE:
      parse_clone(s, i + 1, what, clone_flags);
      clone_step = i + 1;
      break;
    case OP_PTY:
      if (f->pty_master >= 0) break;
      if (open_pty(f) < 0) monitor_fail(i + 1, what);
      M.master = f->pty_master;
      copy_winsize();
      break;
    case OP_PDEATHSIG: set_pdeathsig(s, i + 1, what); break;
    case OP_PTY_OWNER: {
      // In a user namespace the container's root is an unprivileged host user: the pty it
      // is given (PTY or CONSOLE, allocated by an earlier step) must be its own.
      uint32_t uid, gid;
      if (parse_u32(s->a[0].s, 10, &uid) < 0 || parse_u32(s->a[1].s, 10, &gid) < 0) monitor_fail(i + 1, what);
      if (f->pty_slave < 0) {
        errno = EINVAL;
        monitor_fail(i + 1, what);
      }
      if (fchown(f->pty_slave, uid, gid) < 0) monitor_fail(i + 1, what);
      break;
    }
    case OP_BARRIER: M.has_barrier = 1; break;
    case OP_MONITOR:
      if (mon_setup(s->a[0].s) < 0) monitor_fail(i + 1, what);
      break;
    case OP_CONSOLE:
      if (console_setup(f, s->a[0].s, s->a[1].s) < 0) monitor_fail(i + 1, what);
      break;
    case OP_ON_EXIT:
      if (copy_on_exit(s) < 0) monitor_fail(i + 1, what);
      break;
    case OP_SETNS: open_ns(s, i + 1, &joins[njoins++], what); break;
    }
  }
  join_namespaces(plan, joins, njoins);
  free(joins);
  return clone_step;
}

static void close_from_4(void) {
  if (syscall(SYS_close_range, 4U, ~0U, 0U) == 0) return;
  long max = sysconf(_SC_OPEN_MAX);
  if (max < 0 || max > 1 << 20) max = 1 << 20;
  for (int fd = 4; fd < max; fd++) (void)close(fd); // EBADF expected
}

// A closed 0/1/2 would be taken by our pipes and then clobbered by the pty dup2s.
static void ensure_stdio(void) {
  for (int fd = 0; fd < 3; fd++)
    if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd) _exit(EXIT_SETUP);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--version") == 0) {
    printf("lxts-exec %s (plan version %d)\n", LXTS_EXEC_VERSION, PLAN_VERSION);
    return 0;
  }
  if (argc > 1) {
    fprintf(stderr, "usage: lxts-exec [--version]   (the plan is read from fd 3)\n");
    return EXIT_SETUP;
  }
  ensure_stdio();
  if (fcntl(CTL_FD, F_GETFD) < 0) {
    fprintf(stderr, "lxts-exec: fd 3 is not open (it must carry the plan)\n");
    return EXIT_SETUP;
  }
  (void)fcntl(CTL_FD, F_SETFD, FD_CLOEXEC);
  signal(SIGPIPE, SIG_IGN); // a caller that closed fd 3 must not kill the monitor

  struct plan plan;
  if (read_plan(&plan) < 0) monitor_fail(0, "plan");
  uint32_t bad = validate_plan(&plan);
  if (bad) {
    errno = EINVAL;
    if (bad > plan.count) monitor_fail(bad, "plan (no exec step)");
    char what[1024];
    describe_step(&plan.steps[bad - 1], NULL, what, sizeof what);
    monitor_fail(bad, what);
  }

  // A detached monitor lives for the container's life: it must not keep open a pipe its
  // caller inherited from further up (someone waiting for EOF on it would wait forever).
  // Nothing of ours is open above fd 3 yet.
  for (uint32_t i = 0; i < plan.count; i++)
    if (plan.steps[i].op == OP_MONITOR) close_from_4();

  struct parent_fds f = {-1, -1, -1, -1, -1, -1};
  unsigned long flags = 0;
  uint32_t clone_step = run_parent_steps(&plan, &f, &flags);
  int errp[2], barp[2];
  if (pipe2(errp, O_CLOEXEC) < 0 || pipe2(barp, O_CLOEXEC) < 0) monitor_fail(clone_step, "clone pipe");
  f.err_r = errp[0], f.err_w = errp[1], f.barrier_r = barp[0], f.barrier_w = barp[1];

  // Block before the clone so no signal is lost between clone and the signalfd.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGWINCH);
  for (size_t i = 0; i < NFORWARDED; i++) sigaddset(&mask, FORWARDED[i]);
  if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) monitor_fail(clone_step, "clone sigprocmask");

  C.clone_flags = flags;
  pid_t pid = raw_clone(flags);
  if (pid < 0) {
    char what[1024];
    if (clone_step)
      describe_step(&plan.steps[clone_step - 1], NULL, what, sizeof what);
    else
      strcpy(what, "clone");
    monitor_fail(clone_step, what);
  }
  if (pid == 0) child_main(&plan, clone_step, &f);

  M.child = pid;
  M.pidns = (flags & CLONE_NEWPID) != 0;
  M.err_r = f.err_r;
  M.barrier_w = f.barrier_w;
  close(f.err_w);
  close(f.barrier_r);
  if (MON.console) {
    // The console keeps its own slave fd: with no slave open the master reports POLLHUP
    // without end (a busy loop) whenever the container closes its console, e.g. a getty
    // between vhangup() and reopening /dev/console.
    MON.master = f.pty_master;
    MON.slave = f.pty_slave;
  } else if (f.pty_slave >= 0) {
    close(f.pty_slave); // else the PTY master never sees EIO
  }
  if (fcntl(M.err_r, F_SETFL, O_NONBLOCK) < 0) monitor_fail(clone_step, "clone pipe");
  M.sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (M.sfd < 0) monitor_fail(clone_step, "clone signalfd");
  if (M.master >= 0) {
    M.stdin_open = 1;
    enter_raw_mode();
  }
  // A monitor that lives for weeks must not pin the caller's directory (or its mount).
  if (MON.active && chdir("/") < 0) monitor_fail(clone_step, "monitor chdir /");
  report("pid %d", (int)pid);
  // The monitor keeps nothing of the plan: its memory stays small for the container's life.
  for (uint32_t i = 0; i < plan.count; i++) free(plan.steps[i].a);
  free(plan.steps);
  free(plan.blob);
  monitor_loop();
}
