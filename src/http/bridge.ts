// One implementation of each command, two transports: an HTTP route builds
// the control protocol's request and runs it through the very handler the
// control socket uses (src/control/handlers.ts), collecting its reply.
import type { Request } from '../control/protocol.js';
import type { Handler, Reply } from '../control/server.js';

export type ControlReply = Record<string, unknown> & { ok: boolean };

/** Run a one-reply request (status, start, stop, ..., logs, events without follow, ps). */
export function ask(handle: Handler, request: Request, by: string): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const reply: Reply = {
      send: () => {}, // only streams send more than one message; HTTP streams have routes of their own
      end: (message) => {
        answered = true;
        resolve((message ?? { ok: true }) as ControlReply);
      },
      onClose: () => {},
      get closed() {
        return answered;
      },
    };
    new Promise<void>((settle) => settle(handle(request, reply, by))).catch(reject);
  });
}
