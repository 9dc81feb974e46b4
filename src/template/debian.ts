// `debian`: a Debian system container made with debootstrap (variant minbase) from a Debian
// mirror, booting sysvinit. The debootstrapped tree is cached as a tarball under
// <cacheDir>/debian/ so that the next create of the same release/arch/packages only unpacks
// it (seconds). debootstrap runs in a mount namespace of its own, so the /proc and /sys it
// mounts in the target disappear with it, even when it is killed.
//
// Why sysvinit and not systemd: systemd as PID 1 needs a writable cgroup hierarchy mounted
// at /sys/fs/cgroup (lxc.mount.auto = cgroup:mixed) and a cgroup namespace that delegates
// to it; lxts does not mount cgroups into containers yet, and this machine's hybrid cgroup
// layout is what systemd likes least. sysvinit boots with what lxts provides (/proc, /sys
// read-only, /dev), shuts down cleanly on SIGPWR (inittab `powerfail`), and its rc scripts
// that would touch the host (hwclock, fsck, remounting / read-only) are switched off here.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { parseTemplateArgs, templateHelp, type Template, type TemplateContext, type TemplateResult } from './common.js';
import { run, which, hostsFile, writeFileIn, throwIfAborted } from './util.js';
import { LxtsError, usageError } from '../errors.js';

const OPTIONS = {
  mirror: { type: 'string' },
  release: { type: 'string' },
  arch: { type: 'string' },
  include: { type: 'string', multiple: true },
  'flush-cache': { type: 'boolean' },
} as const;

export const DEFAULT_MIRROR = 'http://deb.debian.org/debian';
export const DEFAULT_RELEASE = 'bookworm';
/** What a booting container needs on top of minbase (ps for `lxts attach -- ps`). */
export const BASE_PACKAGES = ['sysvinit-core', 'procps'];

/** rc scripts that do nothing useful in a container, or harm the host (remount / read-only, set the clock, fsck). */
export const DISABLED_SCRIPTS = ['hwclock.sh', 'checkroot.sh', 'checkfs.sh', 'umountfs', 'umountroot', 'brightness'];

export const SYSVINIT_INITTAB = `# /etc/inittab for a container (lxts debian template).
id:2:initdefault:
si::sysinit:/etc/init.d/rcS
~~:S:wait:/sbin/sulogin --force
l0:0:wait:/etc/init.d/rc 0
l1:1:wait:/etc/init.d/rc 1
l2:2:wait:/etc/init.d/rc 2
l3:3:wait:/etc/init.d/rc 3
l4:4:wait:/etc/init.d/rc 4
l5:5:wait:/etc/init.d/rc 5
l6:6:wait:/etc/init.d/rc 6
z6:6:respawn:/sbin/sulogin --force
# A login prompt on the console (lxts console NAME); containers have no tty1..6.
co:2345:respawn:/sbin/getty --noclear 38400 console
# lxts stop sends SIGPWR (lxc.signal.halt): with no /run/powerstatus that is a power
# failure, and the answer is a clean halt (runlevel 0), after which the container stops.
p0::powerfail:/sbin/init 0
p6::ctrlaltdel:/sbin/init 6
`;

export interface DebianOptions {
  mirror: string;
  release: string;
  arch: string;
  include: string[];
  flushCache: boolean;
}

export function parseDebianArgs(args: string[], hostArch: () => string = dpkgArch): DebianOptions {
  const v = parseTemplateArgs('debian', args, OPTIONS);
  const mirror = (v.mirror as string | undefined) ?? DEFAULT_MIRROR;
  if (!/^(https?|file):\/\/[^\s'"]+$/.test(mirror)) throw usageError(`template debian: --mirror must be an http(s):// or file:// URL, got "${mirror}"`);
  const release = (v.release as string | undefined) ?? DEFAULT_RELEASE;
  if (!/^[a-z][a-z0-9-]{1,30}$/.test(release)) throw usageError(`template debian: bad --release "${release}" (e.g. bookworm, trixie, stable)`);
  const arch = (v.arch as string | undefined) ?? hostArch();
  if (!/^[a-z0-9]{2,16}$/.test(arch)) throw usageError(`template debian: bad --arch "${arch}" (e.g. amd64, arm64)`);
  const include = ((v.include as string[] | undefined) ?? []).flatMap((s) => s.split(/[,\s]+/)).filter(Boolean);
  for (const p of include) if (!/^[a-z0-9][a-z0-9+.-]+(:[a-z0-9]+)?$/.test(p)) throw usageError(`template debian: bad package name "${p}" in --include`);
  return { mirror, release, arch, include: [...new Set(include)].sort(), flushCache: v['flush-cache'] === true };
}

export function dpkgArch(): string {
  try {
    return execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
  } catch {
    return ({ x64: 'amd64', arm64: 'arm64', arm: 'armhf', ia32: 'i386', ppc64: 'ppc64el', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[process.arch] ?? process.arch;
  }
}

/** Cache file name without extension: <release>-<arch>[-<hash of extra packages>]. */
export function cacheKey(o: Pick<DebianOptions, 'release' | 'arch' | 'include'>): string {
  const base = `${o.release}-${o.arch}`;
  if (o.include.length === 0) return base;
  return `${base}-${createHash('sha256').update(o.include.join(',')).digest('hex').slice(0, 12)}`;
}

/**
 * Turns debootstrap's output ("I: Retrieving libc6 2.36-9", "I: Extracting ...",
 * "I: Unpacking ...", "I: Configuring ...") into progress messages with a fraction that
 * only grows. The package count is learnt while retrieving; `expected` is the guess before.
 */
export class DebootstrapProgress {
  private phase = 'start';
  private counts: Record<string, number> = {};
  private total: number;
  private last = 0;
  constructor(expected = 100) {
    this.total = expected;
  }

  static readonly PHASES: Record<string, [number, number]> = {
    start: [0, 0.03],
    release: [0.03, 0.06],
    resolve: [0.06, 0.08],
    retrieve: [0.08, 0.45],
    extract: [0.45, 0.55],
    install: [0.55, 0.6],
    unpack: [0.6, 0.78],
    configure: [0.78, 0.99],
    done: [0.97, 0.97],
  };

  /** A progress update for one output line, or undefined for lines that say nothing new. */
  line(raw: string): { message: string; fraction: number; level: 'info' | 'warning' | 'error' } | undefined {
    const l = raw.trim();
    const m = /^([IWEP]): (.*)$/.exec(l);
    if (!m) return undefined;
    const [, lvl, text] = m as unknown as [string, string, string];
    if (lvl === 'W') return { message: 'warning: ' + text, fraction: this.last, level: 'warning' };
    if (lvl === 'E') return { message: 'error: ' + text, fraction: this.last, level: 'error' };
    if (lvl === 'P') return undefined;
    let phase = this.phase;
    let counted: string | undefined;
    let message = text;
    const pkg = /^(Retrieving|Validating|Extracting|Unpacking|Configuring) (.+?)(\.\.\.)?$/.exec(text);
    if (/^Retrieving (InRelease|Release|Packages)/.test(text) || /^(Checking Release|Valid Release)/.test(text)) phase = 'release';
    else if (/^Resolving dependencies|^Checking component|^Found/.test(text)) phase = 'resolve';
    else if (/^Installing core packages/.test(text)) phase = 'install';
    else if (/^Unpacking (required|the base) (packages|system)/.test(text)) phase = 'unpack';
    else if (/^Configuring (required|base) packages/.test(text)) phase = 'configure';
    else if (/^Base system installed successfully/.test(text)) phase = 'done';
    else if (pkg) {
      const verb = pkg[1]!;
      if (verb === 'Validating') return undefined; // one line per package is enough
      phase = { Retrieving: 'retrieve', Extracting: 'extract', Unpacking: 'unpack', Configuring: 'configure' }[verb]!;
      counted = phase;
      const name = pkg[2]!.split(' ')[0]!;
      message = `${verb.toLowerCase()} ${name}`;
    }
    this.phase = phase;
    if (counted) this.counts[counted] = (this.counts[counted] ?? 0) + 1;
    if (phase !== 'retrieve' && this.counts.retrieve) this.total = Math.max(this.counts.retrieve, 1);
    const [a, b] = DebootstrapProgress.PHASES[phase] ?? [this.last, this.last];
    const done = counted ? Math.min(this.counts[counted]! / (phase === 'retrieve' ? Math.max(this.total, this.counts[counted]! + 1) : this.total), 1) : 0;
    const fraction = Math.max(this.last, a + (b - a) * done);
    this.last = fraction;
    const c = counted ? this.counts[counted]! : 0;
    const n = counted ? ` (${c}/${phase === 'retrieve' ? '~' : ''}${Math.max(this.total, c)})` : '';
    return { message: message.replace(/\.\.\.$/, '') + n, fraction, level: 'info' };
  }
}

function hostTarCompression(): { ext: string; flag: string } {
  return which('zstd') ? { ext: 'tar.zst', flag: '--zstd' } : { ext: 'tar.gz', flag: '-z' };
}

const TAR_KEEP = ['--numeric-owner', '--xattrs', '--xattrs-include=security.capability', '--xattrs-include=user.*'];

/** Mount points at or below `dir` in our mount namespace (there should be none). */
export function mountsBelow(dir: string): string[] {
  const d = dir.replace(/\/+$/, '');
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m)
    .map((m) => m.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m === d || m.startsWith(d + '/'));
}

async function ensureDebootstrap(ctx: TemplateContext): Promise<string> {
  const found = which('debootstrap');
  if (found) return found;
  if (!which('apt-get')) throw new LxtsError('template debian: debootstrap is not installed and there is no apt-get to install it', 1, 'install debootstrap with your package manager');
  ctx.onProgress('debootstrap is not installed: installing it (apt-get install -y debootstrap)');
  await run('apt-get', ['install', '-y', '--no-install-recommends', 'debootstrap'], { signal: ctx.signal, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, what: 'apt-get install debootstrap' });
  const now = which('debootstrap');
  if (!now) throw new LxtsError('template debian: apt-get installed debootstrap but it is not on PATH');
  return now;
}

/** Make a debootstrapped tree a container: inittab, rc scripts, hostname. */
export function configureDebianRootfs(rootfs: string, name: string): void {
  writeFileIn(rootfs, 'etc/inittab', SYSVINIT_INITTAB);
  for (const rc of ['rcS.d', 'rc0.d', 'rc1.d', 'rc2.d', 'rc3.d', 'rc4.d', 'rc5.d', 'rc6.d']) {
    const d = `${rootfs}/etc/${rc}`;
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) {
      const m = /^[SK]\d\d(.+)$/.exec(f);
      if (m && DISABLED_SCRIPTS.includes(m[1]!)) unlinkSync(`${d}/${f}`);
    }
  }
  writeFileIn(rootfs, 'etc/hostname', name + '\n');
  writeFileIn(rootfs, 'etc/hosts', hostsFile(name));
  // No hardware clock, no disks to check: the container's fstab is empty on purpose.
  writeFileIn(rootfs, 'etc/fstab', '# <file system> <mount point> <type> <options> <dump> <pass>\n# (lxts: mounts come from the container config, lxc.mount.entry)\n');
  // Boot messages on the console, not on a tty that does not exist.
  writeFileIn(rootfs, 'etc/default/rcS', '# lxts\nVERBOSE=no\n');
}

export const debianTemplate: Template = {
  name: 'debian',
  summary: 'Debian with debootstrap (minbase + sysvinit), cached under the cache dir; a system container',
  help: templateHelp(
    'debian',
    'A Debian system container built with debootstrap (variant minbase, plus sysvinit-core and\n' +
      'procps) from a Debian mirror. The first create of a release/arch/package set takes a\n' +
      'minute or more; the tree is cached as a tarball in <cache>/debian/ (LXTS_CACHE, default\n' +
      '/var/cache/lxts) and later creates unpack it in seconds. debootstrap is installed with\n' +
      "apt-get if it is missing. Init is sysvinit; stop sends SIGPWR (a clean halt). root's\n" +
      'password is locked: use `lxts attach NAME` (then `passwd` for console logins).',
    [
      ['--release NAME', `Debian release (default: ${DEFAULT_RELEASE})`],
      ['--mirror URL', `Debian mirror (default: ${DEFAULT_MIRROR})`],
      ['--arch ARCH', "architecture (default: the host's, e.g. amd64)"],
      ['--include PKG,PKG', 'extra packages (repeatable; a separate cache entry)'],
      ['--flush-cache', 'rebuild the cached tarball for these options'],
    ],
  ),
  async create(ctx: TemplateContext): Promise<TemplateResult> {
    const o = parseDebianArgs(ctx.args);
    const cacheDir = `${ctx.cacheDir}/debian`;
    const key = cacheKey(o);
    const comp = hostTarCompression();
    const cacheFile = `${cacheDir}/${key}.${comp.ext}`;
    mkdirSync(cacheDir, { recursive: true });
    if (o.flushCache) {
      for (const f of readdirSync(cacheDir)) if (f.startsWith(key + '.tar')) rmSync(`${cacheDir}/${f}`, { force: true });
      ctx.onProgress(`cache for ${key} flushed`);
    }
    const cached = [`${cacheDir}/${key}.tar.zst`, `${cacheDir}/${key}.tar.gz`].find((f) => existsSync(f) && (f.endsWith('.zst') ? !!which('zstd') : true));
    if (cached) {
      const mb = (statSync(cached).size / 1048576).toFixed(0);
      ctx.onProgress(`unpacking the cached Debian ${o.release}/${o.arch} rootfs (${cached}, ${mb} MB)`, 0.1);
      await run('tar', [...TAR_KEEP, '--same-permissions', '--same-owner', cached.endsWith('.zst') ? '--zstd' : '-z', '-x', '-f', cached, '-C', ctx.rootfs], { signal: ctx.signal, what: `template debian: unpacking ${cached}` });
    } else {
      const debootstrap = await ensureDebootstrap(ctx);
      throwIfAborted(ctx.signal);
      const debs = `${cacheDir}/debs-${o.release}-${o.arch}`;
      mkdirSync(debs, { recursive: true });
      const packages = [...BASE_PACKAGES, ...o.include];
      ctx.onProgress(`debootstrap ${o.release} (${o.arch}, minbase + ${packages.join(',')}) from ${o.mirror}`, 0);
      const progress = new DebootstrapProgress();
      const errors: string[] = [];
      // A mount namespace of its own: debootstrap's /proc and /sys mounts in the target die with it.
      await run('unshare', ['--mount', '--propagation', 'private', '--', debootstrap, '--variant=minbase', `--include=${packages.join(',')}`, `--arch=${o.arch}`, `--cache-dir=${debs}`, o.release, ctx.rootfs, o.mirror], {
        signal: ctx.signal,
        what: 'template debian: debootstrap',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' },
        onLine: (l) => {
          const p = progress.line(l);
          if (!p) return;
          if (p.level === 'error') errors.push(p.message);
          ctx.onProgress(p.message, p.fraction);
        },
      }).catch((e: unknown) => {
        if (e instanceof LxtsError && errors.length && e.code !== 130) throw new LxtsError(`template debian: debootstrap failed: ${errors[errors.length - 1]!.replace(/^error: /, '')}`);
        throw e;
      });
      const left = mountsBelow(ctx.rootfs);
      if (left.length) throw new LxtsError(`template debian: debootstrap left mounts behind: ${left.join(', ')}`);
      ctx.onProgress(`caching the rootfs as ${cacheFile}`, 0.98);
      const tmp = `${cacheFile}.part-${process.pid}`;
      try {
        await run('tar', [...TAR_KEEP, comp.flag, '-c', '-f', tmp, '-C', ctx.rootfs, '.'], { signal: ctx.signal, what: 'template debian: writing the cache' });
        renameSync(tmp, cacheFile);
      } finally {
        rmSync(tmp, { force: true });
      }
    }
    throwIfAborted(ctx.signal);
    if (!existsSync(`${ctx.rootfs}/sbin/init`) && !existsSync(`${ctx.rootfs}/usr/sbin/init`)) throw new LxtsError('template debian: the rootfs has no /sbin/init (the cache may be broken: try --flush-cache)');
    configureDebianRootfs(ctx.rootfs, ctx.name);
    ctx.onProgress('Debian rootfs ready', 1);
    return {
      kind: 'system',
      config: [
        ['lxc.uts.name', ctx.name],
        ['lxc.init.cmd', '/sbin/init'],
        ['lxc.signal.halt', 'SIGPWR'],
        ['lxc.signal.reboot', 'SIGINT'],
      ],
    };
  },
};
