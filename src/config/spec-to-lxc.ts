// ContainerSpec (+ StoredConfig) -> an LXC config file: what `lxts create` writes. The
// inverse of configToSpec for everything LXC has a key for: configToSpec(specToConfig(s))
// gives s back (tested). Fields without an LXC key (masked paths, terminal) keep lxts's
// defaults and are not written.
import type { CgroupResources } from '../cgroup/index.js';
import { formatCpuMax } from '../cgroup/index.js';
import { ALL_NAMESPACES, DEFAULT_ENV, type ContainerSpec } from '../spec.js';
import { HOOK_TYPES } from './lxc-keys.js';
import type { StoredConfig } from './lxc-to-spec.js';
import { formatCommandLine, formatMountEntry } from './lxc-values.js';

export interface SpecToConfigOptions {
  /** Comment lines at the top (without "# "). */
  header?: string[];
}

export function specToConfig(spec: ContainerSpec, stored?: Partial<StoredConfig>, opts: SpecToConfigOptions = {}): string {
  const out: string[] = [];
  const kv = (k: string, v: string | number | boolean): void => {
    const s = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
    // A value with outer blanks or outer quotes would be trimmed or unquoted by the reader.
    out.push(`${k} = ${/^\s|\s$|^["'].*["']$/.test(s) ? `"${s}"` : s}`);
  };
  const section = (title: string): void => {
    if (out.length) out.push('');
    out.push(`# ${title}`);
  };
  for (const h of opts.header ?? []) out.push(h === '' ? '#' : `# ${h}`);

  section('Container');
  kv('lxc.uts.name', spec.hostname);
  if (stored?.arch) kv('lxc.arch', stored.arch);
  const r = stored?.rootfs;
  if (r?.backend === 'overlay') kv('lxc.rootfs.path', `overlay:${r.lower}:${r.upper}`);
  else if (spec.rootfs.kind === 'dir' && spec.rootfs.path) kv('lxc.rootfs.path', `dir:${spec.rootfs.path}`);
  const rootOpts = [...(spec.rootfs.readonly && r?.backend !== 'overlay' ? ['ro'] : []), ...(r?.options ?? [])];
  if (rootOpts.length) kv('lxc.rootfs.options', rootOpts.join(','));
  if (stored?.rootfsManaged !== undefined) kv('lxc.rootfs.managed', stored.rootfsManaged);
  if (stored?.ephemeral) kv('lxc.ephemeral', true);

  if (spec.mounts.length || stored?.mountAuto || stored?.autodev !== undefined) {
    section('Mounts');
    if (stored?.mountAuto) kv('lxc.mount.auto', formatMountAuto(stored.mountAuto));
    if (stored?.autodev !== undefined) kv('lxc.autodev', stored.autodev);
    for (const m of spec.mounts) kv('lxc.mount.entry', formatMountEntry({ ...m, target: m.target.replace(/^\/+/, '') }));
  }

  section('Process');
  kv(spec.init ? 'lxc.execute.cmd' : 'lxc.init.cmd', formatCommandLine(spec.process.args));
  if (spec.process.cwd !== '/') kv('lxc.init.cwd', spec.process.cwd);
  if (spec.process.uid !== 0) kv('lxc.init.uid', spec.process.uid);
  if (spec.process.gid !== 0) kv('lxc.init.gid', spec.process.gid);
  if (spec.process.additionalGids.length) kv('lxc.init.groups', spec.process.additionalGids.join(','));
  for (const e of spec.process.env) if (!DEFAULT_ENV.includes(e)) kv('lxc.environment', e);
  for (const l of spec.process.rlimits) kv(`lxc.prlimit.${l.type}`, l.soft === l.hard ? String(l.soft) : `${l.soft}:${l.hard}`);
  if (spec.process.noNewPrivileges) kv('lxc.no_new_privs', true);

  section('Security');
  const caps = spec.capabilities;
  if (caps.keep) {
    const keep = caps.keep.filter((c) => c !== 'none');
    const all = [...new Set([...keep, ...caps.add.filter((c) => c !== 'all')])];
    kv('lxc.cap.keep', all.length ? all.join(' ') : 'none');
  } else {
    const drop = caps.drop.filter((c) => !caps.add.includes(c));
    if (drop.length) kv('lxc.cap.drop', drop.join(' '));
  }
  const kept = ALL_NAMESPACES.filter((n) => !spec.namespaces.includes(n)).map((n) => (n === 'mount' ? 'mnt' : n));
  const netNone = stored?.net?.some((n) => n.type === 'none');
  const keep = kept.filter((n) => !(n === 'net' && netNone));
  if (keep.length) kv('lxc.namespace.keep', keep.join(' '));
  for (const [n, v] of Object.entries(stored?.namespaceShare ?? {})) kv(`lxc.namespace.share.${n}`, v);
  for (const m of stored?.idmaps ?? []) kv('lxc.idmap', `${m.type} ${m.nsid} ${m.hostid} ${m.range}`);
  if (stored?.seccomp?.profile) kv('lxc.seccomp.profile', stored.seccomp.profile);
  if (stored?.seccomp?.allowNesting !== undefined) kv('lxc.seccomp.allow_nesting', stored.seccomp.allowNesting);
  for (const [k, v] of Object.entries(spec.sysctls)) kv(`lxc.sysctl.${k}`, v);
  for (const [k, v] of Object.entries(stored?.proc ?? {})) kv(`lxc.proc.${k}`, v);

  const cg = resourceKeys(spec.resources);
  const dev = stored?.devices ?? [];
  const dir = stored?.cgroupDir ?? {};
  if (cg.length || dev.length || Object.keys(dir).length) {
    section('Control groups');
    if (dir.dir) kv('lxc.cgroup.dir', dir.dir);
    if (dir.container) kv('lxc.cgroup.dir.container', dir.container);
    if (dir.monitor) kv('lxc.cgroup.dir.monitor', dir.monitor);
    if (dir.inner) kv('lxc.cgroup.dir.container.inner', dir.inner);
    if (dir.relative !== undefined) kv('lxc.cgroup.relative', dir.relative);
    for (const [k, v] of cg) kv(k, v);
    for (const d of dev) {
      const rule = d.type === 'a' && d.major === '*' && d.minor === '*' && d.access === 'rwm' ? 'a' : `${d.type} ${d.major}:${d.minor} ${d.access}`;
      kv(`lxc.${d.version === 2 ? 'cgroup2' : 'cgroup'}.devices.${d.allow ? 'allow' : 'deny'}`, rule);
    }
  }

  if (stored?.net?.length) {
    section('Network');
    for (const n of stored.net) {
      const p = `lxc.net.${n.index}.`;
      if (n.type) kv(p + 'type', n.type);
      if (n.link) kv(p + 'link', n.link);
      if (n.name) kv(p + 'name', n.name);
      if (n.hwaddr) kv(p + 'hwaddr', n.hwaddr);
      if (n.mtu !== undefined) kv(p + 'mtu', n.mtu);
      if (n.flags) kv(p + 'flags', n.flags);
      for (const a of n.ipv4) kv(p + 'ipv4.address', `${a.address}/${a.prefix}${a.broadcast ? ' ' + a.broadcast : ''}`);
      if (n.ipv4Gateway) kv(p + 'ipv4.gateway', n.ipv4Gateway);
      for (const a of n.ipv6) kv(p + 'ipv6.address', `${a.address}/${a.prefix}`);
      if (n.ipv6Gateway) kv(p + 'ipv6.gateway', n.ipv6Gateway);
      if (n.veth?.pair) kv(p + 'veth.pair', n.veth.pair);
      if (n.veth?.mode) kv(p + 'veth.mode', n.veth.mode);
      for (const x of n.veth?.ipv4Routes ?? []) kv(p + 'veth.ipv4.route', x);
      for (const x of n.veth?.ipv6Routes ?? []) kv(p + 'veth.ipv6.route', x);
      if (n.veth?.vlanId !== undefined) kv(p + 'veth.vlan.id', n.veth.vlanId);
      if (n.macvlanMode) kv(p + 'macvlan.mode', n.macvlanMode);
      if (n.ipvlanMode) kv(p + 'ipvlan.mode', n.ipvlanMode);
      if (n.ipvlanIsolation) kv(p + 'ipvlan.isolation', n.ipvlanIsolation);
      if (n.vlanId !== undefined) kv(p + 'vlan.id', n.vlanId);
      if (n.scriptUp) kv(p + 'script.up', n.scriptUp);
      if (n.scriptDown) kv(p + 'script.down', n.scriptDown);
      if (n.l2proxy !== undefined) kv(p + 'l2proxy', n.l2proxy);
    }
  }

  const life: [string, string | number | boolean][] = [];
  const s = stored;
  if (s?.signals?.halt) life.push(['lxc.signal.halt', s.signals.halt.name]);
  if (s?.signals?.reboot) life.push(['lxc.signal.reboot', s.signals.reboot.name]);
  if (s?.signals?.stop) life.push(['lxc.signal.stop', s.signals.stop.name]);
  if (s?.signals?.monitorPdeath) life.push(['lxc.monitor.signal.pdeath', s.signals.monitorPdeath.name]);
  if (s?.start?.auto) life.push(['lxc.start.auto', true]);
  if (s?.start?.delay) life.push(['lxc.start.delay', s.start.delay]);
  if (s?.start?.order) life.push(['lxc.start.order', s.start.order]);
  if (s?.groups?.length) life.push(['lxc.group', s.groups.join(' ')]);
  if (s?.console?.path) life.push(['lxc.console.path', s.console.path]);
  if (s?.console?.logfile) life.push(['lxc.console.logfile', s.console.logfile]);
  if (s?.console?.rotate !== undefined) life.push(['lxc.console.rotate', s.console.rotate]);
  if (s?.console?.size !== undefined) life.push(['lxc.console.size', s.console.size]);
  if (s?.console?.bufferSize !== undefined) life.push(['lxc.console.buffer.size', s.console.bufferSize]);
  if (s?.tty?.max !== undefined) life.push(['lxc.tty.max', s.tty.max]);
  if (s?.tty?.dir) life.push(['lxc.tty.dir', s.tty.dir]);
  if (s?.ptyMax !== undefined) life.push(['lxc.pty.max', s.ptyMax]);
  if (s?.hookVersion !== undefined) life.push(['lxc.hook.version', s.hookVersion]);
  for (const t of HOOK_TYPES) for (const h of s?.hooks?.[t] ?? []) life.push([`lxc.hook.${t}`, h]);
  if (life.length) {
    section('Lifecycle');
    for (const [k, v] of life) kv(k, v);
  }
  return out.join('\n') + '\n';
}

function formatMountAuto(m: NonNullable<StoredConfig['mountAuto']>): string {
  const w: string[] = [];
  if (m.proc) w.push(`proc:${m.proc}`);
  if (m.sys) w.push(`sys:${m.sys}`);
  if (m.cgroup) w.push([m.cgroup.full ? 'cgroup-full' : 'cgroup', ...(m.cgroup.mode === 'auto' ? [] : [m.cgroup.mode]), ...(m.cgroup.force ? ['force'] : [])].join(':'));
  if (m.shmounts) w.push(`shmounts:${m.shmounts.host}:${m.shmounts.container}`);
  return w.join(' ');
}

/**
 * Structured limits as config keys, each in the spelling whose structured form is that exact
 * field (cpu.shares is v1's, cpu.weight v2's), so reading them back gives the same resources;
 * the cgroup layer converts for the version the host runs.
 */
export function resourceKeys(r: CgroupResources): [string, string][] {
  const out: [string, string][] = [];
  const v1 = (k: string, v: string | number): number => out.push([`lxc.cgroup.${k}`, String(v)]);
  const v2 = (k: string, v: string | number): number => out.push([`lxc.cgroup2.${k}`, String(v)]);
  const bytes = (n: number | null): string => (n === null ? 'max' : String(n));
  if (r.cpu?.shares !== undefined) v1('cpu.shares', r.cpu.shares);
  if (r.cpu?.weight !== undefined) v2('cpu.weight', r.cpu.weight);
  if (r.cpu?.quotaUs !== undefined) v2('cpu.max', formatCpuMax(r.cpu.quotaUs, r.cpu.periodUs));
  else if (r.cpu?.periodUs !== undefined) v1('cpu.cfs_period_us', r.cpu.periodUs);
  if (r.cpu?.cpus !== undefined) v2('cpuset.cpus', r.cpu.cpus);
  if (r.cpu?.mems !== undefined) v2('cpuset.mems', r.cpu.mems);
  if (r.memory?.max !== undefined) v2('memory.max', bytes(r.memory.max));
  if (r.memory?.high !== undefined) v2('memory.high', bytes(r.memory.high));
  if (r.memory?.swapMax !== undefined) v2('memory.swap.max', bytes(r.memory.swapMax));
  if (r.pids?.max !== undefined) v2('pids.max', r.pids.max === null ? 'max' : r.pids.max);
  if (r.io?.weight !== undefined) v2('io.weight', `default ${r.io.weight}`);
  for (const t of r.io?.throttle ?? []) {
    const parts = (['rbps', 'wbps', 'riops', 'wiops'] as const).filter((k) => t[k] !== undefined).map((k) => `${k}=${t[k] === 0 ? 'max' : t[k]}`);
    if (parts.length) v2('io.max', `${t.device} ${parts.join(' ')}`);
  }
  if (r.frozen !== undefined) v2('cgroup.freeze', r.frozen ? 1 : 0);
  for (const x of r.raw ?? []) (x.version === 1 ? v1 : v2)(x.key, x.value);
  return out;
}
