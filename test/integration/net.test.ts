// Container networking end to end (issue 5): lxc.net.* applied to busybox system containers.
// Every test makes its own network namespace (lxts-t-RANDOM) and runs lxts inside it, so the
// bridges, host-side veths and parent devices live there; traffic only ever goes between
// that namespace and the containers' namespaces. lxts runs under `nsenter --net=` (not
// `ip netns exec`, which would remount /sys and hide the cgroup hierarchy from lxts).
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { CLI, machineState, leftovers, tempDir, isRoot, type RunResult } from './helpers/lxts.js';

const skip = isRoot ? false : 'needs root';

export interface NetEnv {
  ns: string;
  path: string;
  rundir: string;
  /** lxts ARGS inside the test namespace, with this env's lxtspath and run dir. */
  lxts(args: string[], timeoutMs?: number): Promise<RunResult>;
  /** A command in the test namespace (ip, ping): synchronous. */
  sh(cmd: string[]): { code: number; stdout: string; stderr: string };
  /** Devices of the test namespace. */
  devices(): { ifname: string; master?: string; linkinfo?: { info_kind?: string } }[];
}

function runIn(ns: string, argv: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=/run/netns/${ns}`, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
      reject(new Error(`${argv.join(' ')} timed out; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 137, stdout, stderr });
    });
  });
}

/** A fresh network namespace, lxtspath and run dir; afterwards all of it is gone. */
export async function withNetns(fn: (env: NetEnv) => Promise<void>): Promise<void> {
  const before = machineState();
  const ns = `lxts-t-${randomBytes(4).toString('hex')}`;
  const add = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
  assert.equal(add.status, 0, add.stderr);
  const dir = tempDir('lxts-net-');
  const rundir = tempDir('lxts-netrun-');
  const procEnv = { ...process.env, LXTS_RUNDIR: rundir.path };
  const env: NetEnv = {
    ns,
    path: dir.path,
    rundir: rundir.path,
    lxts: (args, timeoutMs = 60000) => runIn(ns, [process.execPath, CLI, args[0]!, '-P', dir.path, ...args.slice(1)], procEnv, timeoutMs),
    sh: (cmd) => {
      const r = spawnSync('nsenter', [`--net=/run/netns/${ns}`, ...cmd], { encoding: 'utf8', timeout: 30000 });
      return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
    },
    devices: () => JSON.parse(spawnSync('nsenter', [`--net=/run/netns/${ns}`, 'ip', '-j', '-d', 'link', 'show'], { encoding: 'utf8' }).stdout || '[]'),
  };
  try {
    await fn(env);
  } finally {
    try {
      const ls = await env.lxts(['ls', '--json']).catch(() => undefined);
      const names = ls?.code === 0 ? (JSON.parse(ls.stdout) as { name: string }[]).map((c) => c.name) : [];
      await Promise.all(names.map((n) => env.lxts(['destroy', '-f', n]).catch(() => undefined)));
      const nets = await env.lxts(['network', 'ls', '--json']).catch(() => undefined);
      for (const n of nets?.code === 0 ? (JSON.parse(nets.stdout) as { name: string }[]) : []) await env.lxts(['network', 'delete', '--force', n.name]).catch(() => undefined);
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
      dir.remove();
      rundir.remove();
    }
    assert.deepEqual(await leftovers(before, 5000), [], 'the machine is as it was');
  }
}

export async function busybox(env: NetEnv, name: string, netConfig: string[]): Promise<void> {
  const r = await env.lxts(['create', name, '-t', 'busybox', '-q']);
  assert.equal(r.code, 0, r.stderr);
  appendFileSync(`${env.path}/${name}/config`, netConfig.map((l) => l + '\n').join(''));
}

async function attach(env: NetEnv, name: string, cmd: string): Promise<RunResult> {
  return env.lxts(['attach', name, '--', '/bin/sh', '-c', cmd]);
}

async function ok(p: Promise<RunResult>): Promise<RunResult> {
  const r = await p;
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);
  return r;
}

/** Devices lxts made in the test namespace (host ends of veths): none may stay after a stop. */
function lxtsDevices(env: NetEnv): string[] {
  return env.devices().filter((d) => d.linkinfo?.info_kind === 'veth' && /^veth/.test(d.ifname)).map((d) => d.ifname);
}

function leasesOf(env: NetEnv, net: string): Record<string, { owner: string }> {
  const f = `${env.path}/.networks/${net}/leases.json`;
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : {};
}

const sub = (): string => `10.${100 + (randomBytes(1)[0]! % 100)}.${randomBytes(1)[0]! % 250}`;

test('two containers on a managed bridge: ping, TCP, hwaddr, mtu, name, info and ls, nothing left after stop and destroy', { timeout: 120000, skip }, () =>
  withNetns(async (env) => {
    const s = sub();
    await ok(env.lxts(['network', 'create', 'lxtsbr0', '--subnet', `${s}.1/24`]));
    await busybox(env, 'a', ['lxc.net.0.type = veth', 'lxc.net.0.link = lxtsbr0', 'lxc.net.0.flags = up', 'lxc.net.0.name = lan0', 'lxc.net.0.hwaddr = 02:aa:bb:cc:xx:xx', 'lxc.net.0.mtu = 1400']);
    await busybox(env, 'b', ['lxc.net.0.type = veth', 'lxc.net.0.link = lxtsbr0', 'lxc.net.0.flags = up', `lxc.net.0.ipv4.address = ${s}.50/24`, 'lxc.net.0.ipv4.gateway = auto', 'lxc.net.0.veth.pair = vethbpeer']);
    await ok(env.lxts(['start', 'a']));
    await ok(env.lxts(['start', 'b']));

    // a: an address handed out from the subnet, the configured name, MAC pattern and MTU.
    const sys = (await ok(attach(env, 'a', 'cat /sys/class/net/lan0/address /sys/class/net/lan0/mtu'))).stdout.trim().split('\n');
    assert.match(sys[0]!, /^02:aa:bb:cc:[0-9a-f]{2}:[0-9a-f]{2}$/);
    assert.equal(sys[1], '1400');
    const names = (await ok(attach(env, 'a', 'ls /sys/class/net'))).stdout.trim().split(/\s+/).sort();
    assert.deepEqual(names, ['lan0', 'lo']);
    const leases = leasesOf(env, 'lxtsbr0');
    const aAddr = Object.keys(leases).find((k) => leases[k]!.owner === 'a#0');
    assert.equal(aAddr, `${s}.2`, JSON.stringify(leases));
    assert.equal(leases[`${s}.50`]?.owner, 'b#0');
    // b: the static address, the bridge as the default gateway, the named host end on the bridge.
    assert.match((await ok(attach(env, 'b', 'ip -4 -o addr show eth0'))).stdout, new RegExp(`inet ${s}\\.50/24`));
    assert.match((await ok(attach(env, 'b', 'ip route'))).stdout, new RegExp(`default via ${s}\\.1 dev eth0`));
    assert.equal(env.devices().find((d) => d.ifname === 'vethbpeer')?.master, 'lxtsbr0');

    // Traffic: ping both ways, ping the bridge, TCP with busybox nc.
    await ok(attach(env, 'b', `ping -c 2 -W 3 ${aAddr}`));
    await ok(attach(env, 'a', `ping -c 2 -W 3 ${s}.50`));
    await ok(attach(env, 'a', `ping -c 1 -W 3 ${s}.1`));
    await ok(attach(env, 'b', 'nc -l -p 5000 </dev/null >/tmp/got 2>&1 &'));
    let got = '';
    for (let i = 0; i < 50 && got !== 'hello over tcp'; i++) {
      await attach(env, 'a', `echo hello over tcp | nc -w 2 ${s}.50 5000`);
      got = (await attach(env, 'b', 'cat /tmp/got')).stdout.trim();
      if (got !== 'hello over tcp') await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(got, 'hello over tcp');

    // info and ls show the addresses and per-interface traffic.
    const info = JSON.parse((await ok(env.lxts(['info', 'a', '--json']))).stdout) as { interfaces: { name: string; ipv4: string[]; rxBytes: number; txBytes: number; mtu: number; host: string }[] };
    assert.equal(info.interfaces.length, 1);
    assert.equal(info.interfaces[0]!.name, 'lan0');
    assert.deepEqual(info.interfaces[0]!.ipv4, [`${s}.2/24`]);
    assert.ok(info.interfaces[0]!.rxBytes > 0 && info.interfaces[0]!.txBytes > 0, JSON.stringify(info.interfaces));
    assert.match(info.interfaces[0]!.host, /^veth/);
    const text = (await ok(env.lxts(['info', 'a']))).stdout;
    assert.match(text, new RegExp(`IP:\\s+${s}\\.2/24 \\(lan0\\)`));
    assert.match(text, /RX\/TX bytes:/);
    const ls = (await ok(env.lxts(['ls']))).stdout;
    assert.match(ls, new RegExp(`^a\\s+RUNNING\\s+0\\s+\\d+\\s+${s}\\.2\\s`, 'm'));
    assert.match(ls, new RegExp(`^b\\s+RUNNING\\s+0\\s+\\d+\\s+${s}\\.50\\s`, 'm'));
    assert.equal(lxtsDevices(env).length, 2);

    // Stop: the host ends go; leases stay until destroy.
    await ok(env.lxts(['stop', 'a', '-t', '5']));
    await ok(env.lxts(['stop', 'b', '-t', '5']));
    assert.deepEqual(lxtsDevices(env), []);
    assert.equal(Object.keys(leasesOf(env, 'lxtsbr0')).length, 2);
    // A restart keeps a's address.
    await ok(env.lxts(['start', 'a']));
    assert.match((await ok(attach(env, 'a', 'ip -4 -o addr show lan0'))).stdout, new RegExp(`inet ${s}\\.2/24`));
    await ok(env.lxts(['stop', 'a', '-k']));
    await ok(env.lxts(['destroy', 'a']));
    await ok(env.lxts(['destroy', 'b']));
    assert.deepEqual(leasesOf(env, 'lxtsbr0'), {});
    assert.deepEqual(lxtsDevices(env), []);
    await ok(env.lxts(['network', 'delete', 'lxtsbr0']));
    assert.deepEqual(env.devices().map((d) => d.ifname), ['lo']);
  }),
);

test('empty has only lo, up; a container without lxc.net keys too', { timeout: 60000, skip }, () =>
  withNetns(async (env) => {
    await busybox(env, 'e', ['lxc.net.0.type = empty']);
    await busybox(env, 'plain', []);
    for (const c of ['e', 'plain']) {
      await ok(env.lxts(['start', c]));
      const out = (await ok(attach(env, c, 'ip -o link'))).stdout.trim().split('\n');
      assert.equal(out.length, 1, out.join('\n'));
      assert.match(out[0]!, /^1: lo: <LOOPBACK,UP,LOWER_UP>/);
      await ok(attach(env, c, 'ping -c 1 -W 2 127.0.0.1'));
      await ok(env.lxts(['stop', c, '-k']));
    }
  }),
);

test('macvlan (bridge mode) between two containers, on a veth parent in the test namespace', { timeout: 90000, skip }, () =>
  withNetns(async (env) => {
    assert.equal(env.sh(['ip', 'link', 'add', 'mvparent', 'type', 'veth', 'peer', 'name', 'mvother']).code, 0);
    assert.equal(env.sh(['ip', 'link', 'set', 'mvparent', 'up']).code, 0);
    assert.equal(env.sh(['ip', 'link', 'set', 'mvother', 'up']).code, 0);
    const s = sub();
    for (const [c, n] of [['m1', 1], ['m2', 2]] as const) {
      await busybox(env, c, ['lxc.net.0.type = macvlan', 'lxc.net.0.macvlan.mode = bridge', 'lxc.net.0.link = mvparent', 'lxc.net.0.flags = up', `lxc.net.0.ipv4.address = ${s}.${n}/24`, 'lxc.net.0.hwaddr = 02:00:00:00:00:0' + n]);
      await ok(env.lxts(['start', c]));
    }
    const pid = (JSON.parse((await ok(env.lxts(['info', 'm1', '--json']))).stdout) as { pid: number }).pid;
    const kind = spawnSync('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', '-d', '-o', 'link', 'show', 'eth0'], { encoding: 'utf8' }).stdout;
    assert.match(kind, /macvlan mode bridge/);
    assert.match(kind, /02:00:00:00:00:01/);
    await ok(attach(env, 'm1', `ping -c 2 -W 3 ${s}.2`));
    await ok(attach(env, 'm2', `ping -c 2 -W 3 ${s}.1`));
    await ok(env.lxts(['stop', 'm1', '-k']));
    await ok(env.lxts(['stop', 'm2', '-k']));
    assert.deepEqual(env.devices().map((d) => d.ifname).sort(), ['lo', 'mvother', 'mvparent']);
  }),
);

test('phys: a device of the test namespace moves in (renamed) and comes back on stop; veth router mode', { timeout: 90000, skip }, () =>
  withNetns(async (env) => {
    assert.equal(env.sh(['ip', 'link', 'add', 'physa', 'type', 'veth', 'peer', 'name', 'physb']).code, 0);
    const s = sub();
    assert.equal(env.sh(['ip', 'addr', 'add', `${s}.1/24`, 'dev', 'physb']).code, 0);
    assert.equal(env.sh(['ip', 'link', 'set', 'physb', 'up']).code, 0);
    await busybox(env, 'p', ['lxc.net.0.type = phys', 'lxc.net.0.link = physa', 'lxc.net.0.name = eth5', 'lxc.net.0.flags = up', `lxc.net.0.ipv4.address = ${s}.2/24`, 'lxc.net.0.mtu = 1300']);
    await ok(env.lxts(['start', 'p']));
    assert.ok(!env.devices().some((d) => d.ifname === 'physa'));
    assert.match((await ok(attach(env, 'p', 'ip -o link show eth5'))).stdout, /mtu 1300/);
    await ok(attach(env, 'p', `ping -c 2 -W 3 ${s}.1`));
    await ok(env.lxts(['stop', 'p', '-t', '5']));
    assert.ok(env.devices().some((d) => d.ifname === 'physa'), 'physa is back in the test namespace');

    // Router mode: no bridge; a host route to the container's address through the veth.
    const r = sub();
    assert.equal(env.sh(['ip', 'addr', 'add', `${r}.254/32`, 'dev', 'lo']).code, 0);
    assert.equal(env.sh(['ip', 'link', 'set', 'lo', 'up']).code, 0);
    await busybox(env, 'rt', ['lxc.net.0.type = veth', 'lxc.net.0.veth.mode = router', 'lxc.net.0.flags = up', `lxc.net.0.ipv4.address = ${r}.5/32`, 'lxc.net.0.ipv4.gateway = dev', 'lxc.net.0.veth.pair = vethrt']);
    await ok(env.lxts(['start', 'rt']));
    assert.match(env.sh(['ip', 'route', 'show', `${r}.5`]).stdout, /dev vethrt/);
    await ok(attach(env, 'rt', `ping -c 2 -W 3 ${r}.254`));
    await ok(env.lxts(['stop', 'rt', '-k']));
    assert.equal(env.sh(['ip', 'route', 'show', `${r}.5`]).stdout.trim(), '');
    assert.deepEqual(lxtsDevices(env), []);
  }),
);

test('20 containers started at once on one managed bridge get 20 distinct addresses', { timeout: 240000, skip }, () =>
  withNetns(async (env) => {
    const s = sub();
    await ok(env.lxts(['network', 'create', 'br20', '--subnet', `${s}.1/24`, '--default']));
    const names = Array.from({ length: 20 }, (_, i) => `c${i}`);
    for (const n of names) await ok(env.lxts(['create', n, '-t', 'busybox', '-q']));
    // --default: lxts create wrote the network lines.
    assert.match(readFileSync(`${env.path}/c0/config`, 'utf8'), /^lxc\.net\.0\.link = br20$/m);
    const starts = await Promise.all(names.map((n) => env.lxts(['start', n], 120000)));
    for (const r of starts) assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse((await ok(env.lxts(['ls', '--json']))).stdout) as { name: string; state: string; interfaces?: { ipv4: string[] }[] }[];
    const addrs = rows.map((r) => r.interfaces?.[0]?.ipv4[0]);
    assert.equal(addrs.filter(Boolean).length, 20, JSON.stringify(rows.map((r) => [r.name, r.state, r.interfaces])));
    assert.equal(new Set(addrs).size, 20, addrs.join(' '));
    const leases = leasesOf(env, 'br20');
    assert.equal(Object.keys(leases).length, 20);
    assert.deepEqual(new Set(Object.values(leases).map((l) => l.owner)), new Set(names.map((n) => `${n}#0`)));
    // One of them reaches another across the bridge.
    await ok(attach(env, 'c0', `ping -c 1 -W 3 ${addrs[19]!.split('/')[0]}`));
    const stops = await Promise.all(names.map((n) => env.lxts(['stop', n, '-k'], 120000)));
    for (const r of stops) assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lxtsDevices(env), []);
    await Promise.all(names.map((n) => ok(env.lxts(['destroy', n]))));
    assert.deepEqual(leasesOf(env, 'br20'), {});
  }),
);

test('bad input: a clear error naming the lxc.net.N key, nothing left behind', { timeout: 120000, skip }, () =>
  withNetns(async (env) => {
    const s = sub();
    await ok(env.lxts(['network', 'create', 'lxtsbr1', '--subnet', `${s}.1/24`]));
    await busybox(env, 'holder', ['lxc.net.0.type = veth', 'lxc.net.0.link = lxtsbr1', 'lxc.net.0.flags = up', `lxc.net.0.ipv4.address = ${s}.77/24`]);
    await ok(env.lxts(['start', 'holder']));
    const base = ['lxc.net.0.flags = up'];
    const cases: [string, string[], RegExp][] = [
      ['unknown type', ['lxc.net.0.type = vxlan'], /lxc\.net\.0\.type: .*vxlan/],
      ['missing bridge', ['lxc.net.0.type = veth', 'lxc.net.0.link = nosuchbr0'], /lxc\.net\.0\.link: no bridge named "nosuchbr0"/],
      ['invalid CIDR', ['lxc.net.0.type = veth', 'lxc.net.0.link = lxtsbr1', 'lxc.net.0.ipv4.address = 10.1.2.300/24'], /lxc\.net\.0\.ipv4\.address: .*not an IPv4 address/],
      ['invalid prefix', ['lxc.net.0.type = veth', 'lxc.net.0.link = lxtsbr1', 'lxc.net.0.ipv4.address = 10.1.2.3/33'], /lxc\.net\.0\.ipv4\.address/],
      ['duplicate static address', ['lxc.net.0.type = veth', 'lxc.net.0.link = lxtsbr1', `lxc.net.0.ipv4.address = ${s}.77/24`], /lxc\.net\.0\.ipv4\.address: .*already in use on this bridge \(by holder/],
      ['the bridge\'s own address', ['lxc.net.0.type = veth', 'lxc.net.0.link = lxtsbr1', `lxc.net.0.ipv4.address = ${s}.1/24`], /lxc\.net\.0\.ipv4\.address: .*the bridge's own address/],
      ['malformed hwaddr', ['lxc.net.0.type = veth', 'lxc.net.0.link = lxtsbr1', 'lxc.net.0.hwaddr = 00:16:3e:zz:00:01'], /lxc\.net\.0\.hwaddr: .*not a MAC address/],
      ['multicast hwaddr', ['lxc.net.0.type = veth', 'lxc.net.0.link = lxtsbr1', 'lxc.net.0.hwaddr = 01:16:3e:00:00:01'], /lxc\.net\.0\.hwaddr: .*multicast/],
      ['name over 15 characters', ['lxc.net.0.type = veth', 'lxc.net.0.link = lxtsbr1', 'lxc.net.0.name = averyverylongname0'], /lxc\.net\.0\.name: .*at most 15 characters/],
      ['veth.pair over 15 characters', ['lxc.net.0.type = veth', 'lxc.net.0.link = lxtsbr1', 'lxc.net.0.veth.pair = vethaveryverylongname'], /lxc\.net\.0\.veth\.pair: .*at most 15 characters/],
      ['veth.pair taken', ['lxc.net.0.type = veth', 'lxc.net.0.link = lxtsbr1', 'lxc.net.0.veth.pair = lxtsbr1'], /lxc\.net\.0\.veth\.pair: a host device named "lxtsbr1" already exists/],
      ['macvlan without a parent', ['lxc.net.0.type = macvlan', 'lxc.net.0.link = nosuchdev'], /lxc\.net\.0\.link: no network device named "nosuchdev"/],
      // Fails inside, after the host side was made: the veth and the fresh lease must go.
      ['unreachable gateway', ['lxc.net.0.type = veth', 'lxc.net.0.link = lxtsbr1', 'lxc.net.0.ipv4.gateway = 192.0.2.1'], /lxc\.net\.0\.ipv4\.gateway: inside the container: `ip route add default via 192\.0\.2\.1/],
      ['failing script.up', ['lxc.net.0.type = veth', 'lxc.net.0.link = lxtsbr1', 'lxc.net.0.script.up = /bin/false'], /lxc\.net\.0\.script\.up: `\/bin\/false` failed/],
    ];
    await busybox(env, 'bad', []);
    const cfg = readFileSync(`${env.path}/bad/config`, 'utf8');
    const leasesBefore = leasesOf(env, 'lxtsbr1');
    for (const [what, lines, re] of cases) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(`${env.path}/bad/config`, cfg + [...lines, ...base].join('\n') + '\n');
      const r = await env.lxts(['start', 'bad']);
      assert.notEqual(r.code, 0, `${what}: started`);
      assert.match(r.stderr, re, `${what}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length <= 2, true, `${what}: one clear line: ${r.stderr}`);
      assert.equal(lxtsDevices(env).length, 1, `${what}: only holder's veth: ${lxtsDevices(env)}`);
      assert.deepEqual(leasesOf(env, 'lxtsbr1'), leasesBefore, `${what}: leases`);
      const st = JSON.parse((await ok(env.lxts(['info', 'bad', '--json']))).stdout) as { state: string };
      assert.equal(st.state, 'STOPPED', what);
      assert.ok(!readdirSync(env.rundir).some((f) => f.startsWith('bad')), `${what}: run dir left: ${readdirSync(env.rundir)}`);
    }
    // Bad network commands.
    const badNet = await env.lxts(['network', 'create', 'x0', '--subnet', '10.0.0.0/24']);
    assert.equal(badNet.code, 2);
    assert.match(badNet.stderr, /network address/);
    assert.match((await env.lxts(['network', 'create', 'x0', '--subnet', '10.0.0.1/33'])).stderr, /not an IPv4 CIDR/);
    assert.match((await env.lxts(['network', 'create', 'x1', '--subnet', `${s}.9/16`])).stderr, /overlaps network "lxtsbr1"/);
    assert.match((await env.lxts(['network', 'delete', 'lxtsbr1'])).stderr, /in use/);
    await ok(env.lxts(['stop', 'holder', '-k']));
  }),
);
