// `supervise --http ADDR`: the HTTP side, loaded (dynamic import) only with
// the flag. It binds before the supervisor starts any service, so an
// address that cannot be bound fails the start (one line, exit 1) and
// nothing runs; it subscribes to the event log before the first event, so
// proclaunch_events_total counts them all.
import type { Logger } from '../log/logger.js';
import type { Handler } from '../control/server.js';
import type { EventLog } from '../supervisor/event-log.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import type { HttpAddress } from './address.js';
import { EventHub } from './event-stream.js';
import { loadPage } from './page.js';
import { DEFAULT_LIMITS, listen, type HttpLimits } from './server.js';
import { SseStreams } from './sse.js';
import { loadTokens } from './tokens.js';

export { parseHttpAddress } from './address.js';

export interface HttpOptions {
  address: HttpAddress;
  stateDir: string;
  supervisor: Supervisor;
  eventLog: EventLog;
  /** The control socket's handler (src/control/handlers.ts). */
  handle: Handler;
  logger: Logger;
  /** For tests: shorter timeouts, smaller bounds. */
  limits?: Partial<HttpLimits>;
  /** For tests: another page directory. */
  pageDir?: string;
}

export interface HttpSide {
  /** `127.0.0.1:9001`: what was bound. */
  address: string;
  /** The supervisor has read its profiles: /readyz may say ready. */
  started(): void;
  close(): void;
}

/** Throws with the one line to print when the tokens cannot be made or the address not bound. */
export async function startHttp(options: HttpOptions): Promise<HttpSide> {
  const { logger } = options;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const warn = (message: string) => logger.log('WARN', 'proclaunch', message);
  const tokens = loadTokens(options.stateDir);
  const hub = new EventHub(options.eventLog);
  const streams = new SseStreams(limits, warn);
  let started = false;
  const ctx = {
    supervisor: options.supervisor,
    handle: options.handle,
    eventLog: options.eventLog,
    hub,
    streams,
    tokens,
    page: loadPage(options.pageDir),
    started: () => started,
  };
  let listening;
  try {
    listening = await listen(options.address, ctx, limits, warn);
  } catch (error) {
    hub.close();
    throw error;
  }
  const { server, address } = listening;
  const exposed = !listening.loopback && options.address.kind === 'tcp';
  logger.log('INFO', 'proclaunch', `http listening on ${address}${exposed ? ' (not loopback: plain HTTP, every Host answered; put TLS in front, see docs/http.md)' : ''}`);
  return {
    address,
    started: () => {
      started = true;
    },
    close: () => {
      streams.closeAll();
      server.close();
      server.closeAllConnections();
      hub.close();
    },
  };
}
