// cgroup layer on the real kernel (root): whatever this host is (hybrid here, pure v2 in the
// cgroup2 guest). Plain child processes are moved in with attach(); no container executor.
import { test, afterEach, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { ContainerCgroup, detectCgroupHost, describeCgroupHost, cpusToQuota, CgroupError, formatCgroupHost } from '../../src/cgroup/index.js';
import { isRoot, lxtsDirs, gated, sleep, waitUntil, SLOW, type Gated } from './cgroup-util.js';

const skip = !isRoot ? 'needs root' : !fs.existsSync('/sys/fs/cgroup') ? 'no /sys/fs/cgroup' : false;
const M = 1024 * 1024;
const tag = `t${process.pid}`;
const SPLIT_TOL = Number(process.env.LXTS_CG_SPLIT_TOL ?? 3);
const QUOTA_TOL = Number(process.env.LXTS_CG_QUOTA_TOL ?? 5);

let before: string[] = [];
beforeEach(() => { if (!skip) before = lxtsDirs(); });
afterEach(() => {
  if (skip) return;
  // the set of lxts dirs is what it was before; on this shared machine another run may own a
  // new one concurrently: only one that is empty or holds our cgroups is ours
  const now = lxtsDirs();
  const ours = now.filter((d) => !before.includes(d)).filter((d) => {
    const kids = fs.readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    return kids.length === 0 || kids.some((k) => k.startsWith(tag));
  });
  assert.deepEqual(ours, [], 'lxts cgroup dirs left behind');
  for (const d of now) for (const k of fs.readdirSync(d)) assert.ok(!k.startsWith(`${tag}-`), `left behind: ${d}/${k}`);
});

/** The controller is there and lxts can give it to containers (on v2: delegated, no-internal-process rule satisfiable). */
function has(c: string): boolean {
  if (skip) return false;
  return !!describeCgroupHost().controllers.find((d) => d.controller === (c === 'blkio' ? 'io' : c))?.delegated;
}

async function withCgroups(names: string[], fn: (cgs: ContainerCgroup[], procs: Gated[]) => Promise<void>): Promise<void> {
  const cgs: ContainerCgroup[] = [];
  const procs: Gated[] = [];
  try {
    for (const n of names) cgs.push(ContainerCgroup.create(`${tag}-${n}`));
    await fn(cgs, procs);
  } finally {
    for (const p of procs) p.kill();
    const errs: unknown[] = [];
    for (const cg of cgs) { try { cg.destroy(); } catch (e) { errs.push(e); } }
    if (errs.length) throw errs[0];
  }
}

test('host layout is detected', { skip, timeout: 10_000 }, () => {
  const h = detectCgroupHost();
  assert.ok(['v1', 'v2', 'hybrid'].includes(h.layout));
  console.log(formatCgroupHost());
});

test('create/destroy: a dir in every hierarchy, nothing left after destroy', { skip, timeout: 20_000 }, async () => {
  const cg = ContainerCgroup.create(`${tag}-cd`);
  try {
    const dirs = [...new Set(Object.values(cg.paths))];
    assert.ok(dirs.length >= 1);
    for (const d of dirs) assert.ok(fs.existsSync(d), d);
    assert.throws(() => ContainerCgroup.create(`${tag}-cd`), /already exists/);
    cg.destroy();
    for (const d of dirs) assert.ok(!fs.existsSync(d), d);
  } finally {
    cg.destroy();
  }
});

test('cpu quota 0.5 CPU on a busy loop measures ~50%', { skip: skip || (!has('cpu') && 'cpu controller not available to lxts here (see host layout)'), timeout: 60_000 }, async () => {
  await withCgroups(['quota'], async ([cg], procs) => {
    cg!.apply({ cpu: { quotaUs: cpusToQuota(0.5, 100_000), periodUs: 100_000 } });
    const p = gated('while :; do :; done');
    procs.push(p);
    cg!.attach(p.pid);
    p.go();
    await sleep(SLOW ? 1500 : 500);
    const u0 = cg!.cpuUsageUsec(); const t0 = process.hrtime.bigint();
    await sleep(3000);
    const u1 = cg!.cpuUsageUsec(); const t1 = process.hrtime.bigint();
    const pct = ((u1 - u0) / (Number(t1 - t0) / 1000)) * 100;
    console.log(`quota 0.5 CPU: measured ${pct.toFixed(2)}% of one CPU`);
    assert.ok(Math.abs(pct - 50) <= QUOTA_TOL, `measured ${pct.toFixed(2)}%, want 50 +- ${QUOTA_TOL}`);
    const st = cg!.stats();
    assert.ok(st.cpu.nrThrottled > 0 && st.cpu.throttledUsec > 0, 'throttling is reported');
  });
});

test('shares 768/256 (weights 7500/2500) on one CPU split ~75/25', { skip: skip || ((!has('cpu') || !has('cpuset')) && 'cpu or cpuset controller not available to lxts here'), timeout: 60_000 }, async () => {
  const last = String(os.cpus().length - 1);
  await withCgroups(['hi', 'lo'], async ([hi, lo], procs) => {
    hi!.apply({ cpu: { shares: 768, weight: 7500, cpus: last } });
    lo!.apply({ cpu: { shares: 256, weight: 2500, cpus: last } });
    const cgs = [hi!, lo!];
    for (const cg of cgs) {
      const p = gated('while :; do :; done');
      procs.push(p);
      cg.attach(p.pid);
      p.go();
    }
    // cpuset is in force: the loop may only run on the chosen CPU
    const allowed = fs.readFileSync(`/proc/${procs[0]!.pid}/status`, 'utf8').match(/^Cpus_allowed_list:\s*(\S+)/m)![1];
    assert.equal(allowed, last);
    await sleep(SLOW ? 1500 : 500);
    const u0 = cgs.map((c) => c.cpuUsageUsec());
    await sleep(SLOW ? 8000 : 5000);
    const d = cgs.map((c, i) => c.cpuUsageUsec() - u0[i]!);
    const share = (d[0]! / (d[0]! + d[1]!)) * 100;
    console.log(`75/25 split on CPU ${last}: measured ${share.toFixed(2)}/${(100 - share).toFixed(2)} (cpu s ${d.map((x) => (x / 1e6).toFixed(2)).join(', ')})`);
    assert.ok(Math.abs(share - 75) <= SPLIT_TOL, `measured ${share.toFixed(2)}%, want 75 +- ${SPLIT_TOL}`);
  });
});

test('memory max: a process allocating past the limit is OOM-killed and counted', { skip: skip || (!has('memory') && 'memory controller not available to lxts here'), timeout: 60_000 }, async () => {
  await withCgroups(['mem'], async ([cg], procs) => {
    cg!.apply({ memory: { max: 32 * M, swapMax: 0 } });
    // tail keeps the whole newline-free stream in memory: 200M > 32M
    // tail makes itself the OOM killer's first choice (raising one's own score needs no
    // privilege), so the victim is always the hog and never the shell that reports.
    const p = gated('head -c 200M /dev/zero | (echo 1000 > /proc/self/oom_score_adj; exec tail); echo survived-$?');
    procs.push(p);
    cg!.attach(p.pid);
    const oomBefore = cg!.stats().memory.oomKills;
    p.go();
    await p.exited;
    const st = cg!.stats();
    console.log(`memory: ${JSON.stringify(st.memory)}; sh says ${p.out().trim()}`);
    assert.match(p.out(), /survived-137/, 'tail was SIGKILLed (128+9), its shell survived');
    assert.ok(st.memory.oomKills > oomBefore, 'oom kill counted');
    assert.equal(st.memory.limit, 32 * M);
  });
});

test('pids max: fork fails at the limit, the host is fine', { skip: skip || (!has('pids') && 'pids controller not available to lxts here'), timeout: 60_000 }, async () => {
  await withCgroups(['pids'], async ([cg], procs) => {
    cg!.apply({ pids: { max: 5 } });
    const p = gated('for i in 1 2 3 4 5 6 7 8 9 10; do sleep 60 & done; echo spawned; wait');
    procs.push(p);
    cg!.attach(p.pid);
    p.go();
    // dash gives up on the first failed fork ("Cannot fork"), bash reports and goes on
    await waitUntil('the loop to hit the limit', () => p.out().includes('spawned') || /fork|resource temporarily unavailable/i.test(p.err()));
    await sleep(200);
    const st = cg!.stats();
    console.log(`pids: ${JSON.stringify(st.pids)}; stderr: ${p.err().trim().split('\n')[0]}`);
    assert.equal(st.pids.max, 5);
    assert.ok(st.pids.current >= 4 && st.pids.current <= 5, `pids.current ${st.pids.current}`);
    assert.match(p.err(), /fork|resource temporarily unavailable/i);
    cg!.killAll();
    assert.deepEqual(cg!.pids(), []);
  });
});

test('freeze stops CPU usage, thaw resumes it', { skip: skip || (!has('freezer') && 'no freezer'), timeout: 60_000 }, async () => {
  await withCgroups(['frz'], async ([cg], procs) => {
    const p = gated('while :; do :; done');
    procs.push(p);
    cg!.attach(p.pid);
    p.go();
    await sleep(300);
    cg!.freeze();
    const f0 = cg!.cpuUsageUsec();
    await sleep(SLOW ? 2000 : 1000);
    const f1 = cg!.cpuUsageUsec();
    assert.equal(f1 - f0, 0, 'a frozen cgroup uses no CPU');
    cg!.thaw();
    await sleep(SLOW ? 2000 : 1000);
    const f2 = cg!.cpuUsageUsec();
    console.log(`freeze: frozen delta ${f1 - f0} us, thawed delta ${f2 - f1} us`);
    assert.ok(f2 - f1 > (SLOW ? 100_000 : 300_000), 'thawed loop runs again');
  });
});

test('killAll empties the cgroup, also when frozen; get/set live', { skip, timeout: 60_000 }, async () => {
  await withCgroups(['kill'], async ([cg], procs) => {
    const p = gated('sleep 60 & sleep 60 & sleep 60 & wait');
    procs.push(p);
    cg!.attach(p.pid);
    p.go();
    await waitUntil('4 processes', () => cg!.pids().length === 4);
    if (has('freezer')) cg!.freeze();
    cg!.killAll();
    assert.deepEqual(cg!.pids(), []);
    const r = await p.exited;
    assert.equal(r.signal, 'SIGKILL');
    if (has('pids')) {
      cg!.set('pids.max', '7');
      assert.equal(cg!.get('pids.max'), '7');
    }
  });
});

test('bad input: clear one-line errors with file and errno, nothing left behind', { skip, timeout: 20_000 }, async () => {
  const h = detectCgroupHost();
  await withCgroups(['bad'], async ([cg]) => {
    cg!.apply({}); // a first apply that fails would destroy the cgroup (tested below)
    if (has('cpuset')) assert.throws(() => cg!.apply({ cpu: { cpus: `0-${os.cpus().length + 3}` } }), /names CPUs that do not exist/);
    if (has('cpu')) {
      const key = h.controllers.cpu!.version === 1 ? 'cpu.cfs_quota_us' : 'cpu.max';
      assert.throws(() => cg!.set(key, 'garbage'), (e: unknown) => {
        assert.ok(e instanceof CgroupError);
        assert.equal(e.errno, 'EINVAL');
        assert.ok(e.file?.endsWith(key));
        assert.match(e.message, /invalid argument \(EINVAL\)/);
        assert.ok(!e.message.includes('\n'));
        return true;
      });
    }
    if (has('memory')) assert.throws(() => cg!.apply({ raw: [{ version: h.controllers.memory?.version ?? 1, key: 'memory.does_not_exist', value: '1' }] }), /unknown cgroup key lxc\.cgroup2?\.memory\.does_not_exist/);
  });
  // a failed first apply destroys the fresh cgroup
  const cg = ContainerCgroup.create(`${tag}-bad2`);
  try {
    assert.throws(() => cg.apply({ memory: { max: 100 } }), /below the minimum|a memory limit/);
    for (const d of Object.values(cg.paths)) assert.ok(!fs.existsSync(d), d);
  } finally {
    cg.destroy();
  }
});
