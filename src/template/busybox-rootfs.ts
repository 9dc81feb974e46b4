// A minimal root filesystem from the host's static busybox (Debian: busybox-static): one
// binary plus a symlink per applet. Used by tests and benchmarks as a rootfs that does not
// depend on the host's /usr, and by the busybox template.
import { mkdirSync, copyFileSync, symlinkSync, writeFileSync, existsSync, chmodSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { LxtsError } from '../errors.js';

export const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox', '/sbin/busybox'];

export function findStaticBusybox(): string {
  for (const p of BUSYBOX_CANDIDATES) {
    if (!existsSync(p)) continue;
    // A dynamically linked busybox would need the host's libc inside the rootfs.
    if (isStaticElf(readFileSync(p))) return p;
  }
  throw new LxtsError('no static busybox found on the host', 1, 'install it: apt-get install busybox-static');
}

export function makeBusyboxRootfs(dir: string, busybox = findStaticBusybox()): void {
  for (const d of ['bin', 'sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'var', 'run', 'mnt', 'usr/bin', 'usr/sbin']) mkdirSync(`${dir}/${d}`, { recursive: true });
  chmodSync(`${dir}/tmp`, 0o1777);
  copyFileSync(busybox, `${dir}/bin/busybox`);
  chmodSync(`${dir}/bin/busybox`, 0o755);
  const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) {
    try {
      symlinkSync('busybox', `${dir}/bin/${a}`);
    } catch {
      /* already there */
    }
  }
  writeFileSync(`${dir}/etc/passwd`, 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  writeFileSync(`${dir}/etc/group`, 'root:x:0:\nnogroup:x:65534:\n');
}

/** An ELF64 executable without a PT_INTERP program header needs no dynamic loader. */
export function isStaticElf(b: Buffer): boolean {
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return false;
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3 /* PT_INTERP */) return false;
  return true;
}
