// The seccomp BPF assembler and the default filter, run on an interpreter.
import test from 'node:test';
import assert from 'node:assert/strict';
import { defaultFilter, encodeFilter, runFilter, ARCH, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO } from '../../src/security/seccomp.js';

const DENY = SECCOMP_RET_ERRNO | 1;

test('default filter: superblock remounts are denied, everything else allowed', { timeout: 10000 }, () => {
  const p = defaultFilter();
  for (const [arch, mount] of [[ARCH.X86_64, 165], [ARCH.AARCH64, 40]] as const) {
    assert.equal(runFilter(p, { arch, nr: mount, args: [0, 0, 0, 32] }) >>> 0, DENY >>> 0, 'remount,ro /');
    assert.equal(runFilter(p, { arch, nr: mount, args: [0, 0, 0, 32 | 1] }) >>> 0, DENY >>> 0, 'remount with MS_RDONLY');
    assert.equal(runFilter(p, { arch, nr: mount, args: [0, 0, 0, 32 | 4096 | 1] }), SECCOMP_RET_ALLOW, 'bind remount');
    assert.equal(runFilter(p, { arch, nr: mount, args: [0, 0, 0, 0] }), SECCOMP_RET_ALLOW, 'a new mount');
    assert.equal(runFilter(p, { arch, nr: mount + 1, args: [0, 0, 0, 32] }), SECCOMP_RET_ALLOW, 'another syscall');
  }
  assert.equal(runFilter(p, { arch: 0x40000003 /* i386 */, nr: 21, args: [0, 0, 0, 32] }), SECCOMP_RET_ALLOW, 'unknown arch');
});

test('filters encode as struct sock_filter (8 bytes, little-endian)', { timeout: 10000 }, () => {
  const b = encodeFilter([{ code: 0x06, jt: 1, jf: 2, k: 0x7fff0000 }]);
  assert.deepEqual([...b], [0x06, 0x00, 1, 2, 0x00, 0x00, 0xff, 0x7f]);
  assert.equal(encodeFilter(defaultFilter()).length % 8, 0);
});
