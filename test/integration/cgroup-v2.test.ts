// cgroup v2 specifics on a real pure-v2 kernel (run in the cgroup2 QEMU guest by
// LXTS_V2VM=1 npm test): the no-internal-process rule. Skipped where no controller is on v2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ContainerCgroup, detectCgroupHost, formatCgroupHost } from '../../src/cgroup/index.js';
import { isRoot, lxtsDirs } from './cgroup-util.js';

const host = detectCgroupHost();
const onV2 = ['cpu', 'memory', 'pids'].some((c) => host.controllers[c]?.version === 2);
const skip = !isRoot ? 'needs root' : !onV2 ? 'no controller is served by cgroup v2 on this host' : false;
const tag = `t${process.pid}`;
const M = 1024 * 1024;
const helper = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cgroup-helper.js');
const words = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim().split(/\s+/).filter(Boolean) : []);

/** Can lxts enable controllers below its own cgroup? (root, or no other process in it, or already enabled) */
function ownCgroupUsable(): { usable: boolean; others: number[] } {
  const own = host.v2!.ownDir;
  const others = words(path.join(own, 'cgroup.procs')).map(Number).filter((p) => p !== process.pid);
  const isRootCg = !fs.existsSync(path.join(own, 'cgroup.events'));
  return { usable: isRootCg || others.length === 0 || words(path.join(own, 'cgroup.subtree_control')).includes('memory'), others };
}

async function runHelper(into: ContainerCgroup): Promise<Record<string, any>> {
  const h = spawn(process.execPath, [helper], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  h.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  const done = new Promise<void>((r) => h.on('exit', () => r()));
  try {
    into.attach(h.pid!);
    h.stdin!.write('go\n');
    await done;
    return JSON.parse(out.trim()) as Record<string, any>;
  } finally {
    if (h.exitCode === null && h.signalCode === null) process.kill(h.pid!, 'SIGKILL');
  }
}

test('v2 host layout', { skip, timeout: 10_000 }, () => {
  console.log(formatCgroupHost());
  console.log(`own cgroup: ${host.v2!.ownPath}`);
});

test('no-internal-process rule: lxts alone parks itself in a leaf and moves back; in a shared cgroup a clear error', { skip, timeout: 60_000 }, async () => {
  const before = lxtsDirs();
  const { usable, others } = ownCgroupUsable();
  if (!usable) {
    // lxts shares its cgroup with other processes (V2VM_CGROUP=name: PID 1 and the shell are there):
    // nothing may be moved, so limits fail with a clear reason and nothing is left behind
    const cg = ContainerCgroup.create(`${tag}-nip`);
    try {
      assert.match(cg.unavailable().memory!, /holds other processes .*no-internal-process rule/);
      assert.throws(() => cg.apply({ memory: { max: 64 * M } }), /a memory limit: cannot enable the memory controller below .*holds other processes/);
      const procs = words(path.join(host.v2!.ownDir, 'cgroup.procs')).map(Number);
      assert.ok(procs.includes(process.pid), 'lxts did not move itself');
      for (const o of others) if (fs.existsSync(`/proc/${o}`)) assert.ok(procs.includes(o), `pid ${o} was not moved`);
      console.log(`own cgroup ${host.v2!.ownPath} holds ${others.length} other process(es): ${cg.unavailable().memory}`);
    } finally {
      cg.destroy();
    }
    assert.deepEqual(lxtsDirs(), before);
    return;
  }
  const svc = ContainerCgroup.create(`${tag}-svc`);
  try {
    const r = await runHelper(svc);
    console.log(`helper: ${JSON.stringify(r)}`);
    assert.equal(r.error, undefined);
    assert.match(r.afterCreate, new RegExp(`/${tag}-svc/lxts/\\.lxts-host$`), 'helper moved itself into the leaf');
    assert.equal(r.memoryMax, String(64 * M));
    assert.match(r.sleepIn, new RegExp(`/${tag}-svc/lxts/inner$`));
    assert.match(r.after, new RegExp(`/${tag}-svc$`), 'helper moved back');
    assert.deepEqual(r.leftover, []);
    assert.equal(r.ownSubtree, '', 'what it enabled is disabled again');
  } finally {
    svc.destroy();
  }
  assert.deepEqual(lxtsDirs(), before);
});

test('no-internal-process rule: another process beside lxts -> clear error, nothing moved or left', { skip, timeout: 60_000 }, async (t) => {
  if (!ownCgroupUsable().usable) { t.skip('own cgroup already shared (covered by the test above)'); return; }
  const before = lxtsDirs();
  const svc = ContainerCgroup.create(`${tag}-shared`);
  const other = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    svc.attach(other.pid!);
    const r = await runHelper(svc);
    console.log(`helper: ${r.error}`);
    assert.match(String(r.error), /holds other processes \(pid \d+\).*no-internal-process/);
    assert.match(r.after, new RegExp(`/${tag}-shared$`), 'helper stayed where it was');
    assert.deepEqual(r.leftover, []);
    assert.ok(words(path.join(svc.paths.unified!, 'cgroup.procs')).includes(String(other.pid)), 'the other process was not moved');
  } finally {
    other.kill('SIGKILL');
    svc.destroy();
  }
  assert.deepEqual(lxtsDirs(), before);
});

test('v2 files: cpu.max, memory.high/swap.max, io weight, cgroup.kill, memory.events', { skip, timeout: 60_000 }, async (t) => {
  if (!ownCgroupUsable().usable) { t.skip('controllers not available below a shared cgroup'); return; }
  const cg = ContainerCgroup.create(`${tag}-files`);
  try {
    cg.apply({ cpu: { quotaUs: 20000, periodUs: 100000, weight: 300 }, memory: { max: 128 * M, high: 100 * M, swapMax: 0 }, pids: { max: 50 } });
    assert.equal(cg.get('cpu.max'), '20000 100000');
    assert.equal(cg.get('cpu.weight'), '300');
    assert.equal(cg.get('memory.high'), String(100 * M));
    if (fs.existsSync(path.join(cg.paths.memory!, 'memory.swap.max'))) assert.equal(cg.get('memory.swap.max'), '0');
    cg.set('cpu.shares', '1024'); // v1 key: converted to cpu.weight
    assert.equal(cg.get('cpu.weight'), '39');
    const s = spawn('sleep', ['60'], { stdio: 'ignore' });
    cg.attach(s.pid!);
    cg.killAll();
    assert.deepEqual(cg.pids(), []);
    assert.ok('oom' in Object.fromEntries(fs.readFileSync(path.join(cg.paths.memory!, 'memory.events'), 'utf8').trim().split('\n').map((l) => l.split(' '))));
  } finally {
    cg.destroy();
  }
});
