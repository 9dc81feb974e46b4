// cgroup v2 specifics: enabling controllers top-down under the no-internal-process rule.
//
// On v2 a non-root cgroup whose cgroup.subtree_control enables controllers cannot hold
// processes. lxts creates `<own>/lxts/<container>`, so `<own>` and `<own>/lxts` need the
// controllers in their subtree_control. When `<own>` holds processes:
//  - only this process (lxts alone in a delegated cgroup, e.g. a service with Delegate=yes):
//    move this process -- and nothing else -- into the leaf `<own>/lxts/.lxts-host`, as systemd
//    asks delegated services to do and as LXC does with its monitor, then enable top-down.
//    When the last container goes, lxts undoes that and moves itself back.
//  - other processes too (a login shell's scope): nothing may be moved, so those controllers
//    are unavailable; apply() then names each one and says why.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logical } from './resources.js';
import { errnoOf, errnoText } from './error.js';
import { readOpt, readPids, rmdirQuiet, writeFile } from './fsutil.js';

export const HOST_LEAF = '.lxts-host';
const V2_DOMAIN: readonly string[] = ['cpu', 'cpuset', 'memory', 'io', 'pids'];

export interface V2Enable {
  /** v2 controllers enabled for the container's cgroup. */
  enabled: string[];
  /** Controller -> why the container cannot have it. */
  unavailable: Record<string, string>;
  /** This process moved itself into `<chain innermost>/.lxts-host`. */
  movedSelf: boolean;
}

interface LeafState { leaf: string; enabled: Map<string, string[]> }
const leaves = new Map<string, LeafState>();

function words(s: string | undefined): string[] {
  return (s ?? '').trim().split(/\s+/).filter(Boolean);
}

function isRootCgroup(dir: string): boolean {
  // the root cgroup has no cgroup.events / cgroup.freeze; every other cgroup has cgroup.events
  return !fs.existsSync(path.join(dir, 'cgroup.events')) && fs.existsSync(path.join(dir, 'cgroup.subtree_control')) &&
    !fs.existsSync(path.join(dir, 'cgroup.type'));
}

export function enableV2Controllers(base: string, chain: string[], controllers: Logical[], fake: boolean): V2Enable {
  const wanted = V2_DOMAIN.filter((c) => controllers.includes(c as Logical));
  const unavailable: Record<string, string> = {};
  const baseAvail = words(readOpt(path.join(base, 'cgroup.controllers')));
  let want = wanted.filter((c) => {
    if (baseAvail.includes(c)) return true;
    unavailable[c] = `the ${c} controller is not delegated to lxts: ${path.join(base, 'cgroup.controllers')} lists only "${baseAvail.join(' ')}" (enable it in the parent's cgroup.subtree_control, e.g. systemd Delegate=yes)`;
    return false;
  });
  const baseSub = words(readOpt(path.join(base, 'cgroup.subtree_control')));
  const missing = want.filter((c) => !baseSub.includes(c));
  let state = leaves.get(base);
  if (missing.length && !state && !isRootCgroup(base)) {
    const procs = readPids(path.join(base, 'cgroup.procs'));
    const others = procs.filter((p) => p !== process.pid);
    if (others.length) {
      const shown = others.slice(0, 5).join(', ') + (others.length > 5 ? ', ...' : '');
      for (const c of missing) {
        unavailable[c] = `cannot enable the ${c} controller below ${base}: that cgroup holds other processes (pid ${shown}), and cgroup v2's no-internal-process rule forbids enabling controllers in a cgroup with processes; run lxts in a cgroup of its own (e.g. systemd-run --scope -p Delegate=yes lxts ...) or enable "${c}" in ${path.join(base, 'cgroup.subtree_control')} beforehand`;
      }
      want = want.filter((c) => baseSub.includes(c));
    } else if (procs.includes(process.pid)) {
      const inner = chain[chain.length - 1]!;
      const leaf = path.join(inner, HOST_LEAF);
      try { fs.mkdirSync(leaf); } catch (e) { if (errnoOf(e) !== 'EEXIST') throw e; }
      writeFile(path.join(leaf, 'cgroup.procs'), String(process.pid), 'cannot move lxts itself into its leaf cgroup');
      state = { leaf, enabled: new Map() };
      leaves.set(base, state);
    }
  }
  for (const dir of [base, ...chain]) {
    const f = path.join(dir, 'cgroup.subtree_control');
    const sub = words(readOpt(f));
    for (const c of [...want]) {
      if (sub.includes(c)) continue;
      try {
        if (fake) fs.writeFileSync(f, [...sub, c].join(' '));
        else fs.writeFileSync(f, `+${c}`);
        sub.push(c);
        if (state) state.enabled.set(dir, [...(state.enabled.get(dir) ?? []), c]);
      } catch (e) {
        unavailable[c] = `cannot enable the ${c} controller: ${f}: ${errnoText(e)} (${errnoOf(e) ?? 'error'})` +
          (errnoOf(e) === 'EBUSY' ? ' -- the cgroup holds processes (cgroup v2 no-internal-process rule)' : '');
        want = want.filter((x) => x !== c);
      }
    }
  }
  return { enabled: want, unavailable, movedSelf: !!state };
}

/**
 * Undo the self-move once no container is left: disable what lxts enabled (deepest first),
 * move this process back to its own cgroup, remove the leaf and the parent chain.
 * Best effort: on any failure lxts just stays in its leaf.
 */
export function releaseHostLeaf(base: string, chain: string[], fake: boolean): void {
  const state = leaves.get(base);
  if (!state) return;
  const inner = chain[chain.length - 1]!;
  try {
    const children = fs.readdirSync(inner, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    if (children.length !== 1 || children[0] !== HOST_LEAF) return;
    for (const dir of [...chain].reverse().concat(base)) {
      for (const c of (state.enabled.get(dir) ?? []).slice().reverse()) {
        const f = path.join(dir, 'cgroup.subtree_control');
        if (fake) fs.writeFileSync(f, words(readOpt(f)).filter((x) => x !== c).join(' '));
        else fs.writeFileSync(f, `-${c}`);
      }
    }
    fs.writeFileSync(path.join(base, 'cgroup.procs'), String(process.pid));
    leaves.delete(base);
    if (fake) for (const f of fs.readdirSync(state.leaf)) fs.unlinkSync(path.join(state.leaf, f));
    rmdirQuiet(state.leaf);
    for (const d of [...chain].reverse()) {
      if (fake) for (const f of fs.readdirSync(d, { withFileTypes: true })) if (f.isFile()) fs.unlinkSync(path.join(d, f.name));
      if (rmdirQuiet(d)) break;
    }
  } catch {
    /* stay in the leaf */
  }
}

/** Is this process currently parked in a leaf below `base`? (for describeCgroupHost) */
export function hostLeafOf(base: string): string | undefined {
  return leaves.get(base)?.leaf;
}
