// Helpers for the cgroup integration tests (root, real kernel). Only processes these tests
// spawn ever go into the test cgroups.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const isRoot = process.getuid?.() === 0;

/** Every directory named "lxts" below /sys/fs/cgroup (depth-limited walk). */
export function lxtsDirs(): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 6) return;
    let ents: fs.Dirent[];
    try { ents = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of ents) {
      if (!e.isDirectory()) continue;
      const p = path.join(dir, e.name);
      if (e.name === 'lxts') out.push(p);
      walk(p, depth + 1);
    }
  };
  walk('/sys/fs/cgroup', 0);
  return out.sort();
}

export interface Gated {
  p: ChildProcess;
  pid: number;
  /** Let the script run (after attach). */
  go(): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  out(): string;
  err(): string;
  kill(): void;
}

/** /bin/sh running `script` once a line arrives on stdin: attach first, then go(). */
export function gated(script: string): Gated {
  const p = spawn('/bin/sh', ['-c', `read _go; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  p.stdin!.on('error', () => {});
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => p.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    p, pid: p.pid!,
    go: () => { p.stdin!.write('\n'); },
    exited, out: () => out, err: () => err,
    kill: () => { if (p.exitCode === null && p.signalCode === null) { try { process.kill(p.pid!, 'SIGKILL'); } catch { /* gone */ } } },
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitUntil(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Scale factor for durations (the cgroup2 QEMU guest is 10-20x slower): LXTS_CG_SLOW=1 doubles waits. */
export const SLOW = process.env.LXTS_CG_SLOW === '1';
