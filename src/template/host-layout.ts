// The embedded default root filesystem (`host` template): assembled in memory inside the
// container's own mount namespace from the host's /usr (and /bin, /lib*, /sbin as the host
// lays them out) read-only, with a private writable /etc, /tmp, /var, /root, /run.
// Nothing is downloaded and nothing is written on the host's disk.
//
// probeHostLayout() reads the host once; the plan compiler takes its result as plain data
// so that it stays pure and golden-testable.
import { lstatSync, readFileSync, readlinkSync, existsSync } from 'node:fs';

export interface HostTopEntry {
  name: string;
  kind: 'dir' | 'symlink';
  target?: string;
}

export interface HostLayout {
  /** /bin, /sbin, /lib, /lib32, /lib64, /libx32 as the host has them. */
  top: HostTopEntry[];
  /** Contents for the container's /etc/resolv.conf. */
  resolvConf: string;
  /** Host files bound read-only into the container's /etc (they are needed to run host binaries). */
  etcBinds: string[];
  /** Host directories bound read-only into the container's /etc. */
  etcDirBinds: string[];
}

const TOP_CANDIDATES = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];

let cached: HostLayout | undefined;

export function probeHostLayout(root = '/'): HostLayout {
  if (cached && root === '/') return cached;
  const top: HostTopEntry[] = [];
  for (const name of TOP_CANDIDATES) {
    const p = root + name;
    try {
      const st = lstatSync(p);
      if (st.isSymbolicLink()) top.push({ name, kind: 'symlink', target: readlinkSync(p) });
      else if (st.isDirectory()) top.push({ name, kind: 'dir' });
    } catch {
      /* absent on this host: fine */
    }
  }
  let resolvConf = '';
  try {
    resolvConf = readFileSync(root + 'etc/resolv.conf', 'utf8');
  } catch {
    /* none on the host */
  }
  // ld.so.cache: Debian's multiarch library dirs are not in the linker's built-in path.
  const etcBinds = ['ld.so.cache', 'ld.so.conf', 'nsswitch.conf', 'localtime'].filter((f) => existsSync(root + 'etc/' + f));
  // alternatives: /usr/bin/awk -> /etc/alternatives/awk -> /usr/bin/mawk.
  const etcDirBinds = ['alternatives', 'ld.so.conf.d', 'terminfo'].filter((d) => existsSync(root + 'etc/' + d));
  const layout = { top, resolvConf, etcBinds, etcDirBinds };
  if (root === '/') cached = layout;
  return layout;
}

/** The minimal files of the container's private /etc. */
export function hostTemplateEtcFiles(hostname: string, layout: HostLayout): { path: string; mode: number; content: string }[] {
  return [
    { path: 'etc/passwd', mode: 0o644, content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' },
    { path: 'etc/group', mode: 0o644, content: 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' },
    { path: 'etc/hostname', mode: 0o644, content: hostname + '\n' },
    { path: 'etc/hosts', mode: 0o644, content: `127.0.0.1\tlocalhost\n127.0.1.1\t${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n` },
    { path: 'etc/resolv.conf', mode: 0o644, content: layout.resolvConf },
  ];
}
