#!/usr/bin/env node
// The test command (`npm test`, and so .ci/run): unit tests, then the integration tests on
// the real kernel, one file at a time (they measure CPU shares). It checks that the machine
// is left as it was (mounts, lxts cgroups, lxts-exec processes) and closes with the plain
// line "N passed, N failed, N skipped".
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
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
const before = machineState();
const r = spawnSync(process.execPath, [
  '--test', '--test-concurrency=1', '--test-timeout=300000',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=tap', `--test-reporter-destination=${tap}`,
  ...files,
], { cwd: root, stdio: 'inherit' });
const out = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
const count = (k) => Number((new RegExp(`^# ${k} (\\d+)`, 'm').exec(out) ?? [])[1] ?? 0);
let passed = count('pass'), failed = count('fail'), skipped = count('skipped');
if (r.status !== 0 && failed === 0) failed = 1; // the runner itself failed (crash, timeout)

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
