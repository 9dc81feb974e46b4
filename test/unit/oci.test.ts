// OCI runtime-spec config.json -> ContainerSpec.
import test from 'node:test';
import assert from 'node:assert/strict';
import { ociToSpec, type OciConfig } from '../../src/config/oci.js';
import { blkioWeightToIoWeight } from '../../src/cgroup/index.js';

/** What `crun spec` / `runc spec` write, trimmed to the fields lxts reads. */
function sample(): OciConfig {
  return {
    ociVersion: '1.0.0',
    process: {
      terminal: true,
      user: { uid: 1000, gid: 100, additionalGids: [5] },
      args: ['sh'],
      env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/work',
      capabilities: { bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 512 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'box',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
      { destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'ro'] },
      { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['size=10m'] },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      resources: { cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0' }, memory: { limit: 64 << 20, swap: 96 << 20 }, pids: { limit: 32 }, blockIO: { weight: 500 } },
      maskedPaths: ['/proc/kcore'],
      readonlyPaths: ['/proc/sys'],
      sysctl: { 'net.ipv4.ip_forward': '1' },
    },
  };
}

test('config.json becomes a ContainerSpec', { timeout: 10000 }, () => {
  const { spec, warnings } = ociToSpec(sample(), '/bundles/b1', 'b1');
  assert.deepEqual(warnings, []);
  assert.deepEqual(spec.rootfs, { kind: 'dir', path: '/bundles/b1/rootfs', readonly: true });
  assert.equal(spec.hostname, 'box');
  assert.deepEqual(spec.process.args, ['sh']);
  assert.deepEqual(spec.process.env, ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm']);
  assert.deepEqual([spec.process.uid, spec.process.gid, spec.process.additionalGids, spec.process.cwd], [1000, 100, [5], '/work']);
  assert.equal(spec.process.terminal, true);
  assert.equal(spec.process.noNewPrivileges, true);
  assert.deepEqual(spec.process.rlimits, [{ type: 'nofile', soft: 512, hard: 1024 }]);
  assert.deepEqual(spec.capabilities, { keep: ['audit_write', 'kill', 'net_bind_service'], drop: [], add: [] });
  assert.deepEqual(spec.namespaces, ['pid', 'mount', 'uts', 'ipc', 'net']);
  // proc, /dev and the cgroup mount are lxts's own standard mounts; the rest are kept.
  assert.deepEqual(spec.mounts, [
    { source: '/srv/data', target: '/data', type: 'none', options: ['rbind', 'ro'] },
    { source: 'tmpfs', target: '/scratch', type: 'tmpfs', options: ['size=10m', 'create=dir'] },
  ]);
  assert.deepEqual(spec.resources, {
    cpu: { shares: 512, quotaUs: 50000, periodUs: 100000, cpus: '0' },
    memory: { max: 64 << 20, swapMax: 32 << 20 },
    pids: { max: 32 },
    io: { weight: blkioWeightToIoWeight(500) },
  });
  assert.deepEqual(spec.maskedPaths, ['/proc/kcore']);
  assert.deepEqual(spec.sysctls, { 'net.ipv4.ip_forward': '1' });
});

test('what lxts cannot do yet is an error naming the field; the safe rest a warning', { timeout: 10000 }, () => {
  const join = sample();
  join.linux!.namespaces![1] = { type: 'network', path: '/proc/1/ns/net' };
  assert.throws(() => ociToSpec(join, '/b', 'b'), /linux\.namespaces\[1\]\.path: joining an existing namespace/);
  const user = sample();
  user.linux!.namespaces!.push({ type: 'user' });
  assert.throws(() => ociToSpec(user, '/b', 'b'), /user namespaces are not supported yet/);
  const noCmd = sample();
  noCmd.process!.args = [];
  assert.throws(() => ociToSpec(noCmd, '/b', 'b'), /process\.args: no command/);
  const badRl = sample();
  badRl.process!.rlimits = [{ type: 'NOFILE', soft: 1, hard: 1 }];
  assert.throws(() => ociToSpec(badRl, '/b', 'b'), /process\.rlimits\[0\]\.type/);
  const badCap = sample();
  badCap.process!.capabilities!.bounding = ['CAP_BOGUS'];
  assert.throws(() => ociToSpec(badCap, '/b', 'b'), /bounding\[0\]: unknown capability/);
  const noMnt = sample();
  noMnt.linux!.namespaces = [{ type: 'pid' }];
  assert.throws(() => ociToSpec(noMnt, '/b', 'b'), /needs a mount namespace/);
  const extras = sample();
  extras.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
  extras.hooks = { prestart: [{ path: '/bin/true' }] };
  assert.equal(ociToSpec(extras, '/b', 'b').warnings.length, 2);
});
