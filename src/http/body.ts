// A request body: JSON only, capped, and read within a deadline — a client
// that trickles its body is dropped, one that sends too much is answered 413
// without the rest being kept.
import type { IncomingMessage } from 'node:http';

export type Body = { value: Record<string, unknown> | null } | { status: number; error: string } | { dropped: true };

export interface BodyLimits {
  maxBodyBytes: number;
  bodyTimeoutMs: number;
}

/** null value: no body at all. */
export function readJsonBody(req: IncomingMessage, limits: BodyLimits): Promise<Body> {
  const length = req.headers['content-length'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (!chunked && (length === undefined || length === '0')) return Promise.resolve({ value: null });
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') return Promise.resolve({ status: 415, error: 'the body must be application/json' });
  if (length !== undefined && Number(length) > limits.maxBodyBytes) return Promise.resolve(tooBig(limits));
  return new Promise((done) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (body: Body) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.removeListener('data', onData);
      done(body);
    };
    // An absolute deadline: bytes trickled one at a time do not extend it.
    const timer = setTimeout(() => {
      req.socket.destroy();
      settle({ dropped: true });
    }, limits.bodyTimeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBodyBytes) return settle(tooBig(limits));
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('error', () => settle({ dropped: true }));
    req.on('close', () => settle({ dropped: true }));
    req.on('end', () => {
      let value: unknown;
      try {
        value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return settle({ status: 400, error: 'the body is not JSON' });
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return settle({ status: 400, error: 'the body must be a JSON object' });
      settle({ value: value as Record<string, unknown> });
    });
  });
}

const tooBig = (limits: BodyLimits): Body => ({ status: 413, error: `the body is larger than ${limits.maxBodyBytes} bytes` });
