// Managed networks (LXC's lxcbr0, as many as wanted): a bridge whose own address is the
// subnet's CIDR, and an address book of leases. State: <lxtspath>/.networks/NAME/
// {network.json, leases.json}; every change to the leases happens under the network's lock
// file, so concurrent starts never hand out one address twice. A lease belongs to a
// container's interface ("NAME#N") and lives until the container is destroyed; a start that
// fails gives back what it took. Bridges of other origin get a run-time address book under
// <rundir>/.net/ (static addresses only, released on stop), so duplicates are caught there too.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireLock } from '../storage/lock.js';
import { LxtsError, ExitCode, usageError } from '../errors.js';
import { ifname } from '../config/lxc-values.js';
import { parseCidr, subnetProblem, firstFree, contains, network, broadcast, toInt, type Cidr } from './ipv4.js';
import { ipBatch, ipBatchForce, links } from './ip.js';

export interface ManagedNetwork {
  name: string;
  /** The bridge's own address and the subnet: 10.0.3.1/24. */
  subnet: string;
  created: string;
}

export interface Lease {
  owner: string;
  /** Written in the config (static) or handed out from the subnet (auto). */
  static: boolean;
  since: string;
}

export type LeaseBook = Record<string, Lease>;

export function networksDir(lxtspath: string): string {
  return join(lxtspath, '.networks');
}

function netDir(lxtspath: string, name: string): string {
  return join(networksDir(lxtspath), name);
}

function writeAtomic(file: string, data: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode: 0o644 });
  renameSync(tmp, file);
}

function readJson<T>(file: string, fallback: T): T {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return fallback;
  }
}

export function validNetworkName(name: string): string {
  try {
    ifname(name);
  } catch (e) {
    throw usageError(`invalid network name: ${(e as Error).message}`, 'the name is also the bridge device name');
  }
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) throw usageError(`invalid network name "${name}": letters, digits, ".", "_" and "-" only`);
  return name;
}

export function getNetwork(lxtspath: string, name: string): ManagedNetwork | undefined {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/.test(name)) return undefined;
  const n = readJson<ManagedNetwork | null>(join(netDir(lxtspath, name), 'network.json'), null);
  return n ?? undefined;
}

export function listNetworks(lxtspath: string): ManagedNetwork[] {
  let names: string[];
  try {
    names = readdirSync(networksDir(lxtspath));
  } catch {
    return [];
  }
  return names.sort().map((n) => getNetwork(lxtspath, n)).filter((n): n is ManagedNetwork => !!n);
}

export function leases(lxtspath: string, name: string): LeaseBook {
  return readJson<LeaseBook>(join(netDir(lxtspath, name), 'leases.json'), {});
}

/** The name written by `lxts network create --default`: `lxts create` attaches new containers to it. */
export function defaultNetwork(lxtspath: string): string | undefined {
  try {
    const n = readFileSync(join(networksDir(lxtspath), 'default'), 'utf8').trim();
    return getNetwork(lxtspath, n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Create (or re-create after a reboot) the bridge of a managed network; idempotent. */
export function ensureBridge(net: ManagedNetwork): void {
  const dev = links().find((l) => l.ifname === net.name);
  if (dev) {
    if (dev.linkinfo?.info_kind !== 'bridge') throw new LxtsError(`network "${net.name}": a device of that name exists and is not a bridge (${dev.linkinfo?.info_kind ?? 'physical'})`);
    const c = parseCidr(net.subnet)!;
    const lines: { line: string; key: string }[] = [];
    if (!dev.addr_info?.some((a) => a.family === 'inet' && a.local === c.address)) lines.push({ line: `addr add ${net.subnet} dev ${net.name}`, key: 'network' });
    if (!dev.flags.includes('UP')) lines.push({ line: `link set dev ${net.name} up`, key: 'network' });
    ipBatch(lines, { where: `bridge ${net.name}` });
    return;
  }
  try {
    ipBatch(
      [
        { line: `link add name ${net.name} type bridge`, key: 'network' },
        { line: `addr add ${net.subnet} dev ${net.name}`, key: 'network' },
        { line: `link set dev ${net.name} up`, key: 'network' },
      ],
      { where: `bridge ${net.name}` },
    );
  } catch (e) {
    ipBatchForce([`link del dev ${net.name}`]);
    throw e;
  }
}

export async function createNetwork(lxtspath: string, name: string, subnet: string, opts: { makeDefault?: boolean } = {}): Promise<ManagedNetwork> {
  validNetworkName(name);
  const c = parseCidr(subnet);
  if (!c) throw usageError(`--subnet "${subnet}" is not an IPv4 CIDR (e.g. 10.0.3.1/24: the bridge's address and the prefix)`);
  const why = subnetProblem(c);
  if (why) throw usageError(`--subnet ${subnet}: ${why}`);
  for (const other of listNetworks(lxtspath)) {
    const o = parseCidr(other.subnet)!;
    if (contains(o, c.address) || contains(c, o.address)) throw new LxtsError(`--subnet ${subnet} overlaps network "${other.name}" (${other.subnet})`, ExitCode.USAGE);
  }
  const dir = netDir(lxtspath, name);
  mkdirSync(networksDir(lxtspath), { recursive: true, mode: 0o755 });
  const lock = await acquireLock(join(networksDir(lxtspath), `.${name}.lock`), `network "${name}"`);
  try {
    if (existsSync(join(dir, 'network.json'))) throw new LxtsError(`network "${name}" already exists`, ExitCode.GENERIC, 'see `lxts network ls`');
    if (links().some((l) => l.ifname === name)) throw new LxtsError(`a network device named "${name}" already exists on this host`, ExitCode.GENERIC, 'choose another name');
    const net: ManagedNetwork = { name, subnet: `${c.address}/${c.prefix}`, created: new Date().toISOString() };
    ensureBridge(net);
    try {
      mkdirSync(dir, { mode: 0o755 });
      writeAtomic(join(dir, 'leases.json'), '{}\n');
      writeAtomic(join(dir, 'network.json'), JSON.stringify(net, null, 2) + '\n');
      if (opts.makeDefault) writeAtomic(join(networksDir(lxtspath), 'default'), name + '\n');
    } catch (e) {
      ipBatchForce([`link del dev ${name}`]);
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    return net;
  } finally {
    lock.release();
  }
}

export async function deleteNetwork(lxtspath: string, name: string, opts: { force?: boolean } = {}): Promise<void> {
  const net = getNetwork(lxtspath, name);
  if (!net) throw new LxtsError(`no network named "${name}" in ${lxtspath}`, ExitCode.GENERIC, 'see `lxts network ls`');
  const lock = await acquireLock(join(networksDir(lxtspath), `.${name}.lock`), `network "${name}"`);
  try {
    const ports = links().filter((l) => l.master === name).map((l) => l.ifname);
    if (ports.length) throw new LxtsError(`network "${name}" is in use: ${ports.join(', ')} attached (running containers)`, ExitCode.GENERIC, 'stop them first');
    const held = Object.entries(leases(lxtspath, name));
    if (held.length && !opts.force) throw new LxtsError(`network "${name}" has ${held.length} lease(s): ${held.map(([a, l]) => `${a} (${l.owner})`).join(', ')}`, ExitCode.GENERIC, 'destroy those containers, or use --force');
    ipBatchForce([`link del dev ${name}`]);
    rmSync(netDir(lxtspath, name), { recursive: true, force: true });
    if (defaultNetwork(lxtspath) === undefined) rmSync(join(networksDir(lxtspath), 'default'), { force: true });
  } finally {
    lock.release();
  }
}

export interface AddressRequest {
  owner: string;
  /** lxc.net.N.ipv4.address entries (static), or none: hand one out (managed networks only). */
  static: string[];
  /** Key named in errors. */
  key: string;
}

/** Where an address book lives: persistent for managed networks, per run for other bridges. */
export interface Book {
  file: string;
  lock: string;
  /** Managed: the network; leases outlive a stop. */
  managed?: ManagedNetwork;
  /** The bridge's own addresses (never handed out, never accepted as static). */
  reserved: string[];
}

export function managedBook(lxtspath: string, net: ManagedNetwork): Book {
  return { file: join(netDir(lxtspath, net.name), 'leases.json'), lock: join(networksDir(lxtspath), `.${net.name}.lock`), managed: net, reserved: [parseCidr(net.subnet)!.address] };
}

export function runtimeBook(rundir: string, bridge: string, reserved: string[]): Book {
  const dir = join(rundir, '.net');
  return { file: join(dir, `${bridge}.leases.json`), lock: join(dir, `.${bridge}.lock`), reserved };
}

/**
 * Take addresses for one interface: its static ones (refused when another owner holds one),
 * or one free address of a managed subnet (the owner's earlier lease when it has one).
 * Returns the addresses (auto: with the subnet's prefix) and whether any were new.
 */
export async function takeAddresses(book: Book, req: AddressRequest): Promise<{ addresses: string[]; fresh: string[] }> {
  mkdirSync(join(book.file, '..'), { recursive: true, mode: 0o755 });
  const lock = await acquireLock(book.lock, `address book ${book.file}`);
  try {
    const all = readJson<LeaseBook>(book.file, {});
    const mine = Object.keys(all).filter((a) => all[a]!.owner === req.owner);
    const fresh: string[] = [];
    let addresses: string[];
    if (req.static.length) {
      for (const a of req.static) {
        if (book.reserved.includes(a)) throw new LxtsError(`${req.key}: ${a} is the bridge's own address`, ExitCode.CONFIG);
        const held = all[a];
        if (held && held.owner !== req.owner) throw new LxtsError(`${req.key}: ${a} is already in use on this bridge (by ${held.owner.replace(/#(\d+)$/, ', interface $1')})`, ExitCode.CONFIG, 'choose another address');
      }
      // The owner's other leases (an older config) are given back.
      for (const a of mine) if (!req.static.includes(a)) delete all[a];
      for (const a of req.static) {
        if (!all[a]) fresh.push(a);
        all[a] = { owner: req.owner, static: true, since: all[a]?.since ?? new Date().toISOString() };
      }
      addresses = req.static;
    } else {
      const c = parseCidr(book.managed!.subnet)!;
      const keep = mine.find((a) => !all[a]!.static && contains(c, a));
      for (const a of mine) if (a !== keep) delete all[a];
      let a = keep;
      if (!a) {
        a = firstFree(c, new Set([...Object.keys(all), ...book.reserved]));
        if (!a) throw new LxtsError(`${req.key}: network "${book.managed!.name}" (${book.managed!.subnet}) has no free address left`, ExitCode.START_FAILED, 'destroy containers you no longer need, or use a larger subnet');
        all[a] = { owner: req.owner, static: false, since: new Date().toISOString() };
        fresh.push(a);
      }
      addresses = [a];
    }
    writeAtomic(book.file, JSON.stringify(all, null, 2) + '\n');
    return { addresses, fresh };
  } finally {
    lock.release();
  }
}

/** Give back addresses: exactly `addresses` of `owner`, or (none given) everything it holds. */
export async function giveBack(book: Pick<Book, 'file' | 'lock'>, owner: string | ((o: string) => boolean), addresses?: string[]): Promise<void> {
  if (!existsSync(book.file)) return;
  const match = typeof owner === 'string' ? (o: string) => o === owner : owner;
  const lock = await acquireLock(book.lock, `address book ${book.file}`);
  try {
    const all = readJson<LeaseBook>(book.file, {});
    let changed = false;
    for (const [a, l] of Object.entries(all)) {
      if (match(l.owner) && (!addresses || addresses.includes(a))) {
        delete all[a];
        changed = true;
      }
    }
    if (changed) writeAtomic(book.file, JSON.stringify(all, null, 2) + '\n');
  } finally {
    lock.release();
  }
}

/** Every lease of a container in every managed network of its lxtspath (on destroy). */
export async function releaseContainerLeases(lxtspath: string, container: string): Promise<void> {
  for (const net of listNetworks(lxtspath)) await giveBack(managedBook(lxtspath, net), (o) => o.slice(0, o.lastIndexOf('#')) === container);
}

/** The prefix of a managed subnet, for auto-assigned addresses. */
export function subnetOf(net: ManagedNetwork): Cidr {
  return parseCidr(net.subnet)!;
}

export function usable(net: ManagedNetwork): number {
  const c = subnetOf(net);
  return broadcast(c) - network(c) - 2;
}

export { toInt };
