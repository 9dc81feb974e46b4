// A small classic-BPF assembler for seccomp filters, and lxts's default filter.
//
// Without a user namespace a container's root shares the superblock of the filesystem its
// rootfs lives on with the host: `mount -o remount,ro /` (a remount without MS_BIND) would
// make the HOST's filesystem read-only — Debian's shutdown scripts do exactly that. The
// default filter refuses such superblock remounts with EPERM; bind remounts (per-mount
// flags, which only affect the container's own mount) stay allowed.

const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_JSET_K = 0x45;
const BPF_RET_K = 0x06;

export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_ERRNO = 0x00050000;
const EPERM = 1;
const AUDIT_ARCH_X86_64 = 0xc000003e;
const AUDIT_ARCH_AARCH64 = 0xc00000b7;
const MS_REMOUNT = 32;
const MS_BIND = 4096;

/** seccomp_data offsets: nr, arch, instruction pointer, then six 64-bit args. */
const OFF_NR = 0;
const OFF_ARCH = 4;
const argLow = (i: number): number => 16 + i * 8;

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** struct sock_filter[] as the kernel reads it (little-endian, 8 bytes each). */
export function encodeFilter(prog: Insn[]): Buffer {
  const b = Buffer.alloc(prog.length * 8);
  prog.forEach((p, i) => {
    b.writeUInt16LE(p.code, i * 8);
    b.writeUInt8(p.jt, i * 8 + 2);
    b.writeUInt8(p.jf, i * 8 + 3);
    b.writeUInt32LE(p.k >>> 0, i * 8 + 4);
  });
  return b;
}

const ld = (off: number): Insn => ({ code: BPF_LD_W_ABS, jt: 0, jf: 0, k: off });
const jeq = (k: number, jt: number, jf: number): Insn => ({ code: BPF_JEQ_K, jt, jf, k });
const jset = (k: number, jt: number, jf: number): Insn => ({ code: BPF_JSET_K, jt, jf, k });
const ret = (k: number): Insn => ({ code: BPF_RET_K, jt: 0, jf: 0, k });

/** mount(2)'s syscall number per audit arch; other arches are left unfiltered. */
const MOUNT_NR: [arch: number, nr: number][] = [
  [AUDIT_ARCH_X86_64, 165],
  [AUDIT_ARCH_AARCH64, 40],
];

/** The default filter: deny superblock remounts (MS_REMOUNT without MS_BIND), allow the rest. */
export function defaultFilter(): Insn[] {
  const prog: Insn[] = [ld(OFF_ARCH)];
  // One block per arch: [jeq arch] [ld nr] [jeq nr] -> shared tail. Built back to front so
  // every jump offset is known.
  const tail: Insn[] = [
    ld(argLow(3)), // flags (low 32 bits hold every MS_* flag)
    jset(MS_BIND, 2, 0), // a bind remount changes only this mount: allow
    jset(MS_REMOUNT, 0, 1), // a superblock remount: deny
    ret(SECCOMP_RET_ERRNO | EPERM),
    ret(SECCOMP_RET_ALLOW),
  ];
  const allowAt = (from: number, total: number): number => total - 1 - from - 1;
  const blocks: Insn[][] = MOUNT_NR.map(([arch, nr]) => [jeq(arch, 0, 0), ld(OFF_NR), jeq(nr, 0, 0)]);
  const body = blocks.flat();
  const total = 1 + body.length + tail.length;
  // Fix up jumps: arch mismatch -> next block (or allow); nr mismatch -> allow; nr match -> tail.
  let idx = 1;
  const tailStart = 1 + body.length;
  blocks.forEach((blk, b) => {
    const archIdx = idx;
    const nextBlock = b + 1 < blocks.length ? archIdx + 3 : total - 1;
    blk[0]!.jf = nextBlock - archIdx - 1;
    blk[2]!.jt = tailStart - (archIdx + 2) - 1;
    blk[2]!.jf = allowAt(archIdx + 2, total);
    idx += 3;
  });
  prog.push(...body, ...tail);
  return prog;
}

/** Run a filter on a seccomp_data-like input (tests, and `--dry-run` explanations). */
export function runFilter(prog: Insn[], data: { nr: number; arch: number; args: number[] }): number {
  let acc = 0;
  for (let pc = 0; pc < prog.length; ) {
    const p = prog[pc]!;
    switch (p.code) {
      case BPF_LD_W_ABS:
        acc = p.k === OFF_NR ? data.nr : p.k === OFF_ARCH ? data.arch : (data.args[(p.k - 16) / 8] ?? 0) >>> 0;
        pc++;
        break;
      case BPF_JEQ_K:
        pc += 1 + (acc >>> 0 === p.k >>> 0 ? p.jt : p.jf);
        break;
      case BPF_JSET_K:
        pc += 1 + ((acc & p.k) !== 0 ? p.jt : p.jf);
        break;
      case BPF_RET_K:
        return p.k >>> 0;
      default:
        throw new Error(`unknown BPF opcode 0x${p.code.toString(16)}`);
    }
  }
  throw new Error('BPF program fell off its end');
}

export const ARCH = { X86_64: AUDIT_ARCH_X86_64, AARCH64: AUDIT_ARCH_AARCH64 };
