// How `logs` shows the output of one or several services: one service as it
// is; several with a `NAME | ` prefix on each line (docker compose logs, pm2
// logs), the last N lines of each, one service after another — or in time
// order when every one's lines carry log_timestamps; `--json`: a line
// {"name","line"} each. Followed (-f): each new line as it arrives.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { LogSource } from '../output/log-source.js';
import { fail, out, untilInterrupted } from './commands/command.js';
import { follow, tail } from '../output/tail.js';

/** A file to show, under the name of its service. */
export interface LogStream {
  name: string;
  path: string;
}

export interface LogViewOptions {
  lines: number;
  follow: boolean;
  json: boolean;
}

/**
 * The files to read for `sources`. What cannot be shown is said on stderr: an
 * invalid profile; a service whose output goes to a logger of its own — shown
 * when that logger keeps it the runit/s6 way (a directory of log/ with a
 * `current` file: `svlogd main`, `s6-log ./main`), else where to look.
 */
export function streamsOf(sources: LogSource[]): LogStream[] {
  const streams: LogStream[] = [];
  for (const source of sources) {
    const { name, logger } = source;
    if (source.stdout !== null) streams.push({ name, path: source.stdout });
    else if (logger) {
      const current = keptByLogger(logger.dir);
      if (current) {
        fail(`${name}: its logger ${logger.tag} (log/run) keeps its output in ${current}; showing that`);
        streams.push({ name, path: current });
      } else {
        fail(`${name}: its output goes to its logger ${logger.tag} (log/run), which keeps it where log/run says; \`proclaunch logs ${logger.tag}\` shows the logger's own output`);
      }
    } else fail(`${name}: ${source.problem ?? 'no log known'}`);
  }
  return streams;
}

/** DIR/*\/current, the most recently written if several. */
function keptByLogger(dir: string): string | null {
  let best: { path: string; mtime: number } | null = null;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return null;
  }
  for (const name of names) {
    const path = join(dir, name, 'current');
    let info;
    try {
      info = statSync(path);
    } catch {
      continue; // no such file, or `name` is not a directory (log/run)
    }
    if (info.isFile() && (!best || info.mtimeMs > best.mtime)) best = { path, mtime: info.mtimeMs };
  }
  return best?.path ?? null;
}

/** `2026-11-22T07:41:03.127+00:00 ` (log_timestamps), `…Z`, or svlogd -tt's `2026-11-22_07:41:03.12700` (UTC). */
const STAMP = /^(\d{4}-\d\d-\d\d)[T_](\d\d:\d\d:\d\d(?:[.,]\d+)?)(Z|[+-]\d\d:?\d\d)? /;

/** A line's time (ms), or null when it starts with none. */
function stampOf(line: string): number | null {
  const match = STAMP.exec(line);
  if (!match) return null;
  const time = Date.parse(`${match[1]}T${match[2]!.replace(',', '.')}${match[3] ?? 'Z'}`);
  return Number.isNaN(time) ? null : time;
}

export async function showLogs(streams: LogStream[], options: LogViewOptions): Promise<void> {
  const single = streams.length === 1 && !options.json;
  const width = Math.max(0, ...streams.map((s) => s.name.length));
  const write = (name: string, line: string) =>
    out(options.json ? `${JSON.stringify({ name, line })}\n` : single ? `${line}\n` : `${name.padEnd(width)} | ${line}\n`);
  const tails = await Promise.all(streams.map((s) => tail(s.path, options.lines)));
  // A last line still being written: finished by what follows (-f), else shown as it is.
  const partials = tails.map(() => '');
  if (single) out(tails[0]!.text);
  else {
    const blocks = tails.map(({ text }, i) => {
      const lines = text.split('\n');
      partials[i] = lines.pop()!;
      return lines;
    });
    for (const [i, line] of ordered(blocks)) write(streams[i]!.name, line);
    if (!options.follow) partials.forEach((line, i) => line && write(streams[i]!.name, line));
  }
  if (!options.follow) return;
  const followers = streams.map((stream, i) => {
    if (single) return follow(stream.path, tails[i]!.end, (chunk) => void process.stdout.write(chunk));
    const decoder = new StringDecoder('utf8');
    return follow(stream.path, tails[i]!.end, (chunk) => {
      const lines = (partials[i] + decoder.write(chunk)).split('\n');
      partials[i] = lines.pop()!;
      for (const line of lines) write(stream.name, line);
    });
  });
  await untilInterrupted();
  for (const follower of followers) follower.stop();
}

/**
 * [stream, line] in the order to show: one block after another, or — when
 * every block that has lines starts with a timestamp — merged by time (a line
 * without one keeps the time of the line before it; ties go to the earlier block).
 */
function ordered(blocks: string[][]): Array<[number, string]> {
  const stamped = blocks.every((lines) => lines.length === 0 || STAMP.test(lines[0]!));
  if (!stamped || blocks.filter((lines) => lines.length > 0).length < 2) return blocks.flatMap((lines, i) => lines.map((line): [number, string] => [i, line]));
  const keys = blocks.map((lines) => {
    let last = -Infinity;
    return lines.map((line) => (last = stampOf(line) ?? last));
  });
  const heads = blocks.map(() => 0);
  const merged: Array<[number, string]> = [];
  for (;;) {
    let next = -1;
    for (let i = 0; i < blocks.length; i++) {
      if (heads[i]! < blocks[i]!.length && (next < 0 || keys[i]![heads[i]!]! < keys[next]![heads[next]!]!)) next = i;
    }
    if (next < 0) return merged;
    merged.push([next, blocks[next]![heads[next]!++]!]);
  }
}
