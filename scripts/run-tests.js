#!/usr/bin/env node
// The test command (`npm test`, and so .ci/run): unit tests, then the integration tests on
// the real kernel, one file at a time (they measure CPU shares). It checks that the machine
// is left as it was (mounts, lxts cgroups, lxts-exec processes) and closes with the plain
// line "N passed, N failed, N skipped".
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync, mkdirSync, rmSync, cpSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const only = process.argv.slice(2);
const dirs = ['dist/test/unit', 'dist/test/integration'];
const files = only.length
  ? only
  : dirs.flatMap((d) => (existsSync(join(root, d)) ? readdirSync(join(root, d)).filter((f) => f.endsWith('.test.js')).sort().map((f) => join(d, f)) : []));

function machineState() {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n').length;
  const cgroups = spawnSync('find', ['/sys/fs/cgroup', '-maxdepth', '7', '-type', 'd', '-name', '*lxts*'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
  const execs = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try { return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'lxts-exec'; } catch { return false; }
  });
  return { mounts, cgroups: cgroups.sort().join('\n'), execs: execs.length };
}

mkdirSync(join(root, 'test-artifacts'), { recursive: true });
const tap = join(root, 'test-artifacts', 'results.tap');
rmSync(tap, { force: true });
const before = machineState();
// LXTS_V2VM_ONLY=1: only the v2 guest phase (for working on it).
const hostPhase = process.env.LXTS_V2VM_ONLY !== '1';
const r = !hostPhase ? { status: 0 } : spawnSync(process.execPath, [
  '--test', '--test-concurrency=1', '--test-timeout=300000',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=tap', `--test-reporter-destination=${tap}`,
  ...files,
], { cwd: root, stdio: 'inherit' });
const out = hostPhase && existsSync(tap) ? readFileSync(tap, 'utf8') : '';
const count = (k) => Number((new RegExp(`^# ${k} (\\d+)`, 'm').exec(out) ?? [])[1] ?? 0);
let passed = count('pass'), failed = count('fail'), skipped = count('skipped');
if (r.status !== 0 && failed === 0) failed = 1; // the runner itself failed (crash, timeout)

// Phase 2 (CI, or LXTS_V2VM=1): the cgroup tests and the demo inside a pure cgroup v2 guest
// (shared/tools/cgroup2-vm): this machine is hybrid, most users' hosts are pure v2.
const vm = join(root, '..', 'shared', 'tools', 'cgroup2-vm', 'run.sh');
if (!only.length && (process.env.LXTS_V2VM === '1' || process.env.LXTS_V2VM_ONLY === '1' || (process.env.CI === 'true' && process.env.LXTS_V2VM !== '0'))) {
  if (!existsSync(vm)) {
    console.log(`\nv2 guest: ${vm} not found`);
    failed += 1;
  } else {
    const env = 'LXTS_CG_SLOW=1 LXTS_CG_SPLIT_TOL=5 LXTS_CG_QUOTA_TOL=5';
    const runs = [
      { label: "the guest's root cgroup", cgroup: '', files: 'dist/test/v2vm/demo.test.js dist/test/integration/cgroup.test.js dist/test/integration/cgroup-v2.test.js dist/test/integration/cgroup-limits.test.js' },
      // lxts in a cgroup it shares with other processes: the no-internal-process rule.
      { label: 'a shared child cgroup', cgroup: 'lxts-ci', files: 'dist/test/integration/cgroup.test.js dist/test/integration/cgroup-v2.test.js' },
    ];
    // The guest mounts its own tmpfs on /tmp, /run and /dev: a checkout below one of them
    // (CI may clone anywhere) would be hidden there. The guest gets a copy of what the tests
    // need in a directory of its own under /var/tmp, shared read-write at the same path.
    const stage = `/var/tmp/lxts-v2vm-${process.pid}`;
    rmSync(stage, { recursive: true, force: true });
    mkdirSync(join(stage, 'native'), { recursive: true });
    mkdirSync(join(stage, 'test-artifacts'));
    for (const p of ['package.json', 'bin', 'dist', 'native/lxts-exec']) cpSync(join(root, p), join(stage, p), { recursive: true });
    try {
      for (const [i, r] of runs.entries()) {
        const vtap = join('test-artifacts', `v2vm-${i}.tap`);
        console.log(`\n== pure cgroup v2 guest, tests in ${r.label}`);
        const res = spawnSync(vm, [`cd ${stage} && ${env} node --test --test-concurrency=1 --test-timeout=300000 --test-reporter=spec --test-reporter-destination=stdout --test-reporter=tap --test-reporter-destination=${vtap} ${r.files}`], {
          cwd: stage, stdio: 'inherit', env: { ...process.env, PWD: stage, V2VM_RW: stage, ...(r.cgroup ? { V2VM_CGROUP: r.cgroup } : {}) },
        });
        const t = existsSync(join(stage, vtap)) ? readFileSync(join(stage, vtap), 'utf8') : '';
        if (t) cpSync(join(stage, vtap), join(root, vtap), { force: true });
        const c = (k) => Number((new RegExp(`^# ${k} (\\d+)`, 'm').exec(t) ?? [])[1] ?? 0);
        passed += c('pass'); skipped += c('skipped');
        let f = c('fail');
        if (res.status !== 0 && f === 0) f = 1;
        failed += f;
      }
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  }
}

const after = machineState();
const leaks = [];
if (process.getuid?.() === 0) {
  if (after.mounts !== before.mounts) leaks.push(`host mounts: ${before.mounts} before, ${after.mounts} after`);
  if (after.cgroups !== before.cgroups) leaks.push(`lxts cgroups left: ${after.cgroups || '(some removed)'}`);
  if (after.execs !== before.execs) leaks.push(`lxts-exec processes: ${before.execs} before, ${after.execs} after`);
}
if (leaks.length) {
  console.log('\nThe machine is not as the tests found it:\n  ' + leaks.join('\n  '));
  failed += 1;
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
