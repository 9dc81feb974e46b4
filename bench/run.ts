// npm run bench [-- [--quick] [--no-doc] [--runs N] [BENCH...]]
//
// Runs every benchmark (or the ones named), prints the results, and rewrites each benchmark's
// section of docs/benchmarks.md. Benchmarks: startup (issue 2), demo (issue 3), idle-memory and cycle (issue 4).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { DOC, log, writeSection } from './lib.js';
import { startupBench } from './startup.js';
import { demoBench } from './demo.js';
import { idleMemoryBench } from './idle-memory.js';
import { cycleBench } from './cycle.js';
import { networkBench } from './network.js';

const BENCHES = ['startup', 'demo', 'idle-memory', 'cycle', 'network'] as const;
type Bench = (typeof BENCHES)[number];
const ALIASES: Record<string, Bench> = { startup: 'startup', start: 'startup', demo: 'demo', 'demo-precision': 'demo', precision: 'demo', 'idle-memory': 'idle-memory', memory: 'idle-memory', cycle: 'cycle', network: 'network', net: 'network' };

const USAGE = `usage: npm run bench -- [--quick] [--no-doc] [--runs N] [--duration SEC] [${BENCHES.join('|')} ...]
  startup     start latency of a /bin/true container: lxts CLI and library vs unshare, crun, runc
  demo        75/25 CPU split precision of \`lxts demo\` vs LXC (lxc-execute) when installed
  idle-memory host-side RSS/PSS per idle busybox container (lxts-exec monitor vs LXC's monitor)
  cycle       start+stop cycle of a busybox container: lxts CLI and library vs lxc-start/lxc-stop
  network     iperf3 TCP + ping between two containers on a bridge vs two bare netns on a veth (needs iperf3)
  --quick     short run (startup: 15 runs; demo: 5 s; idle-memory: 5 containers; cycle: 10 cycles)
  --runs N    startup: measured runs per subject (default 50)
  --duration S  demo: seconds per measurement (default 20)
  --no-doc    print only; do not rewrite docs/benchmarks.md
`;

async function main(argv: string[]): Promise<number> {
  let quick = false;
  let doc = true;
  let runs: number | undefined;
  let duration: number | undefined;
  const chosen: Bench[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') quick = true;
    else if (a === '--no-doc') doc = false;
    else if (a === '--runs') runs = Number(argv[++i]);
    else if (a === '--duration') duration = Number(argv[++i]);
    else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE);
      return 0;
    } else if (ALIASES[a]) chosen.push(ALIASES[a]);
    else {
      process.stderr.write(`bench: unknown benchmark or option "${a}"\n${USAGE}`);
      return 2;
    }
  }
  if ((runs !== undefined && !(runs >= 1)) || (duration !== undefined && !(duration >= 1))) {
    process.stderr.write(`bench: --runs and --duration need a positive number\n${USAGE}`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench: needs root (namespaces, mounts, cgroups); run it as root, e.g. sudo npm run bench\n');
    return 4;
  }
  const todo = chosen.length ? [...new Set(chosen)] : [...BENCHES];
  if (doc) ensureDocSkeleton();
  const t0 = Date.now();
  let failed = 0;
  for (const b of todo) {
    log(`\n== ${b} ==`);
    try {
      if (b === 'startup') {
        const r = await startupBench({ runs: runs ?? (quick ? 15 : 50), warmup: quick ? 2 : 5, passes: quick ? 3 : 5, quick, args: argv });
        process.stdout.write(`\nStart latency (ms):\n${r.table}\n`);
        if (doc) writeSection('startup', r.markdown);
      } else if (b === 'demo') {
        const r = await demoBench({ durationSec: duration ?? (quick ? 5 : 20), quick, args: argv });
        process.stdout.write(`\nDemo precision:\n${r.table}\n`);
        if (doc) writeSection('demo', r.markdown);
      } else if (b === 'idle-memory') {
        const r = await idleMemoryBench({ count: quick ? 5 : 20, settleMs: quick ? 1000 : 3000, args: argv });
        process.stdout.write(`\nHost-side memory per idle container:\n${r.table}\n`);
        if (doc) writeSection('idle-memory', r.markdown);
      } else if (b === 'cycle') {
        const r = await cycleBench({ runs: runs ?? (quick ? 10 : 40), warmup: quick ? 2 : 3, passes: quick ? 2 : 4, args: argv });
        process.stdout.write(`\nStart+stop cycle (ms):\n${r.table}\n`);
        if (doc) writeSection('cycle', r.markdown);
      } else if (b === 'network') {
        const r = await networkBench({ durationSec: duration ?? (quick ? 3 : 10), rounds: quick ? 1 : 3, startRuns: quick ? 5 : 20, args: argv });
        process.stdout.write(`\nNetwork:\n${r.table}\n`);
        if (doc) writeSection('network', r.markdown);
      }
    } catch (e) {
      failed++;
      process.stderr.write(`bench ${b} failed: ${(e as Error).stack ?? e}\n`);
    }
  }
  log(`\nbench: done in ${((Date.now() - t0) / 1000).toFixed(0)} s${doc ? `; results in ${DOC}` : ''}`);
  return failed ? 1 : 0;
}

/** Create docs/benchmarks.md with every section's markers in a fixed order (once). */
function ensureDocSkeleton(): void {
  let text = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '';
  if (!text) {
    writeSection('startup', '## Start latency (issue 2)\n\nNot measured yet: `npm run bench -- startup`.');
    text = readFileSync(DOC, 'utf8');
  }
  for (const b of BENCHES) {
    if (!text.includes(`<!-- bench:${b}:begin -->`)) {
      writeSection(b, `## ${b}\n\nNot measured yet: \`npm run bench -- ${b}\`.`);
      text = readFileSync(DOC, 'utf8');
    }
  }
  writeFileSync(DOC, text);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
