// Who may use the server. On loopback (the default) anyone on this machine may, as with the
// CLI's socket-less commands run by the same user; bound to another address, every API
// request and the stream need the token (`Authorization: Bearer T`, or `?token=T` for the
// EventSource stream, which cannot set headers). There are no cookies, so a browser never
// attaches a credential by itself: a page on another site cannot act through a visitor's browser.
// Two more checks close the browser-side holes a loopback server has:
// - DNS rebinding: a hostile name that resolves to 127.0.0.1 makes its page same-origin with
//   us. Without a token, only loopback Host headers are accepted.
// - Cross-site requests: a request whose Origin (or Sec-Fetch-Site) says it comes from another
//   site is refused, whatever it asks for.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-util.js';

export function isLoopbackAddress(addr: string): boolean {
  const a = addr.replace(/^\[|\]$/g, '');
  if (a === 'localhost') return true;
  if (isIP(a) === 4) return a.startsWith('127.');
  if (a === '::1') return true;
  if (a.toLowerCase().startsWith('::ffff:')) return a.slice(7).startsWith('127.');
  return false;
}

export function generateToken(): string {
  return randomBytes(24).toString('base64url');
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The host part of a Host header: "127.0.0.1:8080" -> "127.0.0.1", "[::1]:80" -> "::1". */
export function hostOf(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
  const i = h.lastIndexOf(':');
  return i >= 0 && h.indexOf(':') === i ? h.slice(0, i) : h;
}

export interface AuthPolicy {
  /** When set, every API request and stream must carry it. */
  token?: string;
}

/** Throws 401/403 HttpErrors; `api` is false for the static page and its assets (public, no data). */
export function checkRequest(req: IncomingMessage, url: URL, policy: AuthPolicy, api: boolean): void {
  const host = req.headers.host;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      throw new HttpError(403, 'bad Origin header');
    }
    if (!host || originHost.toLowerCase() !== host.toLowerCase()) throw new HttpError(403, `cross-origin request refused (from ${origin})`);
  } else if (origin === 'null') {
    throw new HttpError(403, 'cross-origin request refused (opaque origin)');
  }
  if (req.headers['sec-fetch-site'] === 'cross-site') throw new HttpError(403, 'cross-site request refused');
  if (!policy.token) {
    // no token: loopback only, and a Host header naming loopback (DNS rebinding)
    if (host && !isLoopbackAddress(hostOf(host))) throw new HttpError(403, `Host ${JSON.stringify(host)} refused: without a token this server answers only to localhost / 127.0.0.1 / [::1]`);
    return;
  }
  if (!api) return;
  const authz = req.headers.authorization;
  let given: string | undefined;
  if (authz !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authz);
    if (!m) throw new HttpError(401, 'malformed Authorization header: expected "Bearer TOKEN"');
    given = m[1];
  } else {
    given = url.searchParams.get('token') ?? undefined;
  }
  if (given === undefined) throw new HttpError(401, 'this server needs a token: send "Authorization: Bearer TOKEN" (or ?token=TOKEN for the event stream)');
  if (!sameToken(given, policy.token)) throw new HttpError(401, 'wrong token');
}
