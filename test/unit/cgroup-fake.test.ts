// The v1 and v2 drivers against temporary directories laid out like cgroup trees (no root needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ContainerCgroup, parseCgroupHost, describeCgroupHost, formatCgroupHost, CgroupError } from '../../src/cgroup/index.js';

const M = 1024 * 1024;

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'lxts-cgfake-'));
}
function put(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}
const read = (f: string) => fs.readFileSync(f, 'utf8').trim();

const V2_MOUNTINFO = '30 20 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n';

/** A pure v2 tree; own cgroup `own` ("/" = root). */
function v2Tree(own: string, opts: { controllers?: string; procs?: string; subtree?: string } = {}) {
  const root = tmp();
  const mnt = path.join(root, 'sys/fs/cgroup');
  const ctrls = opts.controllers ?? 'cpuset cpu io memory hugetlb pids';
  put(path.join(mnt, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n');
  put(path.join(mnt, 'cgroup.subtree_control'), own === '/' ? (opts.subtree ?? '') : 'cpuset cpu io memory pids');
  put(path.join(mnt, 'cgroup.procs'), own === '/' ? (opts.procs ?? `1\n${process.pid}\n`) : '');
  put(path.join(mnt, 'cpuset.cpus.effective'), '0-3\n');
  if (own !== '/') {
    const d = path.join(mnt, own);
    put(path.join(d, 'cgroup.controllers'), ctrls);
    put(path.join(d, 'cgroup.subtree_control'), opts.subtree ?? '');
    put(path.join(d, 'cgroup.procs'), opts.procs ?? `${process.pid}\n`);
    put(path.join(d, 'cgroup.events'), 'populated 1\nfrozen 0\n');
    put(path.join(d, 'cpuset.cpus.effective'), '0-3\n');
  }
  const host = parseCgroupHost({ mountinfo: V2_MOUNTINFO, procCgroup: `0::${own}\n`, rootPrefix: root });
  return { root, mnt, host };
}

test('detect: hybrid host like the development machines', () => {
  const mi = [
    '25 24 0:22 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755',
    '26 25 0:23 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu',
    '27 25 0:24 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct',
    '28 25 0:25 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
    '29 25 0:26 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd',
    '30 25 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
  ].join('\n');
  const pc = '4:memory:/process_api/abc\n2:cpuacct:/\n1:cpu:/\n9:name=systemd:/\n0::/\n';
  const h = parseCgroupHost({ mountinfo: mi, procCgroup: pc, rootPrefix: '/nonexistent' });
  assert.equal(h.layout, 'hybrid');
  assert.equal(h.controllers.memory!.version, 1);
  assert.equal(h.controllers.memory!.ownDir, '/nonexistent/sys/fs/cgroup/memory/process_api/abc');
  assert.equal(h.controllers.cpu!.ownDir, '/nonexistent/sys/fs/cgroup/cpu');
  assert.equal(h.v1.length, 3); // name=systemd is no controller
  // no v1 freezer: freezing falls to cgroup v2's core cgroup.freeze
  assert.equal(h.controllers.freezer!.version, 2);
  assert.equal(h.controllers.pids, undefined);
});

test('detect: pure v2 and co-mounted v1 (cpu,cpuacct), cgroup namespace root', () => {
  const { root, host } = v2Tree('/user.slice/x.scope');
  fs.rmSync(root, { recursive: true, force: true }); // detection read what it needed
  assert.equal(host.layout, 'v2');
  assert.deepEqual(['cpu', 'cpuset', 'memory', 'io', 'pids'].map((c) => host.controllers[c]!.version), [2, 2, 2, 2, 2]);
  assert.equal(host.controllers.devices, undefined);
  const v1 = parseCgroupHost({
    mountinfo: '26 25 0:23 /lxc/c1 /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n',
    procCgroup: '2:cpu,cpuacct:/lxc/c1/sub\n',
  });
  assert.equal(v1.layout, 'v1');
  assert.equal(v1.v1.length, 1);
  assert.equal(v1.controllers.cpuacct!.ownDir, '/sys/fs/cgroup/cpu,cpuacct/sub');
});

test('v2 fake tree at the root: controllers enabled top-down, limits written, removed', () => {
  const { root, mnt, host } = v2Tree('/');
  try {
    const cg = ContainerCgroup.create('c1', { host });
    const dir = path.join(mnt, 'lxts/c1');
    assert.equal(cg.paths.memory, dir);
    assert.equal(cg.paths.unified, dir);
    assert.deepEqual(read(path.join(mnt, 'cgroup.subtree_control')).split(' ').sort(), ['cpu', 'cpuset', 'io', 'memory', 'pids']);
    assert.deepEqual(read(path.join(mnt, 'lxts/cgroup.subtree_control')).split(' ').sort(), ['cpu', 'cpuset', 'io', 'memory', 'pids']);
    for (const f of ['memory.swap.max', 'io.weight', 'cpu.weight', 'memory.oom.group']) put(path.join(dir, f), '');
    put(path.join(mnt, 'lxts/cpuset.cpus.effective'), '0-3');
    cg.apply({
      cpu: { shares: 768, weight: 7500, quotaUs: 50000, periodUs: 100000, cpus: '3' },
      memory: { max: 256 * M, high: 200 * M, swapMax: 0 }, pids: { max: 64 }, io: { weight: 200, throttle: [{ device: '8:0', wbps: 1000 }] },
      raw: [{ version: 2, key: 'memory.oom.group', value: '1' }, { version: 1, key: 'cpu.shares', value: '1024' }],
    });
    assert.equal(read(path.join(dir, 'cpu.weight')), '39'); // the raw v1 key, converted, written last
    assert.equal(read(path.join(dir, 'cpu.max')), '50000 100000');
    assert.equal(read(path.join(dir, 'cpuset.cpus')), '3');
    assert.equal(read(path.join(dir, 'memory.max')), String(256 * M));
    assert.equal(read(path.join(dir, 'memory.high')), String(200 * M));
    assert.equal(read(path.join(dir, 'memory.swap.max')), '0');
    assert.equal(read(path.join(dir, 'pids.max')), '64');
    assert.equal(read(path.join(dir, 'io.weight')), 'default 200');
    assert.equal(read(path.join(dir, 'io.max')), '8:0 wbps=1000');
    assert.equal(read(path.join(dir, 'memory.oom.group')), '1');
    assert.throws(() => cg.apply({ raw: [{ version: 2, key: 'memory.nonexistent', value: '1' }] }), /unknown cgroup key lxc\.cgroup2\.memory\.nonexistent/);
    assert.throws(() => cg.apply({ cpu: { cpus: '4-5' } }), /4-5 \(available: 0-3\)/);
    // stats from the v2 files
    put(path.join(dir, 'cpu.stat'), 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 3\nnr_throttled 2\nthrottled_usec 700\n');
    put(path.join(dir, 'memory.current'), '1000\n');
    put(path.join(dir, 'memory.peak'), '4000\n');
    put(path.join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 2\noom_kill 1\n');
    put(path.join(dir, 'pids.current'), '5\n');
    put(path.join(dir, 'io.stat'), '8:0 rbytes=10 wbytes=20 rios=1 wios=1\n');
    assert.deepEqual(cg.stats(), {
      cpu: { usageUsec: 1500, userUsec: 1000, systemUsec: 500, throttledUsec: 700, nrThrottled: 2 },
      memory: { current: 1000, peak: 4000, limit: 256 * M, oomKills: 1, oomEvents: 2 },
      pids: { current: 5, max: 64 },
      io: { readBytes: 10, writeBytes: 20 },
    });
    assert.equal(cg.cpuUsageUsec(), 1500);
    assert.equal(cg.get('pids.max'), '64');
    cg.set('memory.limit_in_bytes', '128M'); // v1 key on v2: converted
    assert.equal(read(path.join(dir, 'memory.max')), String(128 * M));
    assert.throws(() => cg.get('memory.nope'), /unknown cgroup key memory\.nope/);
    // freeze waits for cgroup.events
    put(path.join(dir, 'cgroup.events'), 'populated 1\nfrozen 1\n');
    cg.freeze();
    assert.equal(read(path.join(dir, 'cgroup.freeze')), '1');
    put(path.join(dir, 'cgroup.events'), 'populated 1\nfrozen 0\n');
    cg.thaw();
    cg.destroy();
    cg.destroy();
    assert.ok(!fs.existsSync(path.join(mnt, 'lxts')), 'lxts parent removed');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('v2: own cgroup holding only lxts -> lxts moves itself into a leaf, moves back at the end', () => {
  const { root, mnt, host } = v2Tree('/svc.service');
  try {
    const own = path.join(mnt, 'svc.service');
    const cg = ContainerCgroup.create('c1', { host });
    assert.equal(read(path.join(own, 'lxts/.lxts-host/cgroup.procs')), String(process.pid));
    assert.deepEqual(read(path.join(own, 'cgroup.subtree_control')).split(' ').sort(), ['cpu', 'cpuset', 'io', 'memory', 'pids']);
    assert.match(formatCgroupHost(describeCgroupHost(host)), /leaf/);
    const cg2 = ContainerCgroup.create('c2', { host });
    cg.destroy();
    assert.ok(fs.existsSync(path.join(own, 'lxts/.lxts-host')), 'leaf stays while c2 exists');
    cg2.destroy();
    assert.equal(read(path.join(own, 'cgroup.procs')), String(process.pid), 'moved back');
    assert.equal(read(path.join(own, 'cgroup.subtree_control')), '', 'what lxts enabled is disabled again');
    assert.ok(!fs.existsSync(path.join(own, 'lxts')));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('v2: own cgroup holding other processes -> nothing moved, clear error naming the controller and rule', () => {
  const { root, mnt, host } = v2Tree('/user.slice/session-1.scope', { procs: `4242\n${process.pid}\n` });
  try {
    const own = path.join(mnt, 'user.slice/session-1.scope');
    const cg = ContainerCgroup.create('c1', { host });
    assert.equal(read(path.join(own, 'cgroup.procs')), `4242\n${process.pid}`);
    assert.equal(read(path.join(own, 'cgroup.subtree_control')), '');
    assert.match(cg.unavailable().memory!, /holds other processes \(pid 4242\).*no-internal-process/);
    assert.throws(() => cg.apply({ memory: { max: 64 * M } }), (e: unknown) => {
      assert.ok(e instanceof CgroupError);
      assert.match(e.message, /^a memory limit: cannot enable the memory controller below .*session-1\.scope: that cgroup holds other processes/);
      return true;
    });
    // a failed first apply leaves nothing behind
    assert.ok(!fs.existsSync(path.join(own, 'lxts')));
    cg.destroy();
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('v2: parent does not delegate a controller -> named in the error', () => {
  const { root, host } = v2Tree('/d', { controllers: 'cpu memory pids', procs: '' });
  try {
    const cg = ContainerCgroup.create('c1', { host });
    assert.throws(() => cg.apply({ io: { weight: 100 } }), /io weight: the io controller is not delegated to lxts: .*lists only "cpu memory pids"/);
    const d = describeCgroupHost(host).controllers.find((c) => c.controller === 'io')!;
    assert.equal(d.delegated, false);
    assert.match(d.note!, /not delegated/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

function v1Tree() {
  const root = tmp();
  const mi: string[] = [];
  let id = 30;
  const hs = ['cpu,cpuacct', 'cpuset', 'memory', 'blkio', 'pids', 'freezer', 'devices'];
  for (const h of hs) {
    mi.push(`${id++} 25 0:${id} / /sys/fs/cgroup/${h} rw - cgroup cgroup rw,${h}`);
    put(path.join(root, 'sys/fs/cgroup', h, 'cgroup.procs'), '');
  }
  const pc = hs.map((h, i) => `${i + 1}:${h}:${h === 'memory' ? '/sess' : '/'}`).join('\n') + '\n';
  put(path.join(root, 'sys/fs/cgroup/cpuset/cpuset.cpus'), '0-3\n');
  put(path.join(root, 'sys/fs/cgroup/cpuset/cpuset.effective_cpus'), '0-3\n');
  put(path.join(root, 'sys/fs/cgroup/cpuset/cpuset.mems'), '0\n');
  put(path.join(root, 'sys/fs/cgroup/memory/sess/cgroup.procs'), '');
  const host = parseCgroupHost({ mountinfo: mi.join('\n'), procCgroup: pc, rootPrefix: root });
  return { root, cg: path.join(root, 'sys/fs/cgroup'), host };
}

test('v1 fake tree: every hierarchy, cpuset copied down, memsw = max + swap, stats', () => {
  const { root, cg: mnt, host } = v1Tree();
  try {
    assert.equal(host.layout, 'v1');
    const cg = ContainerCgroup.create('c1', { host });
    assert.equal(cg.paths.cpu, path.join(mnt, 'cpu,cpuacct/lxts/c1'));
    assert.equal(cg.paths.cpuacct, cg.paths.cpu);
    assert.equal(cg.paths.memory, path.join(mnt, 'memory/sess/lxts/c1'));
    assert.equal(cg.paths.blkio, path.join(mnt, 'blkio/lxts/c1'));
    assert.equal(read(path.join(mnt, 'cpuset/lxts/cpuset.cpus')), '0-3');
    assert.equal(read(path.join(mnt, 'cpuset/lxts/c1/cpuset.cpus')), '0-3');
    assert.equal(read(path.join(mnt, 'cpuset/lxts/c1/cpuset.mems')), '0');
    put(path.join(cg.paths.memory!, 'memory.memsw.limit_in_bytes'), '9223372036854771712');
    put(path.join(cg.paths.blkio!, 'blkio.weight'), '');
    put(path.join(mnt, 'cpuset/lxts/cpuset.effective_cpus'), '0-3');
    cg.apply({ cpu: { shares: 768, weight: 7500, quotaUs: 50000, cpus: '3' }, memory: { max: 100 * M, swapMax: 10 * M }, pids: { max: 10 }, io: { weight: 1000 } });
    assert.equal(read(path.join(cg.paths.cpu!, 'cpu.shares')), '768');
    assert.equal(read(path.join(cg.paths.cpu!, 'cpu.cfs_quota_us')), '50000');
    assert.equal(read(path.join(cg.paths.cpuset!, 'cpuset.cpus')), '3');
    assert.equal(read(path.join(cg.paths.memory!, 'memory.limit_in_bytes')), String(100 * M));
    assert.equal(read(path.join(cg.paths.memory!, 'memory.memsw.limit_in_bytes')), String(110 * M));
    assert.equal(read(path.join(cg.paths.pids!, 'pids.max')), '10');
    assert.equal(read(path.join(cg.paths.blkio!, 'blkio.weight')), '108'); // io weight 1000 of 10000
    assert.throws(() => cg.apply({ raw: [{ version: 2, key: 'memory.oom.group', value: '1' }] }), /lxc\.cgroup2\.memory\.oom\.group/);
    cg.set('cpu.weight', '100');
    assert.equal(read(path.join(cg.paths.cpu!, 'cpu.shares')), '2597');
    const a = cg.paths.cpu!;
    put(path.join(a, 'cpuacct.usage'), '3000000\n');
    put(path.join(a, 'cpuacct.stat'), 'user 200\nsystem 100\n');
    put(path.join(a, 'cpuacct.usage_percpu'), '1000000 2000000 0 0 \n');
    put(path.join(a, 'cpu.stat'), 'nr_periods 10\nnr_throttled 4\nthrottled_time 5000000\n');
    const m = cg.paths.memory!;
    put(path.join(m, 'memory.usage_in_bytes'), '4096\n');
    put(path.join(m, 'memory.max_usage_in_bytes'), '8192\n');
    put(path.join(m, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 3\n');
    put(path.join(cg.paths.pids!, 'pids.current'), '2\n');
    put(path.join(cg.paths.blkio!, 'blkio.throttle.io_service_bytes'), '8:0 Read 7\n8:0 Write 9\n8:0 Total 16\nTotal 16\n');
    assert.deepEqual(cg.stats(), {
      cpu: { usageUsec: 3000, userUsec: 2_000_000, systemUsec: 1_000_000, perCpuUsec: [1000, 2000, 0, 0], throttledUsec: 5000, nrThrottled: 4 },
      memory: { current: 4096, peak: 8192, limit: 100 * M, oomKills: 3, oomEvents: 3 },
      pids: { current: 2, max: 10 },
      io: { readBytes: 7, writeBytes: 9 },
    });
    put(path.join(cg.paths.freezer!, 'freezer.state'), 'FROZEN');
    cg.freeze();
    cg.destroy();
    for (const h of ['cpu,cpuacct', 'cpuset', 'memory/sess', 'blkio', 'pids', 'freezer', 'devices']) {
      assert.ok(!fs.existsSync(path.join(mnt, h, 'lxts')), h);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('create: bad names, existing cgroup, failure leaves nothing behind', () => {
  const { root, cg: mnt, host } = v1Tree();
  try {
    assert.throws(() => ContainerCgroup.create('../x', { host }), /invalid cgroup name/);
    assert.throws(() => ContainerCgroup.create('.lxts-host', { host }), /invalid cgroup name/);
    assert.throws(() => ContainerCgroup.create('ok', { host, parent: '/abs' }), /invalid cgroup parent/);
    assert.throws(() => ContainerCgroup.create('ok', { host, parent: 'a/../b' }), /invalid cgroup parent/);
    fs.mkdirSync(path.join(mnt, 'pids/lxts/dup'), { recursive: true });
    assert.throws(() => ContainerCgroup.create('dup', { host }), /already exists/);
    // everything created before the failing hierarchy is gone again; the pre-existing dir stays
    for (const h of ['cpu,cpuacct', 'cpuset', 'memory/sess', 'blkio']) assert.ok(!fs.existsSync(path.join(mnt, h, 'lxts')), h);
    assert.ok(fs.existsSync(path.join(mnt, 'pids/lxts/dup')));
    const cg = ContainerCgroup.create('n1', { host, parent: 'outer/inner' });
    assert.equal(cg.paths.pids, path.join(mnt, 'pids/outer/inner/n1'));
    cg.destroy();
    assert.ok(!fs.existsSync(path.join(mnt, 'pids/outer')));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
