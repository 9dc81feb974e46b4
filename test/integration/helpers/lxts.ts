// Shared helpers for integration tests: run the real CLI, compare the machine's state before
// and after, build throwaway rootfs directories.
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { readFileSync, readdirSync, mkdtempSync, rmSync, existsSync, appendFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const CLI = ROOT + 'bin/lxts.js';
export const isRoot = process.getuid?.() === 0;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `lxts ARGS...` to completion (stdin closed), with a hard timeout that kills its process group. */
export function lxts(args: string[], opts: SpawnOptions & { timeoutMs?: number; input?: string; onSpawn?: (pid: number) => void } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'], detached: true, ...opts });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.stdin!.end(opts.input ?? '');
    if (child.pid) opts.onSpawn?.(child.pid);
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
      reject(new Error(`lxts ${args.join(' ')} timed out; stderr: ${stderr}`));
    }, opts.timeoutMs ?? 20000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15), stdout, stderr });
    });
  });
}

export interface MachineState {
  mounts: string[];
  lxtsCgroups: string[];
  execs: number[];
}

/**
 * The cgroup path of `pid` that tells whose it is: the memory controller's on v1/hybrid hosts
 * (each session of a shared machine has its own), else the v2 one.
 */
function ownerPath(pid: number | 'self'): string | undefined {
  try {
    const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
    const l = lines.find((x) => /^\d+:memory:/.test(x)) ?? lines.find((x) => x.startsWith('0::'));
    return l?.slice(l.indexOf(':', l.indexOf(':') + 1) + 1);
  } catch {
    return undefined;
  }
}

/**
 * What lxts leaves on the machine: mounts, lxts cgroup dirs, lxts-exec processes. Things of
 * other sessions on a shared machine (another memory cgroup) are not counted.
 */
export function machineState(): MachineState {
  const mine = ownerPath('self') ?? '/';
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n').map((l) => l.split(' ').slice(3, 5).join(' ')).sort();
  const lxtsCgroups = spawnSync('find', ['/sys/fs/cgroup', '-maxdepth', '7', '-type', 'd', '-name', '*lxts*'], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')
    .filter(Boolean)
    .filter((d) => !/\/memory\//.test(d) || d.includes(`/memory${mine === '/' ? '/' : mine + '/'}`))
    .sort();
  const execs = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'lxts-exec' && (ownerPath(Number(p)) ?? '').startsWith(mine);
      } catch {
        return false;
      }
    })
    .map(Number);
  return { mounts, lxtsCgroups, execs };
}

/** Wait (briefly) until the machine is back to `before`; returns what still differs. */
export async function leftovers(before: MachineState, waitMs = 3000): Promise<string[]> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const now = machineState();
    const diff: string[] = [];
    const extraMounts = now.mounts.filter((m) => !before.mounts.includes(m));
    if (extraMounts.length || now.mounts.length !== before.mounts.length) diff.push(`mounts: ${extraMounts.join(', ') || now.mounts.length + ' vs ' + before.mounts.length}`);
    const extraCg = now.lxtsCgroups.filter((c) => !before.lxtsCgroups.includes(c));
    if (extraCg.length) diff.push(`cgroups: ${extraCg.join(', ')}`);
    const extraExec = now.execs.filter((p) => !before.execs.includes(p));
    if (extraExec.length) diff.push(`lxts-exec pids: ${extraExec.join(', ')}`);
    if (!diff.length || Date.now() > deadline) return diff;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(tmpdir() + '/' + prefix);
  return {
    path,
    remove: () => {
      // Never delete recursively through a mount point: a leaked bind mount would take host files with it.
      const mounted = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => (l.split(' ')[4] ?? '').startsWith(path));
      if (mounted) throw new Error(`refusing to remove ${path}: something is mounted below it`);
      rmSync(path, { recursive: true, force: true });
    },
  };
}

export interface LxtsEnv {
  /** The test's own lxtspath. */
  path: string;
  /** Its own run dir (LXTS_RUNDIR). */
  rundir: string;
  /** The environment the CLI runs with. */
  env: NodeJS.ProcessEnv;
  /** `lxts COMMAND -P <path> ARGS...` with that environment. */
  lxts(args: string[], timeoutMs?: number): Promise<RunResult>;
}

/**
 * Run `fn` with a fresh lxtspath and run dir. Afterwards every container in them is
 * destroyed through the library (so a broken CLI cannot leave one running; copies before
 * their origins, which refuse to go while copies exist), the dirs are removed, and the
 * machine must be as it was.
 */
export async function withLxtsEnv(prefix: string, fn: (env: LxtsEnv) => Promise<void>): Promise<void> {
  const before = machineState();
  const dir = tempDir(`${prefix}-`);
  const rundir = tempDir('lxts-run-');
  const procEnv = { ...process.env, LXTS_RUNDIR: rundir.path };
  const env: LxtsEnv = {
    path: dir.path,
    rundir: rundir.path,
    env: procEnv,
    lxts: (args, timeoutMs = 60000) => lxts([args[0]!, '-P', dir.path, ...args.slice(1)], { env: procEnv, timeoutMs }),
  };
  try {
    await fn(env);
  } finally {
    const { Container } = await import('../../../src/container.js');
    for (let round = 0; round < 3; round++) {
      const all = Container.list({ lxtspath: dir.path, rundir: rundir.path });
      const copiesFirst = [...all.filter((c) => existsSync(`${c.paths.dir}/lxts_rdepends`)), ...all.filter((c) => !existsSync(`${c.paths.dir}/lxts_rdepends`))];
      for (const c of copiesFirst) {
        await c.destroy({ force: true }).catch(async () => {
          // Last resort: this test's own monitor, by PID (init dies with its monitor).
          const pid = c.monitorPid();
          if (pid) process.kill(pid, 'SIGKILL');
          await new Promise((r) => setTimeout(r, 200));
          await c.cleanupAfterStop(true).catch(() => undefined);
        });
      }
    }
    dir.remove();
    rundir.remove();
    assert.deepEqual(await leftovers(before, 5000), [], 'the machine is as it was');
  }
}

/** `lxts create NAME -t busybox`, plus config lines appended. */
export async function createBusybox(env: LxtsEnv, name: string, extraConfig: string[] = []): Promise<void> {
  const r = await env.lxts(['create', name, '-t', 'busybox']);
  assert.equal(r.code, 0, r.stderr);
  if (extraConfig.length) appendFileSync(`${env.path}/${name}/config`, extraConfig.join('\n') + '\n');
}
