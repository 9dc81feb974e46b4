// A timing helper that lives in its own private mount namespace (started by the harness as
// `unshare --mount --propagation private node ns-helper.js`), where it unmounts the cgroup v2
// mount of a hybrid host. crun 1.8 refuses hybrid hosts whose v2 mount has any controller
// ("cgroups in hybrid mode not supported"); in this namespace it sees a pure v1 host. The
// unmount is private to the namespace: the host's mounts are unchanged.
//
// Protocol (IPC channel): {argv: string[]} -> {ms, status, signal, stderr}. The timing is the
// same as the harness's own (spawnSync to exit).
import { spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';

const V2 = '/sys/fs/cgroup/unified';

function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function prepare(): string {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  // Refuse to unmount anything unless this process really is in a mount namespace of its own
  // (not the harness's, the parent that started it through unshare).
  if (readlinkSync('/proc/self/ns/mnt') === readlinkSync(`/proc/${process.ppid}/ns/mnt`)) return 'not in a private mount namespace: nothing unmounted';
  if (!mounts.some((l) => l.split(' ')[4] === V2)) return 'no v2 mount';
  const r = spawnSync('umount', [V2], { encoding: 'utf8' });
  return r.status === 0 ? 'unmounted' : `umount failed: ${r.stderr.trim()}`;
}

if (!process.send) {
  process.stderr.write('ns-helper: start me from the bench harness (IPC channel)\n');
  process.exit(2);
}
const state = prepare();
process.send({ ready: true, state });
process.on('message', (m: { argv?: string[]; exit?: boolean }) => {
  if (m.exit || !m.argv) process.exit(0);
  const t0 = nowMs();
  const r = spawnSync(m.argv[0], m.argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 60_000 });
  const ms = nowMs() - t0;
  process.send!({ ms, status: r.status, signal: r.signal, stderr: String(r.stderr ?? '') + (r.error ? String(r.error) : '') });
});
process.on('disconnect', () => process.exit(0));
