// Plan compiler: golden plans for representative specs, and the rules every plan must keep.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compilePlan, formatPlan, parseMountOptions } from '../../src/plan/compile.js';
import { encodePlan, decodePlan } from '../../src/plan/encode.js';
import { defaultSpec } from '../../src/spec.js';
import type { HostLayout } from '../../src/template/host-layout.js';
import { MS, CLONE } from '../../src/plan/ops.js';

const GOLDEN = fileURLToPath(new URL('../../../test/unit/golden/', import.meta.url));
const layout: HostLayout = {
  top: [
    { name: 'bin', kind: 'symlink', target: 'usr/bin' },
    { name: 'lib', kind: 'symlink', target: 'usr/lib' },
    { name: 'lib64', kind: 'symlink', target: 'usr/lib64' },
    { name: 'sbin', kind: 'symlink', target: 'usr/sbin' },
  ],
  resolvConf: 'nameserver 192.0.2.53\n',
  etcBinds: ['ld.so.cache'],
  etcDirBinds: ['alternatives'],
};
const ctx = { hostLayout: layout, stagingDir: '/run/lxts/.staging', dieWithParent: true };

function golden(name: string, text: string): void {
  const file = GOLDEN + name;
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
  assert.ok(existsSync(file), `golden file ${name} missing (run with UPDATE_GOLDEN=1 to create it)`);
  assert.equal(text, readFileSync(file, 'utf8'), `plan differs from golden ${name} (UPDATE_GOLDEN=1 to accept)`);
}

test('host template plan matches golden', { timeout: 10000 }, () => {
  const spec = defaultSpec('web', ['/bin/sh', '-c', 'echo hi']);
  golden('host-template.plan.txt', formatPlan(compilePlan(spec, ctx)) + '\n');
});

test('dir rootfs with user, caps, mounts, rlimits, init matches golden', { timeout: 10000 }, () => {
  const spec = defaultSpec('app', ['/usr/bin/env']);
  spec.rootfs = { kind: 'dir', path: '/srv/rootfs', readonly: true };
  spec.process.uid = 1000;
  spec.process.gid = 1000;
  spec.process.additionalGids = [5];
  spec.process.cwd = '/home/app';
  spec.process.terminal = true;
  spec.process.noNewPrivileges = true;
  spec.process.rlimits = [{ type: 'nofile', soft: 1024, hard: 'unlimited' }];
  spec.capabilities = { drop: [], keep: ['chown', 'net_bind_service'], add: [] };
  spec.mounts = [{ source: '/data', target: '/mnt/data', type: 'none', options: ['rbind', 'ro', 'create=dir'] }];
  spec.sysctls = { 'net.ipv4.ip_forward': '1' };
  spec.init = true;
  spec.namespaces = ['pid', 'mount', 'uts', 'ipc'];
  golden('dir-rootfs.plan.txt', formatPlan(compilePlan(spec, ctx)) + '\n');
});

test('every plan makes / private before any other mount and pivots before exec', { timeout: 10000 }, () => {
  const plan = compilePlan(defaultSpec('x', ['true']), ctx);
  const ops = plan.steps.map((s) => s.op);
  const firstMount = ops.findIndex((o) => o.startsWith('MOUNT'));
  assert.deepEqual(plan.steps[firstMount]!.args, ['', '/', '', String(MS.REC | MS.PRIVATE), '']);
  assert.ok(ops.indexOf('BARRIER') < firstMount, 'barrier comes before the first mount');
  assert.ok(ops.indexOf('PIVOT_ROOT') < ops.indexOf('EXEC'));
  assert.equal(ops.at(-1), 'EXEC');
});

test('cgroup namespace is unshared after the barrier, not cloned', { timeout: 10000 }, () => {
  const plan = compilePlan(defaultSpec('x', ['true']), ctx);
  const clone = Number(plan.steps.find((s) => s.op === 'CLONE')!.args[0]);
  assert.equal(clone & CLONE.NEWCGROUP, 0);
  assert.equal(clone & CLONE.NEWPID, CLONE.NEWPID);
  const ops = plan.steps.map((s) => s.op);
  assert.ok(ops.indexOf('UNSHARE') > ops.indexOf('BARRIER'));
});

test('default capabilities drop LXC\'s five', { timeout: 10000 }, () => {
  const plan = compilePlan(defaultSpec('x', ['true']), ctx);
  const mask = BigInt(String(plan.steps.find((s) => s.op === 'CAPBSET')!.args[0]));
  for (const bit of [33, 32, 25, 16, 17]) assert.equal((mask >> BigInt(bit)) & 1n, 0n, `cap ${bit} dropped`);
  assert.equal((mask >> 21n) & 1n, 1n, 'sys_admin kept');
});

test('plans round-trip through the wire encoding', { timeout: 10000 }, () => {
  const plan = compilePlan(defaultSpec('x', ['/bin/echo', 'é', '']), ctx);
  const enc = encodePlan(plan);
  assert.equal(enc.readUInt32LE(0), enc.length - 4);
  assert.deepEqual(decodePlan(enc.subarray(4)), plan);
});

test('decodePlan rejects garbage', { timeout: 10000 }, () => {
  assert.throws(() => decodePlan(Buffer.from('nope')), /bad magic/);
  const enc = encodePlan({ steps: [{ op: 'EXEC', args: ['a'] }] });
  assert.throws(() => decodePlan(enc.subarray(4, enc.length - 1)), /truncated/);
});

test('mount options become flags and data', { timeout: 10000 }, () => {
  assert.deepEqual(parseMountOptions(['nosuid', 'nodev', 'size=10m', 'create=dir']), { flags: MS.NOSUID | MS.NODEV, data: 'size=10m', create: 'dir', optional: false });
  assert.equal(parseMountOptions(['ro', 'rw']).flags, 0);
  assert.equal(parseMountOptions(['rbind', 'optional']).flags, MS.BIND | MS.REC);
});

test('compile refuses specs that cannot run', { timeout: 10000 }, () => {
  const noMnt = defaultSpec('x', ['true']);
  noMnt.namespaces = ['pid'];
  assert.throws(() => compilePlan(noMnt, ctx), /mount namespace/);
  assert.throws(() => compilePlan(defaultSpec('x', []), ctx), /no command/);
  const badRl = defaultSpec('x', ['true']);
  badRl.process.rlimits = [{ type: 'bogus', soft: 1, hard: 1 }];
  assert.throws(() => compilePlan(badRl, ctx), /unknown rlimit "bogus"/);
  const rel = defaultSpec('x', ['true']);
  rel.rootfs = { kind: 'dir', path: 'relative', readonly: false };
  assert.throws(() => compilePlan(rel, ctx), /absolute/);
  const cover = defaultSpec('x', ['true']);
  cover.mounts = [{ source: '/a', target: '/', type: 'none', options: ['bind'] }];
  assert.throws(() => compilePlan(cover, ctx), /cover the root/);
});

test('overlay rootfs: overlayfs mounted on the staging dir inside the container, matches golden', { timeout: 10000 }, () => {
  const spec = defaultSpec('snap1', ['/sbin/init']);
  spec.rootfs = { kind: 'overlay', lower: ['/var/lib/lxts/base/rootfs', '/var/lib/lxts/layer0/rootfs'], upper: '/var/lib/lxts/snap1/overlay/delta', work: '/var/lib/lxts/snap1/overlay/work', readonly: false };
  const plan = compilePlan(spec, { stagingDir: '/run/lxts/.staging' });
  golden('overlay-rootfs.plan.txt', formatPlan(plan) + '\n');
  const ops = plan.steps.map((s) => s.op);
  const ov = plan.steps.find((s) => s.args[2] === 'overlay')!;
  assert.deepEqual(ov.args, ['overlay', '/run/lxts/.staging', 'overlay', '0',
    'lowerdir=/var/lib/lxts/base/rootfs:/var/lib/lxts/layer0/rootfs,upperdir=/var/lib/lxts/snap1/overlay/delta,workdir=/var/lib/lxts/snap1/overlay/work']);
  // after / is made private (nothing reaches the host), before ROOT and pivot_root
  assert.ok(ops.indexOf('CLONE') < plan.steps.indexOf(ov) && plan.steps.indexOf(ov) > 0 && plan.steps[plan.steps.indexOf(ov) - 1]!.args[1] === '/');
  assert.equal(plan.steps[plan.steps.indexOf(ov) + 1]!.op, 'ROOT');
  assert.ok(ops.indexOf('PIVOT_ROOT') > plan.steps.indexOf(ov));
});

test('overlay rootfs: paths overlayfs cannot take and missing parts are config errors', { timeout: 10000 }, () => {
  const base = { kind: 'overlay' as const, lower: ['/l'], upper: '/u/delta', work: '/u/work', readonly: false };
  const withRoot = (r: Partial<typeof base> & { lower?: string[] }): void => {
    const spec = defaultSpec('x', ['true']);
    spec.rootfs = { ...base, ...r };
    compilePlan(spec, { stagingDir: '/run/lxts/.staging' });
  };
  withRoot({});
  assert.throws(() => withRoot({ lower: ['/a,upperdir=/etc'] }), /cannot take/);
  assert.throws(() => withRoot({ upper: '/u:x' }), /cannot take/);
  assert.throws(() => withRoot({ lower: [] }), /at least one lower/);
  assert.throws(() => withRoot({ work: 'relative/work' }), /absolute/);
  assert.throws(() => compilePlan({ ...defaultSpec('x', ['true']), rootfs: base }, {}), /stagingDir/);
});
