// lxts ls   (lxc-ls -f)
import { parse, helpText } from './args.js';
import { COMMON_OPTIONS, COMMON_HELP, pathOpts } from './common.js';
import { Container, type ContainerInfo } from '../container.js';
import { formatBytes, table } from './format.js';

const OPTIONS = { ...COMMON_OPTIONS, json: { type: 'boolean' }, running: { type: 'boolean' }, stopped: { type: 'boolean' } } as const;

export async function run(argv: string[]): Promise<number> {
  const { values: v } = parse(argv, OPTIONS);
  if (v.help) {
    process.stdout.write(helpText('lxts ls [--json] [--running|--stopped]', 'List containers with their state, autostart flag, init PID and memory use.', [
      ['--json', 'machine-readable output'],
      ['--running / --stopped', 'only those'],
      ['-P, --lxtspath DIR', COMMON_HELP[1]![1]],
    ]));
    return 0;
  }
  const infos: ContainerInfo[] = [];
  for (const c of Container.list(pathOpts(v))) {
    try {
      infos.push(await c.info());
    } catch (e) {
      // A half-created or vanished container still gets a row.
      infos.push({ name: c.name, state: 'BROKEN', note: (e as Error).message, pid: null, monitorPid: null, autostart: false, rootfs: null, configPath: c.paths.config, hostname: null, startedAt: null, stats: null });
    }
  }
  const shown = infos.filter((i) => (v.running ? i.state !== 'STOPPED' : v.stopped ? i.state === 'STOPPED' : true));
  if (v.json) {
    process.stdout.write(JSON.stringify(shown, null, 2) + '\n');
    return 0;
  }
  const rows = shown.map((i) => [i.name, i.state, i.autostart ? '1' : '0', i.pid ? String(i.pid) : '-', ipv4Column(i), i.stats ? formatBytes(i.stats.memory.current) : '-']);
  process.stdout.write(table(['NAME', 'STATE', 'AUTOSTART', 'PID', 'IPV4', 'MEMORY'], rows));
  return 0;
}

/** The container's IPv4 addresses (lo left out), without prefixes: as lxc-ls shows them. */
function ipv4Column(i: ContainerInfo): string {
  const a = (i.interfaces ?? []).flatMap((n) => n.ipv4.map((x) => x.split('/')[0]!));
  return a.length ? a.join(', ') : '-';
}
