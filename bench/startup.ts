// Start latency (issue 2): a container that runs /bin/true, from start to exit, on one busybox
// rootfs, through lxts (CLI and library) and its peers (unshare+chroot, crun, runc), measured in
// the same run, in rotating blocks so that drift on the machine hits every subject alike.
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync, chmodSync } from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import type { Socket } from 'node:net';
import {
  REPO, summarize, nowMs, which, versionOf, timeCommand, fmtMs, fmtRatio, mdTable,
  environment, envBlock, reproduceCommand, log, type Summary, type RunResult,
} from './lib.js';

export interface StartupOptions {
  runs: number;
  warmup: number;
  /** Measured runs are split into this many blocks per subject, rotated. */
  passes: number;
  quick: boolean;
  args: string[];
}

interface Subject {
  key: string;
  label: string;
  /** peer: compared against; lxts: ours; ref: a reference point; part: a partial path (breakdown). */
  role: 'lxts' | 'peer' | 'ref' | 'part';
  command: string;
  detail?: string;
  /** undefined when usable, else why not ("not installed", "failed: ..."). */
  unavailable?: string;
  run?: (i: number) => Promise<number>;
  /** Idle time before each run (not timed): an isolated start rather than a back-to-back one. */
  gapMs?: number;
  samples: number[];
}

// Dynamic imports: the benchmark harness works (peers only) before the library is built.
type AnyMod = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
async function tryImport(rel: string): Promise<AnyMod | undefined> {
  try {
    return (await import(rel)) as AnyMod;
  } catch (e) {
    log(`  (cannot load ${rel}: ${(e as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const GAP_MS = 150;

function firstLine(s: string): string {
  return s.trim().split('\n').filter(Boolean).slice(-1)[0]?.slice(0, 160) ?? '';
}

/** Mount points at or below `dir` (we never remove through one). */
function mountsBelow(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p && (p === dir || p.startsWith(dir + '/')));
}

function safeRemove(dir: string): void {
  const m = mountsBelow(dir);
  if (m.length) {
    log(`  NOT removing ${dir}: mount points below it: ${m.join(', ')}`);
    return;
  }
  rmSync(dir, { recursive: true, force: true });
}

/** An OCI bundle for crun/runc from their own `spec` command, edited to run /bin/true on ROOTFS. */
function makeBundle(tool: string, dir: string, rootfs: string): string | undefined {
  spawnSync('mkdir', ['-p', dir]);
  const r = spawnSync(tool, ['spec'], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) return `failed: ${tool} spec: ${firstLine(r.stderr)}`;
  const cfgPath = join(dir, 'config.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
  cfg.root = { path: rootfs, readonly: false };
  cfg.process.args = ['/bin/true'];
  cfg.process.terminal = false;
  writeFileSync(cfgPath, JSON.stringify(cfg, null, 2));
  return undefined;
}

/** The ns-helper process (see ns-helper.ts): times commands from a private mount namespace. */
class NsHelper {
  private proc?: ChildProcess;
  private pending?: (r: RunResult) => void;
  state = '';

  async start(): Promise<void> {
    const unshare = which('unshare');
    if (!unshare) throw new Error('unshare not installed');
    const helper = join(dirname(fileURLToPath(import.meta.url)), 'ns-helper.js');
    this.proc = spawn(unshare, ['--mount', '--propagation', 'private', process.execPath, helper], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.state = await new Promise<string>((res, rej) => {
      this.proc!.once('message', (m: { state: string }) => res(m.state));
      this.proc!.once('exit', (c) => rej(new Error(`ns-helper exited ${c}`)));
    });
    this.proc.on('message', (m: RunResult) => {
      const p = this.pending;
      this.pending = undefined;
      p?.(m);
    });
  }

  time(argv: string[]): Promise<RunResult> {
    return new Promise((res) => {
      this.pending = res;
      this.proc!.send({ argv });
    });
  }

  async stop(): Promise<void> {
    if (!this.proc || this.proc.exitCode !== null) return;
    const gone = new Promise<void>((res) => this.proc!.once('exit', () => res()));
    this.proc.disconnect();
    await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
    if (this.proc.exitCode === null && this.proc.pid) this.proc.kill('SIGKILL');
  }
}

export interface StartupResult {
  markdown: string;
  table: string;
}

export async function startupBench(o: StartupOptions): Promise<StartupResult> {
  const env = environment();
  const tmp = mkdtempSync(join(tmpdir(), 'lxts-bench-startup-'));
  const rootfs = join(tmp, 'rootfs');
  const ids = { crun: [] as string[], runc: [] as string[] };
  const notes: string[] = [];
  let helper: NsHelper | undefined;
  try {
    const bb = await tryImport('../src/template/busybox-rootfs.js');
    if (!bb) throw new Error('src/template/busybox-rootfs.ts is not built: run `npm run build`');
    bb.makeBusyboxRootfs(rootfs);

    const node = process.execPath;
    const cli = join(REPO, 'bin', 'lxts.js');
    const exe = join(REPO, 'native', 'lxts-exec');
    const lxtsBuilt = existsSync(join(REPO, 'dist', 'src', 'cli', 'main.js')) && existsSync(exe);
    const notBuilt = lxtsBuilt ? undefined : 'not built (npm run build)';

    const ext = (key: string, label: string, role: Subject['role'], argv: string[], unavailable?: string, shown?: string): Subject => ({
      key, label, role, unavailable,
      command: shown ?? argv.join(' ').replaceAll(tmp, '$TMP'),
      run: async () => {
        const r = timeCommand(argv);
        if (r.status !== 0) throw new Error(`exit ${r.status ?? r.signal}: ${firstLine(r.stderr)}`);
        return r.ms;
      },
      samples: [],
    });

    const subjects: Subject[] = [];
    // (a) the lxts CLI
    subjects.push(ext('cli', 'lxts CLI (`lxts execute`)', 'lxts', [node, cli, 'execute', '--rootfs', rootfs, '--', '/bin/true'], notBuilt,
      'node bin/lxts.js execute --rootfs $ROOTFS -- /bin/true'));
    // (b) the library, in this long-lived process
    const launchMod = lxtsBuilt ? await tryImport('../src/launch.js') : undefined;
    const specMod = lxtsBuilt ? await tryImport('../src/spec.js') : undefined;
    const mkSpec = (name: string): AnyMod => {
      const spec = specMod!.defaultSpec(name, ['/bin/true']);
      spec.rootfs = { kind: 'dir', path: rootfs, readonly: false };
      return spec;
    };
    const libOk = launchMod?.execute && specMod?.defaultSpec ? undefined : notBuilt ?? 'library not loadable';
    const lib = (key: string, label: string, role: Subject['role'], extra: AnyMod, shown: string): Subject => ({
      key, label, role, unavailable: libOk, command: shown,
      run: async (i) => {
        const spec = mkSpec(`bench-${key}-${process.pid}-${i}`);
        const t0 = nowMs();
        const st = await launchMod!.execute(spec, { stdio: 'ignore', ...extra });
        const ms = nowMs() - t0;
        if (st.code !== 0) throw new Error(`exit ${st.code}`);
        return ms;
      },
      samples: [],
    });
    subjects.push(lib('lib', 'lxts library (`execute()`, in-process)', 'lxts', {}, "execute(spec, {stdio:'ignore'}) in one process"));
    // (c) unshare + chroot
    const unshare = which('unshare');
    const chroot = which('chroot');
    subjects.push(ext('unshare', 'unshare + chroot', 'peer', [unshare ?? 'unshare', '--fork', '--pid', '--mount', '--uts', '--ipc', '--net', chroot ?? 'chroot', rootfs, '/bin/true'],
      unshare && chroot ? undefined : 'not installed', 'unshare --fork --pid --mount --uts --ipc --net chroot $ROOTFS /bin/true'));
    // (d), (e) crun and runc, OCI bundles from their own `spec`
    for (const tool of ['crun', 'runc'] as const) {
      const path = which(tool);
      let unavailable = path ? undefined : 'not installed';
      const bundle = join(tmp, `bundle-${tool}`);
      if (!unavailable) unavailable = makeBundle(path!, bundle, rootfs);
      const stateDir = tool === 'crun' ? '/run/crun' : '/run/runc';
      let timer = async (argv: string[]): Promise<RunResult> => timeCommand(argv);
      if (!unavailable) {
        // crun 1.8 refuses hybrid hosts whose v2 mount has a controller; time it from a private
        // mount namespace without that mount (the host's mounts are untouched).
        const id = `lxtsbench-${tool}-${process.pid}-probe`;
        ids[tool].push(id);
        const probe = timeCommand([path!, 'run', '--bundle', bundle, id]);
        if (existsSync(join(stateDir, id))) spawnSync(path!, ['delete', '-f', id], { stdio: 'ignore' });
        if (probe.status !== 0 && /hybrid mode not supported/.test(probe.stderr)) {
          helper = new NsHelper();
          await helper.start();
          const h = helper;
          timer = (argv) => h.time(argv);
          notes.push(`${tool} refuses this hybrid host ("${firstLine(probe.stderr)}"), so it is timed from a helper process in a private mount namespace where /sys/fs/cgroup/unified is unmounted (helper: ${h.state}); there it sees a pure cgroup v1 host. The host's mounts are unchanged. The helper times it exactly as the harness does (spawnSync to exit); its own floor is the "host /bin/true via the helper" row.`);
          subjects.push({
            key: 'true-helper', label: 'host `/bin/true` via the helper (its floor)', role: 'ref', command: '/bin/true (spawned by the ns-helper)',
            run: async () => (await h.time(['/bin/true'])).ms, samples: [],
          });
        }
      }
      subjects.push({
        key: tool, label: `${tool} run (${path ? versionOf(path).replace(/^\S+ version /, '') : '?'})`, role: 'peer', unavailable,
        command: `${tool} run --bundle $BUNDLE ID`,
        detail: `config.json from \`${tool} spec\`, edited: args [/bin/true], terminal false, root $ROOTFS read-write; a new ID every run, deleted if it outlives \`run\``,
        run: async (i) => {
          const id = `lxtsbench-${tool}-${process.pid}-${i}`;
          ids[tool].push(id);
          const r = await timer([path!, 'run', '--bundle', bundle, id]);
          // `run` deletes the container when it exits; make sure, outside the timing.
          if (existsSync(join(stateDir, id))) spawnSync(path!, ['delete', '-f', id], { stdio: 'ignore' });
          if (r.status !== 0) throw new Error(`exit ${r.status ?? r.signal}: ${firstLine(r.stderr)}`);
          return r.ms;
        },
        samples: [],
      });
      if (tool === 'crun') {
        const base = subjects[subjects.length - 1];
        subjects.push({ ...base, key: 'crun-iso', label: `crun run, isolated (${GAP_MS} ms idle before each run)`, role: 'part', gapMs: GAP_MS, samples: [] });
      }
    }
    // (f) bare Node.js start-up: the floor under any CLI written in Node
    subjects.push(ext('node', 'bare `node -e 0`', 'ref', [node, '-e', '0'], undefined, 'node -e 0'));
    // References and partial paths, to see where the time goes.
    subjects.push(ext('true', 'host `/bin/true` (harness floor)', 'ref', ['/bin/true']));
    subjects.push(ext('cli-help', 'lxts CLI, `execute --help` (CLI load only)', 'part', [node, cli, 'execute', '--help'], notBuilt, 'node bin/lxts.js execute --help'));
    subjects.push(ext('cli-dry', 'lxts CLI, `--dry-run` (load + compile, no container)', 'part', [node, cli, 'execute', '--rootfs', rootfs, '--dry-run', '--', '/bin/true'], notBuilt,
      'node bin/lxts.js execute --rootfs $ROOTFS --dry-run -- /bin/true'));
    subjects.push(lib('lib-nocg', 'lxts library, `noCgroup: true`', 'part', { noCgroup: true }, "execute(spec, {stdio:'ignore', noCgroup:true})"));
    // Isolated starts: the same, with an idle gap before each run. The first write to a v1
    // cgroup.procs after a quiet spell waits for an RCU grace period (cgroup_threadgroup_rwsem);
    // back-to-back runs skip it because the previous run's grace period is still fresh.
    const isoLib = lib('lib-iso', `lxts library, isolated (${GAP_MS} ms idle before each run)`, 'part', {}, `execute(spec, {stdio:'ignore'}) with ${GAP_MS} ms idle before each run`);
    isoLib.gapMs = GAP_MS;
    subjects.push(isoLib);

    // One trial run each: a subject that fails is reported as failed, not measured.
    for (const s of subjects) {
      if (s.unavailable) continue;
      try {
        await s.run!(-1);
      } catch (e) {
        s.unavailable = `failed: ${(e as Error).message}`;
      }
    }
    const active = subjects.filter((s) => !s.unavailable);
    // Blocks: each subject runs back to back (its steady state, as hyperfine measures it), and the
    // blocks rotate over several passes so that drift on the machine hits every subject alike.
    // (Runs of different programs alternated one by one disturb each other: crun right after a
    // Node.js start-up took twice as long here, from its cgroup setup and removal.)
    const passes = Math.min(o.passes, o.runs);
    log(`startup: ${active.length} subjects, ${o.runs} runs each in ${passes} passes (+ ${o.warmup} warm-up, and 1 per block)`);
    for (const s of active) {
      for (let w = 0; w < o.warmup && !s.unavailable; w++) {
        try {
          await s.run!(-2 - w);
        } catch (e) {
          s.unavailable = `failed during warm-up: ${(e as Error).message}`;
        }
      }
    }
    let seq = 0;
    for (let pass = 0; pass < passes; pass++) {
      const per = Math.floor(o.runs / passes) + (pass < o.runs % passes ? 1 : 0);
      const k = pass % active.length;
      const order = [...active.slice(k), ...active.slice(0, k)];
      for (const s of order) {
        for (let i = -1; i < per && !s.unavailable; i++) {
          try {
            if (s.gapMs) await sleep(s.gapMs);
            const ms = await s.run!(seq++);
            if (i >= 0) s.samples.push(ms);
          } catch (e) {
            s.unavailable = `failed during the run: ${(e as Error).message}`;
          }
        }
      }
      log(`  pass ${pass + 1}/${passes}`);
    }

    // Phase breakdown of the library path and a syscall profile of the executor.
    const phases = !libOk ? await phaseBreakdown(mkSpec, Math.max(10, Math.min(30, o.runs))).catch((e: Error) => `phase breakdown unavailable: ${e.message}`) : undefined;
    const strace = !libOk && which('strace') ? await straceProfile(launchMod!, mkSpec, tmp).catch((e: Error) => `strace profile unavailable: ${e.message}`) : undefined;

    // Leftovers from crun/runc: delete every id this run created that still exists.
    for (const tool of ['crun', 'runc'] as const) {
      const path = which(tool);
      const stateDir = tool === 'crun' ? '/run/crun' : '/run/runc';
      const left = ids[tool].filter((id) => existsSync(join(stateDir, id)));
      for (const id of left) spawnSync(path!, ['delete', '-f', id], { stdio: 'ignore' });
      if (left.length) notes.push(`${left.length} ${tool} containers were left after \`run\` and deleted with \`${tool} delete -f\`.`);
    }

    return report(subjects, phases, strace, env, o, notes);
  } finally {
    await helper?.stop();
    safeRemove(tmp);
  }
}

interface Stats {
  s: Subject;
  sum: Summary;
}

function report(subjects: Subject[], phases: string | PhaseTable | undefined, strace: string | undefined, env: ReturnType<typeof environment>, o: StartupOptions, notes: string[]): StartupResult {
  const st: Stats[] = subjects.map((s) => ({ s, sum: summarize(s.samples) }));
  const get = (k: string): Summary | undefined => {
    const x = st.find((y) => y.s.key === k);
    return x && !x.s.unavailable && x.sum.n ? x.sum : undefined;
  };
  const peers = ['crun', 'runc', 'unshare'].filter((k) => get(k));
  const head = ['subject', 'median ms', 'p90 ms', 'min ms', 'n', ...peers.map((p) => `÷ ${p}`)];
  const rows = [head];
  for (const { s, sum } of st) {
    if (s.unavailable || !sum.n) {
      rows.push([s.label, s.unavailable ?? 'no samples', '', '', '', ...peers.map(() => '')]);
      continue;
    }
    rows.push([s.label, fmtMs(sum.median), fmtMs(sum.p90), fmtMs(sum.min), String(sum.n), ...peers.map((p) => fmtRatio(sum.median / get(p)!.median))]);
  }
  const table = mdTable(rows, ['l', 'r', 'r', 'r', 'r', ...peers.map(() => 'r' as const)]);

  // Targets from issue 2.
  const lib = get('lib');
  const crun = get('crun');
  const cli = get('cli');
  const nodeS = get('node');
  const targets: string[] = [];
  if (lib && crun) {
    const r = lib.median / crun.median;
    targets.push(`- Library path at or below crun: library ${fmtMs(lib.median)} ms vs crun ${fmtMs(crun.median)} ms = **${fmtRatio(r)}** — ${r <= 1 ? '**met**' : `**not met** (${fmtMs(lib.median - crun.median)} ms above)`}.`);
  } else targets.push(`- Library path at or below crun: not measurable in this run (${!lib ? 'library ' + (subjects.find((s) => s.key === 'lib')?.unavailable ?? 'no samples') : 'crun ' + (subjects.find((s) => s.key === 'crun')?.unavailable ?? 'no samples')}).`);
  const libIso = get('lib-iso');
  const crunIso = get('crun-iso');
  if (libIso && crunIso) {
    const r = libIso.median / crunIso.median;
    targets.push(`- The same for isolated starts (${GAP_MS} ms idle before each run, as a user starting one container sees it): library ${fmtMs(libIso.median)} ms vs crun ${fmtMs(crunIso.median)} ms = **${fmtRatio(r)}** — ${r <= 1 ? '**met**' : '**not met**'}.`);
  }
  if (cli && nodeS) {
    const d = cli.median - nodeS.median;
    targets.push(`- CLI no more than 10 ms above \`node -e 0\`: CLI ${fmtMs(cli.median)} ms − node ${fmtMs(nodeS.median)} ms = **${fmtMs(d)} ms** — ${d <= 10 ? '**met**' : `**not met** (${fmtMs(d - 10)} ms over)`}.`);
  } else targets.push(`- CLI within 10 ms of \`node -e 0\`: not measurable in this run (${subjects.find((s) => s.key === 'cli')?.unavailable ?? 'no samples'}).`);

  // Where the CLI's time goes, from the partial paths.
  const help = get('cli-help');
  const dry = get('cli-dry');
  const nocg = get('lib-nocg');
  const where: string[] = [];
  if (cli && nodeS && help && dry && lib) {
    where.push(
      `- CLI, from the partial paths (medians): Node.js start-up ${fmtMs(nodeS.median)} ms; loading the CLI modules +${fmtMs(help.median - nodeS.median)} ms (\`--help\`); ` +
        `loading the launch path and compiling the plan +${fmtMs(dry.median - help.median)} ms (\`--dry-run\`); running the container +${fmtMs(cli.median - dry.median)} ms ` +
        `(the library path alone takes ${fmtMs(lib.median)} ms).`,
    );
  }
  if (lib && libIso) {
    where.push(
      `- An isolated start costs ${fmtMs(libIso.median - lib.median)} ms more than a back-to-back one (library ${fmtMs(libIso.median)} vs ${fmtMs(lib.median)} ms${crunIso && crun ? `; crun ${fmtMs(crunIso.median)} vs ${fmtMs(crun.median)} ms` : ''}). ` +
        'The phase table below puts it in the move into the cgroup: the first write to a cgroup v1 `cgroup.procs` after a quiet spell takes the global `cgroup_threadgroup_rwsem` for writing, which waits for an RCU grace period; back-to-back runs find the previous grace period still fresh. crun pays the same. Every CLI start is an isolated start.',
    );
  }
  if (lib && nocg) {
    const d = lib.median - nocg.median;
    where.push(`- Back to back, the container's cgroup (create, limits, attach, remove) costs ${Math.abs(d) < 0.5 ? `nothing measurable (${fmtMs(d)} ms)` : `${fmtMs(d)} ms`} of the library path (median with a cgroup minus median with \`noCgroup: true\`).`);
  }

  const cmdList = subjects.map((s) => `- ${s.label}: \`${s.command}\`${s.detail ? ` (${s.detail})` : ''}`).join('\n');
  const phaseMd = typeof phases === 'string' ? phases : phases ? phases.markdown : '';
  const md = `## Start latency: a container running /bin/true (issue 2)

**What it measures.** Wall time from start to exit of a container that runs \`/bin/true\` on the
same busybox rootfs (made with \`makeBusyboxRootfs\` in a temp dir, removed afterwards), with new
pid, mount, uts, ipc and net namespaces. External commands are timed from \`spawnSync\` to exit
in the harness process (the cost of spawning is the same for all, see the "harness floor" row);
the library path is timed around \`await execute(spec, {stdio:'ignore'})\` in the same
long-lived process, so it includes lxts spawning its executor, exactly as crun's row includes
the harness spawning crun. After ${o.warmup} warm-up runs each, every subject runs ${o.runs} times in
${Math.min(o.passes, o.runs)} blocks of back-to-back runs (plus one unrecorded run per block); the
blocks rotate, so drift on the machine hits every subject alike while each is measured in its
steady state, as hyperfine would. Back-to-back starts are the best case for anything that
moves a process into a cgroup v1 hierarchy (see "Where the time goes"), so the library and crun
are also measured as isolated starts, ${GAP_MS} ms idle before each run.

**Command:** \`${reproduceCommand(o.args)}\`

**Environment:**
${envBlock(env, {
  Peers: ['crun', 'runc', 'unshare'].map((t) => `${t}: ${which(t) ? versionOf(which(t)!).replace(/^\S+ (version |from )?/, '') || 'installed' : 'not installed'}`).join('; '),
})}

### Results

${table}

Ratios are medians divided by the peer's median in this same run (below 1× is faster).

### Targets (issue 2)

${targets.join('\n')}

### Where the time goes

${where.length ? where.join('\n') : '- (lxts was not measurable in this run.)'}
${phaseMd}
${strace ?? ''}

### Commands measured

${cmdList}
${notes.length ? '\n' + notes.map((n) => `- ${n}`).join('\n') + '\n' : ''}
### Conclusion

${conclusion(get, lib, crun, cli, nodeS, get('unshare'))}
`;
  return { markdown: md, table: table + '\n\n' + targets.join('\n') + (where.length ? '\n' + where.join('\n') : '') + (typeof phases === 'object' ? '\n\n' + phases.text : phases ? '\n' + phases : '') };
}

function conclusion(get_: (k: string) => Summary | undefined, lib?: Summary, crun?: Summary, cli?: Summary, node?: Summary, unshare?: Summary): string {
  if (!lib || !cli) return 'lxts was not measurable in this run; the peers\' numbers above stand alone.';
  const parts: string[] = [];
  if (crun) parts.push(`The library path starts and finishes a container in ${fmtMs(lib.median)} ms, ${fmtRatio(lib.median / crun.median)} crun's ${fmtMs(crun.median)} ms${unshare ? ` (${fmtRatio(lib.median / unshare.median)} bare unshare+chroot)` : ''}: the target "at or below crun" is ${lib.median <= crun.median ? 'met' : 'not met'}.`);
  const li = get_('lib-iso'), ci = get_('crun-iso');
  if (li && ci) parts.push(`Started in isolation (each after ${GAP_MS} ms idle), both pay an RCU grace period in the cgroup move: library ${fmtMs(li.median)} ms, crun ${fmtMs(ci.median)} ms (${fmtRatio(li.median / ci.median)}).`);
  if (node) parts.push(`The CLI adds ${fmtMs(cli.median - node.median)} ms on top of bare Node.js start-up (${fmtMs(node.median)} ms), so the 10 ms target is ${cli.median - node.median <= 10 ? 'met' : 'not met'}.`);
  return parts.join(' ');
}

// ---------------------------------------------------------------------------------------------
// Phase breakdown: the library's launch() re-enacted step by step with timestamps, using the
// library's own pieces (compile, encode, cgroup). Best effort: if the protocol changes, the
// breakdown says so instead of the benchmark failing.

interface PhaseTable {
  markdown: string;
  text: string;
}

async function phaseBreakdown(mkSpec: (name: string) => AnyMod, n: number): Promise<PhaseTable | string> {
  const launch = await tryImport('../src/launch.js');
  const enc = await tryImport('../src/plan/encode.js');
  const cg = await tryImport('../src/cgroup/index.js');
  if (!launch?.compileForHost || !launch?.executorPath || !enc?.encodePlan || !cg?.ContainerCgroup) return 'phase breakdown unavailable: library internals not found';
  const names = ['compile plan', 'spawn lxts-exec', 'plan sent → "pid" report', 'cgroup create + limits', 'cgroup attach (cgroup.procs)', 'barrier released → "exec" report', '"exec" → executor exit', 'cgroup remove'];
  const modes = [
    { label: 'back to back', gap: 0 },
    { label: `isolated (${GAP_MS} ms idle before)`, gap: GAP_MS },
  ];
  const cols: { samples: number[][]; totals: number[] }[] = [];
  for (const mode of modes) {
    const samples: number[][] = names.map(() => []);
    const totals: number[] = [];
    cols.push({ samples, totals });
  for (let i = -3; i < n; i++) {
    if (mode.gap) await sleep(mode.gap);
    const spec = mkSpec(`bench-phase-${process.pid}-${i + 3}`);
    const t: number[] = [nowMs()];
    const plan = launch.compileForHost(spec, { dieWithParent: true });
    t.push(nowMs());
    const child = spawn(launch.executorPath(), [], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
    t.push(nowMs());
    const sock = child.stdio[3] as Socket;
    const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    const lines: string[] = [];
    let waiter: (() => void) | undefined;
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buf += d;
      let k: number;
      while ((k = buf.indexOf('\n')) >= 0) {
        lines.push(buf.slice(0, k));
        buf = buf.slice(k + 1);
        waiter?.();
      }
    });
    const ended = new Promise<void>((res) => sock.on('close', () => res()));
    const next = async (): Promise<string> => {
      while (!lines.length) {
        const got = await Promise.race([new Promise<boolean>((res) => (waiter = () => res(true))), ended.then(() => false)]);
        if (!got && !lines.length) return '';
      }
      return lines.shift()!;
    };
    let cgroup: AnyMod | undefined;
    try {
      sock.write(enc.encodePlan(plan));
      const first = await next();
      if (!first.startsWith('pid ')) throw new Error(`unexpected report "${first}"`);
      t.push(nowMs());
      cgroup = cg.ContainerCgroup.create(spec.name, {});
      cgroup!.apply(spec.resources);
      t.push(nowMs());
      cgroup!.attach(Number(first.slice(4)));
      t.push(nowMs());
      sock.write('g');
      const second = await next();
      if (second !== 'exec') throw new Error(`unexpected report "${second}"`);
      t.push(nowMs());
      const code = await exited;
      t.push(nowMs());
      cgroup!.destroy();
      t.push(nowMs());
      if (code !== 0) throw new Error(`executor exited ${code}`);
    } catch (e) {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
      cgroup?.destroy();
      throw e;
    }
    if (i >= 0) {
      for (let k = 0; k < names.length; k++) samples[k].push(t[k + 1] - t[k]);
      totals.push(t[t.length - 1] - t[0]);
    }
  }
  }
  const rows = [['phase (library path, re-enacted)', ...modes.flatMap((m) => [`${m.label}: median ms`, 'p90 ms'])]];
  const tots = cols.map((c) => summarize(c.totals));
  names.forEach((nm, k) => {
    rows.push([nm, ...cols.flatMap((c) => {
      const s = summarize(c.samples[k]);
      return [fmtMs(s.median), fmtMs(s.p90)];
    })]);
  });
  rows.push(['total', ...tots.flatMap((t) => [fmtMs(t.median), fmtMs(t.p90)])]);
  const table = mdTable(rows, ['l', 'r', 'r', 'r', 'r']);
  return {
    text: table,
    markdown: `\nPhases of the library path (${n} runs per column; \`launch()\` re-enacted step by step with the library's own compile, encode and cgroup functions, timestamps taken in Node.js). The phases do not add up to the medians of the total exactly (medians of parts):\n\n${table}\n`,
  };
}

/** `strace -c -f` of the executor on one library-path start (through LXTS_EXEC, a wrapper). */
async function straceProfile(launchMod: AnyMod, mkSpec: (name: string) => AnyMod, tmp: string): Promise<string> {
  const out = join(tmp, 'strace.txt');
  const wrapper = join(tmp, 'lxts-exec-strace');
  const real = launchMod.executorPath();
  writeFileSync(wrapper, `#!/bin/sh\nexec strace -f -c -w -o '${out}' '${real}' "$@"\n`);
  chmodSync(wrapper, 0o755);
  const saved = process.env.LXTS_EXEC;
  process.env.LXTS_EXEC = wrapper;
  try {
    const st = await launchMod.execute(mkSpec(`bench-strace-${process.pid}`), { stdio: 'ignore' });
    if (st.code !== 0) return `strace profile unavailable: exit ${st.code}`;
  } finally {
    if (saved === undefined) delete process.env.LXTS_EXEC;
    else process.env.LXTS_EXEC = saved;
  }
  if (!existsSync(out)) return 'strace profile unavailable: no output';
  const lines = readFileSync(out, 'utf8').split('\n').filter((l) => l.trim());
  // Keep the header, the top 12 syscalls by time, and the total.
  const head = lines.slice(0, 2);
  const body = lines.slice(2, -2).slice(0, 12);
  const total = lines.slice(-2);
  return `\nSyscalls of \`lxts-exec\` and the container for one start (\`strace -c -f -w\`: wall time per syscall, one run, inflated by strace; top 12 by time):\n\n\`\`\`\n${[...head, ...body, ...total].join('\n')}\n\`\`\`\n`;
}
