// THE key table for LXC config files: for every key or key family, how its value is parsed
// and validated, what lxts does with it, and a one-line description. The reader, the
// converter (lxc-to-spec.ts), `lxts config set`, `lxts config keys` and docs/config.md all
// read this one table, so they cannot disagree.
import { CgroupError, rawToStructured } from '../cgroup/index.js';
import * as V from './lxc-values.js';

/**
 * supported:   applied to the container by lxts now.
 * stored:      parsed, validated and kept (StoredConfig); applied by a later part of lxts.
 * ignored:     accepted and validated; has no effect in lxts (the reason is in the description).
 * unsupported: accepted, but lxts cannot honour it: a warning says so.
 */
export type Support = 'supported' | 'stored' | 'ignored' | 'unsupported';

export interface KeyDef {
  /** The key, or the family written with placeholders: lxc.net.[i].type, lxc.cgroup.[file]. */
  name: string;
  /** For families: matches the full key; capture 1 is the index or the name. */
  pattern?: RegExp;
  support: Support;
  /** Each line adds a value (a list); an empty value clears the list. Otherwise the last line wins. */
  multi?: boolean;
  /** A bare family key (lxc.cgroup, lxc.net.[i]): only an empty value, which clears the family. */
  clears?: string;
  /** What a value looks like, for the reference. */
  syntax: string;
  description: string;
  /** Parse a non-empty value; throws ConfigValueError. `name` is capture 1 of the pattern. */
  parse: (value: string, name: string) => unknown;
}

const S = (support: Support, name: string, syntax: string, description: string, parse: KeyDef['parse'], extra: Partial<KeyDef> = {}): KeyDef => ({
  name, support, syntax, description, parse, ...extra,
});
const text = (v: string): string => V.anyPath(v);
const clearOnly = (prefix: string) => (): never => {
  throw new V.ConfigValueError(`only an empty value is allowed here (it clears every ${prefix}.* key)`);
};

/** Hook types LXC runs, in the order of a container's life. */
export const HOOK_TYPES = ['pre-start', 'pre-mount', 'mount', 'autodev', 'start-host', 'start', 'stop', 'post-stop', 'clone', 'destroy'] as const;
export type HookType = (typeof HOOK_TYPES)[number];

function cgroupValue(version: 1 | 2) {
  return (v: string, file: string): string => {
    V.cgroupFile(file);
    try {
      rawToStructured(version, file, v); // validates the value when the key has a structured form
    } catch (e) {
      if (e instanceof CgroupError) throw new V.ConfigValueError(e.message.replace(/^lxc\.cgroup2?\.[^ ]+ = /, ''));
      throw e;
    }
    return v;
  };
}

const NET: KeyDef[] = [
  S('supported', 'lxc.net.[i].type', 'veth|macvlan|ipvlan|vlan|phys|empty|none', 'kind of network interface (none: share the host\'s network namespace)', (v) => V.oneOf(v, ['veth', 'macvlan', 'ipvlan', 'vlan', 'phys', 'empty', 'none'] as const)),
  S('supported', 'lxc.net.[i].link', 'IFNAME', 'host interface or bridge the interface is attached to', V.ifname),
  S('supported', 'lxc.net.[i].name', 'IFNAME', 'interface name inside the container', V.ifname),
  S('supported', 'lxc.net.[i].hwaddr', 'MAC', 'MAC address; each "x" is replaced by a random hex digit', V.hwaddr),
  S('supported', 'lxc.net.[i].mtu', 'N', 'interface MTU', (v) => V.uint(v, 65535, 68)),
  S('supported', 'lxc.net.[i].flags', 'up', 'interface flags (up: bring the interface up)', (v) => V.oneOf(v, ['up'] as const)),
  S('supported', 'lxc.net.[i].ipv4.address', 'ADDR[/PREFIX] [BCAST]', 'IPv4 address (repeatable)', V.ipv4Address, { multi: true }),
  S('supported', 'lxc.net.[i].ipv4.gateway', 'ADDR|auto|dev', 'IPv4 default gateway', (v) => V.gateway(v, 4)),
  S('supported', 'lxc.net.[i].ipv6.address', 'ADDR[/PREFIX]', 'IPv6 address (repeatable)', V.ipv6Address, { multi: true }),
  S('supported', 'lxc.net.[i].ipv6.gateway', 'ADDR|auto|dev', 'IPv6 default gateway', (v) => V.gateway(v, 6)),
  S('supported', 'lxc.net.[i].veth.pair', 'IFNAME', 'name of the host end of a veth pair', V.ifname),
  S('supported', 'lxc.net.[i].veth.mode', 'bridge|router', 'veth attached to a bridge, or routed by the host', (v) => V.oneOf(v, ['bridge', 'router'] as const)),
  S('supported', 'lxc.net.[i].veth.ipv4.route', 'CIDR', 'host route to the container through the veth (repeatable)', (v) => V.route(v, 4), { multi: true }),
  S('supported', 'lxc.net.[i].veth.ipv6.route', 'CIDR', 'host IPv6 route to the container through the veth (repeatable)', (v) => V.route(v, 6), { multi: true }),
  S('stored', 'lxc.net.[i].veth.vlan.id', 'N|none', 'VLAN of the veth\'s bridge port', (v) => (v === 'none' ? v : V.uint(v, 4094, 1))),
  S('supported', 'lxc.net.[i].macvlan.mode', 'private|vepa|bridge|passthru', 'macvlan mode', (v) => V.oneOf(v, ['private', 'vepa', 'bridge', 'passthru'] as const)),
  S('supported', 'lxc.net.[i].ipvlan.mode', 'l3|l3s|l2', 'ipvlan mode', (v) => V.oneOf(v, ['l3', 'l3s', 'l2'] as const)),
  S('supported', 'lxc.net.[i].ipvlan.isolation', 'bridge|private|vepa', 'ipvlan isolation', (v) => V.oneOf(v, ['bridge', 'private', 'vepa'] as const)),
  S('supported', 'lxc.net.[i].vlan.id', 'N', 'VLAN id of a vlan interface', (v) => V.uint(v, 4094)),
  S('supported', 'lxc.net.[i].script.up', 'COMMAND', 'host command run after the interface is created', text),
  S('supported', 'lxc.net.[i].script.down', 'COMMAND', 'host command run before the interface is destroyed', text),
  S('stored', 'lxc.net.[i].l2proxy', '0|1', 'proxy ARP/NDP for the container\'s addresses on the link', V.bool),
].map((d) => ({ ...d, pattern: new RegExp(`^lxc\\.net\\.(\\d+)\\.${d.name.slice('lxc.net.[i].'.length).replace(/\./g, '\\.')}$`) }));

// Host-side hooks are run by the Container (src/hooks.ts), the ones inside the container's
// namespaces by the executor (HOOK steps of the plan); clone is only stored.
const HOOKS: KeyDef[] = HOOK_TYPES.map((t) =>
  S(t === 'clone' ? 'stored' : 'supported', `lxc.hook.${t}`, 'COMMAND', `command run at the ${t} hook (repeatable)`, text, { multi: true }),
);

export const KEYS: readonly KeyDef[] = [
  S('supported', 'lxc.include', 'FILE|DIR', 'include a file, or every *.conf file of a directory in name order; relative paths are relative to the including file', text, { multi: true }),
  S('stored', 'lxc.arch', 'ARCH', 'architecture the container sees (x86, x86_64, armhf, arm64, ...); a 32-bit one on a 64-bit host needs the linux32 personality', V.arch),
  S('supported', 'lxc.uts.name', 'HOSTNAME', 'hostname inside the container', V.hostname),

  S('supported', 'lxc.rootfs.path', '[dir:]DIR | overlay:LOWER:UPPER', 'root filesystem: a directory, or an overlay of UPPER on LOWER (the overlay is mounted by the storage layer)', V.rootfsPath),
  S('supported', 'lxc.rootfs.options', 'OPT[,OPT...]', 'rootfs mount options; "ro" mounts the root read-only, the rest are stored', (v) => v.split(',').filter(Boolean)),
  S('ignored', 'lxc.rootfs.mount', 'DIR', 'where LXC mounts the rootfs on the host first; lxts mounts it inside the container\'s mount namespace only', V.absPath),
  S('stored', 'lxc.rootfs.managed', '0|1', 'whether lxts created (and may destroy) the rootfs', V.bool),

  S('supported', 'lxc.mount.entry', 'SRC DST FSTYPE OPTS [0 0]', 'an fstab(5) line mounted in the container; a relative DST is below the rootfs (repeatable)', V.mountEntry, { multi: true }),
  S('supported', 'lxc.mount.fstab', 'FILE', 'an fstab(5) file of mounts, read like lxc.mount.entry lines', text),
  S('stored', 'lxc.mount.auto', 'proc[:mixed|:rw] sys[:mixed|:ro|:rw] cgroup[-full][:mixed|:ro|:rw][:force]', 'standard mounts; lxts always mounts /proc with masked paths (like proc:mixed) and /sys read-only (like sys:ro) for now (repeatable)', V.mountAuto, { multi: true }),
  S('stored', 'lxc.autodev', '0|1', 'populate a fresh /dev; lxts always builds a minimal /dev for now (as autodev = 1)', V.bool),
  S('stored', 'lxc.autodev.tmpfs.size', 'MB', 'size of the /dev tmpfs in MB', (v) => V.uint(v)),

  S('supported', 'lxc.init.cmd', 'COMMAND [ARGS]', 'the container\'s init (lxts start; default /sbin/init)', V.commandLine),
  S('supported', 'lxc.init.cwd', 'DIR', 'working directory of init (absolute, inside the container)', V.absPath),
  S('supported', 'lxc.init.uid', 'UID', 'user id init runs as', (v) => V.uint(v)),
  S('supported', 'lxc.init.gid', 'GID', 'group id init runs as', (v) => V.uint(v)),
  S('supported', 'lxc.init.groups', 'GID[,GID...]', 'supplementary groups of init (repeatable)', (v) => v.split(',').filter(Boolean).map((g) => V.uint(g.trim())), { multi: true }),
  S('supported', 'lxc.execute.cmd', 'COMMAND [ARGS]', 'the command of lxts execute -n NAME (run under a minimal init)', V.commandLine),
  S('supported', 'lxc.environment', 'KEY=VALUE | KEY', 'environment variable for init; a bare KEY passes the host\'s value (repeatable)', V.envEntry, { multi: true }),
  S('stored', 'lxc.ephemeral', '0|1', 'destroy the container when it stops (lxts copy --ephemeral sets it)', V.bool),

  S('supported', 'lxc.cap.drop', 'CAP [CAP...]', 'capabilities dropped (names as in capabilities(7) without CAP_, any case) (repeatable)', (v) => V.capabilities(v, false), { multi: true }),
  S('supported', 'lxc.cap.keep', 'CAP [CAP...] | none', 'only these capabilities are kept; cannot be combined with lxc.cap.drop (repeatable)', (v) => V.capabilities(v, true), { multi: true }),
  S('supported', 'lxc.no_new_privs', '0|1', 'set no_new_privs: setuid binaries and file capabilities gain nothing', V.bool),

  S('supported', 'lxc.cgroup', '(empty)', 'an empty value clears every lxc.cgroup.* key set so far', clearOnly('lxc.cgroup'), { clears: 'lxc.cgroup.' }),
  S('supported', 'lxc.cgroup2', '(empty)', 'an empty value clears every lxc.cgroup2.* key set so far', clearOnly('lxc.cgroup2'), { clears: 'lxc.cgroup2.' }),
  S('stored', 'lxc.cgroup.dir', 'PATH', 'cgroup path of the container (and its monitor), relative to lxts\'s cgroup', text),
  S('stored', 'lxc.cgroup.dir.container', 'PATH', 'cgroup path of the container alone', text),
  S('stored', 'lxc.cgroup.dir.monitor', 'PATH', 'cgroup path of the monitor', text),
  S('stored', 'lxc.cgroup.dir.container.inner', 'NAME', 'a cgroup below the container\'s that the container is placed in (cgroup namespace root)', text),
  S('stored', 'lxc.cgroup.relative', '0|1', 'place the container below the cgroup of the starting process', V.bool),
  S('stored', 'lxc.cgroup.devices.allow', 'a | TYPE MAJ:MIN ACCESS', 'device access rule (applied with the device policy, on cgroup v1 or as eBPF on v2) (repeatable)', (v) => V.deviceRule(v, true), { multi: true }),
  S('stored', 'lxc.cgroup.devices.deny', 'a | TYPE MAJ:MIN ACCESS', 'device deny rule (repeatable)', (v) => V.deviceRule(v, false), { multi: true }),
  S('stored', 'lxc.cgroup2.devices.allow', 'a | TYPE MAJ:MIN ACCESS', 'device access rule, cgroup v2 spelling (repeatable)', (v) => V.deviceRule(v, true), { multi: true }),
  S('stored', 'lxc.cgroup2.devices.deny', 'a | TYPE MAJ:MIN ACCESS', 'device deny rule, cgroup v2 spelling (repeatable)', (v) => V.deviceRule(v, false), { multi: true }),
  S('supported', 'lxc.cgroup.[file]', 'VALUE', 'cgroup v1 file value (memory.limit_in_bytes, cpu.shares, ...); converted to the structured limit where one exists, else written as is', cgroupValue(1), { pattern: /^lxc\.cgroup\.(.+)$/, multi: true }),
  S('supported', 'lxc.cgroup2.[file]', 'VALUE', 'cgroup v2 file value (memory.max, cpu.max, ...); converted to the structured limit where one exists, else written as is', cgroupValue(2), { pattern: /^lxc\.cgroup2\.(.+)$/, multi: true }),

  S('supported', 'lxc.prlimit', '(empty)', 'an empty value clears every lxc.prlimit.* key set so far', clearOnly('lxc.prlimit'), { clears: 'lxc.prlimit.' }),
  S('supported', 'lxc.prlimit.[name]', 'SOFT[:HARD] | unlimited', 'resource limit of init (nofile, nproc, core, memlock, ... as setrlimit(2) without RLIMIT_)', (v, n) => V.prlimit(n, v), { pattern: /^lxc\.prlimit\.(.+)$/ }),
  S('supported', 'lxc.sysctl', '(empty)', 'an empty value clears every lxc.sysctl.* key set so far', clearOnly('lxc.sysctl'), { clears: 'lxc.sysctl.' }),
  S('supported', 'lxc.sysctl.[name]', 'VALUE', 'namespaced kernel parameter set in the container (net.ipv4.ip_forward, kernel.msgmax, ...)', (v, n) => (V.sysctlKey(n), v), { pattern: /^lxc\.sysctl\.(.+)$/ }),
  S('stored', 'lxc.proc', '(empty)', 'an empty value clears every lxc.proc.* key set so far', clearOnly('lxc.proc'), { clears: 'lxc.proc.' }),
  S('stored', 'lxc.proc.[file]', 'VALUE', 'value written to /proc/PID/FILE of init (oom_score_adj, ...)', (v, n) => {
    if (!/^[a-z_]+$/.test(n)) throw new V.ConfigValueError(`"${n}" is not a /proc/PID file name`);
    return v;
  }, { pattern: /^lxc\.proc\.(.+)$/ }),

  S('supported', 'lxc.namespace.clone', 'NS [NS...]', 'namespaces the container gets (cgroup ipc mnt net pid time user uts); default all but user and time', V.namespaces),
  S('supported', 'lxc.namespace.keep', 'NS [NS...]', 'namespaces shared with the host instead of created', V.namespaces),
  S('stored', 'lxc.namespace.share.[ns]', 'NAME | /proc/PID/ns/NS', 'join the namespace of another container or process', text, { pattern: /^lxc\.namespace\.share\.(cgroup|ipc|mnt|net|pid|time|user|uts)$/ }),

  S('stored', 'lxc.signal.halt', 'SIGNAL', 'signal lxts stop sends to init for a clean shutdown (default SIGPWR)', V.signal),
  S('stored', 'lxc.signal.reboot', 'SIGNAL', 'signal that asks init to reboot (default SIGINT)', V.signal),
  S('stored', 'lxc.signal.stop', 'SIGNAL', 'signal that kills the container at once (default SIGKILL)', V.signal),
  S('stored', 'lxc.start.auto', '0|1', 'start the container with lxts autostart', V.bool),
  S('stored', 'lxc.start.delay', 'SECONDS', 'wait after starting this container before the next one', (v) => V.uint(v)),
  S('stored', 'lxc.start.order', 'N', 'autostart order: higher starts first', V.int),
  S('stored', 'lxc.group', 'NAME [NAME...]', 'groups the container belongs to, for lxts autostart -g (repeatable)', (v) => v.split(/[\s,]+/).filter(Boolean), { multi: true }),
  S('ignored', 'lxc.monitor.unshare', '0|1', 'LXC unshares the monitor\'s mount namespace; lxts\'s monitor never mounts', V.bool),
  S('stored', 'lxc.monitor.signal.pdeath', 'SIGNAL', 'signal sent to init when the monitor dies', V.signal),

  S('stored', 'lxc.console.path', 'PATH|none', 'console device; "none" gives the container no console', text),
  S('stored', 'lxc.console.logfile', 'FILE', 'file the console output is written to', text),
  S('stored', 'lxc.console.rotate', '0|1', 'rotate the console log file', V.bool),
  S('stored', 'lxc.console.size', 'SIZE', 'maximum size of the console log (64kB, 1MB, auto)', V.consoleSize),
  S('stored', 'lxc.console.buffer.size', 'SIZE', 'size of the console ring buffer (64kB, 1MB, auto)', V.consoleSize),
  S('stored', 'lxc.tty.max', 'N', 'number of ttys (/dev/tty1..N) made for the container', (v) => V.uint(v, 1024)),
  S('stored', 'lxc.tty.dir', 'NAME', 'directory below /dev holding the ttys (e.g. lxc)', text),
  S('stored', 'lxc.pty.max', 'N', 'maximum number of ptys in the container\'s devpts', (v) => V.uint(v)),

  S('stored', 'lxc.hook', '(empty)', 'an empty value clears every hook set so far', clearOnly('lxc.hook'), { clears: 'lxc.hook.' }),
  ...HOOKS,
  S('supported', 'lxc.hook.version', '0|1', 'how hooks get their arguments: 0 as arguments, 1 in LXC_* environment variables', V.bool),

  S('supported', 'lxc.net', '(empty)', 'an empty value removes every network interface set so far', clearOnly('lxc.net'), { clears: 'lxc.net.' }),
  S('supported', 'lxc.net.[i]', '(empty)', 'an empty value removes network interface i', (v, i) => clearOnly(`lxc.net.${i}`)(), { pattern: /^lxc\.net\.(\d+)$/ }),
  ...NET,

  S('supported', 'lxc.idmap', 'u|g|b NSID HOSTID RANGE', 'uid/gid map of the container\'s user namespace (repeatable; b = both): the container\'s root is an unprivileged host user', V.idmap, { multi: true }),
  S('stored', 'lxc.seccomp.profile', 'FILE', 'seccomp policy file (LXC format); applied by the seccomp compiler', text),
  S('stored', 'lxc.seccomp.allow_nesting', '0|1', 'let the container load its own seccomp filters', V.bool),
  S('unsupported', 'lxc.seccomp.notify.proxy', 'unix:PATH', 'seccomp user notification proxy', text),
  S('unsupported', 'lxc.seccomp.notify.cookie', 'TEXT', 'cookie sent to the seccomp notification proxy', text),
  S('unsupported', 'lxc.apparmor.profile', 'PROFILE', 'AppArmor profile; lxts does not load AppArmor profiles', text),
  S('unsupported', 'lxc.apparmor.allow_incomplete', '0|1', 'start even when AppArmor cannot be fully set up', V.bool),
  S('unsupported', 'lxc.apparmor.allow_nesting', '0|1', 'AppArmor nesting support', V.bool),
  S('unsupported', 'lxc.apparmor.raw', 'RULE', 'raw AppArmor rules (repeatable)', text, { multi: true }),
  S('unsupported', 'lxc.selinux.context', 'CONTEXT', 'SELinux context; lxts does not set SELinux contexts', text),
  S('unsupported', 'lxc.selinux.context.keyring', 'CONTEXT', 'SELinux context of the session keyring', text),
  S('unsupported', 'lxc.keyring.session', '0|1', 'give init a new session keyring', V.bool),
  S('unsupported', 'lxc.time.offset.boot', 'OFFSET', 'time namespace boot clock offset', text),
  S('unsupported', 'lxc.time.offset.monotonic', 'OFFSET', 'time namespace monotonic clock offset', text),
  S('unsupported', 'lxc.sched.core', '0|1', 'core scheduling domain for the container', V.bool),
  S('ignored', 'lxc.log.level', 'LEVEL', 'LXC\'s log level; lxts logs with --debug', (v) => (/^\d$/.test(v) ? V.uint(v, 8) : V.oneOf(v.toUpperCase(), ['TRACE', 'DEBUG', 'INFO', 'NOTICE', 'WARN', 'ERROR', 'CRIT', 'ALERT', 'FATAL'] as const))),
  S('ignored', 'lxc.log.file', 'FILE', 'LXC\'s log file; lxts logs with --debug', text),
  S('ignored', 'lxc.log.syslog', 'FACILITY', 'LXC\'s syslog facility', text),
];

/** Keys LXC 3.0 renamed; a config still using them gets a warning naming the new key. */
export const LEGACY_KEYS: Record<string, string> = {
  'lxc.utsname': 'lxc.uts.name', 'lxc.rootfs': 'lxc.rootfs.path', 'lxc.id_map': 'lxc.idmap',
  'lxc.aa_profile': 'lxc.apparmor.profile', 'lxc.aa_allow_incomplete': 'lxc.apparmor.allow_incomplete',
  'lxc.se_context': 'lxc.selinux.context', 'lxc.tty': 'lxc.tty.max', 'lxc.pts': 'lxc.pty.max',
  'lxc.devttydir': 'lxc.tty.dir', 'lxc.init_cmd': 'lxc.init.cmd', 'lxc.init_uid': 'lxc.init.uid',
  'lxc.init_gid': 'lxc.init.gid', 'lxc.haltsignal': 'lxc.signal.halt', 'lxc.rebootsignal': 'lxc.signal.reboot',
  'lxc.stopsignal': 'lxc.signal.stop', 'lxc.loglevel': 'lxc.log.level', 'lxc.logfile': 'lxc.log.file',
  'lxc.syslog': 'lxc.log.syslog', 'lxc.console': 'lxc.console.path', 'lxc.seccomp': 'lxc.seccomp.profile',
  'lxc.mount': 'lxc.mount.fstab', 'lxc.limit': 'lxc.prlimit', 'lxc.network': 'lxc.net',
};

export interface KeyMatch {
  def: KeyDef;
  key: string;
  /** Capture of a family pattern: the index of lxc.net.[i].*, the file of lxc.cgroup.[file], ... */
  name: string;
}

export type Lookup = { ok: true; match: KeyMatch } | { ok: false; error?: string; warning: string };

const EXACT = new Map(KEYS.filter((d) => !d.pattern).map((d) => [d.name, d]));
const FAMILIES = KEYS.filter((d) => d.pattern);

/** Find the table row of a key. Exact keys win over families (lxc.cgroup.dir is not a cgroup file). */
export function lookupKey(key: string): Lookup {
  const exact = EXACT.get(key);
  if (exact) return { ok: true, match: { def: exact, key, name: '' } };
  // An index that is not a number is an error, not an unknown key: the family is clear.
  const net = /^lxc\.net\.([^.]+)(\.|$)/.exec(key);
  if (net && !/^\d+$/.test(net[1]!)) return { ok: false, error: `bad index "${net[1]}": network keys are lxc.net.N.KEY with N = 0, 1, 2, ...`, warning: '' };
  if (net && net[1]!.length > 1 && net[1]!.startsWith('0')) return { ok: false, error: `bad index "${net[1]}": write the index without leading zeros`, warning: '' };
  if (net && Number(net[1]) > 1023) return { ok: false, error: `bad index ${net[1]}: at most 1024 network interfaces (0..1023)`, warning: '' };
  for (const d of FAMILIES) {
    const m = d.pattern!.exec(key);
    if (m) return { ok: true, match: { def: d, key, name: m[1] ?? '' } };
  }
  const legacy = Object.entries(LEGACY_KEYS).find(([old]) => key === old || key.startsWith(old + '.'));
  if (legacy) return { ok: false, warning: `unknown key (renamed ${legacy[1]}${legacy[0] !== key ? '.*' : ''} in LXC 3.0); ignored` };
  if (!key.startsWith('lxc.')) return { ok: false, warning: 'not an lxc.* key; ignored' };
  if (net) return { ok: false, warning: 'unknown network key; ignored' };
  return { ok: false, warning: 'unknown key; ignored' };
}

export type CheckResult = { ok: true; match?: KeyMatch; value: unknown } | { ok: false; severity: 'error' | 'warning'; message: string };

/** Look a key up and parse its value: what `config validate` and `config set` check for each line. */
export function checkEntry(key: string, value: string): CheckResult {
  const l = lookupKey(key);
  if (!l.ok) return l.error ? { ok: false, severity: 'error', message: l.error } : { ok: false, severity: 'warning', message: l.warning };
  if (value === '') return { ok: true, match: l.match, value: undefined };
  try {
    return { ok: true, match: l.match, value: l.match.def.parse(value, l.match.name) };
  } catch (e) {
    if (e instanceof V.ConfigValueError) return { ok: false, severity: 'error', message: e.message };
    throw e;
  }
}
