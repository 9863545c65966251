// GET /api/v1/services/NAME/log?follow=1: the last lines of a service's
// output, then each new line, one SSE message per line — followed across
// restarts, truncation and rotation by the same code as `logs -f`
// (src/output/tail.ts).
import { StringDecoder } from 'node:string_decoder';
import { follow, tail } from '../output/tail.js';
import type { SseStream } from './sse.js';

/** A line longer than this (no newline yet) is sent in pieces: what waits for its end is bounded. */
const MAX_PARTIAL = 64 * 1024;

/** SSE data may not hold CR or LF: a CR inside a line is sent as `\r`. */
const asData = (line: string): string => line.replace(/\r/g, '\\r');

export async function streamLog(stream: SseStream, path: string, lines: number): Promise<void> {
  const { text, end } = await tail(path, lines);
  if (stream.isClosed) return;
  const whole = text.split('\n');
  // What follows the last newline is a line still being written: its end comes with the follow.
  let partial = whole.pop()!;
  for (const line of whole) if (!stream.send({ data: asData(line) })) return;
  const decoder = new StringDecoder('utf8'); // a chunk may end inside a character
  // false stops the follow: the client is gone, or dropped for what it left unread (even in follow()'s first read).
  const follower = follow(path, end, (chunk) => {
    partial += decoder.write(chunk);
    let newline: number;
    while ((newline = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, newline);
      partial = partial.slice(newline + 1);
      if (!stream.send({ data: asData(line) })) return false;
    }
    if (partial.length > MAX_PARTIAL) {
      const piece = partial;
      partial = '';
      if (!stream.send({ data: asData(piece) })) return false;
    }
  });
  stream.onClose(() => follower.stop());
}
