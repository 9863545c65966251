// The bounded outputs this supervisor drains: one per output file, each fed by
// a FIFO in STATE_DIR/out that we hold open (process/log-pipe.ts), drained by
// the native module's thread (tee + splice, nothing through JavaScript) or,
// without it, by js-drain.ts. Trouble writing a file is said in one WARN a
// minute at most, whatever the number of files.
import { rmSync } from 'node:fs';
import { getSystemErrorName } from 'node:util';
import { quote } from '../log/escape.js';
import { holdPipe, openPipeEnd, releasePipe } from '../process/log-pipe.js';
import { loadNative, type Native } from '../process/native.js';
import type { Level } from '../vocabulary/levels.js';
import type { OutputBounds } from '../vocabulary/output.js';
import { JsDrain } from './js-drain.js';
import { noteTarget } from './paths.js';

export type DrainListener = (id: number, event: 'failing' | 'writing', code: string, dropped: number) => void;

/** What drains FIFOs into files: native/output.c, or JsDrain. */
export interface Drain {
  add(fd: number, path: string, bounds: OutputBounds): number;
  set(id: number, bounds: OutputBounds): void;
  release(id: number): void;
  /** `final`: the supervisor exits (the JS drain writes the partial lines it keeps in memory). */
  flush(timeoutMs: number, final?: boolean): boolean;
  onEvent(listener: DrainListener): void;
}

interface Sink {
  id: number;
  target: string;
  bounds: string;
}

const SAY_EVERY_MS = 60_000;
const sinks = new Map<string, Sink>();
let drain: Drain | null = null;
let say: (level: Level, message: string) => void = () => undefined;

/** Where WARN and INFO lines about output files go (the supervisor's log). */
export function reportOutputTo(log: (level: Level, message: string) => void): void {
  say = log;
}

/** The native drain thread when the module is there, else the JavaScript one. */
export function makeDrain(native: Native | null): Drain {
  if (!native) return new JsDrain();
  return { ...native.output, onEvent: (listener) => native.output.onEvent((id, event, errno, dropped) => listener(id, event, errno ? getSystemErrorName(-errno) : '', dropped)) };
}

function theDrain(): Drain {
  if (drain) return drain;
  drain = makeDrain(loadNative());
  drain.onEvent(reportDrainEvents());
  return drain;
}

/** What the drain's events say in our log: a line of each kind a minute at most (`now`: the clock; a test gives its own). */
export function reportDrainEvents(now: () => number = Date.now): DrainListener {
  const said = { failing: { at: -Infinity, quiet: 0 }, writing: { at: -Infinity, quiet: 0 } };
  return (id, event, code, dropped) => {
    const target = [...sinks.values()].find((s) => s.id === id)?.target ?? '?';
    const last = said[event];
    if (now() - last.at < SAY_EVERY_MS) return void last.quiet++;
    const more = last.quiet > 0 ? ` (and ${last.quiet} more since the last line like this)` : '';
    if (event === 'failing') say('WARN', `output to ${quote(target)} cannot be written (${code}): dropping it until it can be${more}; said once a minute at most`);
    else say('INFO', `output to ${quote(target)} written again; ${dropped} bytes were dropped${more}`);
    last.at = now();
    last.quiet = 0;
  };
}

/** Hold the FIFO `fifo` and drain it into `target` (idempotent; new bounds apply at once). */
export async function holdSink(fifo: string, target: string, bounds: OutputBounds): Promise<void> {
  const known = sinks.get(fifo);
  const key = JSON.stringify(bounds);
  if (known && known.target === target) {
    if (known.bounds !== key) theDrain().set(known.id, bounds);
    known.bounds = key;
    return;
  }
  if (known) releaseSink(fifo); // the same FIFO for another file: only if a hash collided
  await holdPipe(fifo);
  noteTarget(fifo, target);
  const fd = openPipeEnd(fifo, 'drain');
  sinks.set(fifo, { id: theDrain().add(fd, target, bounds), target, bounds: key });
}

export const isSink = (fifo: string): boolean => sinks.has(fifo);

/** FIFOs held and drained under DIR (for tests: nothing of a released name may stay). */
export const sinksUnder = (dir: string): number => [...sinks.keys()].filter((fifo) => fifo.startsWith(`${dir}/`)).length;

/** No process writes into it any more: drain what is left, close it, remove the FIFO. */
export function releaseSink(fifo: string): void {
  const sink = sinks.get(fifo);
  sinks.delete(fifo);
  if (sink) drain?.release(sink.id);
  releasePipe(fifo);
  rmSync(`${fifo}.path`, { force: true });
}

/** Before exiting: what the FIFOs hold, into the files (blocking, bounded). */
export function flushSinks(timeoutMs = 1000): boolean {
  return drain?.flush(timeoutMs, true) ?? true;
}
