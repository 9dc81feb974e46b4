// Start+stop cycle time of a busybox system container (issue 4): `lxts start` + `lxts stop -k`
// through the CLI, `Container.start()` + `stop({kill:true})` through the library in this
// process, and LXC's `lxc-start -d` + `lxc-stop -k` on a container made with
// `lxc-create -t busybox` under a temp lxcpath — measured in the same run, in rotating blocks.
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { REPO, summarize, nowMs, timeCommand, fmtMs, fmtRatio, mdTable, environment, envBlock, reproduceCommand, log, type Summary } from './lib.js';
import { lxcPeer, safeRemove } from './idle-memory.js';

type AnyMod = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface CycleOptions {
  runs: number;
  warmup: number;
  passes: number;
  args: string[];
}

interface Subject {
  key: string;
  label: string;
  command: string;
  unavailable?: string;
  /** One cycle: [start ms, stop ms]. */
  run?: () => Promise<[number, number]>;
  start: number[];
  stop: number[];
}

export interface CycleResult {
  markdown: string;
  table: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function cycleBench(o: CycleOptions): Promise<CycleResult> {
  const env = environment();
  const tmp = mkdtempSync(join(tmpdir(), 'lxts-bench-cycle-'));
  const loc = { lxtspath: join(tmp, 'path'), rundir: join(tmp, 'run') };
  const peer = lxcPeer('cycle');
  const onSig = (): void => {
    peer.cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSig);
  let mod: AnyMod | undefined;
  const made: AnyMod[] = [];
  const subjects: Subject[] = [];
  let phases: { start: number[]; request: number[]; postStop: number[]; cleanup: number[] } | undefined;
  try {
    try {
      mod = (await import('../src/container.js')) as AnyMod;
    } catch (e) {
      log(`  (cannot load the library: ${(e as Error).message.split('\n')[0]})`);
    }
    const notBuilt = mod ? undefined : 'not built (npm run build)';
    const node = process.execPath;
    const cli = join(REPO, 'bin', 'lxts.js');
    if (mod) {
      for (const n of ['cyc-cli', 'cyc-lib']) {
        const c = new mod.Container(n, loc);
        await c.create('busybox');
        made.push(c);
      }
    }
    // (a) the CLI: two commands, as a user types them.
    const cliEnv = { ...process.env, LXTS_RUNDIR: loc.rundir };
    const cliCmd = (args: string[]): number => {
      const r = timeCommand([node, cli, ...args, '-P', loc.lxtspath], { env: cliEnv });
      if (r.status !== 0) throw new Error(`lxts ${args.join(' ')}: exit ${r.status ?? r.signal}: ${r.stderr.trim().split('\n')[0]}`);
      return r.ms;
    };
    subjects.push({
      key: 'cli', label: 'lxts CLI (`lxts start` + `lxts stop -k`)', command: 'node bin/lxts.js start cyc-cli; node bin/lxts.js stop -k cyc-cli', unavailable: notBuilt,
      run: async () => [cliCmd(['start', 'cyc-cli']), cliCmd(['stop', '-k', 'cyc-cli'])], start: [], stop: [],
    });
    // (b) the library, in this process.
    const lib = made[1];
    subjects.push({
      key: 'lib', label: 'lxts library (`start()` + `stop({kill:true})`)', command: "await c.start(); await c.stop({kill: true}) in one process", unavailable: notBuilt,
      run: async () => {
        const t0 = nowMs();
        await lib!.start();
        const t1 = nowMs();
        await lib!.stop({ kill: true });
        return [t1 - t0, nowMs() - t1];
      },
      start: [], stop: [],
    });
    // (c) LXC
    let lxcUnavailable = peer.unavailable;
    const lxcName = `lxccyc-${process.pid}`;
    if (!lxcUnavailable) {
      try {
        peer.create(lxcName);
      } catch (e) {
        lxcUnavailable = `failed: ${(e as Error).message}`;
      }
    }
    subjects.push({
      key: 'lxc', label: `LXC (\`lxc-start -d\` + \`lxc-stop -k\`)`, command: `lxc-start -P $LXCPATH -n NAME -d; lxc-stop -P $LXCPATH -n NAME -k`, unavailable: lxcUnavailable,
      run: async () => {
        const t0 = nowMs();
        const a = peer.start(lxcName);
        const t1 = nowMs();
        if (!a.ok) throw new Error(`lxc-start: ${a.err}`);
        const b = peer.stop(lxcName);
        const t2 = nowMs();
        if (!b.ok) throw new Error(`lxc-stop: ${b.err}`);
        return [t1 - t0, t2 - t1];
      },
      start: [], stop: [],
    });

    const active = (): Subject[] => subjects.filter((s) => !s.unavailable);
    for (const s of active()) {
      for (let w = 0; w < o.warmup && !s.unavailable; w++) {
        try {
          await s.run!();
        } catch (e) {
          s.unavailable = `failed: ${(e as Error).message}`;
        }
      }
    }
    const list = active();
    const passes = Math.min(o.passes, o.runs);
    log(`cycle: ${list.length} subjects, ${o.runs} cycles each in ${passes} passes (+ ${o.warmup} warm-up)`);
    for (let pass = 0; pass < passes; pass++) {
      const per = Math.floor(o.runs / passes) + (pass < o.runs % passes ? 1 : 0);
      const k = pass % list.length;
      for (const s of [...list.slice(k), ...list.slice(0, k)]) {
        for (let i = 0; i < per && !s.unavailable; i++) {
          try {
            const [a, b] = await s.run!();
            s.start.push(a);
            s.stop.push(b);
          } catch (e) {
            s.unavailable = `failed during the run: ${(e as Error).message}`;
          }
        }
      }
      log(`  pass ${pass + 1}/${passes}`);
    }

    // Where the library's stop goes: stop({kill:true}) re-enacted with the library's pieces.
    if (mod && lib && !subjects[1]!.unavailable) {
      try {
        const mc = (await import('../src/monitor-client.js')) as AnyMod;
        phases = { start: [], request: [], postStop: [], cleanup: [] };
        for (let i = 0; i < Math.max(5, Math.min(20, o.runs)); i++) {
          const t0 = nowMs();
          await lib.start();
          const t1 = nowMs();
          const monitor = lib.monitorPid();
          await mc.monitorRequest(lib.paths.sock, 'stop 9 0 noexit', 10000);
          const t2 = nowMs();
          if (monitor) await mod.waitForExit(monitor, 15000);
          const t3 = nowMs();
          await lib.cleanupAfterStop(false);
          const t4 = nowMs();
          phases.start.push(t1 - t0);
          phases.request.push(t2 - t1);
          phases.postStop.push(t3 - t2);
          phases.cleanup.push(t4 - t3);
        }
      } catch (e) {
        log(`  phase breakdown failed: ${(e as Error).message}`);
        phases = undefined;
      }
    }
  } finally {
    process.removeListener('SIGINT', onSig);
    for (const c of made) {
      try {
        await c.destroy({ force: true });
      } catch (e) {
        log(`  warning: clean-up of ${c.name}: ${(e as Error).message}`);
      }
    }
    peer.cleanup();
    await sleep(0);
    safeRemove(tmp);
  }
  return report(subjects, phases, env, o, peer.version);
}

function report(subjects: Subject[], phases: { start: number[]; request: number[]; postStop: number[]; cleanup: number[] } | undefined, env: ReturnType<typeof environment>, o: CycleOptions, lxcVersion: string): CycleResult {
  const total = (s: Subject): number[] => s.start.map((a, i) => a + s.stop[i]!);
  const sum = (k: string): Summary | undefined => {
    const s = subjects.find((x) => x.key === k)!;
    return s.unavailable || !s.start.length ? undefined : summarize(total(s));
  };
  const lxc = sum('lxc');
  const rows = [['subject', 'cycle median ms', 'p90 ms', 'min ms', 'start median ms', 'stop median ms', 'n', '÷ LXC']];
  for (const s of subjects) {
    if (s.unavailable || !s.start.length) {
      rows.push([s.label, s.unavailable ?? 'no samples', '', '', '', '', '', '']);
      continue;
    }
    const t = summarize(total(s));
    rows.push([s.label, fmtMs(t.median), fmtMs(t.p90), fmtMs(t.min), fmtMs(summarize(s.start).median), fmtMs(summarize(s.stop).median), String(t.n), lxc ? fmtRatio(t.median / lxc.median) : '–']);
  }
  const table = mdTable(rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r']);
  const lib = sum('lib');
  let target: string;
  if (lib && lxc) {
    const r = lib.median / lxc.median;
    target = `Library cycle within 1.5× of LXC's: ${fmtMs(lib.median)} ms vs ${fmtMs(lxc.median)} ms = **${fmtRatio(r)}** — ${r <= 1.5 ? '**met**' : '**not met**'}.`;
  } else target = `Library cycle within 1.5× of LXC's: not measurable in this run (${subjects.find((s) => s.key === (lib ? 'lxc' : 'lib'))?.unavailable ?? 'no samples'}).`;
  let phaseMd = '';
  let phaseText = '';
  if (phases) {
    const m = (xs: number[]): string => fmtMs(summarize(xs).median);
    const prow = [
      ['phase (library, re-enacted)', 'median ms'],
      ['`start()`: lock, config, compile, lxts-exec, cgroup at the barrier, init running', m(phases.start)],
      ['`stop 9 0 noexit` on the monitor socket until it answers "stopped" (init killed and reaped)', m(phases.request)],
      ['then until the monitor exits (it skips its ON_EXIT hook: the stopping process cleans up)', m(phases.postStop)],
      ['`cleanupAfterStop`: cgroup removal, run dir', m(phases.cleanup)],
    ];
    phaseText = mdTable(prow, ['l', 'r']);
    phaseMd = `\n### Where the library's time goes\n\n\`stop({kill:true})\` re-enacted with the library's own pieces (${phases.start.length} cycles):\n\n${phaseText}\n\n\`lxts stop\` asks the monitor to skip its ON_EXIT hook (\`noexit\`) and removes the cgroup itself: the hook, a second Node.js process (\`lxts internal post-stop\`), runs only when a container's init ends on its own.\n`;
  }
  const post = phases ? summarize(phases.postStop).median : undefined;
  const without = phases ? summarize(phases.start).median + summarize(phases.request).median + summarize(phases.cleanup).median : undefined;
  const libRatio = lib && lxc ? lib.median / lxc.median : undefined;
  const conclusion = !lib || !lxc
    ? target
    : `${target}${libRatio! > 1.5 && post !== undefined ? ` Of the library's ${fmtMs(lib.median)} ms, ${fmtMs(post)} ms is waiting for the monitor to exit; the other phases add up to about ${fmtMs(without!)} ms (${fmtRatio(without! / lxc.median)} LXC's cycle).` : ''}`;
  const md = `## Start+stop cycle of a busybox system container (issue 4)

**What it measures.** One start and one kill-stop of a busybox system container (busybox
init with a getty on the console), timed from the start command to the return of the stop
command, which for every subject means the container is gone: lxts through the CLI (two
\`node bin/lxts.js\` commands, each timed from spawn to exit), lxts through the library
(\`await c.start(); await c.stop({kill: true})\` in this long-lived process), and LXC
(\`lxc-start -d\` then \`lxc-stop -k\`, spawned and timed the same way) on a container made by
\`lxc-create -t busybox\` under a temp lxcpath (no network: \`lxc.net.0.type = empty\`).
After ${o.warmup} warm-up cycles each, every subject runs ${o.runs} cycles in ${Math.min(o.passes, o.runs)} blocks; the
blocks rotate so drift hits every subject alike.

**Command:** \`${reproduceCommand(o.args)}\`

**Environment:**
${envBlock(env, { LXC: lxcVersion || 'not installed' })}

### Results

${table}

### Target (issue 4)

- ${target}
${phaseMd}
### Commands measured

${subjects.map((s) => `- ${s.label}: \`${s.command}\``).join('\n')}

### Conclusion

${conclusion}
`;
  return { markdown: md, table: table + '\n\n' + target + (phaseText ? '\n\n' + phaseText : '') };
}
