// Network (issue 5): TCP throughput (iperf3, 10 s) and ping round trip between two lxts
// containers on a managed bridge, beside the same between two bare network namespaces joined
// by one veth pair, in the same run (alternating rounds). Also the start-time cost of the
// network setup: a busybox container with a veth on the bridge vs one with only lo (type empty).
//
// Everything happens in namespaces this benchmark creates (lxts-bench-*): lxts runs inside one
// of them (its bridge and host-side veths live there), no traffic leaves them. iperf3 comes
// from the host (Debian: apt-get install iperf3); the benchmark installs nothing. The two
// iperf3 containers use the `host` template (the host's /usr read-only), so iperf3 runs in
// real containers; busybox's ping gives the round trip.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, summarize, nowMs, which, versionOf, fmtMs, mdTable, environment, envBlock, reproduceCommand, log } from './lib.js';

export interface NetworkOptions {
  durationSec: number;
  rounds: number;
  startRuns: number;
  args: string[];
}

const CLI = join(REPO, 'bin/lxts.js');

function sh(argv: string[], timeoutMs = 120000): { code: number; out: string; err: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status ?? 1, out: r.stdout ?? '', err: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function must(argv: string[], timeoutMs?: number): string {
  const r = sh(argv, timeoutMs);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: exit ${r.code}: ${r.err.trim()}`);
  return r.out;
}

/** iperf3 -J: receiver-side bits per second. */
function gbps(json: string): number {
  const j = JSON.parse(json) as { end?: { sum_received?: { bits_per_second: number } }; error?: string };
  if (!j.end?.sum_received) throw new Error(`iperf3: ${j.error ?? 'no result'}`);
  return j.end.sum_received.bits_per_second / 1e9;
}

/** busybox ping summary: avg round trip in ms. */
function rttMs(out: string): number {
  const m = /min\/avg\/max = [\d.]+\/([\d.]+)\//.exec(out);
  if (!m) throw new Error(`ping: no summary in ${JSON.stringify(out.slice(-200))}`);
  return Number(m[1]);
}

async function waitPort(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('iperf3 server did not start listening on port 5201');
}

export async function networkBench(opts: NetworkOptions): Promise<{ table: string; markdown: string }> {
  const iperf = which('iperf3');
  const busybox = which('busybox');
  const head = '## Network: container to container over a bridge (issue 5)\n\n';
  if (!iperf || !busybox) {
    const why = `${!iperf ? 'iperf3' : 'busybox'} is not installed (Debian: \`apt-get install iperf3 busybox-static\`); the benchmark installs nothing.`;
    return { table: why, markdown: head + `Not measured: ${why}` };
  }
  const tag = randomBytes(3).toString('hex');
  const nsHost = `lxts-bench-${tag}`;
  const nsA = `lxts-bench-${tag}a`;
  const nsB = `lxts-bench-${tag}b`;
  const dir = mkdtempSync(join(tmpdir(), 'lxts-bench-net-'));
  const rundir = mkdtempSync(join(tmpdir(), 'lxts-bench-netrun-'));
  const servers: ChildProcess[] = [];
  const lx = (args: string[], timeoutMs?: number): string =>
    must(['nsenter', `--net=/run/netns/${nsHost}`, 'env', `LXTS_RUNDIR=${rundir}`, process.execPath, CLI, args[0]!, '-P', dir, ...args.slice(1)], timeoutMs);
  const bg = (argv: string[]): ChildProcess => {
    const c = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore', detached: true });
    servers.push(c);
    return c;
  };
  const stopBg = async (c: ChildProcess): Promise<void> => {
    if (c.exitCode === null && c.signalCode === null) {
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
      await new Promise((r) => c.once('close', r));
    }
  };
  const bare = { gbps: [] as number[], rtt: [] as number[] };
  const ctr = { gbps: [] as number[], rtt: [] as number[] };
  const startNet: number[] = [];
  const startEmpty: number[] = [];
  try {
    for (const ns of [nsHost, nsA, nsB]) must(['ip', 'netns', 'add', ns]);
    // Bare: two namespaces, one veth pair.
    must(['ip', 'link', 'add', 'bva', 'netns', nsA, 'type', 'veth', 'peer', 'name', 'bvb', 'netns', nsB]);
    for (const [ns, dev, a] of [[nsA, 'bva', '10.211.0.1/24'], [nsB, 'bvb', '10.211.0.2/24']] as const) {
      must(['ip', '-n', ns, 'addr', 'add', a, 'dev', dev]);
      must(['ip', '-n', ns, 'link', 'set', dev, 'up']);
      must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    // Containers: a managed bridge in the benchmark's namespace, two host-template containers.
    lx(['network', 'create', 'benchbr0', '--subnet', '10.212.0.1/24']);
    for (const [name, addr] of [['ipa', '10.212.0.2'], ['ipb', '10.212.0.3']] as const) {
      lx(['create', name, '-t', 'host', '-q', '--', '--command', '/bin/sleep 1000000']);
      appendFileSync(join(dir, name, 'config'), `lxc.net.0.type = veth\nlxc.net.0.link = benchbr0\nlxc.net.0.flags = up\nlxc.net.0.ipv4.address = ${addr}/24\n`);
      lx(['start', name]);
    }
    const ctrPid = (name: string): number => (JSON.parse(lx(['info', name, '--json'])) as { pid: number }).pid;
    const pidB = ctrPid('ipb');
    const listening = (pid: number | string): boolean =>
      sh(typeof pid === 'number' ? ['nsenter', `--net=/proc/${pid}/ns/net`, 'cat', '/proc/net/tcp6', '/proc/net/tcp'] : ['ip', 'netns', 'exec', pid, 'cat', '/proc/net/tcp6', '/proc/net/tcp']).out.split('\n').some((l) => /^\s*\d+: [0-9A-F]+:1451 [0-9A-F]+:0000 0A /.test(l));

    // Start-time cost of the network: busybox containers, veth on the bridge vs lo only.
    lx(['create', 'stn', '-t', 'busybox', '-q']);
    appendFileSync(join(dir, 'stn', 'config'), 'lxc.net.0.type = veth\nlxc.net.0.link = benchbr0\nlxc.net.0.flags = up\n');
    lx(['create', 'ste', '-t', 'busybox', '-q']);
    appendFileSync(join(dir, 'ste', 'config'), 'lxc.net.0.type = empty\n');
    log(`network: start cost, ${opts.startRuns} starts each`);
    for (let i = 0; i < opts.startRuns + 1; i++) {
      for (const [name, into] of [['stn', startNet], ['ste', startEmpty]] as const) {
        const t0 = nowMs();
        lx(['start', name]);
        const ms = nowMs() - t0;
        if (i > 0) into.push(ms); // the first round warms caches
        lx(['stop', name, '-k']);
      }
    }

    for (let round = 0; round < opts.rounds; round++) {
      log(`network: round ${round + 1}/${opts.rounds}: bare veth, then containers (${opts.durationSec} s each)`);
      const sb = bg(['ip', 'netns', 'exec', nsB, iperf, '-s', '-1']);
      await waitPort(() => listening(nsB));
      bare.gbps.push(gbps(must(['ip', 'netns', 'exec', nsA, iperf, '-c', '10.211.0.2', '-t', String(opts.durationSec), '-J'], (opts.durationSec + 30) * 1000)));
      await stopBg(sb);
      bare.rtt.push(rttMs(must(['ip', 'netns', 'exec', nsA, busybox, 'ping', '-c', '20', '-i', '0.05', '10.211.0.2'])));

      const sc = bg(['nsenter', `--net=/run/netns/${nsHost}`, 'env', `LXTS_RUNDIR=${rundir}`, process.execPath, CLI, 'attach', 'ipb', '-P', dir, '--', iperf, '-s', '-1']);
      await waitPort(() => listening(pidB));
      ctr.gbps.push(gbps(lx(['attach', 'ipa', '--', iperf, '-c', '10.212.0.3', '-t', String(opts.durationSec), '-J'], (opts.durationSec + 30) * 1000)));
      await stopBg(sc);
      ctr.rtt.push(rttMs(lx(['attach', 'ipa', '--', busybox, 'ping', '-c', '20', '-i', '0.05', '10.212.0.3'])));
    }
  } finally {
    for (const c of servers) await stopBg(c);
    for (const n of ['ipa', 'ipb', 'stn', 'ste']) sh(['nsenter', `--net=/run/netns/${nsHost}`, 'env', `LXTS_RUNDIR=${rundir}`, process.execPath, CLI, 'destroy', '-f', n, '-P', dir]);
    sh(['nsenter', `--net=/run/netns/${nsHost}`, 'env', `LXTS_RUNDIR=${rundir}`, process.execPath, CLI, 'network', 'delete', '--force', 'benchbr0', '-P', dir]);
    for (const ns of [nsHost, nsA, nsB]) sh(['ip', 'netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
    rmSync(rundir, { recursive: true, force: true });
  }

  const bg_ = summarize(bare.gbps);
  const cg = summarize(ctr.gbps);
  const br = summarize(bare.rtt);
  const cr = summarize(ctr.rtt);
  const sn = summarize(startNet);
  const se = summarize(startEmpty);
  const rows = [
    ['Path', 'TCP throughput (Gbit/s, median)', 'range', 'ping RTT (ms, median)'],
    ['two bare netns, one veth pair', bg_.median.toFixed(2), `${bg_.min.toFixed(2)}–${bg_.max.toFixed(2)}`, fmtMs(br.median)],
    ['two lxts containers, veth + bridge', cg.median.toFixed(2), `${cg.min.toFixed(2)}–${cg.max.toFixed(2)}`, fmtMs(cr.median)],
    ['containers / bare', (cg.median / bg_.median).toFixed(2) + '×', '', (cr.median / br.median).toFixed(2) + '×'],
  ];
  const startRows = [
    ['Busybox container start (`lxts start`, CLI)', 'median ms', 'p90 ms'],
    ['lo only (lxc.net.0.type = empty)', fmtMs(se.median), fmtMs(se.p90)],
    ['veth on a managed bridge, address from the lease book', fmtMs(sn.median), fmtMs(sn.p90)],
    ['network setup cost (difference)', fmtMs(sn.median - se.median), ''],
  ];
  const table = mdTable(rows, ['l', 'r', 'r', 'r']) + '\n\n' + mdTable(startRows, ['l', 'r', 'r']);
  const markdown =
    head +
    `iperf3 TCP for ${opts.durationSec} s (one stream, receiver side) and a 20-packet ping, between two lxts containers on a managed bridge (\`lxts network create\`; ` +
    `\`host\` template containers, iperf3 run with \`lxts attach\`) and between two bare network namespaces joined by one veth pair, ` +
    `in ${opts.rounds} alternating round(s) of the same run. The container path has one more hop (veth → bridge → veth), so the ratio is the price of the bridge; ` +
    `all of it runs in namespaces the benchmark creates.\n\n` +
    mdTable(rows, ['l', 'r', 'r', 'r']) +
    `\n\nStart-time cost of the network (${opts.startRuns} starts each, alternating, after one warm-up round): the host side (one \`ip -batch\`), ` +
    `the inside (one \`nsenter --net ip -batch\`), the device list and the lease under its lock.\n\n` +
    mdTable(startRows, ['l', 'r', 'r']) +
    `\n\n${envBlock(environment(), { iperf3: versionOf(iperf, ['--version']).replace(/\s*\(.*$/, '') })}\n\nReproduce: \`${reproduceCommand(opts.args.length ? opts.args : ['network'])}\` (needs \`apt-get install iperf3\`).`;
  return { table, markdown };
}
