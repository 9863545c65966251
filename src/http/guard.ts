// Who may do what: the Host check of a loopback server (DNS rebinding), the
// token (bearer or session cookie) and the Origin rules of a POST. Each
// answers with the refusal to send, or null when the request may go on.
import type { IncomingMessage } from 'node:http';
import { isLoopbackHost } from './address.js';
import type { TokenKind, Tokens } from './tokens.js';

export interface Credentials {
  kind: TokenKind;
  via: 'bearer' | 'cookie';
}

export interface Refusal {
  status: number;
  error: string;
}

/** A server on a loopback address answers only to loopback names: a page of attacker.example rebound to 127.0.0.1 is refused. */
export function checkHost(req: IncomingMessage, loopback: boolean): Refusal | null {
  if (!loopback) return null;
  const host = req.headers.host ?? '';
  return isLoopbackHost(host) ? null : { status: 403, error: `Host ${JSON.stringify(host.slice(0, 100))} is not a loopback name; this server answers on loopback only` };
}

/** The bearer token, else the session cookie; null when neither is good (or there is none). */
export function authenticate(req: IncomingMessage, tokens: Tokens): Credentials | null {
  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    const kind = match ? tokens.kindOfToken(match[1]!) : null;
    // A wrong bearer token is not rescued by a cookie: the client said who it is.
    return kind ? { kind, via: 'bearer' } : null;
  }
  const session = cookie(req, tokens.cookieName);
  const kind = session === null ? null : tokens.kindOfSession(session);
  return kind ? { kind, via: 'cookie' } : null;
}

/**
 * A POST: an Origin other than ours is refused (no CORS); one that the
 * cookie authenticates must carry our Origin — the cookie is sent by the
 * browser on its own, the Origin is what shows the page is ours; one with the
 * bearer token may carry none (curl).
 */
export function checkOrigin(req: IncomingMessage, via: Credentials['via'] | null): Refusal | null {
  const origin = req.headers.origin;
  if (origin === undefined) {
    return via === 'cookie' ? { status: 403, error: 'a POST with the session cookie must carry the Origin header' } : null;
  }
  let host: string | null = null;
  try {
    host = new URL(origin).host;
  } catch {
    host = null; // `null` (a sandboxed frame, a file: page) or garbage
  }
  // The scheme is not compared: behind a TLS proxy the page is https:, we are http:.
  if (host !== null && host.toLowerCase() === (req.headers.host ?? '').toLowerCase()) return null;
  return { status: 403, error: `cross-origin request refused (Origin ${JSON.stringify(origin.slice(0, 100))})` };
}

function cookie(req: IncomingMessage, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}
