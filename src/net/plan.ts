// What to run for a container's interfaces, as `ip -batch` lines: pure functions from the
// resolved interfaces to commands. Every line carries the lxc.net.N.* key it applies, so a
// refusal by the kernel reads "lxc.net.0.mtu: ...". Unit-tested without root.
import { randomBytes } from 'node:crypto';

export type NetType = 'veth' | 'macvlan' | 'ipvlan' | 'vlan' | 'phys' | 'empty' | 'none';

/** One interface with every default decided: names, MAC, addresses, gateways. */
export interface ResolvedNic {
  index: number;
  type: NetType;
  /** Name inside the container. */
  inside: string;
  /** Host end of a veth pair. */
  host?: string;
  /** Bridge (veth), parent device (macvlan, ipvlan, vlan) or the device itself (phys). */
  link?: string;
  vethMode?: 'bridge' | 'router';
  hwaddr?: string;
  mtu?: number;
  up: boolean;
  ipv4: { address: string; prefix: number; broadcast?: string }[];
  /** An address, or "dev" (a device route). */
  ipv4Gateway?: string;
  ipv6: { address: string; prefix: number }[];
  ipv6Gateway?: string;
  /** Routes on the host through the host end (veth router mode). */
  hostRoutes: string[];
  macvlanMode?: string;
  ipvlanMode?: string;
  ipvlanIsolation?: string;
  vlanId?: number;
}

export interface IpCmd {
  line: string;
  /** The config key this line applies (for error messages). */
  key: string;
}

const k = (n: ResolvedNic, key: string): string => `lxc.net.${n.index}.${key}`;

/** LXC's fill: each "x" becomes a random hex digit; a random first octet is made unicast and locally administered. */
export function fillHwaddr(v: string, rand: () => number = () => randomBytes(1)[0]!): string {
  const parts = v.toLowerCase().split(':');
  return parts
    .map((p, i) => {
      if (!p.includes('x')) return p;
      let s = p.replace(/x/g, () => (rand() & 15).toString(16));
      if (i === 0) s = ((parseInt(s, 16) & 0xfe) | 0x02).toString(16).padStart(2, '0');
      return s;
    })
    .join(':');
}

/** A random host-side veth name: "veth" + 7 hex digits (11 characters, under IFNAMSIZ). */
export function randomVethName(): string {
  return 'veth' + randomBytes(4).toString('hex').slice(0, 7);
}

/**
 * Host-side lines, run in lxts's own network namespace: create each device directly in the
 * container's namespace (`netns PID`), so its inside name never meets a host name.
 */
export function hostCommands(nics: ResolvedNic[], pid: number): IpCmd[] {
  const out: IpCmd[] = [];
  for (const n of nics) {
    const mac = n.hwaddr ? ` address ${n.hwaddr}` : '';
    const mtu = n.mtu ? ` mtu ${n.mtu}` : '';
    switch (n.type) {
      case 'veth':
        out.push({ line: `link add name ${n.host}${mtu} type veth peer name ${n.inside}${mac}${mtu} netns ${pid}`, key: k(n, n.hwaddr ? 'hwaddr' : 'veth.pair') });
        if (n.vethMode !== 'router' && n.link) out.push({ line: `link set dev ${n.host} master ${n.link}`, key: k(n, 'link') });
        out.push({ line: `link set dev ${n.host} up`, key: k(n, 'veth.pair') });
        for (const r of n.hostRoutes) out.push({ line: `route add ${r} dev ${n.host}`, key: k(n, 'veth.ipv4.route') });
        break;
      case 'macvlan':
        out.push({ line: `link add link ${n.link} name ${n.inside}${mac}${mtu} netns ${pid} type macvlan mode ${n.macvlanMode ?? 'private'}`, key: k(n, 'link') });
        break;
      case 'ipvlan':
        out.push({ line: `link add link ${n.link} name ${n.inside}${mtu} netns ${pid} type ipvlan mode ${n.ipvlanMode ?? 'l3'} ${n.ipvlanIsolation ?? 'bridge'}`, key: k(n, 'link') });
        break;
      case 'vlan':
        out.push({ line: `link add link ${n.link} name ${n.inside}${mac}${mtu} netns ${pid} type vlan id ${n.vlanId ?? 0}`, key: k(n, 'vlan.id') });
        break;
      case 'phys':
        out.push({ line: `link set dev ${n.link} netns ${pid}`, key: k(n, 'link') });
        break;
      default:
        break;
    }
  }
  return out;
}

/** Lines run inside the container's network namespace: lo up, names, addresses, up, routes. */
export function insideCommands(nics: ResolvedNic[]): IpCmd[] {
  // lo is brought up by the plan itself (LINK_UP), without a process.
  const out: IpCmd[] = [];
  for (const n of nics) {
    if (n.type === 'empty' || n.type === 'none') continue;
    if (n.type === 'phys') {
      if (n.link !== n.inside) out.push({ line: `link set dev ${n.link} name ${n.inside}`, key: k(n, 'name') });
      if (n.hwaddr) out.push({ line: `link set dev ${n.inside} address ${n.hwaddr}`, key: k(n, 'hwaddr') });
      if (n.mtu) out.push({ line: `link set dev ${n.inside} mtu ${n.mtu}`, key: k(n, 'mtu') });
    }
    for (const a of n.ipv4) out.push({ line: `addr add ${a.address}/${a.prefix}${a.broadcast ? ` broadcast ${a.broadcast}` : ' broadcast +'} dev ${n.inside}`, key: k(n, 'ipv4.address') });
    for (const a of n.ipv6) out.push({ line: `addr add ${a.address}/${a.prefix} dev ${n.inside} nodad`, key: k(n, 'ipv6.address') });
    if (!n.up) continue;
    out.push({ line: `link set dev ${n.inside} up`, key: k(n, 'flags') });
    if (n.ipv4Gateway) out.push({ line: n.ipv4Gateway === 'dev' ? `route add default dev ${n.inside}` : `route add default via ${n.ipv4Gateway} dev ${n.inside}`, key: k(n, 'ipv4.gateway') });
    if (n.ipv6Gateway) out.push({ line: n.ipv6Gateway === 'dev' ? `route add ::/0 dev ${n.inside}` : `route add ::/0 via ${n.ipv6Gateway} dev ${n.inside}`, key: k(n, 'ipv6.gateway') });
  }
  return out;
}
