// Running iproute2: one `ip -batch -` per namespace and step, so a container start pays for
// two or three short processes, not one per command. Inside a container's network namespace
// through `nsenter --net=/proc/PID/ns/net` (no named netns, nothing in /run/netns).
import { spawnSync } from 'node:child_process';
import { LxtsError, ExitCode } from '../errors.js';
import type { IpCmd } from './plan.js';

export interface IpResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  /** 1-based batch line that failed (from "Command failed -:N"). */
  failedLine?: number;
}

function runIp(args: string[], netnsPid: number | undefined, input?: string): IpResult {
  const [cmd, argv] = netnsPid ? ['nsenter', [`--net=/proc/${netnsPid}/ns/net`, 'ip', ...args]] : ['ip', args];
  const r = spawnSync(cmd, argv, { input, encoding: 'utf8', timeout: 15000 });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new LxtsError(`cannot run ${cmd}: ${r.error.message}`, ExitCode.GENERIC, missing ? 'install iproute2 and util-linux (apt-get install iproute2 util-linux)' : undefined);
  }
  const m = /Command failed -:(\d+)/.exec(r.stderr);
  return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr, failedLine: m ? Number(m[1]) : undefined };
}

/** Run batch lines; on failure throw naming the config key of the failed line. */
export function ipBatch(cmds: IpCmd[], opts: { netnsPid?: number; where: string }): void {
  if (!cmds.length) return;
  const r = runIp(['-batch', '-'], opts.netnsPid, cmds.map((c) => c.line).join('\n') + '\n');
  if (r.ok) return;
  const failed = r.failedLine ? cmds[r.failedLine - 1] : undefined;
  const why = r.stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^Command failed/.test(l)).join('; ') || 'failed';
  throw new LxtsError(`${failed ? failed.key + ': ' : ''}${opts.where}: \`ip ${failed?.line ?? '-batch'}\`: ${why}`, ExitCode.START_FAILED);
}

/** Run lines ignoring failures (teardown: what is already gone is fine). */
export function ipBatchForce(lines: string[], netnsPid?: number): void {
  if (lines.length) runIp(['-force', '-batch', '-'], netnsPid, lines.join('\n') + '\n');
}

/** `ip -j ARGS` parsed (an empty list when ip prints nothing). */
export function ipJson<T>(args: string[], netnsPid?: number): T[] {
  const r = runIp(['-j', ...args], netnsPid);
  if (!r.ok) throw new LxtsError(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout.trim() ? (JSON.parse(r.stdout) as T[]) : [];
}

export interface IpLink {
  ifname: string;
  ifindex: number;
  mtu: number;
  operstate: string;
  flags: string[];
  address?: string;
  master?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: { family: string; local: string; prefixlen: number; scope: string }[];
  stats64?: { rx: { bytes: number; packets: number }; tx: { bytes: number; packets: number } };
}

/** Every device of a namespace with details (kind) and addresses: one process. */
export function links(netnsPid?: number): IpLink[] {
  return ipJson<IpLink>(['-d', 'addr', 'show'], netnsPid);
}
