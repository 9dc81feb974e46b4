// lxts check: what this host offers lxts — kernel, namespaces, cgroup layout per controller,
// the executor, optional tools. Runs without root (and says what root would change).
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { parse, helpText } from './args.js';
import { executorPath } from '../launch.js';
import { describeCgroupHost, formatCgroupHost } from '../cgroup/index.js';
import { BUSYBOX_CANDIDATES, isStaticElf } from '../template/busybox-rootfs.js';

const OPTIONS = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

const HELP = helpText('lxts check [--json]', 'Show what this host supports: kernel, namespaces, control groups (version, mount and\ndelegation per controller), the executor, and optional tools.', [
  ['--json', 'machine-readable output'],
]);

const NAMESPACES = ['pid', 'mnt', 'uts', 'ipc', 'net', 'cgroup', 'user'];

export async function run(argv: string[]): Promise<number> {
  const { values: v } = parse(argv, OPTIONS);
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const exe = executorPath();
  const busybox = BUSYBOX_CANDIDATES.find((p) => existsSync(p) && isStaticElf(readFileSync(p)));
  const report = {
    kernel: release(),
    root: process.getuid?.() === 0,
    namespaces: Object.fromEntries(NAMESPACES.map((n) => [n, existsSync(`/proc/self/ns/${n}`)])),
    executor: { path: exe, built: existsSync(exe) },
    staticBusybox: busybox ?? null,
    cgroups: describeCgroupHost(),
  };
  if (v.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return 0;
  }
  const ok = (b: boolean): string => (b ? 'yes' : 'NO');
  const lines = [
    `kernel        ${report.kernel}`,
    `running as    ${report.root ? 'root' : 'non-root (containers need root: sudo)'}`,
    `namespaces    ${NAMESPACES.map((n) => `${n}:${ok(report.namespaces[n]!)}`).join('  ')}`,
    `executor      ${report.executor.built ? exe : `missing at ${exe} (run npm install)`}`,
    `busybox       ${busybox ?? 'no static busybox (apt-get install busybox-static) — only the busybox template needs it'}`,
    '',
    formatCgroupHost(report.cgroups),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
