// Demo precision (issue 3): how close `lxts demo` gets to a 75/25 split of one CPU over 20 s,
// in absolute percentage points, beside LXC doing the same with two lxc-execute containers
// (cpuset pinned to the same CPU, cpu.shares 768/256, a busy loop each), measured from the
// containers' own cgroup CPU accounting, in the same run.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync, existsSync, rmdirSync } from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir, cpus } from 'node:os';
import { which, versionOf, nowMs, mdTable, environment, envBlock, reproduceCommand, log } from './lib.js';

export interface DemoOptions {
  durationSec: number;
  quick: boolean;
  args: string[];
}

type AnyMod = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SPLIT = [75, 25] as const;
const SHARES = [768, 256] as const;

interface Measured {
  who: string;
  /** Measured shares, percent, in split order. */
  split?: number[];
  /** max |measured - target| over the containers, percentage points. */
  errorPp?: number;
  cpuSeconds?: number[];
  /** How busy the pinned CPU was with the containers, percent of one CPU. */
  busyPct?: number;
  seconds?: number;
  cpu?: number;
  note?: string;
  unavailable?: string;
}

const fmt = (x: unknown): string => (typeof x === 'number' ? x.toFixed(1) : '?');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function mountsBelow(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p && (p === dir || p.startsWith(dir + '/')));
}

function safeRemove(dir: string): void {
  const m = mountsBelow(dir);
  if (m.length) log(`  NOT removing ${dir}: mount points below it: ${m.join(', ')}`);
  else rmSync(dir, { recursive: true, force: true });
}

/** The CPU both demos pin to: the last CPU of this process's cpuset (the demo's default). */
async function pinnedCpu(): Promise<number> {
  try {
    const m = (await import('../src/demo/split.js')) as AnyMod;
    if (typeof m.chooseCpu === 'function') return m.chooseCpu(undefined);
  } catch {
    /* fall back */
  }
  return cpus().length - 1;
}

// --- lxts ------------------------------------------------------------------------------------

async function measureLxts(durationSec: number, cpu: number): Promise<Measured> {
  let mod: AnyMod;
  try {
    const spec = '../src/demo/run-demo.js'; // a variable: the module may not exist yet at compile time
    mod = (await import(spec)) as AnyMod;
  } catch (e) {
    return { who: 'lxts', unavailable: `not available (src/demo/run-demo.ts not built: ${(e as Error).message.split('\n')[0]})` };
  }
  if (typeof mod.runDemo !== 'function') return { who: 'lxts', unavailable: 'not available (runDemo not exported)' };
  const t0 = nowMs();
  const summary = await mod.runDemo({ split: [...SPLIT], durationSec, cpu, namePrefix: 'bench-demo' });
  const wall = (nowMs() - t0) / 1000;
  const m = fromSummary(summary);
  return { who: 'lxts', ...m, note: `runDemo: measured window ${fmt(m.seconds)} s after a ${fmt(summary?.warmupSec)} s warm-up, ${summary?.samples ?? '?'} samples, ${summary?.weightFile ?? '?'} ${Array.isArray(summary?.containers) ? summary.containers.map((c: AnyMod) => c.shares ?? c.weight).join('/') : ''}; whole run incl. start and stop ${wall.toFixed(1)} s` };
}

/** Reads the demo's summary, tolerant of field names (the measurement itself is the demo's). */
function fromSummary(s: AnyMod): Partial<Measured> {
  const cs: AnyMod[] = Array.isArray(s?.containers) ? s.containers : [];
  const num = (o: AnyMod, ...ks: string[]): number | undefined => {
    for (const k of ks) if (typeof o?.[k] === 'number') return o[k];
    return undefined;
  };
  let split: number[] | undefined = Array.isArray(s?.measured) ? s.measured : Array.isArray(s?.measuredSplit) ? s.measuredSplit : undefined;
  if (!split && cs.length) split = cs.map((c) => num(c, 'measured', 'share', 'cumulative', 'measuredPct') ?? NaN);
  const cpuSeconds = cs.length ? cs.map((c) => num(c, 'cpuSeconds', 'cpuSec') ?? NaN) : undefined;
  let errorPp = num(s, 'maxErrorPp', 'errorPp', 'absErrorPp', 'error');
  if (errorPp === undefined && split) errorPp = Math.max(...split.map((x, i) => Math.abs(x - SPLIT[i])));
  return { split, errorPp: errorPp === undefined ? undefined : Math.abs(errorPp), cpuSeconds, cpu: num(s, 'cpu'), busyPct: num(s, 'cpuBusyPct'), seconds: num(s, 'measuredSec') };
}

// --- LXC -------------------------------------------------------------------------------------

interface LxcContainer {
  name: string;
  proc: ChildProcess;
  exited: Promise<void>;
  usageFile?: string;
}

async function measureLxc(durationSec: number, cpu: number): Promise<Measured> {
  const exe = which('lxc-execute');
  const stop = which('lxc-stop');
  const info = which('lxc-info');
  if (!exe || !stop || !info) return { who: 'LXC', unavailable: 'not installed (optional peer: apt-get install lxc)' };
  const tmp = mkdtempSync(join(tmpdir(), 'lxts-bench-lxc-'));
  const rootfs = join(tmp, 'rootfs');
  const lxcpath = join(tmp, 'lxcpath');
  mkdirSync(lxcpath);
  const pivotExisted = existsSync('/sys/fs/cgroup/cpu/lxc.pivot') || existsSync('/sys/fs/cgroup/unified/lxc.pivot');
  const containers: LxcContainer[] = [];
  const stopAll = (): void => {
    for (const c of containers) spawnSync(stop, ['-n', c.name, '-P', lxcpath, '-k'], { stdio: 'ignore', timeout: 10_000 });
  };
  const onSignal = (): void => {
    stopAll();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  try {
    const bb = (await import('../src/template/busybox-rootfs.js')) as AnyMod;
    bb.makeBusyboxRootfs(rootfs);
    for (let i = 0; i < SPLIT.length; i++) {
      const name = `lxtsbench-${process.pid}-${String.fromCharCode(97 + i)}`;
      const conf = join(tmp, `${name}.conf`);
      writeFileSync(
        conf,
        [
          `lxc.uts.name = ${name}`,
          `lxc.rootfs.path = dir:${rootfs}`,
          'lxc.net.0.type = empty',
          'lxc.apparmor.profile = unconfined',
          'lxc.autodev = 1',
          `lxc.cgroup.cpuset.cpus = ${cpu}`,
          `lxc.cgroup.cpu.shares = ${SHARES[i]}`,
          '',
        ].join('\n'),
      );
      const proc = spawn(exe, ['-n', name, '-P', lxcpath, '-f', conf, '-o', join(tmp, `${name}.log`), '-l', 'WARN', '--', '/bin/sh', '-c', 'while :; do :; done'], { stdio: 'ignore' });
      const exited = new Promise<void>((res) => {
        proc.on('exit', () => res());
        proc.on('error', () => res());
      });
      containers.push({ name, proc, exited });
    }
    // Find each container's CPU accounting from its init's /proc/PID/cgroup.
    const deadline = nowMs() + 15_000;
    for (const c of containers) {
      while (!c.usageFile) {
        if (nowMs() > deadline || c.proc.exitCode !== null) {
          const logText = existsSync(join(tmp, `${c.name}.log`)) ? readFileSync(join(tmp, `${c.name}.log`), 'utf8').trim().split('\n').slice(-1)[0] : '';
          return { who: 'LXC', unavailable: `failed: lxc-execute did not start ${c.name}${logText ? ': ' + logText : ''}` };
        }
        const pid = spawnSync(info, ['-n', c.name, '-P', lxcpath, '-p', '-H'], { encoding: 'utf8' }).stdout.trim();
        if (/^\d+$/.test(pid)) c.usageFile = usageFileOf(Number(pid));
        if (!c.usageFile) await sleep(50);
      }
    }
    // Like runDemo: a 1 s warm-up (at most half the duration) inside the duration, then measure.
    const warmupMs = Math.min(1000, (durationSec * 1000) / 2);
    await sleep(warmupMs);
    const read = (): number[] => containers.map((c) => Number(readFileSync(c.usageFile!, 'utf8').trim()));
    const u0 = read();
    const t0 = nowMs();
    await sleep(durationSec * 1000 - warmupMs);
    const u1 = read();
    const wallNs = (nowMs() - t0) * 1e6;
    const d = u1.map((x, i) => x - u0[i]);
    const total = d.reduce((a, b) => a + b, 0);
    const split = d.map((x) => (x / total) * 100);
    return {
      who: 'LXC',
      split,
      errorPp: Math.max(...split.map((x, i) => Math.abs(x - SPLIT[i]))),
      cpuSeconds: d.map((x) => x / 1e9),
      busyPct: (total / wallNs) * 100,
      seconds: wallNs / 1e9,
      cpu,
      note: `LXC ${versionOf(exe)}: lxc-execute, cpuset.cpus ${cpu}, cpu.shares ${SHARES.join('/')}, busy loop \`while :; do :; done\` in busybox sh; cpuacct.usage over ${(wallNs / 1e9).toFixed(1)} s after a ${(warmupMs / 1000).toFixed(1)} s warm-up`,
    };
  } finally {
    stopAll();
    for (const c of containers) {
      const gone = await Promise.race([c.exited.then(() => true), sleep(10_000).then(() => false)]);
      if (!gone && c.proc.pid) {
        try {
          process.kill(c.proc.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    process.removeListener('SIGINT', onSignal);
    // LXC leaves an empty `lxc.pivot` cgroup (where its monitor parks itself) per hierarchy; remove it if this run made it.
    if (!pivotExisted) {
      for (const h of safeReaddir('/sys/fs/cgroup')) {
        const p = `/sys/fs/cgroup/${h}/lxc.pivot`;
        if (existsSync(p)) {
          try {
            rmdirSync(p);
          } catch {
            /* busy or not ours */
          }
        }
      }
    }
    const left = containers.flatMap((c) => safeReaddir('/sys/fs/cgroup').filter((h) => existsSync(`/sys/fs/cgroup/${h}/lxc.payload.${c.name}`)).map((h) => `${h}/lxc.payload.${c.name}`));
    if (left.length) log(`  warning: LXC left cgroups behind: ${left.join(', ')}`);
    safeRemove(tmp);
  }
}

function safeReaddir(d: string): string[] {
  try {
    return spawnSync('ls', [d], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** cpuacct.usage (v1, ns) of the cgroup PID is in, or undefined. */
function usageFileOf(pid: number): string | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [, ctrls, path] = line.split(':');
    if (ctrls?.split(',').includes('cpuacct') && path && path !== '/') {
      for (const mnt of [`/sys/fs/cgroup/${ctrls}`, '/sys/fs/cgroup/cpuacct', '/sys/fs/cgroup/cpu,cpuacct']) {
        const f = `${mnt}${path}/cpuacct.usage`;
        if (existsSync(f)) return f;
      }
    }
  }
  return undefined;
}

/** Idle percentage of one CPU over `ms`, from /proc/stat (idle + iowait). */
async function cpuIdlePct(cpu: number, ms = 1000): Promise<number | undefined> {
  const read = (): number[] | undefined => {
    const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`cpu${cpu} `));
    return line?.trim().split(/\s+/).slice(1).map(Number);
  };
  const a = read();
  await sleep(ms);
  const b = read();
  if (!a || !b) return undefined;
  const d = b.map((x, i) => x - a[i]);
  const total = d.slice(0, 8).reduce((x, y) => x + y, 0);
  return total > 0 ? ((d[3] + d[4]) / total) * 100 : undefined;
}

// --- report ----------------------------------------------------------------------------------

export async function demoBench(o: DemoOptions): Promise<{ markdown: string; table: string }> {
  const env = environment();
  const cpu = await pinnedCpu();
  log(`demo: lxts demo ${SPLIT.join('/')} for ${o.durationSec} s, then LXC for ${o.durationSec} s, on CPU ${cpu}`);
  const idle: string[] = [];
  let lxts: Measured;
  try {
    idle.push(`before lxts ${(await cpuIdlePct(cpu))?.toFixed(0) ?? '?'}%`);
    lxts = await measureLxts(o.durationSec, cpu);
  } catch (e) {
    lxts = { who: 'lxts', unavailable: `failed: ${(e as Error).message.split('\n')[0]}` };
  }
  log(`  lxts: ${lxts.unavailable ?? lxts.split?.map((x) => x.toFixed(2)).join('/') + ` (error ${lxts.errorPp?.toFixed(3)} pp)`}`);
  let lxc: Measured;
  try {
    if (which('lxc-execute')) idle.push(`before LXC ${(await cpuIdlePct(cpu))?.toFixed(0) ?? '?'}%`);
    lxc = await measureLxc(o.durationSec, cpu);
  } catch (e) {
    lxc = { who: 'LXC', unavailable: `failed: ${(e as Error).message.split('\n')[0]}` };
  }
  log(`  LXC: ${lxc.unavailable ?? lxc.split?.map((x) => x.toFixed(2)).join('/') + ` (error ${lxc.errorPp?.toFixed(3)} pp)`}`);

  const rows = [['subject', 'measured split %', 'abs. error pp', 'CPU s (each)', 'CPU busy %', 'window s', 'error ÷ LXC error']];
  for (const m of [lxts, lxc]) {
    if (m.unavailable) {
      rows.push([m.who, m.unavailable, '', '', '', '', '']);
      continue;
    }
    const ratio = m === lxts && lxc.errorPp !== undefined && m.errorPp !== undefined ? (lxc.errorPp > 0 ? (m.errorPp / lxc.errorPp).toFixed(2) + '×' : '–') : m === lxc ? '1.00×' : '–';
    rows.push([
      m.who,
      m.split?.map((x) => x.toFixed(2)).join(' / ') ?? '–',
      m.errorPp !== undefined ? m.errorPp.toFixed(3) : '–',
      m.cpuSeconds?.map((x) => (Number.isFinite(x) ? x.toFixed(2) : '?')).join(' / ') ?? '–',
      m.busyPct !== undefined ? m.busyPct.toFixed(1) : '–',
      m.seconds !== undefined ? m.seconds.toFixed(1) : '–',
      lxc.unavailable ? '–' : ratio,
    ]);
  }
  const table = mdTable(rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r']);
  const contended = [lxts, lxc].filter((m) => m.busyPct !== undefined && m.busyPct < 95).map((m) => `${m.who} ${m.busyPct!.toFixed(0)}%`);
  let verdict: string;
  if (lxts.unavailable) verdict = `lxts was not measurable in this run (${lxts.unavailable}).`;
  else if (lxc.unavailable) verdict = `lxts measured ${lxts.errorPp?.toFixed(3)} pp from ${SPLIT.join('/')}; LXC was ${lxc.unavailable}, so the target (no larger than LXC's error) could not be checked in this run.`;
  else {
    const met = (lxts.errorPp ?? Infinity) <= (lxc.errorPp ?? 0);
    verdict = `lxts's error is ${lxts.errorPp?.toFixed(3)} pp against LXC's ${lxc.errorPp?.toFixed(3)} pp in the same run: the target (no larger than LXC's) is ${met ? '**met**' : '**not met**'}` +
      (!met && (lxts.errorPp ?? 0) < 0.5 ? `; both are well below half a point, the level where the kernel's scheduler noise (other work on the CPU, sampling edges) dominates, so a single 20 s run does not separate them.` : '.');
  }
  if (contended.length) verdict += ` Caution: the pinned CPU was shared with other work during this run (containers' CPU busy: ${contended.join(', ')}), so these errors include that noise; rerun on a quiet machine for a clean comparison.`;
  const md = `## Demo precision: a 75/25 split of one CPU (issue 3)

**What it measures.** \`runDemo({split:[75,25], durationSec: ${o.durationSec}})\` — two containers pinned to one
CPU with CPU weights for 75% and 25%, each running a busy loop — and the absolute error of the
measured split in percentage points (the demo's own summary, from the cgroups' CPU accounting
after its warm-up). Beside it, LXC doing the same in the same run: two \`lxc-execute\`
containers on the same busybox rootfs with \`lxc.cgroup.cpuset.cpus = ${cpu}\` and
\`lxc.cgroup.cpu.shares = 768\` / \`256\`, each running \`while :; do :; done\`, measured from
their cgroups' \`cpuacct.usage\` over the same window as the demo's (a 1 s warm-up inside the
${o.durationSec} s, then the rest). The two run one after the other on the same CPU. LXC is an **optional**
peer: it is measured only when \`lxc-execute\` is installed (\`apt-get install lxc\`); the
benchmark installs nothing. Error = max over the containers of |measured − target|.

**Command:** \`${reproduceCommand(o.args)}\`

**Environment:**
${envBlock(env, { 'Pinned CPU': `${cpu} (idle over the second before each measurement: ${idle.join(', ')})`, LXC: lxc.unavailable ? lxc.unavailable : versionOf(which('lxc-execute')!) || 'installed' })}

### Results

${table}

Target (issue 3): error no larger than LXC's. "CPU busy %" is the containers' CPU time over
the measured window as a percentage of the pinned CPU: below ~95% means other work shared that
CPU during the run (both subjects are affected alike, but the numbers are then noisier).

${[lxts, lxc].filter((m) => m.note).map((m) => `- ${m.who}: ${m.note}`).join('\n')}

### Conclusion

${verdict}
`;
  return { markdown: md, table };
}
