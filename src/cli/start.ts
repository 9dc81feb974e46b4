// lxts start NAME [-F]   (lxc-start)
import { parse, helpText } from './args.js';
import { COMMON_OPTIONS, COMMON_HELP, nameArg, pathOpts } from './common.js';
import { Container } from '../container.js';
import { requireRoot } from '../errors.js';

const OPTIONS = { ...COMMON_OPTIONS, foreground: { type: 'boolean', short: 'F' }, quiet: { type: 'boolean', short: 'q' } } as const;
const USAGE = 'lxts start NAME [-F]';

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, OPTIONS, true);
  if (v.help) {
    process.stdout.write(helpText(USAGE, 'Start a container. By default it runs in the background, held by its monitor\n(lxts-exec); `lxts console NAME` attaches to its console. With -F it runs in the\nforeground on this terminal and stops when its init exits.', [
      ['-F, --foreground', 'run in the foreground (the console is this terminal)'],
      ['-q, --quiet', 'print nothing on success'],
      ...COMMON_HELP,
    ]));
    return 0;
  }
  const { name } = nameArg(v, positionals, USAGE);
  requireRoot('lxts start');
  const c = new Container(name, pathOpts(v));
  if (v.foreground) {
    // In the foreground, like `lxts execute` with the container's config: locked for the run,
    // only when stopped, an overlay rootfs prepared, an ephemeral container gone afterwards.
    const { lockContainer, requireStopped } = await import('../storage/copy.js');
    const { prepareRootfs } = await import('../storage/overlay.js');
    const lock = await lockContainer(c);
    try {
      await requireStopped(c, 'it is already running');
      const { spec, stored, warnings } = c.loadSpec('start');
      for (const w of warnings) process.stderr.write(`lxts: warning: ${w}\n`);
      prepareRootfs(spec);
      spec.process.terminal = process.stdin.isTTY === true && process.stdout.isTTY === true;
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) process.on(s, () => {});
      const { execute } = await import('../launch.js');
      const { code } = await execute(spec, { stdio: 'inherit' });
      lock.release();
      if (stored.ephemeral) await c.destroy({ force: true });
      return code;
    } finally {
      lock.release();
    }
  }
  const { pid, warnings } = await c.start();
  for (const w of warnings) process.stderr.write(`lxts: warning: ${w}\n`);
  if (!v.quiet) process.stderr.write(`started ${name} (init pid ${pid})\n`);
  return 0;
}
