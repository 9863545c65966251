import { connect } from 'node:net';

/**
 * One request on a supervisor's control socket, one reply: the protocol
 * itself (one JSON object per line), without starting a CLI process, and
 * with a deadline (rejects on an error, a hang-up, or after timeoutMs).
 */
export function askSocket(path: string, request: object, timeoutMs = 5000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let buffered = '';
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`no reply to ${JSON.stringify(request)} within ${timeoutMs}ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const newline = buffered.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      socket.destroy();
      try {
        resolve(JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>);
      } catch (error) {
        reject(error as Error);
      }
    });
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('closed without a reply')));
  });
}
