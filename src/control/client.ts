// Talk to a running supervisor: send one request, read reply lines.
import { connect } from 'node:net';
import { controlSocketPath } from './protocol.js';

/** No supervisor answers on STATE_DIR (exit code 3). */
export class NoSupervisorError extends Error {}

/** What the supervisors that answered this process said of themselves (the `--json` envelope shows it). */
export interface SupervisorFacts {
  version?: string;
  profilesDir?: string;
  stateDir?: string;
}
export const answered: SupervisorFacts = {};

function remember(message: Record<string, unknown>): void {
  for (const key of ['version', 'profilesDir', 'stateDir'] as const) {
    const value = message[key];
    if (typeof value === 'string') answered[key] = value;
  }
}

/**
 * Send `request`; `onLine` sees each reply object and returns true when it
 * has what it needs (the connection is then closed). Resolves when done or
 * when the supervisor hangs up.
 */
export function converse(stateDir: string, request: object, onLine: (message: Record<string, unknown>) => boolean): Promise<void> {
  const path = controlSocketPath(stateDir);
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let buffered = '';
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while (!done && (newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        let message: Record<string, unknown>;
        try {
          message = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return finish(new Error(`unreadable reply from the supervisor: ${line.slice(0, 80)}`));
        }
        remember(message);
        if (onLine(message)) finish();
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') {
        finish(new NoSupervisorError(`no supervisor is running for ${stateDir} (nothing answers on ${path})`));
      } else if (error.code === 'EACCES') {
        finish(new Error(`not allowed to control the supervisor of ${stateDir}: ${path} belongs to another user`));
      } else finish(error);
    });
    socket.on('close', () => finish(done ? undefined : new Error('the supervisor closed the connection without a reply')));
  });
}

/** One request, one reply. */
export async function ask(stateDir: string, request: object): Promise<Record<string, unknown>> {
  let reply: Record<string, unknown> = {};
  await converse(stateDir, request, (message) => {
    reply = message;
    return true;
  });
  return reply;
}
