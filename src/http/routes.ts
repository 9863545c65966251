// Every path of the HTTP side, one line each: method, path, who may call it
// (public, or with a token), whether it changes something (POST only, and
// not with the read-only token), and what answers it (api.ts, session.ts,
// page.ts). server.ts matches a request against this table and applies the
// rules before the handler runs.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Handler } from '../control/server.js';
import type { EventLog } from '../supervisor/event-log.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import * as api from './api.js';
import type { EventHub } from './event-stream.js';
import type { Credentials } from './guard.js';
import { servePage, type PageFile } from './page.js';
import { PAGE_CSP, sendError } from './respond.js';
import { sessionLogin, sessionShow } from './session.js';
import type { SseStreams } from './sse.js';
import type { Tokens } from './tokens.js';

/** What the handlers work with: the supervisor's parts, shared by every request. */
export interface HttpContext {
  supervisor: Supervisor;
  /** The control socket's handler: the one implementation of each command. */
  handle: Handler;
  eventLog: EventLog;
  hub: EventHub;
  streams: SseStreams;
  tokens: Tokens;
  page: Map<string, PageFile>;
  /** The supervisor has read its profiles once (until then /readyz says so). */
  started(): boolean;
}

/** One request, once it has passed the rules. */
export interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  query: URLSearchParams;
  /** `:name` and `:file` of the path, decoded. */
  params: Record<string, string>;
  /** null on a public path without a token. */
  credentials: Credentials | null;
  /** The JSON body of a POST, or null when there was none. */
  body: Record<string, unknown> | null;
}

export interface Route {
  method: 'GET' | 'POST';
  /** Segments; `:name` matches one (decoded), anything else itself. */
  path: string[];
  /** public: no token needed (probes, metrics, the page's files, the login itself). */
  access: 'public' | 'token';
  handle(ctx: HttpContext, call: Call): void | Promise<void>;
}

const route = (method: Route['method'], path: string, access: Route['access'], handle: Route['handle']): Route => ({
  method,
  path: path.split('/').filter(Boolean),
  access,
  handle,
});

const page = (name: (call: Call) => string) => (ctx: HttpContext, call: Call) => {
  if (!servePage(call.res, ctx.page, name(call), { 'Content-Security-Policy': PAGE_CSP })) sendError(call.res, 404, 'no such file');
};

const action = (command: 'start' | 'stop' | 'restart' | 'reload') => (ctx: HttpContext, call: Call) => api.act(ctx, call, command);

export const ROUTES: Route[] = [
  route('GET', '/', 'public', page(() => 'index.html')),
  route('GET', '/page/:file', 'public', page((call) => call.params.file!)),
  route('GET', '/healthz', 'public', api.healthz),
  route('GET', '/readyz', 'public', api.readyz),
  route('GET', '/metrics', 'public', api.metrics),
  route('POST', '/api/v1/session', 'public', sessionLogin),
  route('GET', '/api/v1/session', 'token', sessionShow),
  route('GET', '/api/v1/services', 'token', api.listServices),
  route('GET', '/api/v1/services/:name', 'token', api.showService),
  route('POST', '/api/v1/services/:name/start', 'token', action('start')),
  route('POST', '/api/v1/services/:name/stop', 'token', action('stop')),
  route('POST', '/api/v1/services/:name/restart', 'token', action('restart')),
  route('POST', '/api/v1/services/:name/reload', 'token', action('reload')),
  route('POST', '/api/v1/services/:name/signal', 'token', api.signal),
  route('GET', '/api/v1/services/:name/log', 'token', api.serviceLog),
  route('GET', '/api/v1/events', 'token', api.events),
  route('GET', '/api/v1/events/stream', 'token', api.eventStream),
  route('GET', '/api/v1/ps', 'token', api.ps),
];

/** A name or file in a path: no `/` (`%2f`), NUL or control character, at most 255 bytes. */
const SEGMENT_LIMIT = 255;
const UNSAFE = /[\x00-\x1f\x7f/\\]/;

export type Match = { route: Route; params: Record<string, string> } | { allow: string[] } | { bad: string } | null;

/** The route for `method` and the raw path (not normalized: `..` is a name like any other, looked up and not found). */
export function matchRoute(method: string, rawPath: string): Match {
  const segments = rawPath.split('/').filter(Boolean);
  const allow = new Set<string>();
  for (const candidate of ROUTES) {
    if (candidate.path.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let fits = true;
    for (const [i, part] of candidate.path.entries()) {
      const raw = segments[i]!;
      if (!part.startsWith(':')) {
        fits = raw === part;
      } else {
        let decoded: string;
        try {
          decoded = decodeURIComponent(raw);
        } catch {
          return { bad: 'the path is not valid percent-encoding' };
        }
        if (Buffer.byteLength(decoded) > SEGMENT_LIMIT) return { bad: `a ${part.slice(1)} in the path is longer than ${SEGMENT_LIMIT} bytes` };
        if (UNSAFE.test(decoded)) return { bad: `a ${part.slice(1)} in the path holds a slash or a control character` };
        params[part.slice(1)] = decoded;
      }
      if (!fits) break;
    }
    if (!fits) continue;
    // HEAD is GET without the body (respond.ts leaves it out).
    if (candidate.method === method || (method === 'HEAD' && candidate.method === 'GET')) return { route: candidate, params };
    allow.add(candidate.method);
  }
  return allow.size > 0 ? { allow: [...allow] } : null;
}
