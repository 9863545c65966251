// The control socket: framing, limits and timeouts, nothing about commands.
// A client that sends garbage, too much, or nothing gets an error line or is
// dropped; it never reaches the services and never stops the server.
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { VERSION } from '../vocabulary/version.js';
import { socketCaller } from './peer.js';
import { MAX_REQUEST_BYTES, parseRequest, type Request, type RequestId } from './protocol.js';

/** How a handler answers: any number of lines, then (unless streaming) the end. */
export interface Reply {
  send(message: object): void;
  end(message?: object): void;
  /** Called when the client goes away (for streams). */
  onClose(listener: () => void): void;
  readonly closed: boolean;
}

/** Requests one connection may queue behind the one in progress. */
const MAX_QUEUED = 100;

/** `by`: who asked (`uid 1000`: the peer's credentials; `http full` over HTTP), for the events a command causes. */
export type Handler = (request: Request, reply: Reply, by: string) => void | Promise<void>;

export interface ControlServerOptions {
  /** Drop a client that has not sent a whole request after this long. */
  idleTimeoutMs?: number;
  /** Refuse connections beyond this many at once (each costs a descriptor). */
  maxClients?: number;
  onError?: (message: string) => void;
}

/**
 * Listen on `path`, mode 0600. The caller owns STATE_DIR (the ownership lock),
 * so a socket file already there was left by a dead supervisor: replace it.
 */
export async function startControlServer(path: string, handle: Handler, options: ControlServerOptions = {}): Promise<Server> {
  const idleTimeoutMs = options.idleTimeoutMs ?? 10_000;
  const maxClients = options.maxClients ?? 512;
  removeStaleSocket(path);
  const server = createServer({ allowHalfOpen: false }, (socket) => serve(socket));
  server.maxConnections = maxClients;
  server.on('drop', () => options.onError?.(`control socket: more than ${maxClients} clients at once; refused one`));

  function serve(socket: Socket): void {
    const by = socketCaller(socket);
    let buffered = '';
    let busy = false; // one request at a time per connection, in order
    const queue: string[] = [];
    let onClose: Array<() => void> = []; // the request in progress wants to know when the client leaves
    socket.setEncoding('utf8');
    socket.on('close', () => {
      for (const listener of onClose) listener();
    });
    socket.setTimeout(idleTimeoutMs, () => {
      if (!busy) socket.destroy();
    });
    socket.on('error', () => socket.destroy()); // EPIPE/ECONNRESET: the client left
    const refuse = (error: string) => {
      write(socket, { id: null, ok: false, error });
      socket.removeAllListeners('data');
      socket.end();
    };
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (Buffer.byteLength(line) > MAX_REQUEST_BYTES) return refuse(`request too long (more than ${MAX_REQUEST_BYTES} bytes)`);
        if (line) queue.push(line);
      }
      if (Buffer.byteLength(buffered) > MAX_REQUEST_BYTES) return refuse(`request too long (more than ${MAX_REQUEST_BYTES} bytes)`);
      if (queue.length > MAX_QUEUED) return refuse(`too many requests at once (more than ${MAX_QUEUED} queued)`);
      void next();
    });

    async function next(): Promise<void> {
      if (busy || socket.destroyed) return;
      const line = queue.shift();
      if (line === undefined) return;
      busy = true;
      await run(line);
      busy = false;
      void next();
    }

    function run(line: string): Promise<void> {
      const parsed = parseRequest(line);
      const id: RequestId = parsed.id;
      if ('error' in parsed) {
        write(socket, { id, ok: false, error: parsed.error });
        return Promise.resolve();
      }
      return new Promise<void>((done) => {
        let finished = false;
        const finish = () => {
          if (!finished) {
            finished = true;
            onClose = [];
            done();
          }
        };
        onClose = [finish];
        const reply: Reply = {
          send: (message) => write(socket, { id, ...message }),
          end: (message) => {
            if (message) write(socket, { id, ...message });
            finish();
          },
          onClose: (listener) => onClose.unshift(listener),
          get closed() {
            return socket.destroyed;
          },
        };
        socket.setTimeout(0); // a request in progress (a wait, a stream) is not idle
        new Promise<void>((settle) => settle(handle(parsed.request, reply, by))).catch((error: unknown) => {
          options.onError?.(`control: ${parsed.request.command} failed: ${(error as Error).message}`);
          reply.end({ ok: false, error: `internal error: ${(error as Error).message}` });
        });
      }).then(() => {
        if (!socket.destroyed) socket.setTimeout(idleTimeoutMs);
      });
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // STATE_DIR is 0700 already; the socket itself is owner-only as well.
  chmodSync(path, 0o600);
  server.on('error', (error) => options.onError?.(`control socket: ${error.message}`));
  return server;
}

/** Every reply line carries the supervisor's version (a fleet shows it per host). */
function write(socket: Socket, message: object): void {
  if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify({ ...message, version: VERSION })}\n`);
}

/** A socket file at `path` left by a dead server is removed; anything else there is an error. */
export function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
    else throw new Error(`${path} exists and is not a socket; move it away`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
