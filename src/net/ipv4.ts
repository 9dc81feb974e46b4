// IPv4 arithmetic for subnets and address assignment: addresses as unsigned 32-bit numbers.
// Pure, no I/O.
import { isIP } from 'node:net';

export interface Cidr {
  /** The address as written (for a managed network: the bridge's own address). */
  address: string;
  prefix: number;
}

export function toInt(a: string): number {
  const p = a.split('.').map(Number);
  return (((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!) >>> 0;
}

export function toAddr(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parse A.B.C.D/N strictly (prefix required); undefined when it is not one. */
export function parseCidr(v: string): Cidr | undefined {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(v.trim());
  if (!m || isIP(m[1]!) !== 4) return undefined;
  const prefix = Number(m[2]);
  if (prefix > 32) return undefined;
  return { address: m[1]!, prefix };
}

export function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function network(c: Cidr): number {
  return (toInt(c.address) & mask(c.prefix)) >>> 0;
}

export function broadcast(c: Cidr): number {
  return (network(c) | (~mask(c.prefix) >>> 0)) >>> 0;
}

export function contains(c: Cidr, addr: string): boolean {
  return ((toInt(addr) & mask(c.prefix)) >>> 0) === network(c);
}

/**
 * Why this CIDR cannot be a managed network's subnet, or undefined. Its address is the
 * bridge's own, so it must be a usable host address of a subnet with room for guests.
 */
export function subnetProblem(c: Cidr): string | undefined {
  if (c.prefix > 30) return `a /${c.prefix} has no room for containers (at most /30)`;
  if (c.prefix < 8) return `a /${c.prefix} is too large (at least /8)`;
  const a = toInt(c.address);
  if (a === network(c)) return `${c.address} is the network address of the subnet; give the bridge's own address, e.g. ${toAddr(network(c) + 1)}/${c.prefix}`;
  if (a === broadcast(c)) return `${c.address} is the broadcast address of the subnet`;
  const first = (a >>> 24) & 255;
  if (first === 0 || first === 127 || first >= 224) return `${c.address} is not a unicast address`;
  return undefined;
}

/** Host addresses of the subnet in order, skipping the ones in `taken`; the first free one. */
export function firstFree(c: Cidr, taken: Set<string>): string | undefined {
  const lo = network(c) + 1;
  const hi = broadcast(c) - 1;
  for (let n = lo; n <= hi; n++) {
    const a = toAddr(n);
    if (!taken.has(a)) return a;
  }
  return undefined;
}
