// lxts demo on the real kernel: the measured split matches the weights, and nothing the demo
// created remains afterwards (cgroups, processes), whichever way it ends.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { runDemo, type DemoSummary, type DemoSample } from '../../src/demo/index.js';
import { lxts, machineState, leftovers, isRoot } from './helpers/lxts.js';

const skip = isRoot ? false : 'needs root';

/** Every cgroup directory below /sys/fs/cgroup whose name starts with one of `prefixes`. */
function demoCgroups(prefixes: string[]): string[] {
  const all = spawnSync('find', ['/sys/fs/cgroup', '-maxdepth', '8', '-type', 'd', '-name', 'demo-*'], { encoding: 'utf8' }).stdout.trim().split('\n');
  return all.filter((d) => prefixes.some((p) => d.split('/').pop()!.startsWith(p))).sort();
}

/** Processes in a cgroup whose name starts with one of `prefixes` (the containers' busy loops). */
function demoProcesses(prefixes: string[]): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cg = readFileSync(`/proc/${p}/cgroup`, 'utf8');
      if (prefixes.some((x) => cg.includes(`/${x}`))) out.push(Number(p));
    } catch { /* gone */ }
  }
  return out;
}

/**
 * Run fn, then check that nothing the demo created remains. The machine is shared with other
 * test runs, so the checks look for what this demo run named: demo-<pid>- of the process that
 * ran it (this one for the library, the CLI's for the command line), plus the general helper's
 * mounts and lxts-exec processes.
 */
async function clean<T>(fn: () => Promise<T>, cliPid?: () => number): Promise<T> {
  const before = machineState();
  try {
    return await fn();
  } finally {
    const prefixes = [`demo-${process.pid}-`, ...(cliPid?.() ? [`demo-${cliPid()}-`] : [])];
    // other sessions may create and remove their own lxts cgroups meanwhile: ours are checked by name
    const left = (await leftovers(before)).filter((l) => !l.startsWith('cgroups:'));
    assert.deepEqual(left, [], 'the machine is as it was');
    assert.deepEqual(demoCgroups(prefixes), [], 'no demo cgroups remain');
    assert.deepEqual(demoProcesses(prefixes), [], 'no demo processes remain');
  }
}

function assertSplit(s: DemoSummary, split: number[], tolerancePp: number): void {
  assert.deepEqual(s.split, split);
  assert.equal(s.containers.length, split.length);
  for (const [i, c] of s.containers.entries()) {
    assert.equal(c.target, split[i]);
    assert.ok(c.errorPp <= tolerancePp, `${c.name}: measured ${c.measured.toFixed(2)}% for a target of ${c.target}% (error ${c.errorPp.toFixed(2)} pp > ${tolerancePp})`);
    assert.ok(c.cpuSeconds > 0, `${c.name} used no CPU`);
  }
  assert.ok(s.maxErrorPp <= tolerancePp);
  const sum = s.containers.reduce((a, c) => a + c.measured, 0);
  assert.ok(Math.abs(sum - 100) < 1e-6, `measured shares add up to ${sum}`);
}

test('a 10 s 75/25 demo through the library: within 3 pp, and everything removed', { timeout: 60000, skip }, () =>
  clean(async () => {
    const samples: DemoSample[] = [];
    const s = await runDemo({ split: [75, 25], durationSec: 10, onSample: (x) => samples.push(x) });
    console.log(`# 75/25 over ${s.measuredSec.toFixed(1)} s: ${s.containers.map((c) => c.measured.toFixed(3)).join('/')} (max error ${s.maxErrorPp.toFixed(3)} pp, CPU ${s.cpu} ${s.cpuBusyPct.toFixed(1)}% busy)`);
    assertSplit(s, [75, 25], 3);
    assert.equal(s.endedBy, 'duration');
    assert.equal(samples.length, 10);
    assert.equal(s.samples, 10);
    assert.ok(samples[0]!.warmup && !samples[9]!.warmup);
    assert.ok(s.measuredSec > 8.5 && s.measuredSec < 9.5, `measured ${s.measuredSec} s`);
    assert.ok(s.cpuBusyPct > 50, `the containers got only ${s.cpuBusyPct}% of CPU ${s.cpu}`);
  }));

test('the demo ends early on abort with a summary, and cleans up', { timeout: 30000, skip }, () =>
  clean(async () => {
    const ac = new AbortController();
    const s = await runDemo({
      split: [50, 50], durationSec: 30, signal: ac.signal,
      onSample: (x) => { if (x.seq === 3) ac.abort(); },
    });
    assert.equal(s.endedBy, 'abort');
    assert.equal(s.samples, 3);
    assertSplit(s, [50, 50], 10);
  }));

test('an error in a consumer\'s callback still removes every container', { timeout: 30000, skip }, () =>
  clean(async () => {
    await assert.rejects(runDemo({
      split: [50, 30, 20], durationSec: 10,
      onEvent: (e) => { if (e.type === 'started' && e.index === 1) throw new Error('consumer failed while starting container 2 of 3'); },
    }), /consumer failed/);
  }));

test('lxts demo --json prints the summary as JSON', { timeout: 30000, skip }, () => {
  let pid = 0;
  return clean(async () => {
    const r = await lxts(['demo', '--duration', '4', '--json'], { timeoutMs: 20000, onSpawn: (p) => (pid = p) });
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as DemoSummary;
    for (const k of ['split', 'cpu', 'cgroup', 'weightFile', 'durationSec', 'measuredSec', 'warmupSec', 'samples', 'endedBy', 'containers', 'maxErrorPp', 'totalCpuSeconds', 'cpuBusyPct']) {
      assert.ok(k in s, `summary has ${k}`);
    }
    assert.deepEqual(s.split, [75, 25]);
    assert.equal(s.durationSec, 4);
    assert.equal(s.endedBy, 'duration');
    assert.equal(s.containers.length, 2);
    for (const c of s.containers) for (const k of ['name', 'target', 'measured', 'errorPp', 'cpuSeconds', 'shares', 'weight']) assert.ok(k in c, `container has ${k}`);
    assert.ok(s.maxErrorPp < 10);
  }, () => pid);
});

test('lxts demo prints a line per sample and the summary when stdout is not a terminal', { timeout: 30000, skip }, () => {
  let pid = 0;
  return clean(async () => {
    const r = await lxts(['demo', '--duration', '3', '--split', '60/40'], { timeoutMs: 20000, onSpawn: (p) => (pid = p) });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /\x1b\[/, 'no escape sequences in a pipe');
    assert.match(r.stdout, /2 containers share CPU \d+, split 60\/40/);
    assert.equal(r.stdout.match(/^ +\d+\.\d s {2}now /gm)?.length, 3);
    assert.match(r.stdout, /Max error \d+\.\d\d pp/);
  }, () => pid);
});

test('Ctrl-C (SIGINT) ends the CLI early with the summary and exit 0', { timeout: 30000, skip }, () => {
  let pid = 0;
  return clean(async () => {
    const run = lxts(['demo', '--duration', '30'], { timeoutMs: 20000, onSpawn: (p) => (pid = p) });
    await new Promise((r) => setTimeout(r, 3500));
    // the whole process group, as a terminal's Ctrl-C does (the monitors get it too)
    process.kill(-pid, 'SIGINT');
    const r = await run;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /stopped early/);
    assert.match(r.stdout, /Max error/);
  }, () => pid);
});

test('--split 60/30 is a usage error (exit 2) that says why', { timeout: 15000 }, async () => {
  const r = await lxts(['demo', '--split', '60/30']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--split 60\/30 adds up to 90, not 100/);
  assert.equal(r.stdout, '');
});

test('a 6 s 50/30/20 demo: within 5 pp', { timeout: 60000, skip }, () =>
  clean(async () => {
    const s = await runDemo({ split: [50, 30, 20], durationSec: 6 });
    console.log(`# 50/30/20 over ${s.measuredSec.toFixed(1)} s: ${s.containers.map((c) => c.measured.toFixed(3)).join('/')} (max error ${s.maxErrorPp.toFixed(3)} pp)`);
    assertSplit(s, [50, 30, 20], 5);
  }));
