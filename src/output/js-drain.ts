// The drain without the native module: the same rules as native/output-sink.c
// (rotation before a line that may not fit, cut lines, timestamps, output
// dropped rather than blocking the service while the file cannot be written),
// but the bytes are read into JavaScript (net.Socket on the FIFO: epoll, no
// thread) and written with writev on the event loop. A flood therefore costs
// the supervisor's main thread, and a kill -9 of the supervisor can lose what
// it had read and not yet written (at most one chunk, 64 KiB, or a partial
// line waiting near the end of a file).
import { closeSync, fstatSync, mkdirSync, openSync, readSync, statSync, writevSync } from 'node:fs';
import { Socket } from 'node:net';
import { getSystemErrorMap } from 'node:util';
import { dirname } from 'node:path';
import { timestamp } from '../log/logger.js';
import { CUT_MARK, DEFER_MS, LINE_LIMIT, RATE_BYTES_PER_SECOND, RATE_WINDOW_MS, STAMP_LENGTH, type OutputBounds } from '../vocabulary/output.js';
import { removeBeyond, rotateFiles } from './rotate.js';
import type { Drain, DrainListener } from './sinks.js';

const NEWLINE = 0x0a;

/** An errno in strerror's words, as the native drain writes them: libuv's text (`no space left on device`), capitalized as glibc's. */
function strerror(errno: number | undefined): string | undefined {
  const text = errno === undefined ? undefined : getSystemErrorMap().get(errno)?.[1];
  return text && text[0]!.toUpperCase() + text.slice(1);
}
const MARK = Buffer.from(CUT_MARK);

class JsSink {
  private file: number | null = null;
  private ino = -1;
  private size = 0;
  private lineLen = 0;
  private needNewline = false;
  /** Why writing fails, as strerror says it (the native drain's words), or null. */
  private failing: string | null = null;
  private dropped = 0;
  /** A partial line near the end of a file, waiting for the rest (or DEFER_MS). */
  private waiting: { bytes: Buffer; timer: NodeJS.Timeout } | null = null;
  private window = { start: 0, bytes: 0 };
  private readonly socket: Socket;

  constructor(
    private readonly fd: number,
    private readonly path: string,
    public bounds: OutputBounds,
    private readonly report: (event: 'failing' | 'writing', code: string, dropped: number) => void,
    /** A write failed for want of space: every sink lets go of its file if it was removed. */
    private readonly outOfSpace: () => void,
    rate: number,
  ) {
    this.socket = new Socket({ fd, readable: true, writable: false });
    this.socket.unref();
    this.socket.on('data', (chunk: Buffer) => {
      this.write(chunk);
      // One chunk per turn of the event loop (libuv would read up to 32 at once), within the rate budget.
      this.socket.pause();
      const now = Date.now();
      if (now - this.window.start >= RATE_WINDOW_MS) this.window = { start: now, bytes: 0 };
      this.window.bytes += chunk.length;
      if (this.window.bytes < (rate * RATE_WINDOW_MS) / 1000) setImmediate(() => this.socket.resume());
      else setTimeout(() => this.socket.resume(), this.window.start + RATE_WINDOW_MS - now).unref();
    });
    this.socket.on('error', () => undefined); // a FIFO we hold both ends of: nothing to expect
    removeBeyond(path, bounds.keep);
  }

  setBounds(bounds: OutputBounds): void {
    if (bounds.keep < this.bounds.keep) removeBeyond(this.path, bounds.keep, this.bounds.keep);
    this.bounds = bounds;
  }

  /** What the FIFO holds now, read at once; and, `final`, a partial line that waits (it is in memory, not in the FIFO). */
  drainNow(final: boolean): void {
    const buffer = Buffer.allocUnsafe(64 * 1024);
    for (let i = 0, n = 1; i < 1024 && n > 0; i++) {
      try {
        n = readSync(this.fd, buffer, 0, buffer.length, null);
      } catch {
        n = 0; // EAGAIN: empty
      }
      if (n > 0) this.write(Buffer.from(buffer.subarray(0, n)));
    }
    if (final) this.writeWaiting();
  }

  private writeWaiting(): void {
    if (this.waiting) this.write(Buffer.alloc(0), true);
  }

  close(): void {
    this.drainNow(true);
    this.socket.destroy(); // closes the fd
    if (this.file === null) return;
    if (this.needNewline) this.put([Buffer.from('\n')]);
    closeSync(this.file);
  }

  private write(fresh: Buffer, force = false): void {
    const { maxBytes, timestamps } = this.bounds;
    let chunk = fresh;
    if (this.waiting) {
      clearTimeout(this.waiting.timer);
      chunk = Buffer.concat([this.waiting.bytes, fresh]);
      this.waiting = null;
    }
    const limit = Math.min(LINE_LIMIT, maxBytes - STAMP_LENGTH - MARK.length);
    const parts: Buffer[] = [];
    let pending = 0;
    let written = 0; // of the chunk
    let pos = 0;
    const out = (part: Buffer) => (parts.push(part), (pending += part.length));
    const flush = () => {
      this.put(parts.splice(0));
      pending = 0;
      written = pos;
    };
    try {
      this.open();
      if (this.failing !== null) this.recover();
      while (pos < chunk.length) {
        if (this.lineLen === 0) {
          const eol = chunk.indexOf(NEWLINE, pos);
          const len = eol < 0 ? 0 : eol - pos + 1;
          const need = (timestamps ? STAMP_LENGTH : 0) + (len > 0 && len <= limit + 1 ? len : limit + MARK.length);
          const partial = chunk.length - pos;
          if (eol < 0 && partial < limit && this.size + pending + need > maxBytes && this.size + pending + (timestamps ? STAMP_LENGTH : 0) + partial <= maxBytes && !force) {
            // Fits now but may not once whole: wait for the rest.
            const timer = setTimeout(() => this.writeWaiting(), DEFER_MS).unref();
            this.waiting = { bytes: Buffer.from(chunk.subarray(pos)), timer };
            pos = chunk.length; // not written, but not dropped either if writing fails
            flush();
            return;
          }
          if (this.size + pending > 0 && this.size + pending + need > maxBytes) {
            flush();
            this.rotate();
          }
          if (timestamps) out(Buffer.from(`${timestamp()} `));
          else if (eol >= 0 && limit >= LINE_LIMIT) {
            // Every whole line that fits, at once (none is longer than the chunk, so none is cut).
            const fit = maxBytes - this.size - pending;
            let end = chunk.lastIndexOf(NEWLINE) + 1;
            if (end - pos > fit) end = chunk.lastIndexOf(NEWLINE, pos + fit - 1) + 1;
            if (end > pos) {
              out(chunk.subarray(pos, end));
              pos = end;
              continue;
            }
          }
        } else if (this.lineLen >= limit) {
          if (chunk[pos] === NEWLINE) out(chunk.subarray(pos, ++pos));
          else out(MARK);
          this.lineLen = 0;
          continue;
        }
        const room = limit - this.lineLen;
        const eol = chunk.indexOf(NEWLINE, pos);
        const whole = eol >= 0 && eol <= pos + room;
        const take = whole ? eol - pos + 1 : Math.min(chunk.length - pos, room);
        out(chunk.subarray(pos, pos + take));
        this.lineLen = whole ? 0 : this.lineLen + take;
        pos += take;
      }
      flush();
    } catch (error) {
      this.dropped += chunk.length - written;
      this.lineLen = 0;
      const { code = 'EIO', errno } = error as NodeJS.ErrnoException;
      if (code === 'ENOSPC' || code === 'EDQUOT') this.outOfSpace();
      if (this.failing === null) this.report('failing', code, 0);
      this.failing ??= strerror(errno) ?? code;
    }
  }

  private put(parts: Buffer[]): void {
    if (parts.length === 0) return;
    const total = parts.reduce((sum, part) => sum + part.length, 0);
    const done = writevSync(this.file!, parts);
    this.size += done;
    if (done < total) throw Object.assign(new Error('short write'), { code: 'ENOSPC', errno: -28 });
    const last = parts.at(-1)!;
    this.needNewline = last[last.length - 1] !== NEWLINE;
  }

  /** Close the file if it was removed (rm): its space goes back now, not at this output's next byte. */
  letGoIfRemoved(): void {
    if (this.file === null || fstatSync(this.file).nlink > 0) return;
    closeSync(this.file);
    this.file = null;
  }

  /** Open, or open again when someone moved or removed the file (logrotate, rm). */
  private open(): void {
    if (this.file !== null) {
      if (statSync(this.path, { throwIfNoEntry: false })?.ino === this.ino) {
        this.size = fstatSync(this.file).size;
        return;
      }
      closeSync(this.file);
      this.file = null;
    }
    let fd: number;
    try {
      fd = openSync(this.path, 'a', 0o640);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o750 });
      fd = openSync(this.path, 'a', 0o640);
    }
    const info = fstatSync(fd);
    this.file = fd;
    this.ino = info.ino;
    this.size = info.size;
    this.needNewline = false;
  }

  private rotate(): void {
    closeSync(this.file!);
    this.file = null;
    rotateFiles(this.path, this.bounds.keep);
    this.open();
  }

  private recover(): void {
    const note = `[proclaunch: ${this.dropped} bytes of output dropped: ${this.failing}]\n`;
    if (this.needNewline) this.put([Buffer.from('\n')]);
    if (this.size > 0 && this.size + note.length + STAMP_LENGTH > this.bounds.maxBytes) this.rotate();
    this.put([...(this.bounds.timestamps ? [Buffer.from(`${timestamp()} `)] : []), Buffer.from(note)]);
    this.report('writing', '', this.dropped);
    this.failing = null;
    this.dropped = 0;
  }
}

export class JsDrain implements Drain {
  private readonly sinks = new Map<number, JsSink>();
  private nextId = 0;
  private listener: DrainListener = () => undefined;
  private lastSweep = 0;

  /** `rate`: bytes per second per output (Infinity to measure without it: bench/drain-mechanisms.mjs). */
  constructor(private readonly rate = RATE_BYTES_PER_SECOND) {}

  add(fd: number, path: string, bounds: OutputBounds): number {
    const id = ++this.nextId;
    const report = (event: 'failing' | 'writing', code: string, dropped: number) => this.listener(id, event, code, dropped);
    this.sinks.set(id, new JsSink(fd, path, bounds, report, () => this.outOfSpace(), this.rate));
    return id;
  }

  set(id: number, bounds: OutputBounds): void {
    this.sinks.get(id)?.setBounds(bounds);
  }

  release(id: number): void {
    this.sinks.get(id)?.close();
    this.sinks.delete(id);
  }

  flush(_timeoutMs: number, final = false): boolean {
    for (const sink of this.sinks.values()) sink.drainNow(final);
    return true;
  }

  /** A full disk: let go of removed files still held (a stopped service's rm'ed log), at most once a window. */
  private outOfSpace(): void {
    const now = Date.now();
    if (now - this.lastSweep < RATE_WINDOW_MS) return;
    this.lastSweep = now;
    for (const sink of this.sinks.values()) sink.letGoIfRemoved();
  }

  onEvent(listener: DrainListener): void {
    this.listener = listener;
  }
}
