// lxts serve [--port 8080] [--listen 127.0.0.1] [--token T]: the REST API, the live event
// stream and the dashboard page. Loopback by default; any other address needs a token
// (generated and printed when none is given). Ctrl-C / SIGTERM stop it cleanly: streams end,
// a demo in progress is stopped and its containers removed.
import { parse, helpText, intOption } from './args.js';
import { pathOpts } from './common.js';
import { usageError } from '../errors.js';

const OPTIONS = {
  port: { type: 'string', short: 'p' },
  listen: { type: 'string', short: 'l' },
  token: { type: 'string' },
  lxtspath: { type: 'string', short: 'P' },
  help: { type: 'boolean', short: 'h' },
  debug: { type: 'boolean' },
} as const;

const USAGE = 'lxts serve [--port 8080] [--listen 127.0.0.1] [--token TOKEN] [-P DIR]';

export async function run(argv: string[]): Promise<number> {
  const { values: v } = parse(argv, OPTIONS);
  if (v.help) {
    process.stdout.write(helpText(USAGE, 'Serve the REST API (/api/), a live event stream and the web dashboard from one process.\nOn loopback (the default) no token is needed; on any other address every API request\nand the stream need one (Authorization: Bearer TOKEN), generated and printed when not given.', [
      ['-p, --port N', 'TCP port (default 8080; 0 picks a free one)'],
      ['-l, --listen ADDR', 'address to bind (default 127.0.0.1)'],
      ['--token TOKEN', 'require this token (at least 8 characters) even on loopback'],
      ['-P, --lxtspath DIR', 'where containers live (default /var/lib/lxts, or $LXTS_PATH)'],
    ]));
    return 0;
  }
  const port = intOption('port', v.port, 0, 65535) ?? 8080;
  if (v.listen !== undefined && v.listen.trim() === '') throw usageError('--listen needs an address');
  const { startServer } = await import('../server/index.js');
  const srv = await startServer({
    port,
    listen: v.listen,
    token: v.token ?? process.env.LXTS_TOKEN,
    ...pathOpts(v),
    log: (line) => process.stderr.write(`lxts serve: ${line}\n`),
  });
  const pageUrl = srv.token ? `${srv.url}#token=${srv.token}` : srv.url;
  process.stdout.write(`lxts serve: dashboard at ${pageUrl}\n`);
  process.stdout.write(`lxts serve: API at ${srv.url}api/ ${srv.token ? '(header "Authorization: Bearer TOKEN")' : '(loopback: no token)'}\n`);
  if (srv.token && !v.token && !process.env.LXTS_TOKEN) process.stdout.write(`lxts serve: token ${srv.token}\n`);
  process.stdout.write('lxts serve: Ctrl-C stops\n');
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (sig: NodeJS.Signals): void => {
      if (stopping) {
        process.stderr.write(`lxts serve: ${sig} again: still cleaning up, please wait\n`);
        return;
      }
      stopping = true;
      process.stdout.write(`\nlxts serve: ${sig}: stopping (ending streams, stopping the demo if it runs)\n`);
      void srv.close().then(resolve, (e: Error) => {
        process.stderr.write(`lxts serve: ${e.message}\n`);
        resolve();
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.stdout.write('lxts serve: stopped\n');
  return 0;
}
