// `host`: the embedded default rootfs of `lxts execute`, made persistent. The rootfs is a
// small directory of its own (/etc, /tmp, /var, /root, /run, ... writable and private); the
// host's /usr (and /bin, /lib*, /sbin where they are real directories) come in as read-only
// bind mounts from lxc.mount.entry lines, so nothing of the host is copied. Merged-/usr
// hosts get the same symlinks (bin -> usr/bin). The container runs one program (default
// /bin/sh): an application container.
import { mkdirSync, symlinkSync, chmodSync, writeFileSync } from 'node:fs';
import { probeHostLayout, hostTemplateEtcFiles } from './host-layout.js';
import { parseTemplateArgs, templateHelp, type Template, type TemplateContext, type TemplateResult } from './common.js';
import { quoteCommand, splitCommand, throwIfAborted } from './util.js';
import { usageError } from '../errors.js';

const OPTIONS = { command: { type: 'string' } } as const;

export const hostTemplate: Template = {
  name: 'host',
  summary: "the host's /usr read-only with a private /etc, /var, /tmp (application container, /bin/sh)",
  help: templateHelp(
    'host',
    "A persistent version of lxts execute's default rootfs: a private directory with /etc\n" +
      '(passwd, group, hosts, hostname, resolv.conf), /tmp, /var, /root, /run, and the host\'s\n' +
      '/usr (plus /bin, /sbin, /lib* where they are not symlinks) bound read-only by\n' +
      'lxc.mount.entry lines. Nothing is copied. An application container: `lxts start` runs\n' +
      'the command as init (a shell on the console by default), `lxts execute -n NAME` runs it\n' +
      'under a minimal init. Stop sends SIGHUP for the default shell, SIGTERM otherwise.',
    [['--command CMD', 'the program to run, a command line (default: /bin/sh)']],
  ),
  async create(ctx: TemplateContext): Promise<TemplateResult> {
    const v = parseTemplateArgs('host', ctx.args, OPTIONS);
    const command = v.command !== undefined ? splitCommand(String(v.command)) : ['/bin/sh'];
    if (command.length === 0) throw usageError('template host: --command is empty');
    throwIfAborted(ctx.signal);
    ctx.onProgress('writing the host rootfs skeleton');
    const layout = probeHostLayout();
    const r = ctx.rootfs;
    const config: [string, string][] = [['lxc.uts.name', ctx.name]];
    for (const [d, mode] of [['usr', 0o755], ['etc', 0o755], ['tmp', 0o1777], ['var', 0o755], ['var/tmp', 0o1777], ['var/log', 0o755], ['root', 0o700], ['run', 0o755], ['home', 0o755], ['mnt', 0o755], ['opt', 0o755], ['proc', 0o555], ['sys', 0o555], ['dev', 0o755]] as const) {
      mkdirSync(`${r}/${d}`, { recursive: true });
      chmodSync(`${r}/${d}`, mode);
    }
    config.push(['lxc.mount.entry', '/usr usr none ro,rbind,create=dir 0 0']);
    for (const e of layout.top) {
      if (e.kind === 'symlink') symlinkSync(e.target!, `${r}/${e.name}`);
      else {
        mkdirSync(`${r}/${e.name}`);
        config.push(['lxc.mount.entry', `/${e.name} ${e.name} none ro,rbind,create=dir 0 0`]);
      }
    }
    for (const f of hostTemplateEtcFiles(ctx.name, layout)) writeFileSync(`${r}/${f.path}`, f.content, { mode: f.mode });
    // Files the host's binaries need (the dynamic linker's cache, nsswitch, the timezone):
    // read-only binds of the host's current ones, so they never go stale.
    for (const f of layout.etcBinds) {
      writeFileSync(`${r}/etc/${f}`, '', { mode: 0o644 });
      config.push(['lxc.mount.entry', `/etc/${f} etc/${f} none ro,bind,create=file 0 0`]);
    }
    for (const d of layout.etcDirBinds) {
      mkdirSync(`${r}/etc/${d}`);
      config.push(['lxc.mount.entry', `/etc/${d} etc/${d} none ro,bind,create=dir 0 0`]);
    }
    const cmd = quoteCommand(command);
    const isShell = command.length === 1 && /^\/(usr\/)?bin\/(sh|bash|dash)$/.test(command[0]!);
    config.push(['lxc.execute.cmd', cmd], ['lxc.init.cmd', cmd], ['lxc.signal.halt', isShell ? 'SIGHUP' : 'SIGTERM']);
    return { config, kind: 'application' };
  },
};
