// Run inside the pure cgroup v2 guest (scripts/run-tests.js, phase 2): the demo and a
// container's limits on a real v2 kernel. The guest's CPU is 10-20x slower than the host's,
// so the demo runs 5 s and its tolerance is 5 points (issue 7).
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { lxts, machineState, leftovers } from '../integration/helpers/lxts.js';

const pureV2 = !readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => / - cgroup /.test(l));

test('the host is pure cgroup v2', { timeout: 10000 }, () => {
  assert.ok(pureV2, 'no cgroup v1 hierarchy mounted');
});

test('lxts demo --duration 5 --json splits 75/25 within 5 points on cgroup v2', { timeout: 180000, skip: pureV2 ? false : 'not a v2 host' }, async () => {
  const before = machineState();
  const r = await lxts(['demo', '--duration', '5', '--json'], { timeoutMs: 170000 });
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { containers: { measured: number; target: number }[]; cgroupVersions?: unknown };
  assert.equal(s.containers.length, 2);
  for (const c of s.containers) assert.ok(Math.abs(c.measured - c.target) <= 5, `measured ${c.measured} vs target ${c.target}`);
  assert.deepEqual(await leftovers(before, 10000), []);
});

test('a container sees its limits from inside on cgroup v2', { timeout: 120000, skip: pureV2 ? false : 'not a v2 host' }, async () => {
  const before = machineState();
  const r = await lxts(['execute', '--memory', '64M', '--pids-max', '20', '--cpus', '0.5', '--', '/bin/sh', '-c', 'cat /proc/self/cgroup /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max'], { timeoutMs: 110000 });
  assert.equal(r.code, 0, r.stderr);
  // The cgroup namespace roots the container at its own cgroup, mounted read-only at /sys/fs/cgroup.
  assert.deepEqual(r.stdout.trim().split('\n'), ['0::/', String(64 * 1024 * 1024), '20', '50000 100000']);
  assert.deepEqual(await leftovers(before, 10000), []);
});
