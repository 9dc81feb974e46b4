// Hide the kernel's RCU grace period of the first cgroup move after a quiet spell behind
// other start-up work (docs/benchmarks.md, "Findings"). Used by lxts execute and by
// Container.start().
import { readFileSync, openSync, write, closeSync, constants as fsConstants } from 'node:fs';
import { join } from 'node:path';
import { detectCgroupHost } from './index.js';

/**
 * Start an RCU grace period now so that the container's cgroup move does not wait for one.
 *
 * Moving a process into a cgroup takes the kernel's global cgroup_threadgroup_rwsem for
 * writing, and the first such write after a quiet spell waits for an RCU grace period (~15 ms
 * on this project's cgroup v1 test host); a write within about one grace period of another is
 * fast. A fresh `lxts execute` process always pays it in the attach, with the container's init
 * waiting at the barrier (docs/benchmarks.md, "Findings"). This issues a no-op move early and
 * asynchronously (on the libuv thread pool), so that the grace period runs while the executor
 * is spawned; the attach ~10 ms later finds it over, or waits only for the rest of it. It can
 * not make the attach slower than it was: the kernel work is the same, only earlier.
 *
 * Harmless by construction: only this process's own PID, only into the cgroup it is already
 * in, and only after reading that cgroup's cgroup.procs and finding the PID there (so a
 * mismatch between /proc/self/cgroup and the mount, e.g. under a cgroup namespace, skips it).
 * The kernel finds nothing to migrate and calls no controller's attach. Only on cgroup v1
 * hierarchies (pure v1 or hybrid hosts): on v2 lxts moves itself into a leaf of its own
 * cgroup, and the two must not race. Errors are ignored: it is an optimisation only.
 */
export function prewarmCgroupMove(): void {
  try {
    const host = detectCgroupHost();
    if (host.fakeTree || host.v1.length === 0) return;
    // The deepest own cgroup has the shortest cgroup.procs to read.
    const h = host.v1.reduce((a, b) => (b.ownPath.length > a.ownPath.length ? b : a));
    const procs = join(h.ownDir, 'cgroup.procs');
    const pid = String(process.pid);
    if (!readFileSync(procs, 'utf8').split('\n').includes(pid)) return;
    // Opening takes no lock; write(2) is the slow call, and the only one handed to the thread
    // pool (an fs.writeFile would need several round trips through the main thread, which is
    // busy until the executor reports back).
    const fd = openSync(procs, fsConstants.O_WRONLY);
    write(fd, pid, () => closeSync(fd));
  } catch {
    /* no usable cgroup v1 hierarchy: nothing to hide */
  }
}
