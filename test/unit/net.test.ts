// Networking without root: IPv4 arithmetic, MAC fill, the ip batch lines each interface type
// gives, and the address book (leases) under concurrent takers.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseCidr, subnetProblem, firstFree, contains, toInt, toAddr } from '../../src/net/ipv4.js';
import { fillHwaddr, hostCommands, insideCommands, type ResolvedNic } from '../../src/net/plan.js';
import { takeAddresses, giveBack, type Book } from '../../src/net/networks.js';

test('ipv4: CIDR parsing, subnet checks, first free address', () => {
  assert.deepEqual(parseCidr('10.0.3.1/24'), { address: '10.0.3.1', prefix: 24 });
  for (const bad of ['10.0.3.1', '10.0.3.300/24', '10.0.3.1/33', 'x/24', '10.0.3.1/24/1']) assert.equal(parseCidr(bad), undefined, bad);
  assert.equal(subnetProblem(parseCidr('10.0.3.1/24')!), undefined);
  assert.match(subnetProblem(parseCidr('10.0.3.0/24')!)!, /network address.*10\.0\.3\.1\/24/);
  assert.match(subnetProblem(parseCidr('10.0.3.255/24')!)!, /broadcast/);
  assert.match(subnetProblem(parseCidr('10.0.3.1/31')!)!, /no room/);
  assert.match(subnetProblem(parseCidr('127.0.0.1/24')!)!, /unicast/);
  const c = parseCidr('192.168.7.1/29')!;
  assert.equal(firstFree(c, new Set(['192.168.7.1'])), '192.168.7.2');
  assert.equal(firstFree(c, new Set(['192.168.7.1', '192.168.7.2', '192.168.7.3', '192.168.7.4', '192.168.7.5', '192.168.7.6'])), undefined);
  assert.ok(contains(c, '192.168.7.6') && !contains(c, '192.168.7.8'));
  assert.equal(toAddr(toInt('255.1.2.3')), '255.1.2.3');
});

test('hwaddr: each x is random, a random first octet is unicast and locally administered', () => {
  assert.match(fillHwaddr('00:16:3e:xx:xx:xx'), /^00:16:3e:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/);
  assert.equal(fillHwaddr('02:AA:bb:cc:dd:ee'), '02:aa:bb:cc:dd:ee');
  for (let i = 0; i < 50; i++) {
    const first = parseInt(fillHwaddr('xx:00:00:00:00:00').slice(0, 2), 16);
    assert.equal(first & 3, 2);
  }
  assert.equal(fillHwaddr('0x:00:00:00:00:0x', () => 0xf), '0e:00:00:00:00:0f');
});

const nic = (o: Partial<ResolvedNic>): ResolvedNic => ({ index: 0, type: 'veth', inside: 'eth0', up: true, ipv4: [], ipv6: [], hostRoutes: [], ...o });

test('ip lines: devices are created straight into the container namespace; each line names its key', () => {
  const veth = nic({ host: 'vethabc', link: 'br0', hwaddr: '02:00:00:00:00:01', mtu: 1400, ipv4: [{ address: '10.0.0.2', prefix: 24 }], ipv4Gateway: '10.0.0.1', ipv6: [{ address: 'fd00::2', prefix: 64 }], ipv6Gateway: 'fd00::1' });
  assert.deepEqual(hostCommands([veth], 42).map((c) => c.line), [
    'link add name vethabc mtu 1400 type veth peer name eth0 address 02:00:00:00:00:01 mtu 1400 netns 42',
    'link set dev vethabc master br0',
    'link set dev vethabc up',
  ]);
  assert.deepEqual(insideCommands([veth]).map((c) => `${c.key}: ${c.line}`), [
    'lxc.net.0.ipv4.address: addr add 10.0.0.2/24 broadcast + dev eth0',
    'lxc.net.0.ipv6.address: addr add fd00::2/64 dev eth0 nodad',
    'lxc.net.0.flags: link set dev eth0 up',
    'lxc.net.0.ipv4.gateway: route add default via 10.0.0.1 dev eth0',
    'lxc.net.0.ipv6.gateway: route add ::/0 via fd00::1 dev eth0',
  ]);
  const router = nic({ index: 1, host: 'vr', vethMode: 'router', link: undefined, hostRoutes: ['10.1.0.5/32'], ipv4Gateway: 'dev' });
  assert.deepEqual(hostCommands([router], 7).map((c) => c.line), ['link add name vr type veth peer name eth0 netns 7', 'link set dev vr up', 'route add 10.1.0.5/32 dev vr']);
  assert.ok(insideCommands([router]).some((c) => c.line === 'route add default dev eth0'));
  assert.deepEqual(hostCommands([nic({ type: 'macvlan', link: 'eno1', macvlanMode: 'bridge' })], 9)[0]!.line, 'link add link eno1 name eth0 netns 9 type macvlan mode bridge');
  assert.deepEqual(hostCommands([nic({ type: 'ipvlan', link: 'eno1', ipvlanMode: 'l2' })], 9)[0]!.line, 'link add link eno1 name eth0 netns 9 type ipvlan mode l2 bridge');
  assert.deepEqual(hostCommands([nic({ type: 'vlan', link: 'eno1', vlanId: 10 })], 9)[0]!.line, 'link add link eno1 name eth0 netns 9 type vlan id 10');
  const phys = nic({ type: 'phys', link: 'enp3s0', inside: 'eth1', mtu: 9000 });
  assert.deepEqual(hostCommands([phys], 9).map((c) => c.line), ['link set dev enp3s0 netns 9']);
  assert.deepEqual(insideCommands([phys]).slice(0, 2).map((c) => c.line), ['link set dev enp3s0 name eth1', 'link set dev eth1 mtu 9000']);
  // Not up: addresses, but no up and no routes.
  assert.deepEqual(insideCommands([nic({ up: false, ipv4: [{ address: '10.0.0.2', prefix: 24 }], ipv4Gateway: '10.0.0.1' })]).map((c) => c.line), ['addr add 10.0.0.2/24 broadcast + dev eth0']);
  // lo is the plan's (LINK_UP): an empty interface needs no line at all.
  assert.deepEqual(insideCommands([nic({ type: 'empty', inside: 'lo' })]).map((c) => c.line), []);
});

test('address book: 20 concurrent takers get 20 distinct addresses; statics collide; give back', async () => {
  const dir = mkdtempSync(tmpdir() + '/lxts-book-');
  try {
    const managed = { name: 'br0', subnet: '10.9.0.1/24', created: '' };
    const book: Book = { file: `${dir}/leases.json`, lock: `${dir}/.lock`, managed, reserved: ['10.9.0.1'] };
    const got = await Promise.all(Array.from({ length: 20 }, (_, i) => takeAddresses(book, { owner: `c${i}#0`, static: [], key: 'k' })));
    const addrs = got.map((g) => g.addresses[0]);
    assert.equal(new Set(addrs).size, 20);
    assert.ok(!addrs.includes('10.9.0.1'));
    // The same owner keeps its lease.
    assert.deepEqual((await takeAddresses(book, { owner: 'c3#0', static: [], key: 'k' })).addresses, got[3]!.addresses);
    await assert.rejects(takeAddresses(book, { owner: 'x#0', static: [got[5]!.addresses[0]!], key: 'lxc.net.0.ipv4.address' }), /lxc\.net\.0\.ipv4\.address: .* already in use on this bridge \(by c5, interface 0\)/);
    await assert.rejects(takeAddresses(book, { owner: 'x#0', static: ['10.9.0.1'], key: 'lxc.net.0.ipv4.address' }), /bridge's own address/);
    await giveBack(book, (o) => o.startsWith('c1'));
    const left = JSON.parse(readFileSync(book.file, 'utf8')) as Record<string, { owner: string }>;
    assert.equal(Object.keys(left).length, 20 - 11); // c1, c10..c19
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
