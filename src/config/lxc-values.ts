// Value parsers for LXC config keys. Each takes the value as written and returns it parsed,
// or throws ConfigValueError with what is wrong (the caller adds file:line and the key).
// Kept apart from the key table so lxc-keys.ts reads as a table.
import { isIP } from 'node:net';
import { CAPABILITIES } from '../security/capabilities.js';

export class ConfigValueError extends Error {
  override name = 'ConfigValueError';
}

const fail = (msg: string): never => {
  throw new ConfigValueError(msg);
};

export function bool(v: string): boolean {
  if (v === '0') return false;
  if (v === '1') return true;
  return fail(`expected 0 or 1, got "${v}"`);
}

export function uint(v: string, max = 2 ** 32 - 1, min = 0): number {
  if (!/^\d+$/.test(v)) return fail(`expected a whole number, got "${v}"`);
  const n = Number(v);
  if (n < min || n > max) return fail(`expected a number between ${min} and ${max}, got ${v}`);
  return n;
}

export function int(v: string): number {
  if (!/^-?\d+$/.test(v)) return fail(`expected a whole number, got "${v}"`);
  const n = Number(v);
  if (Math.abs(n) > 2 ** 31) return fail(`number out of range: ${v}`);
  return n;
}

export function hostname(v: string): string {
  if (v.length > 64) return fail(`hostname longer than 64 characters`);
  if (!/^[A-Za-z0-9]([A-Za-z0-9_-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9_-]*[A-Za-z0-9])?)*$/.test(v))
    return fail(`"${v}" is not a valid hostname (letters, digits, "-" and "." only)`);
  return v;
}

export function absPath(v: string): string {
  if (!v.startsWith('/')) return fail(`expected an absolute path, got "${v}"`);
  if (/[\0\n]/.test(v)) return fail('path contains a NUL or newline');
  return v;
}

export function anyPath(v: string): string {
  if (/[\0\n]/.test(v)) return fail('path contains a NUL or newline');
  return v;
}

/** Split a command line as LXC's lxc_string_split_quoted(): blanks separate, quotes group. */
export function commandLine(v: string): string[] {
  const args: string[] = [];
  let cur = '';
  let inArg = false;
  let quote: string | undefined;
  for (const ch of v) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inArg = true;
    } else if (ch === ' ' || ch === '\t') {
      if (inArg) args.push(cur);
      cur = '';
      inArg = false;
    } else {
      cur += ch;
      inArg = true;
    }
  }
  if (quote) return fail(`unbalanced ${quote} quote in command "${v}"`);
  if (inArg) args.push(cur);
  if (args.length === 0) return fail('empty command');
  return args;
}

/** Quote an argv back into one command line that commandLine() splits the same way. */
export function formatCommandLine(args: string[]): string {
  return args.map((a) => (a !== '' && !/[\s'"]/.test(a) ? a : a.includes("'") ? `"${a}"` : `'${a}'`)).join(' ');
}

const SIGNALS: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11,
  USR2: 12, PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CLD: 17, CONT: 18, STOP: 19, TSTP: 20,
  TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, POLL: 29,
  PWR: 30, SYS: 31,
};
/** glibc's SIGRTMIN/SIGRTMAX (the kernel's 32 and 33 are taken by the threading library). */
export const SIGRTMIN = 34;
export const SIGRTMAX = 64;

export interface SignalValue {
  /** Canonical name: SIGPWR, SIGRTMIN+3, or the number as text when it has no name. */
  name: string;
  number: number;
}

/** A signal as kill(1) names it: SIGPWR, PWR, sigterm, 30, SIGRTMIN+14, SIGRTMAX-10. */
export function signal(v: string): SignalValue {
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (n < 1 || n > SIGRTMAX) return fail(`signal number ${v} out of range 1..${SIGRTMAX}`);
    const name = Object.entries(SIGNALS).find(([, x]) => x === n)?.[0];
    return { name: name ? 'SIG' + name : n >= SIGRTMIN ? `SIGRTMIN+${n - SIGRTMIN}` : v, number: n };
  }
  const s = v.toUpperCase().replace(/^SIG/, '');
  const rt = /^RT(MIN|MAX)(?:([+-])(\d+))?$/.exec(s);
  if (rt) {
    const off = Number(rt[3] ?? 0) * (rt[2] === '-' ? -1 : 1);
    const n = (rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX) + off;
    if (n < SIGRTMIN || n > SIGRTMAX) return fail(`signal ${v} is outside SIGRTMIN..SIGRTMAX`);
    return { name: 'SIG' + s, number: n };
  }
  const n = SIGNALS[s];
  if (n === undefined) return fail(`unknown signal "${v}" (e.g. SIGPWR, SIGTERM, SIGRTMIN+3, or a number)`);
  return { name: 'SIG' + s, number: n };
}

/** Capability names (CAP_ optional, any case) or numbers, blank-separated. */
export function capabilities(v: string, allowNone: boolean): string[] {
  const out: string[] = [];
  for (const w of v.split(/\s+/).filter(Boolean)) {
    if (allowNone && w.toLowerCase() === 'none') {
      out.push('none');
      continue;
    }
    if (/^\d+$/.test(w)) {
      const c = CAPABILITIES[Number(w)];
      if (!c) return fail(`unknown capability number ${w}`);
      out.push(c);
      continue;
    }
    const n = w.toLowerCase().replace(/^cap_/, '');
    if (!CAPABILITIES.includes(n)) return fail(`unknown capability "${w}" (see capabilities(7); e.g. sys_admin, net_admin)`);
    out.push(n);
  }
  return out;
}

export interface MountEntry {
  source: string;
  /** As written: relative means relative to the container's root. */
  target: string;
  type: string;
  options: string[];
  dump: number;
  pass: number;
}

/** fstab(5) escapes: \040 space, \011 tab, \012 newline, \134 backslash. */
function unescapeFstab(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function escapeFstab(s: string): string {
  return s.replace(/[\\ \t\n]/g, (c) => '\\' + c.charCodeAt(0).toString(8).padStart(3, '0'));
}

/** One fstab line: SOURCE TARGET TYPE [OPTIONS [DUMP [PASS]]] (lxc.mount.entry and lxc.mount.fstab). */
export function mountEntry(v: string): MountEntry {
  const f = v.trim().split(/[ \t]+/);
  if (f.length < 3) return fail(`bad mount entry "${v}": expected SOURCE TARGET FSTYPE OPTIONS [DUMP PASS]`);
  if (f.length > 6) return fail(`bad mount entry "${v}": more than 6 fields (spaces in paths are written \\040)`);
  const [source, target, type, opts = 'defaults', dump = '0', pass = '0'] = f.map(unescapeFstab) as [string, string, string, string?, string?, string?];
  if (!/^\d+$/.test(dump) || !/^\d+$/.test(pass)) return fail(`bad mount entry "${v}": DUMP and PASS must be numbers`);
  const options = opts.split(',').filter((o) => o !== '' && o !== 'defaults');
  for (const o of options) {
    if (o.startsWith('create=') && o !== 'create=dir' && o !== 'create=file') return fail(`bad mount option "${o}" (create=dir or create=file)`);
  }
  if (target === '' || target === '/' || target.split('/').includes('..')) return fail(`bad mount target "${target}"`);
  return { source, target, type, options, dump: Number(dump), pass: Number(pass) };
}

export function formatMountEntry(m: { source: string; target: string; type: string; options: string[] }): string {
  return [m.source, m.target, m.type, m.options.length ? m.options.join(',') : 'defaults'].map(escapeFstab).join(' ') + ' 0 0';
}

export interface MountAuto {
  proc?: 'mixed' | 'rw';
  sys?: 'mixed' | 'ro' | 'rw';
  cgroup?: { mode: 'mixed' | 'ro' | 'rw' | 'auto'; full: boolean; force: boolean };
  shmounts?: { host: string; container: string };
}

/** lxc.mount.auto words: proc[:mixed|:rw] sys[:mixed|:ro|:rw] cgroup[-full][:mixed|:ro|:rw][:force] shmounts:HOST[:CT]. */
export function mountAuto(v: string): MountAuto {
  const r: MountAuto = {};
  for (const w of v.split(/\s+/).filter(Boolean)) {
    const [what, ...mods] = w.split(':');
    if (what === 'proc') {
      if (mods.length > 1 || (mods[0] !== undefined && mods[0] !== 'mixed' && mods[0] !== 'rw')) fail(`bad lxc.mount.auto word "${w}" (proc, proc:mixed or proc:rw)`);
      r.proc = (mods[0] as 'mixed' | 'rw' | undefined) ?? 'mixed';
    } else if (what === 'sys') {
      if (mods.length > 1 || (mods[0] !== undefined && !['mixed', 'ro', 'rw'].includes(mods[0]))) fail(`bad lxc.mount.auto word "${w}" (sys, sys:mixed, sys:ro or sys:rw)`);
      r.sys = (mods[0] as 'mixed' | 'ro' | 'rw' | undefined) ?? 'mixed';
    } else if (what === 'cgroup' || what === 'cgroup-full') {
      const force = mods.includes('force');
      const modes = mods.filter((m) => m !== 'force');
      if (modes.length > 1 || (modes[0] !== undefined && !['mixed', 'ro', 'rw'].includes(modes[0])))
        fail(`bad lxc.mount.auto word "${w}" (${what}[:mixed|:ro|:rw][:force])`);
      r.cgroup = { mode: (modes[0] as 'mixed' | 'ro' | 'rw' | undefined) ?? 'auto', full: what === 'cgroup-full', force };
    } else if (what === 'shmounts') {
      if (!mods[0]) fail(`bad lxc.mount.auto word "${w}" (shmounts:HOSTPATH[:CONTAINERPATH])`);
      r.shmounts = { host: mods[0]!, container: mods[1] ?? '/dev/.lxc-mounts' };
    } else {
      fail(`unknown lxc.mount.auto word "${w}" (proc, sys, cgroup, cgroup-full, shmounts)`);
    }
  }
  return r;
}

export interface IdMap {
  type: 'u' | 'g' | 'b';
  nsid: number;
  hostid: number;
  range: number;
}

export function idmap(v: string): IdMap {
  const f = v.split(/\s+/);
  if (f.length !== 4 || !['u', 'g', 'b'].includes(f[0]!)) return fail(`bad id map "${v}": expected "u|g NSID HOSTID RANGE"`);
  const [nsid, hostid, range] = f.slice(1).map((x) => uint(x));
  if (range === 0) return fail(`bad id map "${v}": RANGE must be at least 1`);
  return { type: f[0] as 'u' | 'g' | 'b', nsid: nsid!, hostid: hostid!, range: range! };
}

export type LxcNamespace = 'cgroup' | 'ipc' | 'mnt' | 'net' | 'pid' | 'time' | 'user' | 'uts';
const NAMESPACES: LxcNamespace[] = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'];

export function namespaces(v: string): LxcNamespace[] {
  const out: LxcNamespace[] = [];
  for (const w of v.split(/\s+/).filter(Boolean)) {
    const n = w === 'mount' ? 'mnt' : w;
    if (!NAMESPACES.includes(n as LxcNamespace)) return fail(`unknown namespace "${w}" (${NAMESPACES.join(', ')})`);
    out.push(n as LxcNamespace);
  }
  return out;
}

export interface DeviceRule {
  allow: boolean;
  /** a (all), b (block) or c (char). */
  type: 'a' | 'b' | 'c';
  major: number | '*';
  minor: number | '*';
  access: string;
}

/** devices.allow/deny: "a", or "TYPE MAJ:MIN ACCESS" (TYPE a|b|c, numbers or *, ACCESS of r, w, m). */
export function deviceRule(v: string, allow: boolean): DeviceRule {
  if (v === 'a') return { allow, type: 'a', major: '*', minor: '*', access: 'rwm' };
  const m = /^([abc])\s+(\d+|\*):(\d+|\*)\s+([rwm]{1,3})$/.exec(v);
  if (!m || new Set(m[4]).size !== m[4]!.length) return fail(`bad device rule "${v}": expected "a" or "TYPE MAJOR:MINOR ACCESS", e.g. "c 1:3 rwm"`);
  const num = (s: string): number | '*' => (s === '*' ? '*' : Number(s));
  return { allow, type: m[1] as 'a' | 'b' | 'c', major: num(m[2]!), minor: num(m[3]!), access: m[4]! };
}

export const RLIMITS = ['as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack'];

export function prlimit(name: string, v: string): { soft: number | 'unlimited'; hard: number | 'unlimited' } {
  if (!RLIMITS.includes(name)) fail(`unknown resource limit "${name}" (${RLIMITS.join(', ')})`);
  const lim = (s: string): number | 'unlimited' => {
    if (s === 'unlimited') return 'unlimited';
    if (!/^\d+$/.test(s)) fail(`expected a number or "unlimited", got "${s}"`);
    return Number(s);
  };
  const parts = v.split(':');
  if (parts.length > 2) return fail(`expected SOFT[:HARD], got "${v}"`);
  const soft = lim(parts[0]!);
  const hard = lim(parts[1] ?? parts[0]!);
  if (soft !== 'unlimited' && (hard === 'unlimited' ? false : soft > hard)) fail(`soft limit ${soft} is above the hard limit ${hard}`);
  if (hard !== 'unlimited' && soft === 'unlimited') fail('soft limit "unlimited" is above the hard limit');
  return { soft, hard };
}

export function sysctlKey(k: string): string {
  if (!/^[a-z0-9_-]+(\.[A-Za-z0-9_*:-]+)+$/.test(k)) fail(`"${k}" is not a sysctl name (e.g. net.ipv4.ip_forward)`);
  return k;
}

export function cgroupFile(k: string): string {
  if (!/^[a-z0-9_]+(\.[a-z0-9_]+)+$/.test(k)) fail(`"${k}" is not a cgroup file name (e.g. memory.max)`);
  return k;
}

const ARCHES: Record<string, 'x86' | 'x86_64' | 'arm' | 'arm64' | 'ppc' | 'ppc64' | 'mips' | 'mips64' | 's390x' | 'riscv64'> = {
  x86: 'x86', i386: 'x86', i486: 'x86', i586: 'x86', i686: 'x86', athlon: 'x86', linux32: 'x86',
  x86_64: 'x86_64', amd64: 'x86_64', linux64: 'x86_64',
  arm: 'arm', armel: 'arm', armhf: 'arm', armv7l: 'arm', arm64: 'arm64', aarch64: 'arm64',
  ppc: 'ppc', powerpc: 'ppc', ppc64: 'ppc64', ppc64el: 'ppc64', ppc64le: 'ppc64', powerpc64: 'ppc64',
  mips: 'mips', mipsel: 'mips', mips64: 'mips64', mips64el: 'mips64', s390x: 's390x', riscv64: 'riscv64',
};

export function arch(v: string): string {
  const a = ARCHES[v.toLowerCase()];
  if (!a) return fail(`unknown architecture "${v}" (e.g. x86_64, amd64, i686, arm64, armhf)`);
  return a;
}

export function ifname(v: string): string {
  if (v.length > 15 || !/^[A-Za-z0-9_.:@-]+$/.test(v) || v === '.' || v === '..') return fail(`"${v}" is not a network interface name (at most 15 characters, no "/" or blanks)`);
  return v;
}

export function hwaddr(v: string): string {
  if (!/^([0-9a-fA-Fx]{2}:){5}[0-9a-fA-Fx]{2}$/.test(v)) return fail(`"${v}" is not a MAC address (e.g. 00:16:3e:xx:xx:xx, x = random)`);
  return v.toLowerCase();
}

function cidr(v: string, family: 4 | 6): { address: string; prefix: number } {
  const [addr, pre, ...rest] = v.split('/');
  if (rest.length || isIP(addr ?? '') !== family) fail(`"${v}" is not an IPv${family} address`);
  const max = family === 4 ? 32 : 128;
  const prefix = pre === undefined ? (family === 4 ? 24 : 64) : uint(pre, max);
  return { address: addr!, prefix };
}

/** ipv4.address: ADDR[/PREFIX] [BROADCAST]. */
export function ipv4Address(v: string): { address: string; prefix: number; broadcast?: string } {
  const [a, b, ...rest] = v.split(/\s+/);
  if (rest.length) fail(`"${v}": expected ADDRESS[/PREFIX] [BROADCAST]`);
  const r: { address: string; prefix: number; broadcast?: string } = cidr(a!, 4);
  if (b !== undefined) {
    if (isIP(b) !== 4) fail(`"${b}" is not an IPv4 broadcast address`);
    r.broadcast = b;
  }
  return r;
}

export function ipv6Address(v: string): { address: string; prefix: number } {
  return cidr(v, 6);
}

export function gateway(v: string, family: 4 | 6): string {
  if (v === 'auto' || v === 'dev' || isIP(v) === family) return v;
  return fail(`"${v}" is not an IPv${family} gateway (an address, "auto" or "dev")`);
}

export function route(v: string, family: 4 | 6): string {
  cidr(v, family);
  return v;
}

export function oneOf<T extends string>(v: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(v)) return fail(`expected one of ${choices.join(', ')}; got "${v}"`);
  return v as T;
}

/** Byte sizes as LXC writes them for the console: 1024, 64kB, 1MB, 2GB, or "auto". */
export function consoleSize(v: string): number | 'auto' {
  if (v === 'auto') return 'auto';
  const m = /^(\d+)\s*(b|kb?|mb?|gb?)?$/i.exec(v);
  if (!m) return fail(`expected a size like 64kB or 1MB, or "auto"; got "${v}"`);
  const unit = (m[2] ?? 'b').toLowerCase()[0]!;
  return Number(m[1]) * ({ b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as Record<string, number>)[unit]!;
}

export function envEntry(v: string): string {
  const key = v.includes('=') ? v.slice(0, v.indexOf('=')) : v;
  if (key === '' || /[\s\0]/.test(key)) return fail(`"${v}" is not KEY=VALUE or KEY (the key may not be empty or contain blanks)`);
  return v;
}

/** lxc.rootfs.path: [dir:]DIR or overlay[fs]:LOWER[:LOWER...]:UPPER (lower: the layers joined by ":", topmost first). */
export type RootfsPath = { backend: 'dir'; path: string } | { backend: 'overlay'; lower: string; upper: string };

export function rootfsPath(v: string): RootfsPath {
  const m = /^([a-z]+):(.*)$/.exec(v);
  if (!m || m[1] === 'dir') return { backend: 'dir', path: absPath(m ? m[2]! : v) };
  if (m[1] === 'overlay' || m[1] === 'overlayfs') {
    // LXC's reading: UPPER follows the last ":/", everything before it is LOWER, which may
    // itself be several layers (overlay:/l1:/l2:/upper, /l1 topmost).
    const parts = m[2]!.split(/:(?=\/)/);
    if (parts.length < 2 || parts.some((p) => !p)) return fail(`bad overlay rootfs "${v}": expected overlay:LOWERDIR:UPPERDIR (or several LOWERDIRs, topmost first)`);
    return { backend: 'overlay', lower: parts.slice(0, -1).map(absPath).join(':'), upper: absPath(parts.at(-1)!) };
  }
  if (['btrfs', 'zfs', 'lvm', 'loop', 'rbd', 'nbd', 'aufs'].includes(m[1]!)) return fail(`storage backend "${m[1]}" is not supported (dir and overlay are)`);
  return fail(`unknown storage backend "${m[1]}" (dir:PATH or overlay:LOWER:UPPER)`);
}
