// Server-Sent Events: one long response per client, `event: NAME\ndata: JSON\n\n` frames.
// A client that goes away is dropped at once (its socket's close), a slow one that stops
// reading is dropped when its buffer passes a bound, so the server's memory never grows
// with a stuck client. A comment line every 15 s keeps proxies from timing the stream out.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BASE_HEADERS } from './http-util.js';

const MAX_BUFFERED = 1 << 20;
const HEARTBEAT_MS = 15_000;

interface Client {
  id: number;
  res: ServerResponse;
}

export class SseHub {
  private clients = new Map<number, Client>();
  private nextId = 1;
  private heartbeat: NodeJS.Timeout;
  private closed = false;
  /** Called when the first client connects / the last one leaves (start/stop polling). */
  onActive?: (active: boolean) => void;

  constructor() {
    this.heartbeat = setInterval(() => this.comment('keep-alive'), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Take over the response as an event stream; `hello` frames go to this client only. */
  add(req: IncomingMessage, res: ServerResponse, hello: [string, unknown][]): void {
    if (this.closed) {
      res.writeHead(503, { ...BASE_HEADERS, 'content-type': 'text/plain' });
      res.end('server shutting down\n');
      return;
    }
    const id = this.nextId++;
    res.writeHead(200, {
      ...BASE_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    res.write('retry: 2000\n\n');
    const client: Client = { id, res };
    this.clients.set(id, client);
    for (const [event, data] of hello) this.writeTo(client, event, data);
    const drop = (): void => this.remove(id);
    req.on('close', drop);
    res.on('close', drop);
    res.on('error', drop);
    if (this.clients.size === 1) this.onActive?.(true);
  }

  private remove(id: number): void {
    const c = this.clients.get(id);
    if (!c) return;
    this.clients.delete(id);
    if (!c.res.writableEnded) c.res.end();
    if (this.clients.size === 0) this.onActive?.(false);
  }

  private writeTo(c: Client, event: string, data: unknown): void {
    if (c.res.destroyed || c.res.writableEnded) return this.remove(c.id);
    if (c.res.writableLength > MAX_BUFFERED) {
      // a client that does not read: drop it rather than buffer without bound
      c.res.destroy();
      return this.remove(c.id);
    }
    c.res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  broadcast(event: string, data: unknown): void {
    for (const c of [...this.clients.values()]) this.writeTo(c, event, data);
  }

  private comment(text: string): void {
    for (const c of [...this.clients.values()]) {
      if (c.res.destroyed || c.res.writableEnded) this.remove(c.id);
      else c.res.write(`: ${text}\n\n`);
    }
  }

  /** End every stream (server shutdown). */
  close(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const c of [...this.clients.values()]) {
      this.writeTo(c, 'bye', { reason: 'server shutting down' });
      this.remove(c.id);
    }
  }
}
