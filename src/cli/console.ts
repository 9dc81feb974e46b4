// lxts console NAME   (lxc-console): attach this terminal to the container's console.
import { parse, helpText } from './args.js';
import { COMMON_OPTIONS, COMMON_HELP, nameArg, pathOpts } from './common.js';
import { Container } from '../container.js';
import { monitorConsole } from '../monitor-client.js';
import { requireRoot, LxtsError } from '../errors.js';

const OPTIONS = { ...COMMON_OPTIONS, escape: { type: 'string', short: 'e' } } as const;
const USAGE = 'lxts console NAME [-e CHAR]';

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, OPTIONS, true);
  if (v.help) {
    process.stdout.write(helpText(USAGE, 'Attach to a running container\'s console. Type Ctrl-a q to detach (Ctrl-a Ctrl-a sends\na literal Ctrl-a). What the console printed recently is shown first.', [
      ['-e, --escape CHAR', 'escape character instead of a (Ctrl-CHAR)'],
      ...COMMON_HELP,
    ]));
    return 0;
  }
  const { name } = nameArg(v, positionals, USAGE);
  requireRoot('lxts console');
  const c = new Container(name, pathOpts(v));
  if (!(await c.isRunning())) throw new LxtsError(`container "${name}" is not running`);
  const esc = (v.escape ?? 'a').toLowerCase().charCodeAt(0) - 96;
  const sock = await monitorConsole(c.paths.sock);
  const stdin = process.stdin;
  if (stdin.isTTY) stdin.setRawMode(true);
  process.stderr.write(`Connected to the console of ${name}. Type Ctrl-${String.fromCharCode(esc + 96)} q to detach.\r\n`);
  return new Promise<number>((resolve) => {
    let pendingEsc = false;
    const done = (code: number): void => {
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
      sock.destroy();
      process.stderr.write('\r\n');
      resolve(code);
    };
    stdin.on('data', (d: Buffer) => {
      const out: number[] = [];
      for (const b of d) {
        if (pendingEsc) {
          pendingEsc = false;
          if (b === 0x71 /* q */) return done(0);
          out.push(esc);
          if (b !== esc) out.push(b);
        } else if (b === esc) pendingEsc = true;
        else out.push(b);
      }
      if (out.length) sock.write(Buffer.from(out));
    });
    stdin.on('end', () => done(0));
    sock.on('data', (d) => process.stdout.write(d));
    sock.on('close', () => done(0));
  });
}
