// Bad cgroup environments (issue 7): a read-only cgroup mount, and a cgroup depth limit
// reached. Each gets one clear line naming the controller or the limit, and leaves nothing.
// Runs on the hybrid host and in the pure cgroup v2 guest (LXTS_V2VM=1 npm test).
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { CLI, isRoot, machineState, leftovers } from './helpers/lxts.js';

const skip = isRoot ? false : 'needs root';
const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
/** The mount serving the pids controller: a v1 hierarchy, or the cgroup2 root. */
const pidsMount = ((): { dir: string; v2: boolean } | undefined => {
  for (const l of mountinfo) {
    const [pre, post] = l.split(' - ');
    if (!pre || !post) continue;
    const [fstype, , opts] = post.split(' ');
    const mnt = pre.split(' ')[4]!;
    if (fstype === 'cgroup' && opts!.split(',').includes('pids')) return { dir: mnt, v2: false };
  }
  const v2 = mountinfo.find((l) => / - cgroup2 /.test(l) && existsSync(`${l.split(' ')[4]}/cgroup.controllers`) && readFileSync(`${l.split(' ')[4]}/cgroup.controllers`, 'utf8').includes('pids'));
  return v2 ? { dir: v2.split(' ')[4]!, v2: true } : undefined;
})();

test('a read-only cgroup mount: a clear error naming it, nothing left behind', { timeout: 60000, skip: skip || (!pidsMount && 'no pids controller') }, async () => {
  const before = machineState();
  // In a private mount namespace only: the bind remount read-only never reaches the host.
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `mount -o remount,bind,ro ${pidsMount!.dir} && exec ${process.execPath} ${CLI} execute --pids-max 5 -- /bin/true`], { encoding: 'utf8', timeout: 50000 });
  assert.notEqual(r.status, 0);
  const first = r.stderr.trim().split('\n')[0]!;
  assert.match(first, /^lxts: /);
  assert.match(first, /read-only|EROFS/i, first);
  assert.deepEqual(await leftovers(before, 5000), []);
});

test('a cgroup depth limit reached: a clear error naming the limit, nothing left behind', { timeout: 60000, skip: skip || (!pidsMount?.v2 && 'cgroup.max.depth is cgroup v2 only') }, async () => {
  const before = machineState();
  const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))!.slice(3);
  // A child cgroup of our own that allows no descendants; lxts runs inside it.
  const dir = `${pidsMount!.dir}${own === '/' ? '' : own}/lxts-depth-test-${process.pid}`;
  mkdirSync(dir);
  try {
    writeFileSync(`${dir}/cgroup.max.depth`, '0');
    const r = spawnSync('sh', ['-c', `echo $$ > ${dir}/cgroup.procs && exec ${process.execPath} ${CLI} execute --pids-max 5 -- /bin/true`], { encoding: 'utf8', timeout: 50000 });
    assert.notEqual(r.status, 0);
    const lines = r.stderr.trim().split('\n');
    assert.match(lines[0]!, /^lxts: /);
    assert.match(r.stderr, /cgroup\.max\.depth/, r.stderr);
  } finally {
    rmdirSync(dir);
  }
  assert.deepEqual(await leftovers(before, 5000), []);
});
