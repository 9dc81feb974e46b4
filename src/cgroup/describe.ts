// Host layout for `lxts check` / `lxts info --host`: per controller, which version serves it,
// where, and whether lxts can use it from its own cgroup.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectCgroupHost, type CgroupHost } from './detect.js';
import { hostLeafOf } from './v2.js';

export interface ControllerDescription {
  controller: string;
  version: 1 | 2 | null;
  mount: string | null;
  /** This process's cgroup (relative to the mount). */
  ownPath: string | null;
  /** lxts can create child cgroups with this controller below its own cgroup. */
  delegated: boolean;
  /** Why not (or how: "lxts moves itself into a leaf"). */
  note?: string;
}

export interface HostDescription {
  layout: CgroupHost['layout'];
  controllers: ControllerDescription[];
}

const LOGICAL = ['cpu', 'cpuacct', 'cpuset', 'memory', 'io', 'pids', 'freezer', 'devices'];

function words(file: string): string[] | undefined {
  try { return fs.readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean); } catch { return undefined; }
}

function writable(dir: string): boolean {
  try { fs.accessSync(dir, fs.constants.W_OK); return true; } catch { return false; }
}

export function describeCgroupHost(host: CgroupHost = detectCgroupHost()): HostDescription {
  const out: ControllerDescription[] = [];
  for (const c of LOGICAL) {
    const info = host.controllers[c];
    if (!info) {
      out.push({ controller: c, version: null, mount: null, ownPath: null, delegated: false,
        note: c === 'devices' && host.layout === 'v2' ? 'cgroup v2 controls devices with eBPF programs, not files' : 'not mounted / not enabled in the kernel' });
      continue;
    }
    const d: ControllerDescription = { controller: c, version: info.version, mount: info.mount, ownPath: info.ownPath, delegated: false };
    if (!writable(info.ownDir)) {
      d.note = `${info.ownDir} is not writable (read-only cgroup mount or not root)`;
    } else if (info.version === 1) {
      d.delegated = true;
    } else if (info.name === 'freeze' || (c === 'cpuacct' && info.name === 'cpu')) {
      d.delegated = true;
      d.note = info.name === 'freeze' ? 'cgroup.freeze / cgroup.kill (core cgroup v2 files)' : 'cpu.stat (core cgroup v2 file)';
    } else {
      const name = info.name;
      const avail = words(path.join(info.ownDir, 'cgroup.controllers')) ?? [];
      const sub = words(path.join(info.ownDir, 'cgroup.subtree_control')) ?? [];
      if (!avail.includes(name)) {
        d.note = `not delegated: the parent of ${info.ownPath} does not enable ${name} (cgroup.controllers: "${avail.join(' ')}")`;
      } else if (sub.includes(name)) {
        d.delegated = true;
        if (hostLeafOf(info.ownDir)) d.note = 'lxts moved itself into a leaf cgroup (no-internal-process rule)';
      } else {
        const procs = (words(path.join(info.ownDir, 'cgroup.procs')) ?? []).map(Number);
        const others = procs.filter((p) => p !== process.pid);
        const isRoot = !fs.existsSync(path.join(info.ownDir, 'cgroup.events'));
        if (isRoot || procs.length === 0) d.delegated = true;
        else if (others.length === 0) { d.delegated = true; d.note = 'lxts will move itself into a leaf cgroup to enable it (no-internal-process rule)'; }
        else d.note = `${info.ownPath} holds other processes (${others.length}); cgroup v2's no-internal-process rule forbids enabling ${name} below it`;
      }
    }
    out.push(d);
  }
  return { layout: host.layout, controllers: out };
}

/** Human-readable table for `lxts info --host`. */
export function formatCgroupHost(d: HostDescription = describeCgroupHost()): string {
  const lines = [`cgroup layout: ${d.layout === 'v1' ? 'pure v1' : d.layout === 'v2' ? 'pure v2 (unified)' : d.layout}`];
  for (const c of d.controllers) {
    const v = c.version ? `v${c.version}` : '--';
    lines.push(`  ${c.controller.padEnd(8)} ${v.padEnd(3)} ${(c.delegated ? 'ok' : 'NO').padEnd(3)} ${c.mount ?? ''}${c.ownPath && c.ownPath !== '/' ? c.ownPath : ''}${c.note ? `  (${c.note})` : ''}`);
  }
  return lines.join('\n');
}
