// Host-side memory per idle container (issue 4): RSS and PSS (/proc/PID/smaps_rollup) of
// everything lxts leaves running on the host per container (the lxts-exec monitor), for N idle
// busybox system containers, beside LXC's `[lxc monitor]` for N idle busybox containers made
// with `lxc-create -t busybox` under a temp lxcpath, in the same run, one after the other.
//
// Also the LXC peer helpers shared with bench/cycle.ts: temp lxcpath, create/start/stop/
// destroy, and removal of exactly the cgroups this run made (LXC leaves `lxc.pivot`).
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { which, versionOf, mdTable, environment, envBlock, reproduceCommand, log, summarize } from './lib.js';

// ---------------------------------------------------------------------------------------------
// /proc helpers

export interface Mem {
  rss: number;
  pss: number;
  /** Private_Clean + Private_Dirty: what this process alone costs. */
  priv: number;
}

/** kB figures of /proc/PID/smaps_rollup, or undefined if the process is gone. */
export function smapsRollup(pid: number): Mem | undefined {
  let t: string;
  try {
    t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    return undefined;
  }
  const f = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(t)?.[1] ?? 0);
  return { rss: f('Rss'), pss: f('Pss'), priv: f('Private_Clean') + f('Private_Dirty') };
}

function ppidOf(pid: number): number | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function pidNs(pid: number | 'self'): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

export function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/**
 * What a container leaves running on the host: the process tree rooted at its monitor (the
 * parent of its init), without the processes inside the container (another PID namespace).
 */
export function hostSideTree(initPid: number): number[] {
  const monitor = ppidOf(initPid);
  if (!monitor || monitor <= 1) return [];
  const host = pidNs('self');
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pp = ppidOf(Number(d));
    if (pp !== undefined) children.set(pp, [...(children.get(pp) ?? []), Number(d)]);
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    if (pidNs(p) !== host) return;
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(monitor);
  return out;
}

// ---------------------------------------------------------------------------------------------
// LXC peer

export interface LxcPeer {
  unavailable?: string;
  version: string;
  lxcpath: string;
  conf: string;
  names: string[];
  create(name: string): void;
  start(name: string): { ok: boolean; err: string };
  stop(name: string): { ok: boolean; err: string };
  initPid(name: string): number | undefined;
  /** Stop and destroy every container made, remove the cgroups this run created, remove the temp dir. */
  cleanup(): void;
}

const CG = '/sys/fs/cgroup';

function hierarchies(): string[] {
  try {
    return readdirSync(CG).filter((h) => existsSync(join(CG, h, 'cgroup.procs')));
  } catch {
    return [];
  }
}

export function lxcPeer(tag: string): LxcPeer {
  const bins = ['lxc-create', 'lxc-start', 'lxc-stop', 'lxc-destroy', 'lxc-info'].map((b) => which(b));
  const version = bins[0] ? versionOf(bins[0]) : '';
  const tmp = mkdtempSync(join(tmpdir(), `lxts-bench-${tag}-lxc-`));
  const lxcpath = join(tmp, 'lxcpath');
  mkdirSync(lxcpath);
  // The host's /etc/lxc/default.conf asks for a veth on lxcbr0 (not set up here): no network,
  // as the lxts busybox container has none either; AppArmor is not enforced on this kernel.
  const conf = join(tmp, 'default.conf');
  writeFileSync(conf, 'lxc.net.0.type = empty\nlxc.apparmor.profile = unconfined\n');
  const pivotBefore = new Set(hierarchies().filter((h) => existsSync(join(CG, h, 'lxc.pivot'))));
  const names: string[] = [];
  const run = (argv: string[], timeout = 60_000): { ok: boolean; err: string } => {
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] });
    return { ok: r.status === 0, err: (r.stderr || r.error?.message || '').trim().split('\n').slice(-1)[0] ?? '' };
  };
  const [create, start, stop, destroy, info] = bins;
  return {
    unavailable: bins.every(Boolean) ? undefined : 'not installed (optional peer: apt-get install lxc)',
    version,
    lxcpath,
    conf,
    names,
    create(name) {
      names.push(name);
      const r = run([create!, '-P', lxcpath, '-n', name, '-t', 'busybox', '-f', conf]);
      if (!r.ok) throw new Error(`lxc-create -t busybox ${name}: ${r.err}`);
    },
    start: (name) => run([start!, '-P', lxcpath, '-n', name, '-d']),
    stop: (name) => run([stop!, '-P', lxcpath, '-n', name, '-k']),
    initPid(name) {
      const r = spawnSync(info!, ['-P', lxcpath, '-n', name, '-p', '-H'], { encoding: 'utf8' });
      const p = Number(r.stdout.trim());
      return p > 0 ? p : undefined;
    },
    cleanup() {
      for (const n of names) {
        run([stop!, '-P', lxcpath, '-n', n, '-k'], 15_000);
        run([destroy!, '-P', lxcpath, '-n', n], 30_000);
      }
      // LXC's cgroups: lxc.monitor.NAME and lxc.payload.NAME per hierarchy (gone after a clean
      // stop), and an empty lxc.pivot where its monitors park; remove only what this run made.
      const left: string[] = [];
      for (const h of hierarchies()) {
        for (const n of names) {
          for (const d of [`lxc.monitor.${n}`, `lxc.payload.${n}`]) {
            const p = join(CG, h, d);
            if (!existsSync(p)) continue;
            try {
              rmdirSync(p);
            } catch {
              left.push(p);
            }
          }
        }
        if (!pivotBefore.has(h) && existsSync(join(CG, h, 'lxc.pivot'))) {
          try {
            rmdirSync(join(CG, h, 'lxc.pivot'));
          } catch {
            left.push(join(CG, h, 'lxc.pivot'));
          }
        }
      }
      if (left.length) log(`  warning: could not remove LXC cgroups: ${left.join(', ')}`);
      safeRemove(tmp);
    },
  };
}

/** Remove a temp dir, never through a mount point. */
export function safeRemove(dir: string): void {
  const m = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p && (p === dir || p.startsWith(dir + '/')));
  if (m.length) {
    log(`  NOT removing ${dir}: mount points below it: ${m.join(', ')}`);
    return;
  }
  rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// The benchmark

type AnyMod = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface IdleMemoryOptions {
  count: number;
  /** Idle time after the last start before measuring. */
  settleMs: number;
  args: string[];
}

interface Measured {
  who: string;
  unavailable?: string;
  /** Per container: host-side processes and their summed memory. */
  per: { name: string; procs: string[]; mem: Mem }[];
  note?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function measure(names: string[], initOf: (n: string) => number | undefined): Measured['per'] {
  return names.map((name) => {
    const init = initOf(name);
    const tree = init ? hostSideTree(init) : [];
    const mem: Mem = { rss: 0, pss: 0, priv: 0 };
    const procs: string[] = [];
    for (const p of tree) {
      const m = smapsRollup(p);
      if (!m) continue;
      mem.rss += m.rss;
      mem.pss += m.pss;
      mem.priv += m.priv;
      procs.push(comm(p));
    }
    return { name, procs, mem };
  });
}

async function measureLxts(o: IdleMemoryOptions): Promise<Measured> {
  let mod: AnyMod;
  try {
    mod = (await import('../src/container.js')) as AnyMod;
  } catch (e) {
    return { who: 'lxts', unavailable: `not built (${(e as Error).message.split('\n')[0]})`, per: [] };
  }
  const tmp = mkdtempSync(join(tmpdir(), 'lxts-bench-mem-'));
  const loc = { lxtspath: join(tmp, 'path'), rundir: join(tmp, 'run') };
  const cs: AnyMod[] = [];
  try {
    for (let i = 0; i < o.count; i++) {
      const c = new mod.Container(`mem${String(i).padStart(2, '0')}`, loc);
      await c.create('busybox');
      cs.push(c);
    }
    for (const c of cs) await c.start();
    await sleep(o.settleMs);
    const per = measure(cs.map((c) => c.name), (n) => cs.find((c) => c.name === n)!.runtime()?.initPid);
    const bad = per.filter((p) => !p.procs.length);
    if (bad.length) return { who: 'lxts', unavailable: `failed: no monitor found for ${bad.map((b) => b.name).join(', ')}`, per: [] };
    return { who: 'lxts', per, note: 'started with `Container.start()` (the same detached monitor `lxts start` leaves)' };
  } finally {
    for (const c of cs) {
      try {
        if (await c.isRunning()) await c.stop({ kill: true });
        await c.destroy({ force: true });
      } catch (e) {
        log(`  warning: clean-up of ${c.name}: ${(e as Error).message}`);
      }
    }
    safeRemove(tmp);
  }
}

async function measureLxc(o: IdleMemoryOptions): Promise<Measured> {
  const peer = lxcPeer('mem');
  if (peer.unavailable) {
    peer.cleanup();
    return { who: 'LXC', unavailable: peer.unavailable, per: [] };
  }
  const onSig = (): void => {
    peer.cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSig);
  try {
    const names = Array.from({ length: o.count }, (_, i) => `lxcmem-${process.pid}-${i}`);
    for (const n of names) peer.create(n);
    for (const n of names) {
      const r = peer.start(n);
      if (!r.ok) return { who: 'LXC', unavailable: `failed: lxc-start -d ${n}: ${r.err}`, per: [] };
    }
    await sleep(o.settleMs);
    const per = measure(names, (n) => peer.initPid(n));
    const bad = per.filter((p) => !p.procs.length);
    if (bad.length) return { who: 'LXC', unavailable: `failed: no monitor found for ${bad.map((b) => b.name).join(', ')}`, per: [] };
    return { who: 'LXC', per, note: `${peer.version}: \`lxc-create -t busybox -f CONF\` (CONF: \`lxc.net.0.type = empty\`, \`lxc.apparmor.profile = unconfined\`) under a temp lxcpath, \`lxc-start -d\`` };
  } finally {
    process.removeListener('SIGINT', onSig);
    peer.cleanup();
  }
}

export interface IdleMemoryResult {
  markdown: string;
  table: string;
}

const kb = (x: number): string => (x >= 1024 ? `${(x / 1024).toFixed(2)} MiB` : `${Math.round(x)} KiB`);

export async function idleMemoryBench(o: IdleMemoryOptions): Promise<IdleMemoryResult> {
  const env = environment();
  log(`idle-memory: ${o.count} idle busybox containers each, lxts then LXC, ${o.settleMs} ms idle before measuring`);
  const lxts = await measureLxts(o);
  log(`  lxts: ${lxts.unavailable ?? 'measured'}`);
  const lxc = await measureLxc(o);
  log(`  LXC: ${lxc.unavailable ?? 'measured'}`);

  const rows = [['subject', 'host processes per container', 'RSS per container (median)', 'PSS per container (median)', 'private per container', `PSS, all ${o.count}`, 'PSS ÷ LXC']];
  const pssMed = (m: Measured): number => summarize(m.per.map((p) => p.mem.pss)).median;
  for (const m of [lxts, lxc]) {
    if (m.unavailable) {
      rows.push([m.who, m.unavailable, '', '', '', '', '']);
      continue;
    }
    const procs = [...new Set(m.per.map((p) => p.procs.join(' + ')))].join('; ');
    const s = (f: (x: Mem) => number): number => summarize(m.per.map((p) => f(p.mem))).median;
    const total = m.per.reduce((a, p) => a + p.mem.pss, 0);
    rows.push([
      m.who,
      `${m.per[0]!.procs.length} (${procs})`,
      kb(s((x) => x.rss)),
      kb(s((x) => x.pss)),
      kb(s((x) => x.priv)),
      kb(total),
      lxc.unavailable ? '–' : (pssMed(m) / pssMed(lxc)).toFixed(2) + '×',
    ]);
  }
  const table = mdTable(rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r']);
  let verdict: string;
  if (lxts.unavailable) verdict = `lxts was not measurable in this run (${lxts.unavailable}).`;
  else if (lxc.unavailable) verdict = `LXC was ${lxc.unavailable}, so the target (less than LXC's monitor) could not be checked in this run.`;
  else {
    const r = (f: (x: Mem) => number): number => summarize(lxts.per.map((p) => f(p.mem))).median / summarize(lxc.per.map((p) => f(p.mem))).median;
    const met = r((x) => x.rss) < 1 && r((x) => x.pss) < 1;
    verdict = `Per idle container lxts leaves ${kb(summarize(lxts.per.map((p) => p.mem.rss)).median)} RSS / ${kb(pssMed(lxts))} PSS on the host against LXC's ${kb(summarize(lxc.per.map((p) => p.mem.rss)).median)} / ${kb(pssMed(lxc))} (${r((x) => x.rss).toFixed(2)}× RSS, ${r((x) => x.pss).toFixed(2)}× PSS): the target (less memory than LXC's monitor) is ${met ? '**met**' : '**not met**'}.`;
  }
  const md = `## Host-side memory per idle container (issue 4)

**What it measures.** ${o.count} busybox system containers are started and left idle for
${(o.settleMs / 1000).toFixed(1)} s; then, for each, the process tree rooted at its monitor (the parent of
its init) is walked, keeping only processes in the host's PID namespace — that is everything
the container costs on the host outside the container itself. RSS and PSS are from
\`/proc/PID/smaps_rollup\`; PSS divides shared pages among the processes that map them, so
the ${o.count} monitors of one kind share their code, and "private" (Private_Clean + Private_Dirty)
is what each one costs alone. lxts's ${o.count} run first, are stopped and destroyed, then LXC's
${o.count}, so neither shares pages with the other. The containers' own memory (init, getty) is
not counted: it is the same busybox in both.

**Command:** \`${reproduceCommand(o.args)}\`

**Environment:**
${envBlock(env, { LXC: lxc.unavailable ?? (lxcVersion() || 'installed') })}

### Results

${table}

${[lxts, lxc].filter((m) => m.note).map((m) => `- ${m.who}: ${m.note}`).join('\n')}
- lxts's monitor is \`native/lxts-exec\`, a statically linked C program (no libc shared with
  anything else, hence PSS close to RSS for a single one); LXC's \`[lxc monitor]\` is
  \`lxc-start\` staying resident, dynamically linked against liblxc and libc.

### Conclusion

${verdict}
`;
  return { markdown: md, table: table + '\n\n' + verdict };
}

function lxcVersion(): string {
  const p = which('lxc-start');
  return p ? versionOf(p) : '';
}
