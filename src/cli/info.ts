// lxts info NAME   (lxc-info)
import { parse, helpText } from './args.js';
import { COMMON_OPTIONS, COMMON_HELP, nameArg, pathOpts } from './common.js';
import { Container } from '../container.js';
import { formatBytes, formatUsec } from './format.js';

const OPTIONS = { ...COMMON_OPTIONS, json: { type: 'boolean' } } as const;
const USAGE = 'lxts info NAME [--json]';

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, OPTIONS, true);
  if (v.help) {
    process.stdout.write(helpText(USAGE, 'Show a container\'s state, init PID, resource use (CPU, memory, processes, I/O) and paths.', [['--json', 'machine-readable output'], ...COMMON_HELP]));
    return 0;
  }
  const { name } = nameArg(v, positionals, USAGE);
  const i = await new Container(name, pathOpts(v)).info();
  if (v.json) {
    process.stdout.write(JSON.stringify(i, null, 2) + '\n');
    return 0;
  }
  const rows: [string, string][] = [
    ['Name', i.name],
    ['State', i.state + (i.note ? ` — ${i.note}` : '')],
    ['PID', i.pid ? String(i.pid) : '-'],
    ['Monitor PID', i.monitorPid ? String(i.monitorPid) : '-'],
    ['Hostname', i.hostname ?? '-'],
    ['Started', i.startedAt ?? '-'],
  ];
  if (i.stats) {
    const s = i.stats;
    rows.push(
      ['CPU use', `${formatUsec(s.cpu.usageUsec)} (user ${formatUsec(s.cpu.userUsec)}, system ${formatUsec(s.cpu.systemUsec)})`],
      ['Memory use', `${formatBytes(s.memory.current)}${s.memory.limit !== null ? ` of ${formatBytes(s.memory.limit)}` : ''}${s.memory.oomKills ? `, ${s.memory.oomKills} OOM kills` : ''}`],
      ['Processes', `${s.pids.current}${s.pids.max !== null ? ` of ${s.pids.max}` : ''}`],
      ['Block I/O', `read ${formatBytes(s.io.readBytes)}, written ${formatBytes(s.io.writeBytes)}`],
    );
  }
  // As lxc-info: the addresses, then each link's traffic.
  for (const n of i.interfaces ?? []) for (const a of [...n.ipv4, ...n.ipv6]) rows.push([a.includes(':') ? 'IPv6' : 'IP', `${a} (${n.name})`]);
  for (const n of i.interfaces ?? []) {
    rows.push([`Link ${n.name}`, `${n.state.toLowerCase()}, mtu ${n.mtu}, ${n.hwaddr ?? '-'}${n.host ? `, host side ${n.host}` : ''}`], [` RX/TX bytes`, `${formatBytes(n.rxBytes)} / ${formatBytes(n.txBytes)}`]);
  }
  rows.push(['Autostart', i.autostart ? 'yes' : 'no'], ['Rootfs', i.rootfs ?? '-'], ['Config', i.configPath]);
  const w = Math.max(...rows.map((r) => r[0].length));
  process.stdout.write(rows.map(([k, val]) => `${(k + ':').padEnd(w + 1)}  ${val}`).join('\n') + '\n');
  return 0;
}
