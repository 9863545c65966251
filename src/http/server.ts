// The HTTP server: listening, the limits that keep a slow or hostile client
// from hurting anything, and the rules every request passes before its
// route's handler runs (routes.ts): Host, method, token, Origin, body.
//
// Timeouts are timers of our own, one per connection while it is connected:
// Node's own headersTimeout/requestTimeout are checked by an interval that
// runs for as long as the server listens, and an idle supervisor with
// `--http` and no client must cost nothing.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { chmodSync } from 'node:fs';
import { removeStaleSocket } from '../control/server.js';
import { formatHttpAddress, isLoopbackAddress, type HttpAddress } from './address.js';
import { readJsonBody } from './body.js';
import { authenticate, checkHost, checkOrigin } from './guard.js';
import { refuse, sendError } from './respond.js';
import { matchRoute, type Call, type HttpContext } from './routes.js';

export interface HttpLimits {
  /** From the connection (or the end of the last reply) to a request's complete headers. */
  headersTimeoutMs: number;
  /** From the headers to the end of the body. */
  bodyTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  keepAliveMs: number;
  maxBodyBytes: number;
  maxHeaderBytes: number;
  maxConnections: number;
  maxStreams: number;
  streamBufferBytes: number;
}

export const DEFAULT_LIMITS: HttpLimits = {
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 10_000,
  keepAliveMs: 5_000,
  maxBodyBytes: 16 * 1024,
  maxHeaderBytes: 16 * 1024,
  maxConnections: 1024,
  maxStreams: 200,
  streamBufferBytes: 256 * 1024,
};

/** setInterval's largest delay: Node's connection checker, which we do not use, then never runs. */
const NEVER = 2 ** 31 - 1;

export interface Listening {
  server: Server;
  /** `127.0.0.1:41234`, `unix:/run/p.sock`: the address bound (the real port for port 0). */
  address: string;
  /** Bound to a loopback address: a foreign Host is refused. */
  loopback: boolean;
}

export async function listen(address: HttpAddress, ctx: HttpContext, limits: HttpLimits, onError: (message: string) => void): Promise<Listening> {
  let loopback = false;
  const server = createServer(
    { headersTimeout: 0, requestTimeout: 0, connectionsCheckingInterval: NEVER, keepAliveTimeout: limits.keepAliveMs, maxHeaderSize: limits.maxHeaderBytes },
    (req, res) => {
      deadlines.get(req.socket)?.settle();
      void dispatch(ctx, limits, loopback, req, res).catch((error: unknown) => {
        onError(`http: ${req.method} ${req.url?.split('?')[0]?.slice(0, 200)} failed: ${(error as Error).message}`);
        if (!res.headersSent) sendError(res, 500, 'internal error; see the supervisor log');
        else res.destroy();
      });
      // The next request on this connection gets its own deadline for its headers.
      res.on('finish', () => deadlines.get(req.socket)?.arm());
    },
  );
  server.maxConnections = limits.maxConnections;
  const deadlines = new WeakMap<Socket, { arm(): void; settle(): void }>();
  server.on('connection', (socket: Socket) => {
    let timer: NodeJS.Timeout | null = null;
    const deadline = {
      arm() {
        if (timer) clearTimeout(timer);
        // A slow loris (headers a byte at a time) is dropped however often it sends. Checked once
        // more after the loop's next poll: headers that came in time but wait unread behind a busy
        // loop (500 clients at once) are parsed there, and their request settles the deadline.
        const mine: NodeJS.Timeout = setTimeout(() => setImmediate(() => timer === mine && socket.destroy()), limits.headersTimeoutMs);
        timer = mine;
      },
      settle() {
        if (timer) clearTimeout(timer);
        timer = null;
      },
    };
    deadlines.set(socket, deadline);
    deadline.arm();
    socket.on('close', () => deadline.settle());
  });
  server.on('clientError', (_error, socket: Socket) => {
    // Malformed, or headers too large: Node's 400/431, then closed.
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  server.on('drop', () => onError(`http: more than ${limits.maxConnections} connections at once; refused one`));
  await bind(server, address);
  const bound = server.address();
  let shown = formatHttpAddress(address);
  if (bound && typeof bound === 'object') {
    loopback = isLoopbackAddress(bound.address);
    shown = formatHttpAddress({ kind: 'tcp', host: bound.address, port: bound.port });
  }
  server.on('error', (error) => onError(`http: ${error.message}`));
  return { server, address: shown, loopback };
}

async function dispatch(ctx: HttpContext, limits: HttpLimits, loopback: boolean, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const hostRefusal = checkHost(req, loopback);
  if (hostRefusal) return refuse(req, res, hostRefusal.status, hostRefusal.error);
  const url = req.url ?? '/';
  const question = url.indexOf('?');
  const rawPath = question < 0 ? url : url.slice(0, question);
  const query = new URLSearchParams(question < 0 ? '' : url.slice(question + 1));
  if (!rawPath.startsWith('/')) return refuse(req, res, 400, 'the path must start with /');
  const match = matchRoute(req.method ?? 'GET', rawPath);
  if (match === null) return refuse(req, res, 404, 'no such path; see docs/http.md');
  if ('bad' in match) return refuse(req, res, 400, match.bad);
  if ('allow' in match) {
    res.setHeader('Allow', match.allow.join(', '));
    return refuse(req, res, 405, `use ${match.allow.join(' or ')} on this path${match.allow.includes('POST') ? ' (every change is a POST)' : ''}`);
  }
  const { route, params } = match;
  const credentials = authenticate(req, ctx.tokens);
  if (route.access === 'token' && !credentials) {
    res.setHeader('WWW-Authenticate', 'Bearer');
    return refuse(req, res, 401, 'a token is needed: Authorization: Bearer TOKEN (STATE_DIR/http.token), or the session cookie');
  }
  let body: Record<string, unknown> | null = null;
  if (route.method === 'POST') {
    const originRefusal = checkOrigin(req, credentials?.via ?? null);
    if (originRefusal) return refuse(req, res, originRefusal.status, originRefusal.error);
    if (route.access === 'token' && credentials?.kind === 'readonly') return refuse(req, res, 403, 'the read-only token may not change anything');
    const read = await readJsonBody(req, limits);
    if ('dropped' in read) return;
    if ('status' in read) return refuse(req, res, read.status, read.error);
    body = read.value;
  } else req.resume(); // a GET's body, if any, is not ours to keep
  const call: Call = { req, res, query, params, credentials, body };
  await route.handle(ctx, call);
}

/** Listen, or throw with the one line to print (the address and why). */
async function bind(server: Server, address: HttpAddress): Promise<void> {
  const shown = formatHttpAddress(address);
  const attempt = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const done = () => {
        server.off('error', reject);
        resolve();
      };
      if (address.kind === 'unix') server.listen(address.path, done);
      else server.listen({ host: address.host, port: address.port, exclusive: true }, done);
    });
  try {
    if (address.kind === 'unix' && (await socketAnswers(address.path)) === false) removeStaleSocket(address.path);
    await attempt();
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new Error(`--http ${shown}: cannot listen: ${code === 'EADDRINUSE' ? 'the address is in use' : code === 'EACCES' ? 'permission denied' : message}`);
  }
  // Owner and group: a reverse proxy in the socket directory's group may connect; the tokens still apply to it.
  if (address.kind === 'unix') chmodSync(address.path, 0o660);
}

/** Whether something listens on a Unix socket path (null: nothing is there at all). */
function socketAnswers(path: string): Promise<boolean | null> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ENOENT' ? null : false));
  });
}
