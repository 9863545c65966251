// Server-sent events: one stream per client, each with a bound on what may
// wait unsent for it. A client that stops reading is dropped once the bound
// is passed, so a stalled browser tab can never grow the supervisor's
// memory; EventSource reconnects by itself when it is back.
import type { ServerResponse } from 'node:http';
import { writeHead } from './respond.js';

export interface SseMessage {
  id?: string;
  event?: string;
  /** One line: no CR or LF (JSON, or a log line with its CRs escaped). */
  data: string;
}

export interface StreamLimits {
  /** At most this many streams at once (each holds a descriptor and a subscription). */
  maxStreams: number;
  /** Bytes that may wait unsent for one client before it is dropped. */
  streamBufferBytes: number;
}

export class SseStreams {
  private readonly open = new Set<SseStream>();

  constructor(
    private readonly limits: StreamLimits,
    private readonly warn: (message: string) => void,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /** Start a stream on `res`, or null when there are too many already (the caller answers 503). */
  start(res: ServerResponse, what: string): SseStream | null {
    if (this.open.size >= this.limits.maxStreams) return null;
    const stream = new SseStream(res, this.limits.streamBufferBytes, (unsent) =>
      this.warn(`http: dropped a client of ${what} that stopped reading (${Math.round(unsent / 1024)} KiB unsent)`),
    );
    this.open.add(stream);
    stream.onClose(() => this.open.delete(stream));
    return stream;
  }

  /** Shutting down: end every stream (the clients reconnect to the next supervisor). */
  closeAll(): void {
    for (const stream of this.open) stream.close();
  }
}

export class SseStream {
  private closed = false;
  private readonly closers: Array<() => void> = [];

  constructor(
    private readonly res: ServerResponse,
    private readonly bound: number,
    private readonly dropped: (unsent: number) => void,
  ) {
    writeHead(res, 200, { 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.socket?.setNoDelay(true);
    // A peer that vanished (no FIN: a laptop closed) is found by the kernel, not by a timer of ours.
    res.socket?.setKeepAlive(true, 60_000);
    res.on('close', () => this.finish());
    res.write('retry: 2000\n\n');
  }

  get isClosed(): boolean {
    return this.closed;
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closers.push(listener);
  }

  /** Queue one message; false once the stream is closed (or just dropped for being too far behind). */
  send(message: SseMessage): boolean {
    if (this.closed) return false;
    let text = '';
    if (message.id !== undefined) text += `id: ${message.id}\n`;
    if (message.event !== undefined) text += `event: ${message.event}\n`;
    text += `data: ${message.data}\n\n`;
    this.res.write(text);
    const unsent = this.res.writableLength;
    if (unsent > this.bound) {
      this.dropped(unsent);
      this.res.destroy();
      this.finish();
      return false;
    }
    return true;
  }

  /** Resolves once the client has read enough that a long replay may go on (or the stream is closed). */
  drained(): Promise<void> {
    if (this.closed || this.res.writableLength < this.bound / 2) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        resolve();
      };
      this.res.on('drain', done);
      this.onClose(done);
    });
  }

  close(): void {
    if (this.closed) return;
    this.res.end();
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    for (const listener of this.closers.splice(0)) listener();
  }
}
