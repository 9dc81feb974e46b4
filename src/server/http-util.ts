// Small HTTP helpers for the API: JSON bodies read with a size limit and checked field by
// field (an unknown field is an error, so a typo never silently does nothing), JSON replies,
// one error type that carries its status code.
import type { IncomingMessage, ServerResponse } from 'node:http';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const MAX_BODY = 64 * 1024;

/** Common headers: nothing is cached, nothing is sniffed, no page may frame us. */
export const BASE_HEADERS: Record<string, string> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const data = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { ...BASE_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

export function sendError(res: ServerResponse, status: number, message: string, hint?: string): void {
  sendJson(res, status, { error: { status, message, ...(hint ? { hint } : {}) } });
}

/**
 * The request's JSON body: {} when there is none. A body must be sent as application/json
 * (a browser cannot send that cross-site without a CORS preflight, which this server never
 * grants), be at most MAX_BODY bytes, parse, and be an object.
 */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, `request body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, `a request body must be JSON sent as "content-type: application/json" (got ${type ? JSON.stringify(type) : 'none'})`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `malformed JSON in the request body: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new HttpError(400, 'the request body must be a JSON object');
  return value as Record<string, unknown>;
}

type FieldType = 'string' | 'number' | 'boolean' | 'string[]' | 'number[]' | 'string|number' | 'split';

/** Check a body against the fields an endpoint takes; unknown fields and wrong types are 400s. */
export function checkBody(body: Record<string, unknown>, fields: Record<string, { type: FieldType; required?: boolean }>): void {
  const unknown = Object.keys(body).filter((k) => !(k in fields));
  if (unknown.length) {
    const allowed = Object.keys(fields);
    throw new HttpError(400, `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}${allowed.length ? ` (this endpoint takes ${allowed.map((k) => JSON.stringify(k)).join(', ')})` : ' (this endpoint takes no body)'}`);
  }
  for (const [k, spec] of Object.entries(fields)) {
    const v = body[k];
    if (v === undefined) {
      if (spec.required) throw new HttpError(400, `missing field "${k}" (${spec.type})`);
      continue;
    }
    const ok =
      spec.type === 'string' ? typeof v === 'string'
        : spec.type === 'number' ? typeof v === 'number' && Number.isFinite(v)
          : spec.type === 'boolean' ? typeof v === 'boolean'
            : spec.type === 'string[]' ? Array.isArray(v) && v.every((x) => typeof x === 'string')
              : spec.type === 'number[]' ? Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x))
                : spec.type === 'string|number' ? typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))
                  : typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x)));
    if (!ok) throw new HttpError(400, `field "${k}" must be ${spec.type === 'split' ? 'a split like "75/25" or [75, 25]' : `of type ${spec.type}`}, got ${JSON.stringify(v)}`);
  }
}
