import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  sharesToWeight, weightToShares, parseSize, parseSizeOrMax, parseCpus, cpusToQuota, quotaToCpus, formatCpuMax, parseCpuMax,
  parseCpuList, formatCpuList, blkioWeightToIoWeight, ioWeightToBlkioWeight, CgroupError,
  planWrites, rawToStructured, controllerOfKey, type PlanContext, type Logical,
} from '../../src/cgroup/index.js';
import { parseIoStat, parseBlkioServiceBytes, parseKeyValues, parseV1Bytes } from '../../src/cgroup/convert.js';

test('shares -> weight: systemd/crun linear formula and boundaries', () => {
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(262144), 10000);
  assert.equal(sharesToWeight(1024), 39);
  assert.equal(sharesToWeight(768), 30);
  assert.equal(sharesToWeight(256), 10);
  assert.throws(() => sharesToWeight(1), CgroupError);
  assert.throws(() => sharesToWeight(262145), CgroupError);
  assert.throws(() => sharesToWeight(10.5), CgroupError);
});

test('weight -> shares: inverse formula and boundaries', () => {
  assert.equal(weightToShares(1), 2);
  assert.equal(weightToShares(10000), 262144);
  assert.equal(weightToShares(100), 2597);
  assert.throws(() => weightToShares(0), CgroupError);
  assert.throws(() => weightToShares(10001), CgroupError);
  // round trip stays within one conversion step, monotonic
  for (const w of [1, 2, 50, 100, 1000, 5000, 9999, 10000]) {
    assert.ok(Math.abs(sharesToWeight(weightToShares(w)) - w) <= 1, `w=${w}`);
  }
  let prev = 0;
  for (let s = 2; s <= 262144; s += 997) { const w = sharesToWeight(s); assert.ok(w >= prev); prev = w; }
});

test('blkio weight <-> io weight', () => {
  assert.equal(blkioWeightToIoWeight(10), 1);
  assert.equal(blkioWeightToIoWeight(1000), 10000);
  assert.equal(ioWeightToBlkioWeight(1), 10);
  assert.equal(ioWeightToBlkioWeight(10000), 1000);
  assert.equal(ioWeightToBlkioWeight(100), 19);
  assert.throws(() => blkioWeightToIoWeight(5), CgroupError);
});

test('parseSize: suffixes, decimals, max, garbage', () => {
  assert.equal(parseSize('512M'), 512 * 1024 ** 2);
  assert.equal(parseSize('1G'), 1024 ** 3);
  assert.equal(parseSize('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(parseSize('100k'), 102400);
  assert.equal(parseSize('4096'), 4096);
  assert.equal(parseSize('2GiB'), 2 * 1024 ** 3);
  assert.equal(parseSize(' 64 MB '), 64 * 1024 ** 2);
  assert.equal(parseSize('1T'), 1024 ** 4);
  assert.equal(parseSize('max'), Infinity);
  assert.equal(parseSizeOrMax('max'), null);
  assert.equal(parseSizeOrMax('-1'), null);
  assert.equal(parseSizeOrMax('1m'), 1048576);
  for (const bad of ['', 'abc', '12X', '-5M', '1..5G', 'M', '1 2']) {
    assert.throws(() => parseSize(bad), CgroupError, bad);
  }
});

test('cpus and quota strings', () => {
  assert.equal(parseCpus('0.5'), 0.5);
  assert.equal(parseCpus('2'), 2);
  assert.throws(() => parseCpus('0'), CgroupError);
  assert.throws(() => parseCpus('-1'), CgroupError);
  assert.throws(() => parseCpus('half'), CgroupError);
  assert.equal(cpusToQuota(0.5), 50000);
  assert.equal(cpusToQuota('1.5', 100000), 150000);
  assert.equal(cpusToQuota(0.25, 20000), 5000);
  assert.equal(cpusToQuota(0.001, 100000), 1000); // kernel minimum 1 ms
  assert.throws(() => cpusToQuota(1, 500), CgroupError);
  assert.equal(quotaToCpus(50000, 100000), 0.5);
  assert.equal(quotaToCpus(null), null);
  assert.equal(formatCpuMax(50000, 100000), '50000 100000');
  assert.equal(formatCpuMax(null, 100000), 'max 100000');
  assert.equal(formatCpuMax(50000), '50000');
  assert.deepEqual(parseCpuMax('max 100000'), { quotaUs: null, periodUs: 100000 });
  assert.deepEqual(parseCpuMax('25000 50000'), { quotaUs: 25000, periodUs: 50000 });
  assert.deepEqual(parseCpuMax('25000'), { quotaUs: 25000 });
  assert.throws(() => parseCpuMax('x y'), CgroupError);
});

test('cpu lists', () => {
  assert.deepEqual(parseCpuList('0-1,3'), [0, 1, 3]);
  assert.deepEqual(parseCpuList('3,1,1'), [1, 3]);
  assert.deepEqual(parseCpuList(''), []);
  assert.equal(formatCpuList([0, 1, 2, 5, 7, 8]), '0-2,5,7-8');
  assert.throws(() => parseCpuList('1-0'), CgroupError);
  assert.throws(() => parseCpuList('a'), CgroupError);
});

test('stat file parsers', () => {
  assert.deepEqual(parseIoStat('8:0 rbytes=100 wbytes=200 rios=1 wios=2\n8:16 rbytes=1 wbytes=2\n'), { readBytes: 101, writeBytes: 202 });
  assert.deepEqual(parseBlkioServiceBytes('8:0 Read 10\n8:0 Write 20\n8:0 Sync 5\n8:0 Total 30\nTotal 30\n'), { readBytes: 10, writeBytes: 20 });
  assert.deepEqual(parseKeyValues('usage_usec 5\nuser_usec 3\n'), { usage_usec: 5, user_usec: 3 });
  assert.equal(parseV1Bytes('9223372036854771712'), null);
  assert.equal(parseV1Bytes('1048576'), 1048576);
});

function ctx(version: 1 | 2, files: string[] = [], extra: Partial<PlanContext> = {}): PlanContext {
  return {
    version: (c: Logical) => (c === 'devices' && version === 2 ? undefined : version),
    has: (_c, f) => files.includes(f),
    ...extra,
  };
}

test('plan: native shares/weight used as given, converted only when the other is missing', () => {
  assert.deepEqual(planWrites({ cpu: { shares: 768, weight: 7500 } }, ctx(1)), [{ controller: 'cpu', file: 'cpu.shares', value: '768' }]);
  assert.deepEqual(planWrites({ cpu: { shares: 768, weight: 7500 } }, ctx(2)), [{ controller: 'cpu', file: 'cpu.weight', value: '7500' }]);
  assert.deepEqual(planWrites({ cpu: { weight: 100 } }, ctx(1)), [{ controller: 'cpu', file: 'cpu.shares', value: '2597' }]);
  assert.deepEqual(planWrites({ cpu: { shares: 1024 } }, ctx(2)), [{ controller: 'cpu', file: 'cpu.weight', value: '39' }]);
  assert.throws(() => planWrites({ cpu: { weight: 0 } }, ctx(2)), /cpu weight must be an integer in 1\.\.10000/);
});

test('plan: quota and period', () => {
  assert.deepEqual(planWrites({ cpu: { quotaUs: 50000, periodUs: 100000 } }, ctx(2)).map((w) => `${w.file}=${w.value}`), ['cpu.max=50000 100000']);
  assert.deepEqual(planWrites({ cpu: { quotaUs: null } }, ctx(2)).map((w) => `${w.file}=${w.value}`), ['cpu.max=max']);
  assert.deepEqual(planWrites({ cpu: { quotaUs: 50000, periodUs: 100000 } }, ctx(1)).map((w) => `${w.file}=${w.value}`), ['cpu.cfs_period_us=100000', 'cpu.cfs_quota_us=50000']);
  assert.deepEqual(planWrites({ cpu: { quotaUs: null } }, ctx(1)).map((w) => `${w.file}=${w.value}`), ['cpu.cfs_quota_us=-1']);
  assert.throws(() => planWrites({ cpu: { quotaUs: 10 } }, ctx(1)), CgroupError);
  assert.throws(() => planWrites({ cpu: { periodUs: 5_000_000 } }, ctx(2)), CgroupError);
});

test('plan: memory on v1 (memsw = max + swap) and v2', () => {
  const M = 1024 * 1024;
  assert.deepEqual(planWrites({ memory: { max: 256 * M, swapMax: 64 * M, high: 200 * M } }, ctx(1, ['memory.memsw.limit_in_bytes'])).map((w) => `${w.file}=${w.value}`),
    [`memory.limit_in_bytes=${256 * M}`, `memory.soft_limit_in_bytes=${200 * M}`, `memory.memsw.limit_in_bytes=${320 * M}`]);
  assert.deepEqual(planWrites({ memory: { max: null, swapMax: null } }, ctx(1, ['memory.memsw.limit_in_bytes'])).map((w) => `${w.file}=${w.value}`),
    ['memory.limit_in_bytes=-1', 'memory.memsw.limit_in_bytes=-1']);
  assert.throws(() => planWrites({ memory: { max: 256 * M, swapMax: M } }, ctx(1)), /swapaccount=1/);
  assert.deepEqual(planWrites({ memory: { max: 256 * M, swapMax: 0, high: null } }, ctx(2, ['memory.swap.max'])).map((w) => `${w.file}=${w.value}`),
    [`memory.max=${256 * M}`, 'memory.high=max', 'memory.swap.max=0']);
  assert.throws(() => planWrites({ memory: { max: 4096 } }, ctx(2)), /below the minimum/);
});

test('plan: pids, io, cpuset validation', () => {
  assert.deepEqual(planWrites({ pids: { max: 20 } }, ctx(2)), [{ controller: 'pids', file: 'pids.max', value: '20' }]);
  assert.deepEqual(planWrites({ pids: { max: null } }, ctx(1)), [{ controller: 'pids', file: 'pids.max', value: 'max' }]);
  assert.deepEqual(planWrites({ io: { weight: 500, throttle: [{ device: '8:0', rbps: 1048576, wiops: 100 }] } }, ctx(2, ['io.weight'])).map((w) => `${w.file}=${w.value}`),
    ['io.weight=default 500', 'io.max=8:0 rbps=1048576 wiops=100']);
  assert.deepEqual(planWrites({ io: { weight: 500, throttle: [{ device: '8:0', rbps: 1048576, wiops: 100 }] } }, ctx(1, ['blkio.bfq.weight'])).map((w) => `${w.file}=${w.value}`),
    ['blkio.bfq.weight=59', 'blkio.throttle.read_bps_device=8:0 1048576', 'blkio.throttle.write_iops_device=8:0 100']);
  assert.throws(() => planWrites({ io: { throttle: [{ device: 'sda', rbps: 1 }] } }, ctx(2)), /MAJOR:MINOR/);
  assert.deepEqual(planWrites({ cpu: { cpus: '1,0' } }, ctx(2, [], { availableCpus: [0, 1] })), [{ controller: 'cpuset', file: 'cpuset.cpus', value: '0-1' }]);
  assert.throws(() => planWrites({ cpu: { cpus: '0-7' } }, ctx(1, [], { availableCpus: [0, 1] })), /names CPUs that do not exist.*2-7 \(available: 0-1\)/);
  assert.throws(() => planWrites({ pids: { max: 5 } }, { version: () => undefined, has: () => false }), /needs the pids cgroup controller/);
  assert.throws(() => planWrites({ pids: { max: 5 } }, { version: () => undefined, has: () => false, unavailable: () => 'not delegated to lxts' }), /a pids limit: not delegated to lxts/);
});

test('raw keys: same version passes through, other version maps or fails naming the key', () => {
  assert.deepEqual(planWrites({ raw: [{ version: 1, key: 'memory.swappiness', value: '10' }] }, ctx(1)),
    [{ controller: 'memory', file: 'memory.swappiness', value: '10', raw: 'lxc.cgroup.memory.swappiness' }]);
  assert.deepEqual(planWrites({ raw: [{ version: 2, key: 'memory.oom.group', value: '1' }] }, ctx(2)),
    [{ controller: 'memory', file: 'memory.oom.group', value: '1', raw: 'lxc.cgroup2.memory.oom.group' }]);
  // structured equivalents
  assert.deepEqual(planWrites({ raw: [{ version: 1, key: 'cpu.shares', value: '1024' }] }, ctx(2)).map((w) => `${w.file}=${w.value}`), ['cpu.weight=39']);
  assert.deepEqual(planWrites({ raw: [{ version: 2, key: 'cpu.weight', value: '100' }] }, ctx(1)).map((w) => `${w.file}=${w.value}`), ['cpu.shares=2597']);
  assert.deepEqual(planWrites({ raw: [{ version: 1, key: 'memory.limit_in_bytes', value: '512M' }] }, ctx(2)).map((w) => `${w.file}=${w.value}`), [`memory.max=${512 * 1024 * 1024}`]);
  assert.deepEqual(planWrites({ raw: [{ version: 2, key: 'memory.max', value: 'max' }] }, ctx(1)).map((w) => `${w.file}=${w.value}`), ['memory.limit_in_bytes=-1']);
  assert.deepEqual(planWrites({ raw: [{ version: 2, key: 'cpu.max', value: '50000 100000' }] }, ctx(1)).map((w) => `${w.file}=${w.value}`), ['cpu.cfs_period_us=100000', 'cpu.cfs_quota_us=50000']);
  assert.deepEqual(planWrites({ raw: [{ version: 1, key: 'cpu.cfs_quota_us', value: '-1' }] }, ctx(2)).map((w) => `${w.file}=${w.value}`), ['cpu.max=max']);
  assert.deepEqual(planWrites({ raw: [{ version: 1, key: 'pids.max', value: '10' }] }, ctx(2)).map((w) => `${w.file}=${w.value}`), ['pids.max=10']);
  assert.deepEqual(planWrites({ raw: [{ version: 1, key: 'cpuset.cpus', value: '0' }] }, ctx(2)).map((w) => `${w.file}=${w.value}`), ['cpuset.cpus=0']);
  assert.deepEqual(planWrites({ raw: [{ version: 2, key: 'io.max', value: '8:0 rbps=100' }] }, ctx(1)).map((w) => `${w.file}=${w.value}`), ['blkio.throttle.read_bps_device=8:0 100']);
  assert.deepEqual(planWrites({ raw: [{ version: 1, key: 'blkio.throttle.write_bps_device', value: '8:0 100' }] }, ctx(2)).map((w) => `${w.file}=${w.value}`), ['io.max=8:0 wbps=100']);
  // no equivalent: clear error naming the key
  assert.throws(() => planWrites({ raw: [{ version: 1, key: 'memory.swappiness', value: '1' }] }, ctx(2)), /lxc\.cgroup\.memory\.swappiness: the memory controller is served by cgroup v2 here/);
  assert.throws(() => planWrites({ raw: [{ version: 2, key: 'memory.oom.group', value: '1' }] }, ctx(1)), /lxc\.cgroup2\.memory\.oom\.group: .*cgroup v1/);
  assert.throws(() => planWrites({ raw: [{ version: 1, key: 'bogus.key', value: '1' }] }, ctx(1)), /unknown cgroup key lxc\.cgroup\.bogus\.key/);
  assert.throws(() => planWrites({ raw: [{ version: 1, key: '../../etc/passwd', value: '1' }] }, ctx(1)), /unknown cgroup key/);
  assert.throws(() => planWrites({ raw: [{ version: 2, key: 'devices.allow', value: 'a' }] }, ctx(2)), /devices/);
  assert.equal(controllerOfKey('blkio.weight'), 'io');
  assert.equal(controllerOfKey('cgroup.freeze'), 'cgroup');
  assert.deepEqual(rawToStructured(1, 'freezer.state', 'FROZEN'), { frozen: true });
  assert.equal(rawToStructured(1, 'memory.swappiness', '1'), undefined);
});
