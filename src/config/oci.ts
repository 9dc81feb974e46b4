// OCI runtime-spec bundles (config.json, as `crun spec` / `runc spec` write it) -> the one
// ContainerSpec: the third front door beside CLI flags and LXC config files. Pure: the
// caller reads the file. What lxts cannot do yet (joining namespaces by path, user
// namespaces, seccomp profiles, device rules, hooks) is an error naming the field, or, where
// running without it is safe, a warning.
import { defaultSpec, ALL_NAMESPACES, type ContainerSpec, type MountSpec, type NamespaceKind, type RlimitSpec } from '../spec.js';
import type { CgroupResources } from '../cgroup/index.js';
import { blkioWeightToIoWeight } from '../cgroup/index.js';
import { normalizeCap } from '../security/capabilities.js';
import { LxtsError, ExitCode } from '../errors.js';

/** The part of the runtime spec lxts reads (https://github.com/opencontainers/runtime-spec). */
export interface OciConfig {
  ociVersion?: string;
  process?: {
    terminal?: boolean;
    user?: { uid?: number; gid?: number; additionalGids?: number[] };
    args?: string[];
    env?: string[];
    cwd?: string;
    capabilities?: { bounding?: string[]; effective?: string[]; permitted?: string[] };
    rlimits?: { type: string; soft: number; hard: number }[];
    noNewPrivileges?: boolean;
  };
  root?: { path?: string; readonly?: boolean };
  hostname?: string;
  mounts?: { destination: string; type?: string; source?: string; options?: string[] }[];
  hooks?: Record<string, unknown[]>;
  linux?: {
    namespaces?: { type: string; path?: string }[];
    uidMappings?: unknown[];
    gidMappings?: unknown[];
    resources?: {
      cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
      memory?: { limit?: number; reservation?: number; swap?: number };
      pids?: { limit?: number };
      blockIO?: { weight?: number };
      devices?: unknown[];
    };
    maskedPaths?: string[];
    readonlyPaths?: string[];
    sysctl?: Record<string, string>;
    seccomp?: unknown;
  };
}

export interface OciConversion {
  spec: ContainerSpec;
  warnings: string[];
}

const NS: Record<string, NamespaceKind> = { pid: 'pid', network: 'net', ipc: 'ipc', uts: 'uts', mount: 'mount', cgroup: 'cgroup', user: 'user' };

/**
 * Mounts lxts sets up itself for every container (proc, sysfs, a /dev tmpfs with its device
 * nodes, devpts, shm, mqueue, and cgroup2 on pure v2 hosts): the bundle's entries for them
 * are covered.
 */
const STANDARD_DESTINATIONS = new Set(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup']);

function fail(field: string, why: string): never {
  throw new LxtsError(`config.json: ${field}: ${why}`, ExitCode.CONFIG);
}

/** `bundleDir` resolves a relative root.path; `name` names the container. */
export function ociToSpec(cfg: OciConfig, bundleDir: string, name: string): OciConversion {
  const warnings: string[] = [];
  const p = cfg.process;
  if (!p?.args?.length) fail('process.args', 'no command to run');
  const spec = defaultSpec(name, p.args);
  if (!cfg.root?.path) fail('root.path', 'missing');
  spec.rootfs = { kind: 'dir', path: cfg.root.path.startsWith('/') ? cfg.root.path : `${bundleDir.replace(/\/$/, '')}/${cfg.root.path}`, readonly: cfg.root.readonly === true };
  if (cfg.hostname) spec.hostname = cfg.hostname;

  // The process: the bundle's environment replaces lxts's default one, as runc does.
  spec.process.env = p.env ?? [];
  spec.process.cwd = p.cwd ?? '/';
  spec.process.uid = p.user?.uid ?? 0;
  spec.process.gid = p.user?.gid ?? 0;
  spec.process.additionalGids = p.user?.additionalGids ?? [];
  spec.process.terminal = p.terminal === true;
  spec.process.noNewPrivileges = p.noNewPrivileges === true;
  spec.process.rlimits = (p.rlimits ?? []).map((r, i): RlimitSpec => {
    const m = /^RLIMIT_([A-Z]+)$/.exec(r.type);
    if (!m) fail(`process.rlimits[${i}].type`, `"${r.type}" is not an RLIMIT_* name`);
    return { type: m[1]!.toLowerCase(), soft: r.soft, hard: r.hard };
  });
  if (p.capabilities?.bounding) {
    spec.capabilities = { keep: p.capabilities.bounding.map((c, i) => {
      try {
        return normalizeCap(c);
      } catch {
        return fail(`process.capabilities.bounding[${i}]`, `unknown capability "${c}"`);
      }
    }), drop: [], add: [] };
    if (spec.capabilities.keep!.length === 0) spec.capabilities.keep = ['none'];
  }

  // Namespaces: exactly the listed ones; joining one by path is not supported yet.
  const linux = cfg.linux ?? {};
  if (linux.namespaces) {
    const kinds: NamespaceKind[] = [];
    linux.namespaces.forEach((n, i) => {
      const k = NS[n.type];
      if (!k) fail(`linux.namespaces[${i}].type`, `unknown namespace "${n.type}"`);
      if (n.path) fail(`linux.namespaces[${i}].path`, 'joining an existing namespace is not supported yet');
      if (k === 'user') fail(`linux.namespaces[${i}]`, 'user namespaces are not supported yet');
      kinds.push(k);
    });
    if (!kinds.includes('mount')) fail('linux.namespaces', 'lxts needs a mount namespace for the container');
    spec.namespaces = ALL_NAMESPACES.filter((k) => kinds.includes(k));
  }
  if (linux.uidMappings?.length || linux.gidMappings?.length) fail('linux.uidMappings', 'user namespaces are not supported yet');
  if (linux.maskedPaths) spec.maskedPaths = linux.maskedPaths;
  if (linux.readonlyPaths) spec.readonlyPaths = linux.readonlyPaths;
  if (linux.sysctl) spec.sysctls = { ...linux.sysctl };
  if (linux.seccomp) warnings.push('linux.seccomp: the bundle\'s profile is not applied; lxts\'s default filter is');
  if (linux.resources?.devices?.length) warnings.push('linux.resources.devices: device rules are not applied (a new /dev holds only null, zero, full, random, urandom, tty)');
  if (cfg.hooks && Object.values(cfg.hooks).some((h) => h?.length)) warnings.push('hooks: OCI hooks are not run');

  spec.mounts = (cfg.mounts ?? []).flatMap((m, i): MountSpec[] => {
    if (!m.destination?.startsWith('/')) fail(`mounts[${i}].destination`, 'must be an absolute path');
    if (STANDARD_DESTINATIONS.has(m.destination.replace(/\/+$/, ''))) return [];
    const opts = m.options ?? [];
    const bind = m.type === 'bind' || opts.includes('bind') || opts.includes('rbind');
    if (bind && !m.source) fail(`mounts[${i}].source`, 'a bind mount needs a source');
    const create = bind ? [] : ['create=dir'];
    return [{ source: m.source ?? 'none', target: m.destination, type: bind ? 'none' : (m.type ?? 'none'), options: [...opts.filter((o) => o !== 'private' && o !== 'rprivate'), ...create, ...(bind && !opts.includes('rbind') && !opts.includes('bind') ? ['bind'] : [])] }];
  });

  spec.resources = resources(linux.resources ?? {});
  return { spec, warnings };
}

function resources(r: NonNullable<NonNullable<OciConfig['linux']>['resources']>): CgroupResources {
  const out: CgroupResources = {};
  if (r.cpu) {
    const c: NonNullable<CgroupResources['cpu']> = {};
    if (r.cpu.shares !== undefined) c.shares = r.cpu.shares;
    if (r.cpu.quota !== undefined) c.quotaUs = r.cpu.quota > 0 ? r.cpu.quota : null;
    if (r.cpu.period !== undefined) c.periodUs = r.cpu.period;
    if (r.cpu.cpus) c.cpus = r.cpu.cpus;
    if (r.cpu.mems) c.mems = r.cpu.mems;
    if (Object.keys(c).length) out.cpu = c;
  }
  if (r.memory) {
    const m: NonNullable<CgroupResources['memory']> = {};
    if (r.memory.limit !== undefined) m.max = r.memory.limit > 0 ? r.memory.limit : null;
    if (r.memory.reservation !== undefined && r.memory.reservation > 0) m.high = r.memory.reservation;
    // OCI's swap is memory + swap together (cgroup v1's memsw); -1 is unlimited.
    if (r.memory.swap !== undefined) m.swapMax = r.memory.swap < 0 ? null : Math.max(0, r.memory.swap - (r.memory.limit ?? 0));
    if (Object.keys(m).length) out.memory = m;
  }
  if (r.pids?.limit !== undefined) out.pids = { max: r.pids.limit > 0 ? r.pids.limit : null };
  if (r.blockIO?.weight) out.io = { weight: blkioWeightToIoWeight(r.blockIO.weight) };
  return out;
}
