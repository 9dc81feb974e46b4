// `busybox`: a system container from the host's static busybox (Debian: busybox-static).
// One binary and a symlink per applet; busybox init is PID 1 and reads /etc/inittab:
// /etc/init.d/rcS at boot (mounts /run and /tmp, runs /etc/init.d/S* scripts), a getty on
// the console (or a root shell with --shell), /etc/init.d/rcK at shutdown. busybox init
// halts on SIGUSR1 (our stop sends lxc.signal.halt), powers off on SIGUSR2 and reboots on
// SIGTERM.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { findStaticBusybox, makeBusyboxRootfs } from './busybox-rootfs.js';
import { parseTemplateArgs, templateHelp, type Template, type TemplateContext, type TemplateResult } from './common.js';
import { hostsFile, throwIfAborted } from './util.js';
import { LxtsError, usageError } from '../errors.js';

const OPTIONS = {
  shell: { type: 'boolean' },
  'root-password': { type: 'string' },
  busybox: { type: 'string' },
} as const;

export function busyboxInittab(shell: boolean): string {
  return [
    '# busybox init (lxts busybox template). Format: TTY::ACTION:PROCESS',
    '::sysinit:/etc/init.d/rcS',
    shell ? 'console::respawn:-/bin/sh' : 'console::respawn:/sbin/getty -L 38400 console',
    '::ctrlaltdel:/sbin/reboot',
    '# lxts stop sends SIGUSR1 (lxc.signal.halt): busybox init runs these, then stops everything.',
    '::shutdown:/etc/init.d/rcK',
    '',
  ].join('\n');
}

const RCS = `#!/bin/sh
# Boot script of the lxts busybox template. /proc, /sys, /dev, /dev/pts, /dev/shm are
# mounted by lxts before init starts, and the hostname is set.
mounted() { grep -q " $1 " /proc/mounts; }
mounted /proc || mount -t proc -o nosuid,nodev,noexec proc /proc
mounted /run || mount -t tmpfs -o mode=0755,nosuid,nodev,size=10% tmpfs /run
mounted /tmp || mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
for s in /etc/init.d/S[0-9]*; do [ -x "$s" ] && "$s" start; done
exit 0
`;

const RCK = `#!/bin/sh
# Shutdown script of the lxts busybox template: runs /etc/init.d/K* scripts (add your own).
for s in /etc/init.d/K[0-9]*; do [ -x "$s" ] && "$s" stop; done
exit 0
`;

export const busyboxTemplate: Template = {
  name: 'busybox',
  summary: "a system container from the host's static busybox: busybox init, a getty on the console",
  help: templateHelp(
    'busybox',
    "A system container from the host's static busybox (Debian: apt-get install busybox-static):\n" +
      'one binary and a symlink per applet. Its init is busybox init (/sbin/init) with a getty on\n' +
      'the console (`lxts console NAME`); log in as root, with no password unless\n' +
      '--root-password is given. Stop sends SIGUSR1 (busybox init: halt).',
    [
      ['--shell', 'a root shell on the console instead of a getty (no login)'],
      ['--root-password PW', "root's password (default: none, login without a password)"],
      ['--busybox PATH', 'a static busybox binary to use (default: the host\'s /bin/busybox)'],
    ],
  ),
  async create(ctx: TemplateContext): Promise<TemplateResult> {
    const v = parseTemplateArgs('busybox', ctx.args, OPTIONS);
    let busybox: string;
    try {
      busybox = v.busybox ? String(v.busybox) : findStaticBusybox();
    } catch (e) {
      if (e instanceof LxtsError) throw new LxtsError('template busybox: no static busybox on the host (install it: apt-get install busybox-static)', e.code, e.hint);
      throw e;
    }
    if (!existsSync(busybox)) throw usageError(`template busybox: --busybox ${busybox}: no such file`);
    throwIfAborted(ctx.signal);
    ctx.onProgress(`copying ${busybox}`);
    const r = ctx.rootfs;
    makeBusyboxRootfs(r, busybox);
    // Applets in their usual directories (sbin/init, sbin/getty, usr/bin/...), not only bin/.
    const full = execFileSync(busybox, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const p of full) {
      const dest = `${r}/${p}`;
      if (exists(dest)) continue;
      mkdirSync(dest.slice(0, dest.lastIndexOf('/')), { recursive: true });
      symlinkSync('/bin/busybox', dest);
    }
    if (!exists(`${r}/sbin/init`)) symlinkSync('/bin/busybox', `${r}/sbin/init`);
    for (const d of ['var/log', 'home', 'etc/init.d', 'root']) mkdirSync(`${r}/${d}`, { recursive: true });
    chmodSync(`${r}/root`, 0o700);
    if (!exists(`${r}/var/run`)) symlinkSync('../run', `${r}/var/run`);

    let pwField = '';
    if (v['root-password'] !== undefined) {
      pwField = execFileSync(busybox, ['mkpasswd', '-m', 'sha512', '-P', '0'], { input: String(v['root-password']) + '\n', encoding: 'utf8' }).trim();
      if (!pwField.startsWith('$')) throw new LxtsError('template busybox: could not hash the root password with busybox mkpasswd');
    }
    write(r, 'etc/passwd', `root:${pwField}:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n`);
    write(r, 'etc/group', 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n');
    write(r, 'etc/shells', '/bin/sh\n/bin/ash\n');
    write(r, 'etc/hostname', ctx.name + '\n');
    write(r, 'etc/hosts', hostsFile(ctx.name));
    write(r, 'etc/resolv.conf', '');
    write(r, 'etc/profile', 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nexport PS1=\'\\u@\\h:\\w\\$ \'\n');
    write(r, 'etc/inittab', busyboxInittab(v.shell === true));
    write(r, 'etc/init.d/rcS', RCS, 0o755);
    write(r, 'etc/init.d/rcK', RCK, 0o755);
    return {
      kind: 'system',
      config: [
        ['lxc.uts.name', ctx.name],
        ['lxc.init.cmd', '/sbin/init'],
        ['lxc.signal.halt', 'SIGUSR1'],
        ['lxc.signal.reboot', 'SIGTERM'],
      ],
    };
  },
};

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function write(root: string, rel: string, content: string, mode = 0o644): void {
  writeFileSync(`${root}/${rel}`, content, { mode });
  chmodSync(`${root}/${rel}`, mode);
}
