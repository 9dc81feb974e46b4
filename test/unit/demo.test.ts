// lxts demo without root: split parsing and validation, CPU choice, weights, the share/error
// arithmetic on synthetic cgroup readings, and the terminal view's rendering within a width.
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseSplit, validateSplit, weightsFor, chooseCpu, usableCpus, parseCpuRange, validateDuration } from '../../src/demo/split.js';
import { ShareTracker } from '../../src/demo/tracker.js';
import { resolveDemoOptions, summarize, demoHostInfo, type DemoInfo } from '../../src/demo/run-demo.js';
import { renderHeader, renderFrame, renderPlainLine, renderSummary, visibleWidth, stripAnsi, truncate, bar, wrap } from '../../src/demo/view.js';
import { parseDemoArgs } from '../../src/cli/demo.js';
import { LxtsError, ExitCode } from '../../src/errors.js';

const T = { timeout: 10000 };

function usage(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof LxtsError, `expected LxtsError, got ${String(e)}`);
    assert.equal(e.code, ExitCode.USAGE);
    assert.match(e.message, re);
    return true;
  });
}

test('split: good forms parse', T, () => {
  assert.deepEqual(parseSplit('75/25'), [75, 25]);
  assert.deepEqual(parseSplit('50/30/20'), [50, 30, 20]);
  assert.deepEqual(parseSplit('50,50'), [50, 50]);
  assert.deepEqual(parseSplit(' 99:1 '), [99, 1]);
  assert.deepEqual(parseSplit('30/10/10/10/10/10/10/10'), [30, 10, 10, 10, 10, 10, 10, 10]);
});

test('split: bad forms give one clear usage error each', T, () => {
  usage(() => parseSplit('60/30'), /adds up to 90, not 100/);
  usage(() => parseSplit('60/50'), /adds up to 110, not 100/);
  usage(() => parseSplit('100'), /1 part; the demo runs 2 to 8 containers/);
  usage(() => parseSplit('10/10/10/10/10/10/10/10/20'), /9 parts/);
  usage(() => parseSplit('75/0/25'), /at least 1, got 0/);
  usage(() => parseSplit('75.5/24.5'), /whole percentages/);
  usage(() => parseSplit('75/-25'), /whole percentages/);
  usage(() => parseSplit('75//25'), /whole percentages/);
  usage(() => parseSplit('abc'), /whole percentages/);
  usage(() => validateSplit([75.5, 24.5]), /whole percentage/);
  // the hint suggests a split that does add up
  try {
    parseSplit('60/30');
  } catch (e) {
    assert.match((e as LxtsError).hint ?? '', /67\/33/);
  }
});

test('weights: exact ratios in both cgroup scales', T, () => {
  assert.deepEqual(weightsFor([75, 25]), [{ shares: 768, weight: 7500 }, { shares: 256, weight: 2500 }]);
  assert.deepEqual(weightsFor([50, 50]), [{ shares: 512, weight: 5000 }, { shares: 512, weight: 5000 }]);
  // 30 × 1024 / 100 is not whole: shares switch to ×100 so the ratio stays exact
  assert.deepEqual(weightsFor([50, 30, 20]).map((w) => w.shares), [5000, 3000, 2000]);
  for (const split of [[75, 25], [50, 30, 20], [99, 1], [1, 1, 98]]) {
    const w = weightsFor(split);
    const sum = w.reduce((a, b) => a + b.shares, 0);
    w.forEach((x, i) => assert.equal((x.shares / sum) * 100, split[i]));
    w.forEach((x) => assert.ok(x.shares >= 2 && x.shares <= 262144 && x.weight >= 1 && x.weight <= 10000));
  }
});

test('cpu choice: last usable CPU by default; unknown CPUs rejected; 1-CPU machines use 0', T, () => {
  assert.deepEqual(parseCpuRange('0-3,5\n'), [0, 1, 2, 3, 5]);
  assert.equal(chooseCpu(undefined, { online: '0-7\n' }), 7);
  assert.equal(chooseCpu(undefined, { online: '0\n' }), 0);
  assert.equal(chooseCpu(undefined, { parallelism: 1 }), 0);
  assert.equal(chooseCpu(undefined, { parallelism: 4 }), 3);
  // restricted to CPUs 0-1 by an outer cpuset: the last of those
  assert.equal(chooseCpu(undefined, { online: '0-7', allowed: '0-1' }), 1);
  assert.deepEqual(usableCpus({ online: '0-3', allowed: '2,3' }), [2, 3]);
  assert.equal(chooseCpu(2, { online: '0-3' }), 2);
  usage(() => chooseCpu(4, { online: '0-3' }), /CPU 4 does not exist/);
  usage(() => chooseCpu(-1, { online: '0-3' }), /CPU number/);
});

test('duration and options validate before anything is created', T, () => {
  assert.equal(validateDuration(0.5), 0.5);
  usage(() => validateDuration(0), /greater than 0/);
  usage(() => validateDuration(-3), /greater than 0/);
  usage(() => validateDuration(Number.NaN), /greater than 0/);
  const r = resolveDemoOptions({ split: [75, 25], durationSec: 10, cpuSources: { online: '0-1' } });
  assert.equal(r.cpu, 1);
  assert.equal(r.warmupMs, 1000);
  assert.deepEqual(r.names, [`demo-${process.pid}-1`, `demo-${process.pid}-2`]);
  // a 1 s run has no room for a warm-up; a 2 s run keeps 1 s
  assert.equal(resolveDemoOptions({ split: [75, 25], durationSec: 1, cpuSources: { online: '0' } }).warmupMs, 0);
  assert.equal(resolveDemoOptions({ split: [75, 25], durationSec: 2, cpuSources: { online: '0' } }).warmupMs, 1000);
  usage(() => resolveDemoOptions({ split: [60, 30], durationSec: 10 }), /adds up to 90/);
  usage(() => resolveDemoOptions({ split: [75, 25], durationSec: 10, cpu: 9, cpuSources: { online: '0-1' } }), /CPU 9/);
});

test('CLI flags: defaults, forms and errors', T, () => {
  const d = parseDemoArgs([]);
  assert.deepEqual(d.split, [75, 25]);
  assert.equal(d.durationSec, 20);
  assert.equal(d.json, false);
  const a = parseDemoArgs(['--split', '50/30/20', '--cpu', '0', '--duration', '2.5', '--json']);
  assert.deepEqual(a.split, [50, 30, 20]);
  assert.equal(a.cpu, 0);
  assert.equal(a.durationSec, 2.5);
  assert.equal(a.json, true);
  usage(() => parseDemoArgs(['--split', '60/30']), /--split 60\/30 adds up to 90, not 100/);
  usage(() => parseDemoArgs(['--duration', '0']), /greater than 0/);
  usage(() => parseDemoArgs(['--duration', 'ten']), /greater than 0/);
  usage(() => parseDemoArgs(['--cpu', 'last']), /whole number/);
});

/** Readings of two containers splitting one CPU 3:1 at exactly 1 s intervals, with a noisy warm-up. */
function synthetic(): { tracker: ShareTracker; samples: ReturnType<ShareTracker['update']>[] } {
  const tracker = new ShareTracker(['demo-4194304-1', 'demo-4194304-2'], [75, 25], 1000);
  tracker.begin(0, [5_000, 0]);
  const samples = [];
  // warm-up second: 'a' got everything (it started first)
  samples.push(tracker.update(1000, [1_005_000, 0]));
  let a = 1_005_000;
  let b = 0;
  for (let k = 2; k <= 5; k++) {
    // alternately 76/24 and 74/26 of a fully busy CPU
    const pa = k % 2 === 0 ? 760_000 : 740_000;
    a += pa;
    b += 1_000_000 - pa;
    samples.push(tracker.update(k * 1000, [a, b]));
  }
  return { tracker, samples };
}

test('tracker: interval share, % of one CPU, cumulative split and error after the warm-up', T, () => {
  const { tracker, samples } = synthetic();
  const w = samples[0]!;
  assert.equal(w.warmup, true);
  assert.equal(w.containers[0]!.share, 100);
  assert.equal(w.containers[0]!.cpuPct, 100);
  assert.equal(w.containers[0]!.cumulative, null);
  assert.equal(w.maxErrorPp, null);

  const s2 = samples[1]!;
  assert.equal(s2.warmup, false);
  assert.ok(Math.abs(s2.containers[0]!.share - 76) < 1e-9);
  assert.ok(Math.abs(s2.containers[1]!.cpuPct - 24) < 1e-9);
  assert.ok(Math.abs(s2.totalCpuPct - 100) < 1e-9);
  assert.ok(Math.abs(s2.containers[0]!.cumulative! - 76) < 1e-9);
  assert.ok(Math.abs(s2.containers[1]!.errorPp! - -1) < 1e-9);

  const s3 = samples[2]!;
  // 76 then 74: the cumulative split is back at the target; the warm-up's 100/0 is not in it
  assert.ok(Math.abs(s3.containers[0]!.cumulative! - 75) < 1e-9);
  assert.ok(Math.abs(s3.maxErrorPp!) < 1e-9);
  assert.ok(Math.abs(s3.containers[0]!.cpuSeconds - 1.5) < 1e-9);
  assert.ok(Math.abs(s3.containers[0]!.cpuSecondsTotal - 2.5) < 1e-9);

  const last = samples[samples.length - 1]!;
  assert.equal(last.seq, 5);
  assert.equal(tracker.measuredMs, 4000);
  assert.equal(tracker.warmupExcludedMs, 1000);
  assert.ok(Math.abs(last.containers[0]!.cumulative! - 75) < 1e-9);
});

test('tracker: idle containers and a half-busy CPU', T, () => {
  const t = new ShareTracker(['a', 'b', 'c'], [50, 30, 20], 0);
  t.begin(0, [0, 0, 0]);
  const idle = t.update(500, [0, 0, 0]);
  assert.deepEqual(idle.containers.map((c) => c.share), [0, 0, 0]);
  assert.deepEqual(idle.containers.map((c) => c.cumulative), [null, null, null]);
  const s = t.update(1500, [250_000, 150_000, 100_000]);
  assert.deepEqual(s.containers.map((c) => Math.round(c.share * 1000) / 1000), [50, 30, 20]);
  assert.deepEqual(s.containers.map((c) => Math.round(c.cpuPct * 1000) / 1000), [25, 15, 10]);
  assert.ok(Math.abs(s.totalCpuPct - 50) < 1e-9);
  assert.equal(s.maxErrorPp, 0);
});

const INFO: DemoInfo = {
  split: [75, 25],
  cpu: 1,
  durationSec: 20,
  intervalMs: 1000,
  warmupMs: 1000,
  command: ['/bin/sh', '-c', 'while :; do :; done'],
  cgroup: { layout: 'hybrid', cpu: 1, cpuacct: 1, cpuset: 1 },
  weightFile: 'cpu.shares',
  containers: [
    { index: 0, name: 'demo-4194304-1', target: 75, shares: 768, weight: 7500 },
    { index: 1, name: 'demo-4194304-2', target: 25, shares: 256, weight: 2500 },
  ],
};

test('view: header, frame and summary stay inside the terminal width', T, () => {
  const { tracker, samples } = synthetic();
  for (const width of [80, 60, 120, 200]) {
    for (const color of [true, false]) {
      const o = { width, color };
      const lines = [
        ...renderHeader(INFO, o),
        ...renderFrame(INFO, undefined, o),
        ...samples.flatMap((s) => renderFrame(INFO, s, o)),
        ...renderFrame(INFO, samples[3], { ...o, status: 'Done. Removing the containers…' }),
        ...renderSummary(summarize(tracker, INFO, 'duration'), o),
      ];
      for (const l of lines) assert.ok(visibleWidth(l) < width, `${visibleWidth(l)} columns at width ${width}: ${JSON.stringify(stripAnsi(l))}`);
    }
  }
});

test('view: a frame shows the bar, the target marker, the shares and the error', T, () => {
  const { samples } = synthetic();
  const s = samples[1]!; // 76/24, cumulative 76/24
  const lines = renderFrame(INFO, s, { width: 80, color: false });
  assert.equal(lines.length, 1 + 2 + 2);
  const [, a, b, , status] = lines;
  assert.match(a!, /^ demo-4194304-1 █+│?█*·* +76\.0% +75% +76\.00% +\+1\.00 pp$/);
  assert.match(b!, /^ demo-4194304-2 █+·*│·+ +24\.0% +25% +24\.00% +-1\.00 pp$/);
  assert.match(lines[0]!, /last 1 s +now +goal +measured +error$/);
  // the marker sits at 75% of the bar in row 1 and 25% in row 2
  const barOf = (l: string): string => /^ \S+ ([█▏▎▍▌▋▊▉│·]+) /.exec(l)![1]!;
  const width = barOf(a!).length;
  assert.ok(width >= 25, `bar of ${width} cells`);
  assert.equal(barOf(b!).length, width);
  assert.equal(barOf(a!).indexOf('│'), Math.floor(0.75 * width));
  assert.equal(barOf(b!).indexOf('│'), Math.floor(0.25 * width));
  assert.match(status!, /2 s of 20 s .* CPU 1 busy 100\.0%/);
  // the warm-up sample says so instead of an error
  assert.match(renderFrame(INFO, samples[0], { width: 80, color: false })[1]!, /warm-up/);
  // colour version carries the same text
  const colored = renderFrame(INFO, s, { width: 80, color: true });
  assert.match(stripAnsi(colored[1]!), /76\.0% +75% +76\.00% +\+1\.00 pp/);
});

test('view: bars, wrapping and truncation', T, () => {
  const p = { fg: (_n: number, s: string) => s, bg: (_b: number, _f: number, s: string) => s, bold: (s: string) => s, dim: (s: string) => s };
  assert.equal(bar(0, undefined, 10, 1, p, false), '··········');
  assert.equal(bar(100, undefined, 10, 1, p, false), '██████████');
  assert.equal(bar(55, undefined, 10, 1, p, false), '█████▌····');
  assert.equal(bar(100, 50, 10, 1, p, false), '█████│████');
  assert.equal(bar(100, 100, 10, 1, p, false), '█████████│');
  assert.equal(visibleWidth(truncate('\x1b[1mabcdef\x1b[22m', 3)), 3);
  assert.equal(truncate('\x1b[1mabcdef\x1b[22m', 3), '\x1b[1mabc\x1b[22m');
  for (const l of wrap('word '.repeat(50), 40)) assert.ok(l.length < 40);
});

test('view: plain lines and the summary table', T, () => {
  const { tracker, samples } = synthetic();
  assert.match(renderPlainLine(samples[0]!), /1\.0 s {2}now 100\.0\/0\.0 % {2}\(warm-up, not counted\)/);
  assert.equal(renderPlainLine(samples[2]!), '  3.0 s  now 74.0/26.0 %  measured 75.00/25.00 %  error +0.00/+0.00 pp  busy 100.0%');
  const sum = summarize(tracker, INFO, 'duration');
  assert.equal(sum.measuredSec, 4);
  assert.equal(sum.warmupSec, 1);
  assert.equal(sum.samples, 5);
  assert.ok(sum.maxErrorPp < 1e-9);
  assert.ok(Math.abs(sum.containers[0]!.cpuSeconds - 3) < 1e-9);
  assert.ok(Math.abs(sum.totalCpuSeconds - 4) < 1e-9);
  assert.ok(Math.abs(sum.cpuBusyPct - 100) < 1e-9);
  const text = renderSummary(sum, { width: 80, color: false }).join('\n');
  assert.match(text, /demo-4194304-1 +768 +75% +75\.00% +0\.00 pp +3\.00 s/);
  assert.match(text, /demo-4194304-2 +256 +25% +25\.00% +0\.00 pp +1\.00 s/);
  assert.match(text, /Max error 0\.00 pp/);
  assert.match(text, /cgroup v1 cpu\.shares, 4\.0 s measured \(after a 1 s warm-up\)/);
});

test('summary: stopped during the warm-up counts everything and says so', T, () => {
  const t = new ShareTracker(['a', 'b'], [75, 25], 3000);
  t.begin(0, [0, 0]);
  t.update(1000, [700_000, 300_000]);
  const s = summarize(t, INFO, 'abort');
  assert.equal(s.warmupIncluded, true);
  assert.equal(s.endedBy, 'abort');
  assert.equal(s.measuredSec, 1);
  assert.ok(Math.abs(s.containers[0]!.measured - 70) < 1e-9);
  assert.ok(Math.abs(s.maxErrorPp - 5) < 1e-9);
  assert.match(renderSummary(s, { width: 80, color: false }).join('\n'), /warm-up included/);
});

test('host check: names each missing controller and why the demo needs it', T, () => {
  const ok = (c: string, version: 1 | 2) => ({ controller: c, version, mount: '/sys/fs/cgroup', ownPath: '/', delegated: true });
  const hybrid = { layout: 'hybrid' as const, controllers: [ok('cpu', 1), ok('cpuacct', 1), ok('cpuset', 1), ok('memory', 1)] };
  assert.deepEqual(demoHostInfo(hybrid), { layout: 'hybrid', cpu: 1, cpuacct: 1, cpuset: 1 });
  const v2 = {
    layout: 'v2' as const,
    controllers: [
      { controller: 'cpu', version: 2 as const, mount: '/sys/fs/cgroup', ownPath: '/user.slice', delegated: false, note: 'not delegated: the parent of /user.slice does not enable cpu' },
      ok('cpuacct', 2),
      { controller: 'cpuset', version: null, mount: null, ownPath: null, delegated: false, note: 'not mounted / not enabled in the kernel' },
    ],
  };
  assert.throws(() => demoHostInfo(v2), (e: unknown) => {
    assert.ok(e instanceof LxtsError);
    assert.match(e.message, /the demo cannot run on this host/);
    assert.match(e.message, /the cpu cgroup controller \(v2\) cannot be used by lxts to give the containers CPU weights/);
    assert.match(e.message, /the cpuset cgroup controller is not available to pin them to one CPU/);
    assert.doesNotMatch(e.message, /cpuacct/);
    assert.match(e.hint ?? '', /subtree_control/);
    return true;
  });
});
