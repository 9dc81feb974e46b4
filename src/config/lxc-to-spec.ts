// LXC config entries -> ContainerSpec (what lxts applies now) + StoredConfig (keys the spec
// does not model yet: network, hooks, signals, autostart, console, id maps, seccomp, device
// rules). Pure: the files a config names (lxc.mount.fstab) are read by loadConfig beforehand,
// and the host environment comes in as an option. Every problem carries file:line.
import { rawToStructured, type CgroupResources } from '../cgroup/index.js';
import { ALL_NAMESPACES, DEFAULT_ENV, defaultSpec, type ContainerSpec, type MountSpec, type NamespaceKind } from '../spec.js';
import { checkEntry, HOOK_TYPES, type HookType, type KeyDef, type KeyMatch, type Support } from './lxc-keys.js';
import type { ConfigProblem, EntryLine } from './lxc-parse.js';
import { resolveConfigPath } from './lxc-parse.js';
import * as V from './lxc-values.js';

export interface NetInterface {
  index: number;
  type?: 'veth' | 'macvlan' | 'ipvlan' | 'vlan' | 'phys' | 'empty' | 'none';
  link?: string;
  name?: string;
  hwaddr?: string;
  mtu?: number;
  flags?: 'up';
  ipv4: { address: string; prefix: number; broadcast?: string }[];
  ipv4Gateway?: string;
  ipv6: { address: string; prefix: number }[];
  ipv6Gateway?: string;
  veth?: { pair?: string; mode?: 'bridge' | 'router'; ipv4Routes: string[]; ipv6Routes: string[]; vlanId?: number | 'none' };
  macvlanMode?: string;
  ipvlanMode?: string;
  ipvlanIsolation?: string;
  vlanId?: number;
  scriptUp?: string;
  scriptDown?: string;
  l2proxy?: boolean;
}

/** What a config says that ContainerSpec does not model yet; later parts of lxts apply it. */
export interface StoredConfig {
  arch?: string;
  /** The rootfs as configured (overlay: lower is the layers joined by ":", topmost first). */
  rootfs?: V.RootfsPath & { options: string[] };
  rootfsManaged?: boolean;
  mountAuto?: V.MountAuto;
  autodev?: boolean;
  autodevTmpfsSizeMb?: number;
  ephemeral?: boolean;
  /** The user namespace was asked for (lxc.namespace.clone = user, or lxc.idmap present). */
  userns: boolean;
  idmaps: V.IdMap[];
  namespaceShare: Record<string, string>;
  net: NetInterface[];
  hooks: Partial<Record<HookType, string[]>>;
  hookVersion?: 0 | 1;
  signals: { halt?: V.SignalValue; reboot?: V.SignalValue; stop?: V.SignalValue; monitorPdeath?: V.SignalValue };
  start: { auto: boolean; delay: number; order: number };
  groups: string[];
  console: { path?: string; logfile?: string; rotate?: boolean; size?: number | 'auto'; bufferSize?: number | 'auto' };
  tty: { max?: number; dir?: string };
  ptyMax?: number;
  seccomp: { profile?: string; allowNesting?: boolean };
  /** devices.allow/deny rules in order, as written for cgroup v1 (lxc.cgroup.) or v2 (lxc.cgroup2.). */
  devices: (V.DeviceRule & { version: 1 | 2 })[];
  cgroupDir: { dir?: string; container?: string; monitor?: string; inner?: string; relative?: boolean };
  /** lxc.proc.FILE = VALUE */
  proc: Record<string, string>;
}

export interface ConvertOptions {
  /** Container name (default: lxc.uts.name, else "lxc"). */
  name?: string;
  /** start: lxc.init.cmd (default /sbin/init) is PID 1. execute: lxc.execute.cmd under a minimal init (lxc-execute). */
  mode?: 'start' | 'execute';
  /** Command for execute mode; overrides lxc.execute.cmd. */
  command?: string[];
  /** For `lxc.environment = KEY` (pass the host's value). Default: none passed. */
  hostEnv?: Record<string, string | undefined>;
}

export interface KeyUse {
  /** Table row: lxc.net.[i].type, lxc.cgroup.[file], ... */
  name: string;
  support: Support;
  count: number;
}

export interface Conversion {
  spec: ContainerSpec;
  stored: StoredConfig;
  problems: ConfigProblem[];
  /** Which table rows the config used, how many times: `config validate` summarizes stored ones. */
  used: KeyUse[];
}

export interface ConfigInput {
  entries: EntryLine[];
  /** Contents of files the config names (lxc.mount.fstab), by resolved path (LoadedConfig.files). */
  files?: Map<string, string>;
  /** Problems found while reading (LoadedConfig.problems), passed through first. */
  problems?: ConfigProblem[];
  /** The config file, for problems that belong to no line (else root.file: a LoadedConfig can be passed as it is). */
  file?: string;
  root?: { file: string };
}

interface Setting {
  key: string;
  match: KeyMatch;
  value: unknown;
  entry: EntryLine;
}

export function emptyStored(): StoredConfig {
  return {
    userns: false, idmaps: [], namespaceShare: {}, net: [], hooks: {}, signals: {},
    start: { auto: false, delay: 0, order: 0 }, groups: [], console: {}, tty: {}, seccomp: {}, devices: [], cgroupDir: {}, proc: {},
  };
}

/** Keys below lxc.cgroup. that are not cgroup files: `lxc.cgroup =` does not clear them. */
const CGROUP_PLACEMENT = /^lxc\.cgroup\.(dir|relative)(\.|$)/;

export function configToSpec(input: ConfigInput, opts: ConvertOptions = {}): Conversion {
  const problems: ConfigProblem[] = [...(input.problems ?? [])];
  const rootFile = input.file ?? input.root?.file ?? input.entries[0]?.file ?? 'config';
  const at = (e: EntryLine, message: string, severity: 'error' | 'warning' = 'error'): void => {
    problems.push({ severity, file: e.file, line: e.line, key: e.key, message });
  };

  // 1. Parse every line against the table and fold it into the effective settings, with
  //    LXC's rules: the last line of a single-valued key wins, a list key accumulates, an
  //    empty value resets a key (or a whole family for lxc.cgroup, lxc.net, ...).
  let settings: Setting[] = [];
  const usedCount = new Map<KeyDef, number>();
  for (const e of input.entries) {
    const r = checkEntry(e.key, e.value);
    if (!r.ok) {
      at(e, r.message, r.severity);
      continue;
    }
    const match = r.match!;
    const def = match.def;
    usedCount.set(def, (usedCount.get(def) ?? 0) + 1);
    if (def.support === 'unsupported') at(e, `not supported by lxts (${def.description}); ignored`, 'warning');
    if (e.value === '') {
      const prefix = def.clears ?? (def.name === 'lxc.net.[i]' ? e.key + '.' : undefined);
      if (prefix) settings = settings.filter((s) => !s.key.startsWith(prefix) || CGROUP_PLACEMENT.test(s.key));
      else settings = settings.filter((s) => s.key !== e.key);
      continue;
    }
    if (def.name === 'lxc.include') continue;
    if (!def.multi) settings = settings.filter((s) => s.key !== e.key);
    settings.push({ key: e.key, match, value: r.value, entry: e });
  }

  const last = (key: string): Setting | undefined => settings.filter((s) => s.key === key).at(-1);
  const val = <T>(key: string): T | undefined => last(key)?.value as T | undefined;
  const list = (key: string): Setting[] => settings.filter((s) => s.key === key);
  const family = (name: string): Setting[] => settings.filter((s) => s.match.def.name === name);

  const stored = emptyStored();

  // 2. The spec.
  const mode = opts.mode ?? 'start';
  const hostname = val<string>('lxc.uts.name');
  const name = opts.name ?? hostname ?? 'lxc';
  let args: string[];
  if (mode === 'execute') {
    args = opts.command?.length ? opts.command : val<string[]>('lxc.execute.cmd') ?? [];
    if (args.length === 0) problems.push({ severity: 'error', file: rootFile, line: 0, key: 'lxc.execute.cmd', message: 'no command to execute: set lxc.execute.cmd or give one' });
  } else {
    args = val<string[]>('lxc.init.cmd') ?? ['/sbin/init'];
  }
  const spec = defaultSpec(name, args);
  if (hostname) spec.hostname = hostname;
  spec.init = mode === 'execute';

  // rootfs
  const rootfs = val<V.RootfsPath>('lxc.rootfs.path');
  const rootOpts = val<string[]>('lxc.rootfs.options') ?? [];
  if (rootfs) {
    stored.rootfs = { ...rootfs, options: rootOpts.filter((o) => o !== 'ro' && o !== 'rw') };
    spec.rootfs = rootfs.backend === 'dir'
      ? { kind: 'dir', path: rootfs.path, readonly: false }
      // Mounted inside the container's mount namespace; the workdir sits beside UPPER as in
      // LXC (<dir>/overlay/delta -> <dir>/overlay/work).
      : { kind: 'overlay', lower: rootfs.lower.split(':'), upper: rootfs.upper, work: overlayWorkDir(rootfs.upper), readonly: false };
  }
  if (rootOpts.includes('ro')) spec.rootfs.readonly = true;
  stored.rootfsManaged = val<boolean>('lxc.rootfs.managed');

  // mounts: lxc.mount.fstab first, then lxc.mount.entry lines, as LXC mounts them
  const roots = [rootfs?.backend === 'dir' ? rootfs.path : undefined, ...(rootfs?.backend === 'overlay' ? rootfs.lower.split(':') : []),
    rootfs?.backend === 'overlay' ? rootfs.upper : undefined, last('lxc.rootfs.mount')?.value as string | undefined]
    .filter((r): r is string => !!r).map((r) => r.replace(/\/+$/, ''));
  const toMount = (m: V.MountEntry, warn: (msg: string) => void): MountSpec => {
    let target = m.target;
    if (!target.startsWith('/')) target = '/' + target;
    else {
      const under = roots.find((r) => target === r || target.startsWith(r + '/'));
      if (under) target = target.slice(under.length) || '/';
      else warn(`absolute target "${m.target}" is not below lxc.rootfs.path: LXC would mount it on the host side; lxts mounts it at ${m.target} inside the container`);
    }
    target = target.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1');
    if (target === '/') warn('mount target is the container\'s root');
    return { source: m.source, target, type: m.type, options: m.options };
  };
  const fstab = last('lxc.mount.fstab');
  if (fstab) {
    const path = resolveConfigPath(fstab.value as string, fstab.entry.file);
    const content = input.files?.get(path);
    if (content !== undefined) {
      content.split('\n').forEach((line, i) => {
        const t = line.trim();
        if (t === '' || t.startsWith('#')) return;
        const where = { file: path, line: i + 1, key: 'lxc.mount.fstab' };
        try {
          spec.mounts.push(toMount(V.mountEntry(t), (message) => problems.push({ severity: 'warning', ...where, message })));
        } catch (e) {
          if (!(e instanceof V.ConfigValueError)) throw e;
          problems.push({ severity: 'error', ...where, message: e.message });
        }
      });
    }
  }
  for (const s of list('lxc.mount.entry')) spec.mounts.push(toMount(s.value as V.MountEntry, (m) => at(s.entry, m, 'warning')));

  // process
  const env = [...DEFAULT_ENV];
  const setEnv = (kv: string): void => {
    const k = kv.slice(0, kv.indexOf('=') + 1);
    const i = env.findIndex((x) => x.startsWith(k));
    if (i >= 0) env[i] = kv;
    else env.push(kv);
  };
  for (const s of list('lxc.environment')) {
    const v = s.value as string;
    if (v.includes('=')) setEnv(v);
    else if (opts.hostEnv?.[v] !== undefined) setEnv(`${v}=${opts.hostEnv[v]}`);
  }
  spec.process.env = env;
  spec.process.cwd = val<string>('lxc.init.cwd') ?? '/';
  spec.process.uid = val<number>('lxc.init.uid') ?? 0;
  spec.process.gid = val<number>('lxc.init.gid') ?? 0;
  spec.process.additionalGids = [...new Set(list('lxc.init.groups').flatMap((s) => s.value as number[]))];
  spec.process.noNewPrivileges = val<boolean>('lxc.no_new_privs') ?? false;
  spec.process.rlimits = family('lxc.prlimit.[name]').map((s) => ({ type: s.match.name, ...(s.value as { soft: number | 'unlimited'; hard: number | 'unlimited' }) }));

  // capabilities: the config is the whole truth, as in LXC (no drops unless it lists some;
  // LXC's common.conf, included by every distribution config, lists the usual ones)
  const drops = list('lxc.cap.drop');
  const keeps = list('lxc.cap.keep');
  spec.capabilities = { drop: [...new Set(drops.flatMap((s) => s.value as string[]))], add: [] };
  if (keeps.length) {
    let keep: string[] = [];
    for (const s of keeps) for (const c of s.value as string[]) keep = c === 'none' ? [] : keep.includes(c) ? keep : [...keep, c];
    spec.capabilities.keep = keep.length ? keep : ['none'];
    if (drops.length) at(keeps[0]!.entry, `cannot be combined with lxc.cap.drop (${drops[0]!.entry.file}:${drops[0]!.entry.line}): use one of them`);
  }

  // sysctls
  for (const s of family('lxc.sysctl.[name]')) spec.sysctls[s.match.name] = s.value as string;

  // namespaces
  const nsOf = (n: V.LxcNamespace): NamespaceKind | undefined => (n === 'mnt' ? 'mount' : n === 'time' || n === 'user' ? undefined : n);
  const clone = last('lxc.namespace.clone');
  let ns = new Set<NamespaceKind>(ALL_NAMESPACES);
  if (clone) {
    const want = clone.value as V.LxcNamespace[];
    ns = new Set(want.map(nsOf).filter((n): n is NamespaceKind => !!n));
    if (want.includes('time')) at(clone.entry, 'the time namespace is not supported by lxts; ignored', 'warning');
    if (want.includes('user')) stored.userns = true;
    if (!want.includes('mnt')) at(clone.entry, 'lxts always gives a container its own mount namespace (add mnt)');
  }
  const keep = last('lxc.namespace.keep');
  if (clone && keep) {
    const later = clone.entry.file === keep.entry.file && clone.entry.line > keep.entry.line ? clone : keep;
    const other = later === clone ? keep : clone;
    at(later.entry, `cannot be combined with ${other.key} (${other.entry.file}:${other.entry.line}): use one of them`);
  }
  if (keep) {
    for (const n of keep.value as V.LxcNamespace[]) {
      if (n === 'mnt') at(keep.entry, 'lxts cannot share the host\'s mount namespace (pivot_root needs its own)');
      const k = nsOf(n);
      if (k) ns.delete(k);
    }
  }
  for (const s of family('lxc.namespace.share.[ns]')) stored.namespaceShare[s.match.name] = s.value as string;

  // resources: structured where the cgroup layer has an equivalent, raw otherwise
  const resources: CgroupResources = {};
  for (const s of settings) {
    const version = s.match.def.name === 'lxc.cgroup.[file]' ? 1 : s.match.def.name === 'lxc.cgroup2.[file]' ? 2 : undefined;
    if (s.match.def.name.startsWith('lxc.cgroup') && s.match.def.name.includes('devices.')) {
      stored.devices.push({ ...(s.value as V.DeviceRule), version: s.key.startsWith('lxc.cgroup2.') ? 2 : 1 });
      continue;
    }
    if (!version) continue;
    const file = s.match.name;
    const structured = structuredOf(version, file, s.value as string);
    if (structured) mergeResources(resources, structured);
    else (resources.raw ??= []).push({ version, key: file, value: s.value as string });
  }
  spec.resources = resources;

  // 3. Stored for later.
  stored.arch = val<string>('lxc.arch');
  stored.mountAuto = list('lxc.mount.auto').reduce<V.MountAuto | undefined>((acc, s) => ({ ...acc, ...(s.value as V.MountAuto) }), undefined);
  stored.autodev = val<boolean>('lxc.autodev');
  stored.autodevTmpfsSizeMb = val<number>('lxc.autodev.tmpfs.size');
  stored.ephemeral = val<boolean>('lxc.ephemeral');
  stored.idmaps = list('lxc.idmap').map((s) => s.value as V.IdMap);
  if (stored.idmaps.length) stored.userns = true;
  // lxc.idmap: the container gets a user namespace with these maps (u, g, or b for both).
  if (stored.userns) {
    const ranges = (t: 'u' | 'g') => stored.idmaps.filter((m) => m.type === t || m.type === 'b').map((m) => ({ inside: m.nsid, outside: m.hostid, count: m.range }));
    spec.idmap = { uid: ranges('u'), gid: ranges('g') };
    if (!spec.idmap.uid.length || !spec.idmap.gid.length) {
      const e = list('lxc.idmap')[0]?.entry ?? last('lxc.namespace.clone')?.entry;
      if (e) at(e, 'a user namespace needs both a uid (u) and a gid (g) map in lxc.idmap');
    }
  }
  for (const t of HOOK_TYPES) {
    const h = list(`lxc.hook.${t}`).map((s) => s.value as string);
    if (h.length) stored.hooks[t] = h;
  }
  const hv = val<boolean>('lxc.hook.version');
  if (hv !== undefined) stored.hookVersion = hv ? 1 : 0;
  // The hooks that run inside the container's namespaces are part of its launch plan.
  spec.hooks = {
    preMount: stored.hooks['pre-mount'] ?? [],
    mount: stored.hooks.mount ?? [],
    autodev: stored.hooks.autodev ?? [],
    start: stored.hooks.start ?? [],
    version: stored.hookVersion ?? 0,
  };
  stored.signals = dropUndefined({
    halt: val<V.SignalValue>('lxc.signal.halt'), reboot: val<V.SignalValue>('lxc.signal.reboot'),
    stop: val<V.SignalValue>('lxc.signal.stop'), monitorPdeath: val<V.SignalValue>('lxc.monitor.signal.pdeath'),
  });
  stored.start = { auto: val<boolean>('lxc.start.auto') ?? false, delay: val<number>('lxc.start.delay') ?? 0, order: val<number>('lxc.start.order') ?? 0 };
  stored.groups = [...new Set(list('lxc.group').flatMap((s) => s.value as string[]))];
  stored.console = dropUndefined({
    path: val<string>('lxc.console.path'), logfile: val<string>('lxc.console.logfile'), rotate: val<boolean>('lxc.console.rotate'),
    size: val<number | 'auto'>('lxc.console.size'), bufferSize: val<number | 'auto'>('lxc.console.buffer.size'),
  });
  stored.tty = dropUndefined({ max: val<number>('lxc.tty.max'), dir: val<string>('lxc.tty.dir') });
  stored.ptyMax = val<number>('lxc.pty.max');
  stored.seccomp = dropUndefined({ profile: val<string>('lxc.seccomp.profile'), allowNesting: val<boolean>('lxc.seccomp.allow_nesting') });
  stored.cgroupDir = dropUndefined({
    dir: val<string>('lxc.cgroup.dir'), container: val<string>('lxc.cgroup.dir.container'), monitor: val<string>('lxc.cgroup.dir.monitor'),
    inner: val<string>('lxc.cgroup.dir.container.inner'), relative: val<boolean>('lxc.cgroup.relative'),
  });
  for (const s of family('lxc.proc.[file]')) stored.proc[s.match.name] = s.value as string;
  stored.net = netInterfaces(settings, at);
  // A "none" interface means: share the host's network namespace (LXC's meaning).
  if (stored.net.some((n) => n.type === 'none')) ns.delete('net');
  spec.namespaces = ALL_NAMESPACES.filter((n) => ns.has(n));
  if (spec.idmap?.uid.length && spec.idmap.gid.length) spec.namespaces.push('user');

  for (const k of Object.keys(stored) as (keyof StoredConfig)[]) if (stored[k] === undefined) delete stored[k];
  const used = [...usedCount].map(([d, count]) => ({ name: d.name, support: d.support, count }));
  return { spec, stored, problems, used };
}

/** LXC's overlay workdir: "work" beside UPPER (/var/lib/lxc/c2/overlay/delta -> /var/lib/lxc/c2/overlay/work). */
export function overlayWorkDir(upper: string): string {
  const u = upper.replace(/\/+$/, '');
  return u.slice(0, u.lastIndexOf('/')) + '/work';
}

function netInterfaces(settings: Setting[], at: (e: EntryLine, m: string) => void): NetInterface[] {
  const byIndex = new Map<number, { nic: NetInterface; first: EntryLine }>();
  for (const s of settings) {
    const m = /^lxc\.net\.(\d+)\.(.+)$/.exec(s.key);
    if (!m) continue;
    const index = Number(m[1]);
    let slot = byIndex.get(index);
    if (!slot) byIndex.set(index, (slot = { nic: { index, ipv4: [], ipv6: [] }, first: s.entry }));
    const n = slot.nic;
    const v = s.value;
    const veth = (): NonNullable<NetInterface['veth']> => (n.veth ??= { ipv4Routes: [], ipv6Routes: [] });
    switch (m[2]) {
      case 'type': n.type = v as NetInterface['type']; break;
      case 'link': n.link = v as string; break;
      case 'name': n.name = v as string; break;
      case 'hwaddr': n.hwaddr = v as string; break;
      case 'mtu': n.mtu = v as number; break;
      case 'flags': n.flags = v as 'up'; break;
      case 'ipv4.address': n.ipv4.push(v as NetInterface['ipv4'][number]); break;
      case 'ipv4.gateway': n.ipv4Gateway = v as string; break;
      case 'ipv6.address': n.ipv6.push(v as NetInterface['ipv6'][number]); break;
      case 'ipv6.gateway': n.ipv6Gateway = v as string; break;
      case 'veth.pair': veth().pair = v as string; break;
      case 'veth.mode': veth().mode = v as 'bridge' | 'router'; break;
      case 'veth.ipv4.route': veth().ipv4Routes.push(v as string); break;
      case 'veth.ipv6.route': veth().ipv6Routes.push(v as string); break;
      case 'veth.vlan.id': veth().vlanId = v as number | 'none'; break;
      case 'macvlan.mode': n.macvlanMode = v as string; break;
      case 'ipvlan.mode': n.ipvlanMode = v as string; break;
      case 'ipvlan.isolation': n.ipvlanIsolation = v as string; break;
      case 'vlan.id': n.vlanId = v as number; break;
      case 'script.up': n.scriptUp = v as string; break;
      case 'script.down': n.scriptDown = v as string; break;
      case 'l2proxy': n.l2proxy = v as boolean; break;
    }
  }
  const out = [...byIndex.values()].sort((a, b) => a.nic.index - b.nic.index);
  for (const { nic, first } of out) if (!nic.type) at(first, `network interface ${nic.index} has no lxc.net.${nic.index}.type`);
  return out.map((x) => x.nic);
}

/** The cgroup layer's equivalents, plus memory.swap.max (swap on top of memory, the structured meaning). */
function structuredOf(version: 1 | 2, file: string, value: string): CgroupResources | undefined {
  if (version === 2 && file === 'memory.swap.max') {
    const v = value.trim();
    if (v === 'max') return { memory: { swapMax: null } };
    if (/^\d+$/.test(v)) return { memory: { swapMax: Number(v) } };
  }
  return rawToStructured(version, file, value);
}

function dropUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** Deep merge of one key's structured resources; io throttles merge per device. */
export function mergeResources(into: CgroupResources, add: CgroupResources): void {
  for (const [k, v] of Object.entries(add) as [keyof CgroupResources, unknown][]) {
    if (k === 'io') {
      const io = (into.io ??= {});
      const a = v as NonNullable<CgroupResources['io']>;
      if (a.weight !== undefined) io.weight = a.weight;
      for (const t of a.throttle ?? []) {
        const list = (io.throttle ??= []);
        const same = list.find((x) => x.device === t.device);
        if (same) Object.assign(same, t);
        else list.push({ ...t });
      }
    } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      (into as Record<string, object>)[k] = { ...((into as Record<string, object>)[k] ?? {}), ...v };
    } else {
      (into as Record<string, unknown>)[k] = v;
    }
  }
}
