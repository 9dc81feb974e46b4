// lxts execute [options] [--] CMD [ARGS]   (lxc-execute)
import { statSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { isatty } from 'node:tty';
import { defaultSpec, DEFAULT_IDMAP, type ContainerSpec, type MountSpec, type NamespaceKind, type IdRange, ALL_NAMESPACES } from '../spec.js';
import { parseIdMapFlag } from '../userns.js';
import { normalizeCap } from '../security/capabilities.js';
import { validateName } from '../names.js';
import { usageError, requireRoot, LxtsError, ExitCode } from '../errors.js';
import { splitAtCommand, parse, helpText, type Options } from './args.js';
import { RESOURCE_OPTIONS, RESOURCE_HELP, resourcesFromFlags } from './resource-flags.js';
import { prewarmCgroupMove } from '../cgroup/prewarm.js';
import { ociToSpec, type OciConfig } from '../config/oci.js';

const OPTIONS = {
  rootfs: { type: 'string' },
  bundle: { type: 'string', short: 'b' },
  name: { type: 'string', short: 'n' },
  lxtspath: { type: 'string', short: 'P' },
  hostname: { type: 'string' },
  env: { type: 'string', short: 'e', multiple: true },
  cwd: { type: 'string', short: 'w' },
  user: { type: 'string', short: 'u' },
  mount: { type: 'string', short: 'm', multiple: true },
  'cap-drop': { type: 'string', multiple: true },
  'cap-add': { type: 'string', multiple: true },
  init: { type: 'boolean' },
  'no-new-privs': { type: 'boolean' },
  ulimit: { type: 'string', multiple: true },
  sysctl: { type: 'string', multiple: true },
  share: { type: 'string', multiple: true },
  'read-only': { type: 'boolean' },
  seccomp: { type: 'string' },
  userns: { type: 'boolean' },
  idmap: { type: 'string', multiple: true },
  tty: { type: 'boolean', short: 't' },
  'no-tty': { type: 'boolean', short: 'T' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...RESOURCE_OPTIONS,
} satisfies Options;

const HELP = helpText(
  'lxts execute [OPTIONS] [--] COMMAND [ARGS...]',
  'Run COMMAND in a new throwaway container in the foreground (like lxc-execute). Its exit\n' +
    'status is lxts\'s (126 not executable, 127 not found, 128+N killed by signal N). The root\n' +
    'filesystem defaults to the embedded `host` template: the host\'s /usr read-only with a\n' +
    'private /etc, /tmp, /var, /root and /run, assembled in memory; nothing remains afterwards.\n' +
    'With -n NAME of an existing (stopped) container, COMMAND (default: its lxc.execute.cmd) runs\n' +
    'in that container\'s config — its rootfs, mounts and limits — under a minimal init, like\n' +
    'lxc-execute; the container stays locked (start, copy, destroy wait) while it runs.',
  [
    ['--rootfs DIR', 'use DIR as the root filesystem (default: the host template)'],
    ['-b, --bundle DIR', 'run an OCI bundle (DIR/config.json and its rootfs); COMMAND replaces process.args'],
    ['-n, --name NAME', 'container name (default: exec-PID); if a container NAME exists, run in its config (see below)'],
    ['-P, --lxtspath DIR', 'where -n NAME is looked up (default /var/lib/lxts, or $LXTS_PATH)'],
    ['--hostname NAME', 'hostname inside (default: the name)'],
    ['-e, --env K=V', 'set an environment variable (repeatable; the host\'s env is not passed)'],
    ['-w, --cwd DIR', 'working directory inside (default: /)'],
    ['-u, --user UID[:GID]', 'run the command as UID (and GID)'],
    ['-m, --mount SRC:DST[:ro]', 'bind-mount host SRC at DST inside (repeatable)'],
    ['--cap-drop CAP', 'drop a capability, e.g. net_raw, or "all" (repeatable, comma lists)'],
    ['--cap-add CAP', 'keep a capability the defaults drop, e.g. sys_time (repeatable)'],
    ['--init', 'run a minimal init as PID 1 and the command as PID 2 (reaps zombies)'],
    ['--no-new-privs', 'set no_new_privs: setuid binaries gain nothing'],
    ['--ulimit NAME=SOFT[:HARD]', 'resource limit, e.g. nofile=1024:2048 (repeatable)'],
    ['--sysctl KEY=VALUE', 'namespaced sysctl, e.g. net.ipv4.ip_forward=1 (repeatable)'],
    ['--share NS', 'share the host\'s namespace NS: net, ipc, uts, pid, cgroup (repeatable)'],
    ['--read-only', 'mount the root filesystem read-only'],
    ['--userns', 'own user namespace: the container\'s root is host uid/gid 100000 (0-65535 -> 100000-165535)'],
    ['--idmap u|g|b:IN:OUT:COUNT', 'user namespace with this id map instead (repeatable; b = uid and gid)'],
    ['--seccomp default|unconfined', 'default: refuse superblock remounts (they would reach the host\'s filesystem)'],
    ['-t, --tty / -T, --no-tty', 'force / refuse a pty (default: a pty when stdin is a terminal)'],
    ...RESOURCE_HELP,
    ['--dry-run', 'print the LaunchPlan instead of running it (--json for JSON)'],
    ['--debug', 'show the full error detail'],
  ],
);

export async function run(argv: string[]): Promise<number> {
  const { own, command } = splitAtCommand(argv, OPTIONS);
  const { values: v } = parse(own, OPTIONS);
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const bundle = v.bundle !== undefined ? specFromBundle(v, command) : undefined;
  const named = !bundle && v.name !== undefined ? await namedContainer(v, command) : undefined;
  if (!named && !bundle && command.length === 0) throw usageError('no command given', 'usage: lxts execute [OPTIONS] -- COMMAND [ARGS...]');
  const spec = bundle ?? named?.spec ?? specFromFlags(v, command);
  if (!v['dry-run'] && process.getuid?.() === 0) prewarmCgroupMove();
  const { compileForHost } = await import('../launch.js');
  if (v['dry-run']) {
    const plan = compileForHost(spec, { dieWithParent: true });
    if (v.json) process.stdout.write(JSON.stringify({ spec, plan: plan.steps.map((s) => ({ op: s.op, args: s.args.map(String) })) }, null, 2) + '\n');
    else process.stdout.write((await import('../plan/compile.js')).formatPlan(plan) + '\n');
    return 0;
  }
  requireRoot('lxts execute');
  const { execute } = await import('../launch.js');
  // The monitor (lxts-exec) forwards terminal signals to the container and exits with its
  // status; lxts must outlive it to clean up, so it ignores them itself.
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) process.on(s, () => {});
  if (!named) return (await execute(spec, { stdio: 'inherit' })).code;
  // An existing container: locked for the run, and only when stopped.
  const { lockContainer, requireStopped } = await import('../storage/copy.js');
  const { prepareRootfs } = await import('../storage/overlay.js');
  const lock = await lockContainer(named.container);
  try {
    await requireStopped(named.container, 'lxts execute -n runs a stopped container\'s config', `or run the command inside it: lxts attach ${named.container.name} -- ...`);
    for (const w of named.warnings) process.stderr.write(`lxts: warning: ${w}\n`);
    prepareRootfs(spec);
    return (await execute(spec, { stdio: 'inherit' })).code;
  } finally {
    lock.release();
  }
}

/**
 * `-n NAME` naming an existing container (lxc-execute's meaning): its config in execute mode.
 * Without such a container, -n only names the throwaway one — unless -P was given.
 */
async function namedContainer(v: Values, command: string[]): Promise<{ container: import('../container.js').Container; spec: ContainerSpec; warnings: string[] } | undefined> {
  const { Container } = await import('../container.js');
  const container = new Container(v.name!, v.lxtspath !== undefined ? { lxtspath: v.lxtspath } : {});
  if (!container.exists()) {
    if (v.lxtspath !== undefined) throw new LxtsError(`no container named "${v.name}" in ${container.loc.lxtspath}`, ExitCode.GENERIC, 'see `lxts ls`');
    return undefined;
  }
  const own = ['rootfs', 'hostname', 'env', 'cwd', 'user', 'mount', 'cap-drop', 'cap-add', 'ulimit', 'sysctl', 'share', 'read-only', 'init', 'no-new-privs'] as const;
  const given = [...own, ...(Object.keys(RESOURCE_OPTIONS) as (keyof typeof RESOURCE_OPTIONS)[])].filter((k) => v[k] !== undefined);
  if (given.length) throw usageError(`--${given[0]} cannot be combined with -n NAME of an existing container: its config decides that`, `change the config instead: lxts config set ${container.name} KEY VALUE`);
  const { spec, warnings } = container.loadSpec('execute', command);
  // The cgroup's name: the container's own (unique per lxtspath), as for a start.
  spec.name = container.cgroupName;
  spec.process.terminal = v.tty ? true : v['no-tty'] ? false : process.stdin.isTTY === true && process.stdout.isTTY === true;
  return { container, spec, warnings };
}


type Values = ReturnType<typeof parse<typeof OPTIONS>>['values'];

/** Flags that set what an OCI bundle's config.json already says. */
const BUNDLE_CONFLICTS = ['rootfs', 'hostname', 'env', 'cwd', 'user', 'mount', 'cap-drop', 'cap-add', 'ulimit', 'sysctl', 'share', 'read-only', 'cpu-weight', 'cpu-shares', 'cpus', 'cpuset', 'memory', 'memory-swap', 'pids-max', 'io-weight', 'cgroup'] as const;

/** `--bundle DIR`: the OCI runtime-spec front door (src/config/oci.ts). */
export function specFromBundle(v: Values, command: string[]): ContainerSpec {
  const dir = resolve(v.bundle!);
  for (const f of BUNDLE_CONFLICTS) if (v[f] !== undefined) throw usageError(`--${f} cannot be combined with --bundle: the bundle's config.json says it`);
  let cfg: OciConfig;
  try {
    cfg = JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')) as OciConfig;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new LxtsError(`${dir}/config.json: ${err.code === 'ENOENT' ? 'no such file (is this an OCI bundle?)' : err.message}`, ExitCode.CONFIG);
  }
  const { spec, warnings } = ociToSpec(cfg, dir, validateName(v.name ?? `oci-${process.pid}`));
  for (const w of warnings) process.stderr.write(`lxts: warning: ${w}\n`);
  checkRootfs(spec.rootfs.path!);
  if (command.length) spec.process.args = command;
  // Bind targets are made inside the rootfs like the source: a directory, or a file.
  for (const m of spec.mounts) {
    if (m.type !== 'none' || m.options.some((o) => o.startsWith('create='))) continue;
    let st;
    try {
      st = statSync(m.source);
    } catch {
      throw new LxtsError(`config.json: mounts: bind source ${m.source} does not exist`, ExitCode.CONFIG);
    }
    m.options.push(st.isDirectory() ? 'create=dir' : 'create=file');
  }
  if (v.tty || v['no-tty']) spec.process.terminal = !!v.tty;
  if (v.init) spec.init = true;
  return spec;
}

export function specFromFlags(v: Values, command: string[]): ContainerSpec {
  const name = validateName(v.name ?? `exec-${process.pid}`);
  const spec = defaultSpec(name, command);
  if (v.hostname !== undefined) spec.hostname = hostname(v.hostname);
  if (v.rootfs !== undefined) spec.rootfs = { kind: 'dir', path: checkRootfs(v.rootfs), readonly: false };
  spec.rootfs.readonly = !!v['read-only'];
  if (v.userns || v.idmap?.length) {
    const map = { uid: [] as IdRange[], gid: [] as IdRange[] };
    for (const m of v.idmap ?? []) parseIdMapFlag(m, map);
    spec.idmap = v.idmap?.length ? map : structuredClone(DEFAULT_IDMAP);
    if (!spec.idmap.uid.length || !spec.idmap.gid.length) throw usageError('--idmap needs both a uid and a gid map (use b: for both)');
    spec.namespaces.push('user');
  }
  if (v.seccomp !== undefined) {
    if (v.seccomp !== 'default' && v.seccomp !== 'unconfined') throw usageError(`--seccomp takes default or unconfined, got "${v.seccomp}"`);
    spec.seccomp = v.seccomp;
  }
  for (const kv of v.env ?? []) {
    if (!/^[^=]+=/.test(kv)) throw usageError(`--env needs KEY=VALUE, got "${kv}"`);
    const key = kv.slice(0, kv.indexOf('=') + 1);
    spec.process.env = spec.process.env.filter((e) => !e.startsWith(key)).concat(kv);
  }
  if (v.cwd !== undefined) {
    if (!v.cwd.startsWith('/')) throw usageError(`--cwd must be an absolute path inside the container, got "${v.cwd}"`);
    spec.process.cwd = v.cwd;
  }
  if (v.user !== undefined) {
    const m = /^(\d+)(?::(\d+))?$/.exec(v.user);
    if (!m) throw usageError(`--user needs UID or UID:GID (numbers), got "${v.user}"`);
    spec.process.uid = Number(m[1]);
    spec.process.gid = Number(m[2] ?? m[1]);
  }
  spec.mounts = (v.mount ?? []).map(parseMountFlag);
  const list = (xs: string[] | undefined): string[] => (xs ?? []).flatMap((x) => x.split(',')).filter(Boolean);
  const drops = list(v['cap-drop']);
  const adds = list(v['cap-add']).map(normalizeCap);
  if (drops.some((d) => d.toLowerCase() === 'all')) spec.capabilities = { drop: [], keep: ['none'], add: adds };
  else {
    spec.capabilities.drop = [...spec.capabilities.drop, ...drops.map(normalizeCap)].filter((c) => !adds.includes(c));
    spec.capabilities.add = adds;
  }
  spec.init = !!v.init;
  spec.process.noNewPrivileges = !!v['no-new-privs'];
  for (const u of v.ulimit ?? []) {
    const m = /^([a-z]+)=(\d+|unlimited)(?::(\d+|unlimited))?$/.exec(u);
    if (!m) throw usageError(`--ulimit needs NAME=SOFT[:HARD], e.g. nofile=1024:2048, got "${u}"`);
    const lim = (s: string): number | 'unlimited' => (s === 'unlimited' ? 'unlimited' : Number(s));
    spec.process.rlimits.push({ type: m[1]!, soft: lim(m[2]!), hard: lim(m[3] ?? m[2]!) });
  }
  for (const kv of v.sysctl ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0 || !/^[a-z0-9_.-]+$/.test(kv.slice(0, i))) throw usageError(`--sysctl needs KEY=VALUE, got "${kv}"`);
    spec.sysctls[kv.slice(0, i)] = kv.slice(i + 1);
  }
  for (const s of list(v.share)) {
    if (!(ALL_NAMESPACES as string[]).includes(s) || s === 'mount') throw usageError(`--share takes one of net, ipc, uts, pid, cgroup; got "${s}"`);
    spec.namespaces = spec.namespaces.filter((n) => n !== (s as NamespaceKind));
  }
  // isatty() rather than process.stdin.isTTY: the same answer without creating the
  // process.stdin stream (~4 ms of module loading on every CLI start; lxts never reads it).
  spec.process.terminal = v.tty ? true : v['no-tty'] ? false : isatty(0) && isatty(1);
  spec.resources = resourcesFromFlags(v);
  return spec;
}

function hostname(h: string): string {
  if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(h) || h.length > 64)
    throw usageError(`invalid hostname "${h}"`);
  return h;
}

function checkRootfs(p: string): string {
  const abs = resolve(p);
  let st;
  try {
    st = statSync(abs);
  } catch {
    throw new LxtsError(`rootfs ${abs} does not exist`, ExitCode.CONFIG);
  }
  if (!st.isDirectory()) throw new LxtsError(`rootfs ${abs} is not a directory`, ExitCode.CONFIG);
  return abs;
}

export function parseMountFlag(s: string): MountSpec {
  const parts = s.split(':');
  const [src, dst, mode, ...extra] = parts;
  if (!src || !dst || extra.length || (mode !== undefined && mode !== 'ro' && mode !== 'rw'))
    throw usageError(`--mount needs SRC:DST[:ro|rw], got "${s}"`);
  if (!isAbsolute(dst)) throw usageError(`--mount target must be absolute inside the container, got "${dst}"`);
  const abs = resolve(src);
  let st;
  try {
    st = statSync(abs);
  } catch {
    throw usageError(`--mount source ${abs} does not exist`);
  }
  return { source: abs, target: dst, type: 'none', options: ['rbind', st.isDirectory() ? 'create=dir' : 'create=file', ...(mode === 'ro' ? ['ro'] : [])] };
}
