import { LxtsError, ExitCode } from '../errors.js';

// Linux capability names and numbers (linux/capability.h). Names are accepted with or
// without the CAP_ prefix, in any case, as LXC and Docker users write them.
export const CAPABILITIES: readonly string[] = [
  'chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid',
  'setpcap', 'linux_immutable', 'net_bind_service', 'net_broadcast', 'net_admin', 'net_raw',
  'ipc_lock', 'ipc_owner', 'sys_module', 'sys_rawio', 'sys_chroot', 'sys_ptrace', 'sys_pacct',
  'sys_admin', 'sys_boot', 'sys_nice', 'sys_resource', 'sys_time', 'sys_tty_config', 'mknod',
  'lease', 'audit_write', 'audit_control', 'setfcap', 'mac_override', 'mac_admin', 'syslog',
  'wake_alarm', 'block_suspend', 'audit_read', 'perfmon', 'bpf', 'checkpoint_restore',
];

export class UnknownCapabilityError extends LxtsError {
  constructor(readonly capName: string) {
    super(`unknown capability "${capName}" (see capabilities(7); e.g. sys_admin, net_admin)`, ExitCode.USAGE);
  }
}

/** Normalize "CAP_SYS_ADMIN" / "sys_admin" / "SYS_ADMIN" to "sys_admin"; throws on unknown. */
export function normalizeCap(name: string): string {
  const n = name.trim().toLowerCase().replace(/^cap_/, '');
  if (!CAPABILITIES.includes(n)) throw new UnknownCapabilityError(name);
  return n;
}

export function capNumber(name: string): number {
  return CAPABILITIES.indexOf(normalizeCap(name));
}

/**
 * The capability set a container keeps: `keep` (all when absent, "all" allowed) minus
 * `drop`, plus `add`. Returned as a 64-bit mask (bigint, bit N = capability N).
 */
export function capabilityMask(spec: { keep?: string[]; drop: string[]; add: string[] }): bigint {
  let mask = 0n;
  const all = (1n << BigInt(CAPABILITIES.length)) - 1n;
  if (spec.keep && !(spec.keep.length === 1 && spec.keep[0]!.toLowerCase() === 'all')) {
    for (const c of spec.keep) if (c.toLowerCase() !== 'none') mask |= 1n << BigInt(capNumber(c));
  } else {
    mask = all;
    for (const c of spec.drop) mask &= ~(1n << BigInt(capNumber(c)));
  }
  for (const c of spec.add) {
    if (c.toLowerCase() === 'all') mask = all;
    else mask |= 1n << BigInt(capNumber(c));
  }
  return mask;
}

export function maskToNames(mask: bigint): string[] {
  return CAPABILITIES.filter((_, i) => (mask >> BigInt(i)) & 1n);
}
