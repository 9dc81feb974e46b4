// Control-group limits proven from inside real containers (issue 3): the limits are written
// while the child waits at the barrier, so they hold from the container's first instruction.
// test/integration/cgroup.test.ts proves the cgroup layer itself with plain processes.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lxts, machineState, leftovers, isRoot } from './helpers/lxts.js';
import { launch, type RunningContainer } from '../../src/launch.js';
import { defaultSpec, type ContainerSpec } from '../../src/spec.js';

const skip = isRoot ? false : 'needs root';
const T = { timeout: 60000, skip };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function clean<R>(fn: () => Promise<R>): Promise<R> {
  const before = machineState();
  try {
    return await fn();
  } finally {
    assert.deepEqual(await leftovers(before, 5000), [], 'the machine is as it was');
  }
}

/** Start a library container; always killed and waited for (cgroup removed) afterwards. */
async function withContainer(spec: ContainerSpec, fn: (c: RunningContainer) => Promise<void>): Promise<void> {
  const c = await launch(spec, { stdio: 'pipe', dieWithParent: true });
  try {
    await fn(c);
  } finally {
    c.kill('SIGKILL');
    await c.wait();
  }
}

test('--cpuset: Cpus_allowed_list inside the container is the chosen set', T, () =>
  clean(async () => {
    const r = await lxts(['execute', '--cpuset', '0', '--', '/bin/sh', '-c', 'grep Cpus_allowed_list /proc/self/status']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Cpus_allowed_list:\s+0$/m);
  }));

test('--cpus 0.5: a busy loop gets half a CPU (within 5 points)', T, () =>
  clean(async () => {
    const spec = defaultSpec(`res-cpu-${process.pid}`, ['/bin/sh', '-c', 'while :; do :; done']);
    spec.resources = { cpu: { quotaUs: 50000, periodUs: 100000 } };
    await withContainer(spec, async (c) => {
      await sleep(500);
      const u0 = c.cgroup!.cpuUsageUsec();
      const t0 = performance.now();
      await sleep(3000);
      const pct = ((c.cgroup!.cpuUsageUsec() - u0) / ((performance.now() - t0) * 1000)) * 100;
      assert.ok(Math.abs(pct - 50) <= 5, `measured ${pct.toFixed(1)}% of one CPU`);
    });
  }));

test('--memory: a process allocating past the limit is OOM-killed inside; lxts and the host survive; the count is reported', T, () =>
  clean(async () => {
    const spec = defaultSpec(`res-mem-${process.pid}`, ['/bin/sh', '-c', 'head -c 200M /dev/zero | (echo 1000 > /proc/self/oom_score_adj; exec tail > /dev/null); echo "tail=$?"; sleep 30']);
    spec.resources = { memory: { max: 32 * 1024 * 1024, swapMax: 0 } };
    await withContainer(spec, async (c) => {
      let out = '';
      c.executor.stdout!.on('data', (d) => (out += d));
      const deadline = Date.now() + 20000;
      while (!out.includes('tail=') && Date.now() < deadline) await sleep(50);
      // tail raised its own OOM score: it is the victim, never the reporting shell.
      assert.match(out, /tail=137/, 'tail was SIGKILLed by the OOM killer');
      const st = c.cgroup!.stats();
      assert.ok(st.memory.oomKills >= 1, `oomKills ${st.memory.oomKills}`);
      assert.equal(st.memory.limit, 32 * 1024 * 1024);
      // PID 1 of the container (the shell) is still there.
      assert.equal(c.executor.exitCode, null);
    });
  }));

test('--pids-max: a fork bomb inside the container is contained; the host keeps working', T, () =>
  clean(async () => {
    const spec = defaultSpec(`res-pids-${process.pid}`, ['/bin/sh', '-c', 'f() { f | f & }; f 2>/dev/null; sleep 2; echo survived']);
    spec.resources = { pids: { max: 40 } };
    await withContainer(spec, async (c) => {
      await sleep(1000);
      const st = c.cgroup!.stats();
      assert.ok(st.pids.current <= 40, `pids.current ${st.pids.current}`);
      assert.equal(st.pids.max, 40);
      // The host can still start processes.
      assert.equal(spawnSync('/bin/true').status, 0);
    });
  }));

test('freeze: a frozen container\'s CPU usage does not grow; thaw resumes it', T, () =>
  clean(async () => {
    const spec = defaultSpec(`res-frz-${process.pid}`, ['/bin/sh', '-c', 'while :; do :; done']);
    await withContainer(spec, async (c) => {
      await sleep(300);
      c.cgroup!.freeze();
      const f0 = c.cgroup!.cpuUsageUsec();
      await sleep(1000);
      // A frozen cgroup runs nothing; allow a scheduler tick of accounting that lands late.
      assert.ok(c.cgroup!.cpuUsageUsec() - f0 <= 10000, 'no CPU while frozen');
      c.cgroup!.thaw();
      const t0 = c.cgroup!.cpuUsageUsec();
      await sleep(1000);
      assert.ok(c.cgroup!.cpuUsageUsec() - t0 > 200000, 'runs again after thaw');
    });
  }));

test('bad resource input: one clear line each, nothing left behind', T, () =>
  clean(async () => {
    const cases: [string[], RegExp][] = [
      [['--cgroup', 'cpu.bogus_key=1'], /unknown cgroup key/],
      [['--cgroup', 'cpu.shares=abc'], /cpu\.shares.*(invalid argument|EINVAL|not a number|whole number)/i],
      [['--cpuset', '64'], /CPU.*64|cpuset/i],
      [['--memory', '1K'], /memory/i],
      [['--memory', 'lots'], /--memory needs a size/],
      [['--pids-max', '-3'], /--pids-max/],
    ];
    for (const [flags, re] of cases) {
      const r = await lxts(['execute', ...flags, '--', '/bin/true']);
      assert.notEqual(r.code, 0, flags.join(' '));
      assert.match(r.stderr, re, `${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^lxts: /);
      assert.ok(r.stderr.trim().split('\n').length <= 2, `one line (plus a hint): ${r.stderr}`);
    }
  }));
