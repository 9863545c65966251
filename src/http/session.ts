// POST /api/v1/session: the page trades the token, once, for the session
// cookie (HttpOnly: no script of the page, or injected into it, can read it;
// SameSite=Strict: a foreign site's request never carries it).
// GET /api/v1/session: whether the cookie (or bearer token) is good, and its kind.
import { sendError, sendJson } from './respond.js';
import type { Call, HttpContext } from './routes.js';

export function sessionLogin(ctx: HttpContext, call: Call): void {
  const token = call.body?.token;
  if (typeof token !== 'string') return sendError(call.res, 400, 'the body must be {"token":"..."}');
  const kind = ctx.tokens.kindOfToken(token.trim());
  if (!kind) return sendError(call.res, 401, 'wrong token');
  const cookie = `${ctx.tokens.cookieName}=${ctx.tokens.session(kind)}; HttpOnly; SameSite=Strict; Path=/`;
  sendJson(call.res, 200, { ok: true, readonly: kind === 'readonly' }, { 'Set-Cookie': cookie });
}

export function sessionShow(_ctx: HttpContext, call: Call): void {
  sendJson(call.res, 200, { ok: true, readonly: call.credentials?.kind === 'readonly' });
}
