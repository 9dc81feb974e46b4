// User namespaces: the id maps a container's user namespace gets, written by TypeScript while
// its first process waits at the barrier (LXC's lxc.idmap, `lxts execute --userns`).
import { writeFileSync } from 'node:fs';
import type { IdRange } from './spec.js';
import { LxtsError, ExitCode } from './errors.js';

/** /proc/PID/uid_map text: "INSIDE OUTSIDE COUNT" lines (the kernel takes at most 340). */
export function formatIdMap(ranges: IdRange[]): string {
  return ranges.map((r) => `${r.inside} ${r.outside} ${r.count}\n`).join('');
}

/** Ranges must not overlap inside or outside: the kernel refuses that with a bare EINVAL. */
export function checkIdMap(what: 'uid' | 'gid', ranges: IdRange[]): void {
  if (!ranges.length) throw new LxtsError(`no ${what} map for the user namespace`, ExitCode.CONFIG);
  const overlaps = (a: number, n: number, b: number, m: number): boolean => a < b + m && b < a + n;
  ranges.forEach((r, i) => {
    for (const [k, v] of Object.entries(r)) if (!Number.isInteger(v) || v < 0 || v > 0xfffffffe) throw new LxtsError(`${what} map ${i + 1}: ${k} ${v} is not an id`, ExitCode.CONFIG);
    if (r.count < 1) throw new LxtsError(`${what} map ${i + 1}: the count must be at least 1`, ExitCode.CONFIG);
    for (const o of ranges.slice(i + 1)) {
      if (overlaps(r.inside, r.count, o.inside, o.count)) throw new LxtsError(`${what} maps overlap inside the container (${r.inside}+${r.count} and ${o.inside}+${o.count})`, ExitCode.CONFIG);
      if (overlaps(r.outside, r.count, o.outside, o.count)) throw new LxtsError(`${what} maps overlap on the host (${r.outside}+${r.count} and ${o.outside}+${o.count})`, ExitCode.CONFIG);
    }
  });
}

/** Write the maps of the user namespace of `pid` (gid first: both need the same privilege). */
export function writeIdMaps(pid: number, idmap: { uid: IdRange[]; gid: IdRange[] }): void {
  for (const [file, ranges] of [['gid_map', idmap.gid], ['uid_map', idmap.uid]] as const) {
    try {
      writeFileSync(`/proc/${pid}/${file}`, formatIdMap(ranges));
    } catch (e) {
      throw new LxtsError(`cannot write /proc/${pid}/${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, ExitCode.START_FAILED);
    }
  }
}

/** "u:0:100000:65536" / "g:..." / "b:..." (both) -> ranges added to `into`. */
export function parseIdMapFlag(s: string, into: { uid: IdRange[]; gid: IdRange[] }): void {
  const m = /^([ugb]):(\d+):(\d+):(\d+)$/.exec(s);
  if (!m) throw new LxtsError(`--idmap needs u|g|b:INSIDE:OUTSIDE:COUNT, e.g. b:0:100000:65536, got "${s}"`, ExitCode.USAGE);
  const r = { inside: Number(m[2]), outside: Number(m[3]), count: Number(m[4]) };
  if (m[1] !== 'g') into.uid.push(r);
  if (m[1] !== 'u') into.gid.push({ ...r });
}
