// Container networking: the lxc.net.N.* keys applied. Container.start() calls
// setupNetwork() at the barrier (the child waits in its new network namespace): resolve every
// interface (names, MAC, addresses from the address books), create the host side in one
// `ip -batch` (devices created straight into the container's namespace), run script.up, then
// configure the inside in one `nsenter --net ip -batch`. What was made is written to
// <run>/net.json, and teardownNetwork() undoes it from there: on stop (post-stop, run by the
// monitor), on every failed start, and on `stop -k` of a broken container.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { LxtsError, ExitCode } from '../errors.js';
import type { NetInterface } from '../config/lxc-to-spec.js';
import { fillHwaddr, hostCommands, insideCommands, randomVethName, type ResolvedNic } from './plan.js';
import { ipBatch, ipBatchForce, ipJson, links, type IpLink } from './ip.js';
import { getNetwork, ensureBridge, managedBook, runtimeBook, takeAddresses, giveBack, defaultNetwork, releaseContainerLeases, subnetOf, type Book } from './networks.js';

export { releaseContainerLeases } from './networks.js';

export interface NetContext {
  /** Host PID of the container's init, waiting at the barrier. */
  pid: number;
  container: string;
  lxtspath: string;
  rundir: string;
  /** The container's run dir: net.json goes there. */
  runDir: string;
  /** The container gets its own network namespace (false: lxc.net.N.type = none, or a shared one). */
  ownNetns: boolean;
}

/** What a start made, for teardown (written to <run>/net.json). */
export interface NetState {
  container: string;
  lxtspath: string;
  nics: {
    index: number;
    type: string;
    inside: string;
    host?: string;
    link?: string;
    scriptDown?: string;
    /** The address book its addresses are in, and those this start took (a failed start gives them back). */
    book?: { file: string; lock: string; managed: boolean };
    owner?: string;
    addresses: string[];
    fresh: string[];
  }[];
}

const stateFile = (runDir: string): string => join(runDir, 'net.json');

function saveState(runDir: string, st: NetState): void {
  const f = stateFile(runDir);
  writeFileSync(f + '.tmp', JSON.stringify(st, null, 2));
  renameSync(f + '.tmp', f);
}

function err(index: number, key: string, msg: string, hint?: string): LxtsError {
  return new LxtsError(`lxc.net.${index}.${key}: ${msg}`, ExitCode.CONFIG, hint);
}

/** Bring the container's network up. Throws (after undoing its own work) on any problem. */
export async function setupNetwork(nets: NetInterface[], ctx: NetContext): Promise<{ warnings: string[]; state?: NetState }> {
  const warnings: string[] = [];
  if (nets.some((n) => n.type === 'none')) {
    warnings.push('lxc.net.N.type = none: the container shares the host\'s network namespace (not isolated)');
    if (nets.some((n) => n.type !== 'none')) throw err(nets.find((n) => n.type !== 'none')!.index, 'type', 'type none (the host\'s network) cannot be combined with other interfaces');
    return { warnings };
  }
  if (!ctx.ownNetns) {
    if (nets.length) warnings.push('the container has no network namespace of its own: lxc.net.* ignored');
    return { warnings };
  }
  // No interfaces: the plan's LINK_UP has lo covered; no process, no state file.
  if (!nets.length) return { warnings };
  const st: NetState = { container: ctx.container, lxtspath: ctx.lxtspath, nics: [] };
  try {
    const resolved = await resolve(nets, ctx, st);
    saveState(ctx.runDir, st);
    ipBatch(hostCommands(resolved, ctx.pid), { where: 'host side' });
    for (const n of resolved) {
      const cfg = nets.find((x) => x.index === n.index)!;
      if (cfg.scriptUp) runScript(cfg.scriptUp, 'up', n, ctx, `lxc.net.${n.index}.script.up`);
      // script.down runs at teardown for interfaces that came up.
      const s = st.nics.find((x) => x.index === n.index);
      if (s && cfg.scriptDown) s.scriptDown = cfg.scriptDown;
    }
    ipBatch(insideCommands(resolved), { netnsPid: ctx.pid, where: 'inside the container' });
    saveState(ctx.runDir, st);
    return { warnings, state: st };
  } catch (e) {
    await undo(st, { failedStart: true, initPid: ctx.pid });
    rmSync(stateFile(ctx.runDir), { force: true });
    throw e;
  }
}

/** Undo what net.json says a start made. Idempotent; `failedStart` also gives back the addresses it took. */
export async function teardownNetwork(runDir: string, opts: { failedStart?: boolean } = {}): Promise<void> {
  let st: NetState;
  try {
    st = JSON.parse(readFileSync(stateFile(runDir), 'utf8')) as NetState;
  } catch {
    return;
  }
  await undo(st, opts);
  rmSync(stateFile(runDir), { force: true });
}

async function undo(st: NetState, opts: { failedStart?: boolean; initPid?: number }): Promise<void> {
  const nics = [...st.nics].reverse();
  for (const n of nics) {
    if (n.scriptDown) {
      try {
        runScript(n.scriptDown, 'down', n, { container: st.container }, `lxc.net.${n.index}.script.down`);
      } catch (e) {
        process.stderr.write(`lxts: ${(e as Error).message}\n`);
      }
    }
  }
  // A phys device goes back while the namespace still exists (a failed start: init waits).
  if (opts.initPid) restorePhysOf(nics, opts.initPid);
  ipBatchForce(nics.filter((n) => n.host).map((n) => `link del dev ${n.host}`));
  for (const n of nics) {
    if (!n.book || !n.owner) continue;
    // Runtime books (other bridges) hold addresses for a run; managed leases until destroy.
    if (!n.book.managed) await giveBack(n.book, n.owner, n.addresses);
    else if (opts.failedStart && n.fresh.length) await giveBack(n.book, n.owner, n.fresh);
  }
}

function restorePhysOf(nics: NetState['nics'], initPid: number): void {
  const lines: string[] = [];
  for (const n of nics.filter((x) => x.type === 'phys' && x.link)) {
    lines.push(`link set dev ${n.inside} down`);
    if (n.inside !== n.link) lines.push(`link set dev ${n.inside} name ${n.link}`);
    lines.push(`link set dev ${n.link} netns ${process.pid}`);
  }
  if (lines.length) ipBatchForce(lines, initPid);
}

/**
 * Before a stop: give phys devices back to the host while the container's namespace still
 * exists (once init is gone the kernel would move a real NIC to the initial namespace and
 * destroy a virtual one).
 */
export function releasePhysBeforeStop(runDir: string, initPid: number | null): void {
  if (!initPid) return;
  try {
    const st = JSON.parse(readFileSync(stateFile(runDir), 'utf8')) as NetState;
    restorePhysOf(st.nics, initPid);
  } catch {
    /* no network state */
  }
}

function runScript(script: string, phase: 'up' | 'down', n: { index: number; type: string; host?: string; link?: string; inside: string }, ctx: { container: string }, key: string): void {
  // LXC's calling convention: SCRIPT NAME net up|down TYPE HOSTDEV, plus LXC_* variables.
  const dev = n.host ?? n.link ?? n.inside;
  const r = spawnSync('/bin/sh', ['-c', `${script} "$@"`, script, ctx.container, 'net', phase, n.type, dev], {
    encoding: 'utf8',
    timeout: 30000,
    env: { ...process.env, LXC_NAME: ctx.container, LXC_HOOK_TYPE: phase, LXC_HOOK_SECTION: 'net', LXC_NET_TYPE: n.type, LXC_NET_PARENT: n.link ?? '', LXC_NET_PEER: n.host ?? '' },
  });
  if (r.status !== 0) throw new LxtsError(`${key}: \`${script}\` failed (${r.status ?? r.signal})${r.stderr.trim() ? ': ' + r.stderr.trim().split('\n').pop() : ''}`, ExitCode.START_FAILED);
}

/** Decide names, MACs, addresses and gateways; take addresses from the address books (recorded in `st`). */
async function resolve(nets: NetInterface[], ctx: NetContext, st: NetState): Promise<ResolvedNic[]> {
  const out: ResolvedNic[] = [];
  const needHost = nets.some((n) => n.link || n.veth?.pair);
  let host: IpLink[] = needHost ? links() : [];
  const insideNames = new Set<string>(['lo']);
  const hostNames = new Set(host.map((l) => l.ifname));
  for (const [pos, n] of nets.entries()) {
    const i = n.index;
    if (n.type === 'empty') {
      out.push({ index: i, type: 'empty', inside: 'lo', up: false, ipv4: [], ipv6: [], hostRoutes: [] });
      continue;
    }
    const type = n.type!;
    const inside = n.name ?? (type === 'phys' ? n.link ?? `eth${pos}` : `eth${pos}`);
    if (insideNames.has(inside)) throw err(i, 'name', `"${inside}" is used by another interface of this container`);
    insideNames.add(inside);
    const r: ResolvedNic = {
      index: i, type, inside, link: n.link, mtu: n.mtu, up: n.flags === 'up',
      hwaddr: n.hwaddr ? fillHwaddr(n.hwaddr) : undefined,
      ipv4: n.ipv4.map((a) => ({ ...a })), ipv6: n.ipv6.map((a) => ({ ...a })),
      ipv4Gateway: n.ipv4Gateway, ipv6Gateway: n.ipv6Gateway, hostRoutes: [],
      macvlanMode: n.macvlanMode, ipvlanMode: n.ipvlanMode, ipvlanIsolation: n.ipvlanIsolation, vlanId: n.vlanId,
    };
    if (r.hwaddr && (parseInt(r.hwaddr.slice(0, 2), 16) & 1)) throw err(i, 'hwaddr', `${r.hwaddr} is a multicast address (the first octet must be even)`);
    const managed = n.link ? getNetwork(ctx.lxtspath, n.link) : undefined;
    if (managed && !host.some((l) => l.ifname === managed.name)) {
      ensureBridge(managed);
      host = links();
    }
    const dev = n.link ? host.find((l) => l.ifname === n.link) : undefined;
    const v4of = (l: IpLink | undefined): string[] => (l?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => a.local);
    const v6of = (l: IpLink | undefined): string[] => (l?.addr_info ?? []).filter((a) => a.family === 'inet6' && a.scope === 'global').map((a) => a.local);
    const nicState: NetState['nics'][number] = { index: i, type, inside, link: n.link, addresses: [], fresh: [] };
    if (type === 'veth') {
      r.vethMode = n.veth?.mode ?? 'bridge';
      r.host = n.veth?.pair ?? randomVethName();
      if (hostNames.has(r.host)) throw err(i, 'veth.pair', `a host device named "${r.host}" already exists`);
      hostNames.add(r.host);
      nicState.host = r.host;
      if (r.vethMode === 'bridge' && n.link) {
        if (!dev) throw err(i, 'link', `no bridge named "${n.link}" on the host`, 'create it (`lxts network create NAME --subnet CIDR`, or `ip link add NAME type bridge`)');
        if (dev.linkinfo?.info_kind !== 'bridge') throw err(i, 'link', `"${n.link}" is not a bridge (${dev.linkinfo?.info_kind ?? 'physical device'}); use type macvlan or phys for a device`);
      }
      if (r.vethMode === 'router') {
        for (const a of r.ipv4) r.hostRoutes.push(`${a.address}/32`);
        for (const a of r.ipv6) r.hostRoutes.push(`${a.address}/128`);
        r.hostRoutes.push(...(n.veth?.ipv4Routes ?? []), ...(n.veth?.ipv6Routes ?? []));
      }
      // Addresses on a bridge: from the address book (managed: leases; other bridges: this run).
      if (r.vethMode === 'bridge' && n.link && dev) {
        const book: Book = managed ? managedBook(ctx.lxtspath, managed) : runtimeBook(ctx.rundir, n.link, v4of(dev));
        const owner = managed ? `${ctx.container}#${i}` : `${ctx.lxtspath}/${ctx.container}#${i}`;
        if (managed || r.ipv4.length) {
          const statics = r.ipv4.map((a) => a.address);
          nicState.book = { file: book.file, lock: book.lock, managed: !!managed };
          nicState.owner = owner;
          st.nics.push(nicState);
          const got = await takeAddresses(book, { owner, static: statics, key: `lxc.net.${i}.ipv4.address` });
          nicState.addresses = got.addresses;
          nicState.fresh = got.fresh;
          if (!statics.length && managed) {
            r.ipv4 = [{ address: got.addresses[0]!, prefix: subnetOf(managed).prefix }];
            // Handed-out address: the bridge is the router, as DHCP would say.
            r.ipv4Gateway ??= subnetOf(managed).address;
          }
        }
      }
      if (r.ipv4Gateway === 'auto') {
        const gw = r.vethMode === 'bridge' ? v4of(dev)[0] : undefined;
        if (!gw) throw err(i, 'ipv4.gateway', `"auto" needs an IPv4 address on the link bridge${n.link ? ` ${n.link}` : ''}`);
        r.ipv4Gateway = gw;
      }
      if (r.ipv6Gateway === 'auto') {
        const gw = r.vethMode === 'bridge' ? v6of(dev)[0] : undefined;
        if (!gw) throw err(i, 'ipv6.gateway', `"auto" needs a global IPv6 address on the link bridge${n.link ? ` ${n.link}` : ''}`);
        r.ipv6Gateway = gw;
      }
    } else {
      if (!n.link) throw err(i, 'link', `type ${type} needs lxc.net.${i}.link (the host device)`);
      if (!dev) throw err(i, 'link', `no network device named "${n.link}" on the host`);
      if (type === 'phys' && dev.linkinfo?.info_kind === 'bridge') throw err(i, 'link', `"${n.link}" is a bridge; a bridge cannot be moved into a container (use type veth)`);
      if (type === 'vlan' && n.vlanId === undefined) throw err(i, 'vlan.id', 'type vlan needs lxc.net.N.vlan.id');
      for (const g of ['ipv4Gateway', 'ipv6Gateway'] as const) if (r[g] === 'auto') throw err(i, g === 'ipv4Gateway' ? 'ipv4.gateway' : 'ipv6.gateway', '"auto" works for veth on a bridge only');
      if (type === 'phys') {
        if (hostNames.has(`@phys:${n.link}`)) throw err(i, 'link', `"${n.link}" is moved in by another interface`);
        hostNames.add(`@phys:${n.link}`);
      }
    }
    for (const g of [r.ipv4Gateway, r.ipv6Gateway]) if (g && g !== 'dev' && !isIP(g)) throw err(i, 'ipv4.gateway', `bad gateway "${g}"`);
    if (!st.nics.includes(nicState)) st.nics.push(nicState);
    out.push(r);
  }
  return out;
}

/** One interface as `lxts info` shows it. */
export interface NetInfo {
  name: string;
  state: string;
  mtu: number;
  hwaddr?: string;
  ipv4: string[];
  ipv6: string[];
  rxBytes: number;
  txBytes: number;
  /** The host end (veth) or the parent device. */
  host?: string;
}

/** Interfaces of a running container (lo left out): one `nsenter ip -s addr`. */
export function containerNetInfo(initPid: number, runDir?: string): NetInfo[] {
  let st: NetState | undefined;
  try {
    if (runDir) st = JSON.parse(readFileSync(stateFile(runDir), 'utf8')) as NetState;
  } catch {
    /* none */
  }
  const l = ipJson<IpLink>(['-s', 'addr', 'show'], initPid);
  return l
    .filter((x) => x.ifname !== 'lo')
    .map((x) => {
      const nic = st?.nics.find((n) => n.inside === x.ifname);
      return {
        name: x.ifname,
        state: x.operstate,
        mtu: x.mtu,
        hwaddr: x.address,
        ipv4: (x.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
        ipv6: (x.addr_info ?? []).filter((a) => a.family === 'inet6').map((a) => `${a.local}/${a.prefixlen}`),
        rxBytes: x.stats64?.rx.bytes ?? 0,
        txBytes: x.stats64?.tx.bytes ?? 0,
        host: nic?.host ?? nic?.link,
      };
    });
}

/** Config lines `lxts create` adds when the lxtspath has a default managed network (and the template set none). */
export function defaultNetConfig(lxtspath: string): [string, string][] {
  const net = defaultNetwork(lxtspath);
  if (!net) return [];
  return [
    ['lxc.net.0.type', 'veth'],
    ['lxc.net.0.link', net],
    ['lxc.net.0.flags', 'up'],
    ['lxc.net.0.hwaddr', fillHwaddr('00:16:3e:xx:xx:xx')],
  ];
}

/** `lxts destroy`: the container's leases in every managed network go back. */
export async function forgetContainer(lxtspath: string, container: string): Promise<void> {
  await releaseContainerLeases(lxtspath, container);
}
