// lxts command dispatcher. Commands are imported lazily so `lxts execute` pays only for
// the modules it uses (start-up time is part of every container start from the CLI).
import { LxtsError, ExitCode } from '../errors.js';

interface Command {
  summary: string;
  /** Not listed in --help (used by lxts itself). */
  hidden?: boolean;
  load: () => Promise<{ run(argv: string[]): Promise<number> }>;
}

const COMMANDS: Record<string, Command> = {
  config: { summary: 'check, show and edit LXC-format config files (validate, show, get, set, keys)', load: () => import('./config.js') },
  execute: { summary: 'run a command in a throwaway container, in the foreground', load: () => import('./execute.js') },
  create: { summary: 'create a container from a template (host, busybox, debian, local, oci)', load: () => import('./create.js') },
  start: { summary: 'start a container (in the background; -F in the foreground)', load: () => import('./start.js') },
  stop: { summary: 'stop a container cleanly (halt signal, then SIGKILL after a timeout)', load: () => import('./stop.js') },
  restart: { summary: 'stop and start a container', load: () => import('./restart.js') },
  kill: { summary: 'send a signal to a container\'s init', load: () => import('./kill.js') },
  attach: { summary: 'run a command inside a running container', load: () => import('./attach.js') },
  console: { summary: 'attach to a container\'s console (Ctrl-a q detaches)', load: () => import('./console.js') },
  ls: { summary: 'list containers', load: () => import('./ls.js') },
  info: { summary: 'show a container\'s state, PID, resource use and paths', load: () => import('./info.js') },
  wait: { summary: 'wait for a container to reach a state', load: () => import('./wait.js') },
  freeze: { summary: 'freeze every process of a container', load: () => import('./freeze.js') },
  unfreeze: { summary: 'thaw a frozen container', load: () => import('./unfreeze.js') },
  cgroup: { summary: 'read or set a cgroup value of a running container', load: () => import('./cgroup.js') },
  destroy: { summary: 'destroy a container (its config and rootfs)', load: () => import('./destroy.js') },
  network: { summary: 'managed bridges containers get addresses from (create, delete, ls, leases)', load: () => import('./network.js') },
  copy: { summary: 'copy a container: full, --snapshot (overlay) or --ephemeral (destroyed on stop)', load: () => import('./copy.js') },
  snapshot: { summary: 'take, list, restore and destroy snapshots of a container', load: () => import('./snapshot.js') },
  top: { summary: 'live CPU, memory, processes and block I/O of running containers', load: () => import('./top.js') },
  monitor: { summary: 'print container state changes as they happen', load: () => import('./monitor.js') },
  autostart: { summary: 'start (or stop) the lxc.start.auto containers, by order and delay', load: () => import('./autostart.js') },
  internal: { summary: '(used by container monitors)', hidden: true, load: () => import('./internal.js') },
  check: { summary: 'show what this host supports (namespaces, cgroup layout, executor)', load: () => import('./check.js') },
  demo: { summary: 'partition one CPU between containers by cgroup weight, live (default 75/25)', load: () => import('./demo.js') },
  ps: { summary: 'show containers\' processes with host and container PIDs side by side (--tree)', load: () => import('./ps.js') },
  serve: { summary: 'serve the REST API and the live web dashboard (default http://127.0.0.1:8080/)', load: () => import('./serve.js') },
};

const VERSION = '0.1.0';

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'usage: lxts [--debug] COMMAND [OPTIONS] [ARGS]',
    '',
    'Linux containers in TypeScript: namespaces, control groups, LXC-format configs.',
    '',
    'commands:',
    ...Object.entries(COMMANDS).filter(([, c]) => !c.hidden).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`),
    '',
    'Run `lxts COMMAND --help` for the options of a command.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<void> {
  let debug = process.env.LXTS_DEBUG === '1';
  while (argv[0] === '--debug') {
    debug = true;
    process.env.LXTS_DEBUG = '1';
    argv = argv.slice(1);
  }
  const [name, ...rest] = argv;
  let code: number;
  try {
    if (!name || name === '-h' || name === '--help' || name === 'help') {
      process.stdout.write(usage() + '\n');
      code = name ? 0 : ExitCode.USAGE;
    } else if (name === '--version' || name === 'version') {
      process.stdout.write(`lxts ${VERSION}\n`);
      code = 0;
    } else {
      const cmd = COMMANDS[name];
      if (!cmd) throw new LxtsError(`unknown command "${name}"`, ExitCode.USAGE, 'run `lxts --help` for the list of commands');
      code = await (await cmd.load()).run(rest);
    }
  } catch (err) {
    code = reportError(err, debug || rest.includes('--debug'));
  }
  process.exitCode = code;
}

export function reportError(err: unknown, debug: boolean): number {
  if (err instanceof LxtsError) {
    process.stderr.write(`lxts: ${err.message}\n`);
    if (err.hint) process.stderr.write(`  ${err.hint}\n`);
    if (debug && err.stack) process.stderr.write(err.stack + '\n');
    return err.code;
  }
  const e = err as NodeJS.ErrnoException & { file?: string };
  // Errors from the cgroup layer and the like carry a clear message already.
  if (e && typeof e.message === 'string' && (e.name === 'CgroupError' || e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL')) {
    // parseArgs explains itself over several lines: the first says what is wrong.
    const [first, ...more] = e.message.split('\n');
    process.stderr.write(`lxts: ${first}\n`);
    if (more.length) process.stderr.write(`  ${more.filter((l) => l.startsWith('To ')).join(' ') || 'see --help'}\n`);
    if (debug && e.stack) process.stderr.write(e.stack + '\n');
    return e.name === 'CgroupError' ? ExitCode.START_FAILED : ExitCode.USAGE;
  }
  process.stderr.write(`lxts: internal error: ${e?.message ?? String(err)}\n`);
  if (debug && e?.stack) process.stderr.write(e.stack + '\n');
  else process.stderr.write('  run with --debug for details\n');
  return ExitCode.GENERIC;
}
