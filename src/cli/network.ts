// lxts network create|delete|ls|leases   (managed bridges, as LXC's lxc-net does for lxcbr0)
import { parse, helpText } from './args.js';
import { usageError, requireRoot } from '../errors.js';
import { locations } from '../storage/paths.js';
import { table } from './format.js';
import { createNetwork, deleteNetwork, listNetworks, leases, defaultNetwork, usable } from '../net/networks.js';
import { links } from '../net/ip.js';

const HELP = helpText(
  'lxts network SUBCOMMAND [OPTIONS]',
  'Managed networks: a bridge with an address and a subnet containers get addresses from.\n\n' +
    'subcommands:\n' +
    '  create NAME --subnet CIDR [--default]  create bridge NAME with address CIDR (e.g. 10.0.3.1/24)\n' +
    '  delete NAME [--force]                  remove it (--force: even with leases left)\n' +
    '  ls [--json]                            list networks, their bridge state and leases\n' +
    '  leases NAME [--json]                   the addresses handed out, and to whom\n\n' +
    'A container joins with `lxc.net.0.type = veth`, `lxc.net.0.link = NAME`, `lxc.net.0.flags = up`;\n' +
    'without lxc.net.0.ipv4.address it gets a free address of the subnet (kept until destroy) and\n' +
    'the bridge as its gateway. With --default, `lxts create` writes those lines into new configs.',
  [
    ['--subnet CIDR', 'create: the bridge\'s own address and the prefix'],
    ['--default', 'create: new containers (`lxts create`) join this network'],
    ['--force', 'delete: even when leases are left'],
    ['--json', 'ls, leases: machine-readable output'],
    ['-P, --lxtspath DIR', 'where containers and networks live (default /var/lib/lxts)'],
  ],
);

const OPTIONS = {
  subnet: { type: 'string' },
  default: { type: 'boolean' },
  force: { type: 'boolean', short: 'f' },
  json: { type: 'boolean' },
  lxtspath: { type: 'string', short: 'P' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, OPTIONS, true);
  const [sub, name, ...extra] = positionals;
  if (v.help || !sub) {
    process.stdout.write(HELP);
    return v.help ? 0 : 2;
  }
  if (extra.length) throw usageError(`unexpected argument "${extra[0]}"`);
  const lxtspath = locations(v.lxtspath !== undefined ? { lxtspath: v.lxtspath } : {}).lxtspath;
  const need = (what: string): string => {
    if (!name) throw usageError(`no network name given`, `usage: lxts network ${what}`);
    return name;
  };
  switch (sub) {
    case 'create': {
      const n = need('create NAME --subnet CIDR');
      if (!v.subnet) throw usageError('--subnet CIDR is required', 'e.g. lxts network create lxtsbr0 --subnet 10.0.3.1/24');
      requireRoot('lxts network create');
      const net = await createNetwork(lxtspath, n, v.subnet, { makeDefault: v.default });
      process.stderr.write(`created network ${net.name} (bridge ${net.name}, ${net.subnet})${v.default ? ', the default for new containers' : ''}\n`);
      return 0;
    }
    case 'delete':
    case 'rm': {
      const n = need('delete NAME');
      requireRoot('lxts network delete');
      await deleteNetwork(lxtspath, n, { force: v.force });
      process.stderr.write(`deleted network ${n}\n`);
      return 0;
    }
    case 'ls':
    case 'list': {
      const nets = listNetworks(lxtspath);
      const devs = nets.length ? links() : [];
      const def = defaultNetwork(lxtspath);
      const rows = nets.map((n) => {
        const dev = devs.find((d) => d.ifname === n.name);
        const held = Object.keys(leases(lxtspath, n.name)).length;
        return { name: n.name, subnet: n.subnet, default: n.name === def, bridge: dev ? (dev.flags.includes('UP') ? 'up' : 'down') : 'missing', ports: devs.filter((d) => d.master === n.name).length, leases: held, free: usable(n) - held };
      });
      if (v.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      else process.stdout.write(table(['NAME', 'SUBNET', 'BRIDGE', 'PORTS', 'LEASES', 'FREE', 'DEFAULT'], rows.map((r) => [r.name, r.subnet, r.bridge, String(r.ports), String(r.leases), String(r.free), r.default ? 'yes' : ''])));
      return 0;
    }
    case 'leases': {
      const n = need('leases NAME');
      const book = leases(lxtspath, n);
      const rows = Object.entries(book).map(([address, l]) => ({ address, container: l.owner.replace(/#\d+$/, ''), interface: Number(l.owner.slice(l.owner.lastIndexOf('#') + 1)), static: l.static, since: l.since }));
      if (v.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      else process.stdout.write(table(['ADDRESS', 'CONTAINER', 'IF', 'KIND', 'SINCE'], rows.map((r) => [r.address, r.container, String(r.interface), r.static ? 'static' : 'auto', r.since])));
      return 0;
    }
    default:
      throw usageError(`unknown subcommand "${sub}"`, 'lxts network create|delete|ls|leases');
  }
}
