// Client of a container monitor's command socket (docs/plan-format.md, "Detached monitor"):
// one request line per connection, replies are lines.
import { createConnection, type Socket } from 'node:net';

export class MonitorUnreachable extends Error {
  constructor(readonly sock: string, readonly code: string | undefined) {
    super(`monitor socket ${sock} unreachable (${code ?? 'closed'})`);
  }
}

/** Send one request and resolve with the first reply line. */
export function monitorRequest(sock: string, request: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = createConnection(sock);
    let buf = '';
    let done = false;
    const finish = (err: Error | null, line?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      c.destroy();
      if (err) reject(err);
      else resolve(line!);
    };
    const timer = timeoutMs > 0 ? setTimeout(() => finish(new Error(`monitor did not answer "${request}" within ${timeoutMs} ms`)), timeoutMs) : undefined;
    c.setEncoding('utf8');
    c.on('connect', () => c.write(request + '\n'));
    c.on('data', (d: string) => {
      buf += d;
      const i = buf.indexOf('\n');
      if (i >= 0) finish(null, buf.slice(0, i));
    });
    c.on('error', (e: NodeJS.ErrnoException) => finish(new MonitorUnreachable(sock, e.code)));
    c.on('close', () => finish(new MonitorUnreachable(sock, undefined)));
  });
}

/** Open a console connection: after the `ok` line the socket is a raw byte relay. */
export function monitorConsole(sock: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const c = createConnection(sock);
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      const i = buf.indexOf(10);
      if (i < 0) return;
      c.off('data', onData);
      const line = buf.subarray(0, i).toString();
      if (line !== 'ok') {
        c.destroy();
        reject(new Error(`monitor refused the console: ${line}`));
        return;
      }
      const rest = buf.subarray(i + 1);
      if (rest.length) c.unshift(rest);
      resolve(c);
    };
    c.on('connect', () => c.write('console\n'));
    c.on('data', onData);
    c.once('error', (e: NodeJS.ErrnoException) => reject(new MonitorUnreachable(sock, e.code)));
  });
}
