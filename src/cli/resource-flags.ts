// CLI resource flags (docker/podman names where they exist) -> CgroupResources.
import type { CgroupResources } from '../cgroup/index.js';
import { parseSize, detectCgroupHost } from '../cgroup/index.js';
import { usageError } from '../errors.js';
import { intOption, type Options } from './args.js';

export const RESOURCE_OPTIONS = {
  'cpu-weight': { type: 'string' },
  'cpu-shares': { type: 'string' },
  cpus: { type: 'string' },
  cpuset: { type: 'string' },
  memory: { type: 'string' },
  'memory-swap': { type: 'string' },
  'pids-max': { type: 'string' },
  'io-weight': { type: 'string' },
  cgroup: { type: 'string', multiple: true },
} satisfies Options;

export const RESOURCE_HELP: [string, string][] = [
  ['--cpu-weight N', 'relative CPU weight, 1-10000 (cgroup v2 scale; converted on v1)'],
  ['--cpu-shares N', 'relative CPU shares, 2-262144 (cgroup v1 scale; converted on v2)'],
  ['--cpus N', 'CPU time limit in CPUs, e.g. 0.5 (quota over a 100 ms period)'],
  ['--cpuset LIST', 'CPUs the container may run on, e.g. 1 or 0-1'],
  ['--memory SIZE', 'memory limit, e.g. 512M, 1G'],
  ['--memory-swap SIZE', 'swap allowed on top of --memory'],
  ['--pids-max N', 'maximum number of processes'],
  ['--io-weight N', 'relative block I/O weight, 1-10000'],
  ['--cgroup KEY=VALUE', 'raw cgroup file value, e.g. cpu.max="50000 100000" (repeatable)'],
];

type Values = { [K in keyof typeof RESOURCE_OPTIONS]?: (typeof RESOURCE_OPTIONS)[K] extends { multiple: true } ? string[] : string };

export function resourcesFromFlags(v: Values): CgroupResources {
  const r: CgroupResources = {};
  const cpu: NonNullable<CgroupResources['cpu']> = {};
  const weight = intOption('cpu-weight', v['cpu-weight'], 1, 10000);
  const shares = intOption('cpu-shares', v['cpu-shares'], 2, 262144);
  if (weight !== undefined) cpu.weight = weight;
  if (shares !== undefined) cpu.shares = shares;
  if (v.cpus !== undefined) {
    const n = Number(v.cpus);
    if (!/^\d*\.?\d+$/.test(v.cpus) || !(n > 0)) throw usageError(`--cpus needs a positive number of CPUs, e.g. 0.5, got "${v.cpus}"`);
    cpu.periodUs = 100000;
    cpu.quotaUs = Math.max(1000, Math.round(n * 100000));
  }
  if (v.cpuset !== undefined) {
    if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v.cpuset)) throw usageError(`--cpuset needs a CPU list like 0 or 0-1,3, got "${v.cpuset}"`);
    cpu.cpus = v.cpuset;
  }
  if (Object.keys(cpu).length) r.cpu = cpu;
  if (v.memory !== undefined || v['memory-swap'] !== undefined) {
    r.memory = {};
    if (v.memory !== undefined) r.memory.max = size('memory', v.memory);
    if (v['memory-swap'] !== undefined) r.memory.swapMax = size('memory-swap', v['memory-swap']);
  }
  const pids = intOption('pids-max', v['pids-max'], 1);
  if (pids !== undefined) r.pids = { max: pids };
  const io = intOption('io-weight', v['io-weight'], 1, 10000);
  if (io !== undefined) r.io = { weight: io };
  for (const kv of v.cgroup ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0) throw usageError(`--cgroup needs KEY=VALUE, got "${kv}"`);
    const key = kv.slice(0, i).trim();
    // A raw key from the command line means "this file, on this host": its version is the
    // one serving its controller here (v1-only names are v1 anywhere; the cgroup layer maps
    // or rejects a key of the other version with a message naming it).
    (r.raw ??= []).push({ version: keyVersion(key), key, value: kv.slice(i + 1) });
  }
  return r;
}

const V1_ONLY = /^(cpu\.shares|cpu\.cfs_|cpuacct\.|memory\.(limit_in_bytes|soft_limit|memsw|kmem|swappiness|oom_control)|blkio\.|freezer\.|devices\.)/;
function keyVersion(key: string): 1 | 2 {
  if (V1_ONLY.test(key)) return 1;
  const controller = key.split('.')[0]!;
  const served = detectCgroupHost().controllers[controller === 'io' ? 'blkio' : controller] ?? detectCgroupHost().controllers[controller];
  return served?.version === 1 ? 1 : 2;
}

function size(flag: string, s: string): number {
  try {
    return parseSize(s);
  } catch {
    throw usageError(`--${flag} needs a size like 512M or 1G, got "${s}"`);
  }
}
