// How every reply is written: JSON (`{"ok":false,"error":...}` for errors),
// text, and the headers every reply carries — nothing cached, nothing
// sniffed, nothing framed, no CORS (a foreign page can send, never read).
import type { IncomingMessage, ServerResponse } from 'node:http';

export const JSON_TYPE = 'application/json; charset=utf-8';
export const TEXT_TYPE = 'text/plain; charset=utf-8';

const COMMON: Record<string, string> = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/** The page's policy: its own scripts and styles only (no inline script), its own API only. */
export const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export function writeHead(res: ServerResponse, status: number, headers: Record<string, string | number | string[]>): void {
  res.writeHead(status, { ...COMMON, ...headers });
}

export function sendBody(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string | string[]> = {}): void {
  if (res.headersSent) return void res.end();
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  writeHead(res, status, { 'Content-Type': type, 'Content-Length': bytes.length, ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}

export function sendJson(res: ServerResponse, status: number, value: object, headers: Record<string, string | string[]> = {}): void {
  sendBody(res, status, JSON_TYPE, `${JSON.stringify(value)}\n`, headers);
}

export function sendError(res: ServerResponse, status: number, error: string, headers: Record<string, string | string[]> = {}): void {
  sendJson(res, status, { ok: false, error }, headers);
}

/** An error before the request was read whole: answered, then the connection is closed (what is left of the body is not read). */
export function refuse(req: IncomingMessage, res: ServerResponse, status: number, error: string): void {
  res.shouldKeepAlive = false;
  sendError(res, status, error, { Connection: 'close' });
  req.resume();
}
