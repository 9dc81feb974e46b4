// LXC's host-side hooks (lxc.container.conf(5)): pre-start before anything is set up,
// start-host at the barrier (the container's init exists, its cgroup and network are ready,
// it has not run), stop and post-stop after it ended, destroy before its files go. Each hook
// is a shell command line run by /bin/sh, with LXC's arguments (hook version 0: NAME lxc
// TYPE) or only LXC_* variables (version 1), and LXC's environment.
// The hooks that run inside the container's namespaces (pre-mount, mount, autodev, start)
// are steps of the launch plan (HOOK, carried out by lxts-exec): src/plan/compile.ts.
import { spawnSync } from 'node:child_process';
import type { StoredConfig } from './config/lxc-to-spec.js';
import { LxtsError, ExitCode } from './errors.js';

export type HostHook = 'pre-start' | 'start-host' | 'stop' | 'post-stop' | 'destroy';

export interface HookContext {
  name: string;
  configPath: string;
  rootfsPath: string;
  /** Host PID of the container's init (start-host, stop). */
  initPid?: number;
}

const HOOK_TIMEOUT_MS = 60000;

/**
 * Run every command of one hook type, in order. A failing pre-start or start-host hook
 * aborts the start (the caller cleans up); for the others a failure is returned as a
 * warning, since the container is already gone and its clean-up must go on.
 */
export function runHooks(type: HostHook, stored: StoredConfig, ctx: HookContext): string[] {
  const warnings: string[] = [];
  const version = stored.hookVersion ?? 0;
  for (const cmd of stored.hooks[type] ?? []) {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      LXC_NAME: ctx.name,
      LXC_CONFIG_FILE: ctx.configPath,
      LXC_ROOTFS_PATH: ctx.rootfsPath,
      LXC_ROOTFS_MOUNT: ctx.rootfsPath,
      LXC_HOOK_TYPE: type,
      LXC_HOOK_SECTION: 'lxc',
      LXC_HOOK_VERSION: String(version),
      ...(ctx.initPid ? { LXC_PID: String(ctx.initPid) } : {}),
    };
    // Version 0 appends "NAME lxc TYPE" to the command line, as LXC does.
    const line = version === 0 ? `${cmd} ${shellQuote(ctx.name)} lxc ${type}` : cmd;
    const r = spawnSync('/bin/sh', ['-c', line], { env, stdio: ['ignore', 'inherit', 'pipe'], timeout: HOOK_TIMEOUT_MS, encoding: 'utf8' });
    if (r.status === 0) continue;
    const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}${r.signal === 'SIGTERM' ? ` (timeout ${HOOK_TIMEOUT_MS / 1000} s)` : ''}` : `exit status ${r.status}`;
    const detail = (r.stderr ?? '').trim().split('\n').filter(Boolean).slice(-1)[0];
    const msg = `lxc.hook.${type} \`${cmd}\` failed: ${why}${detail ? `: ${detail}` : ''}`;
    if (type === 'pre-start' || type === 'start-host') throw new LxtsError(msg, ExitCode.START_FAILED);
    warnings.push(msg);
  }
  return warnings;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_.-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
