// The pipe between a service and its logger (`log/run`, runit/s6 style): a
// FIFO in STATE_DIR/pipes that the supervisor holds open for reading and
// writing for the life of the profile. (Bounded output, src/output/, holds the
// FIFOs in STATE_DIR/out between a service and the drain the same way.) Holding both ends means neither side
// ever sees EOF or SIGPIPE when the other restarts: what the service writes
// meanwhile waits in the kernel (64 KiB) for the next logger. The supervisor
// never reads from it. Because it is a named FIFO, a supervisor killed with -9
// or handed over with `quit --leave-running` leaves the service and its
// logger connected, and the next supervisor opens the same pipe again.
import { spawnSync } from 'node:child_process';
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, rmSync, unlinkSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadNative } from './native.js';

/** Path → our O_RDWR descriptor of that FIFO. */
const held = new Map<string, number>();
/** Path → the opening under way; and those released meanwhile (made, then let go at once). */
const holding = new Map<string, Promise<void>>();
const releasedWhileHolding = new Set<string>();

/** STATE_DIR/pipes/NAME: one pipe per profile, shared by all its instances. */
export const logPipePath = (stateDir: string, name: string): string => join(stateDir, 'pipes', name);

/**
 * Make sure the FIFO exists and that we hold it open (O_RDWR: never blocks,
 * and keeps a reader and a writer on it). Idempotent.
 */
export function holdPipe(path: string): Promise<void> {
  if (held.has(path)) return Promise.resolve();
  // Two readings of one profile at once: one FIFO, one pair of descriptors (wanted again after a release: kept).
  releasedWhileHolding.delete(path);
  const pending = holding.get(path) ?? openPipe(path).finally(() => holding.delete(path));
  holding.set(path, pending);
  return pending;
}

async function openPipe(path: string): Promise<void> {
  const info = lstatOrNull(path);
  if (info && !info.isFIFO()) {
    // A file or a symlink where our FIFO should be: not ours to trust.
    if (info.isDirectory()) throw new Error(`${path} is a directory, expected a pipe`);
    unlinkSync(path);
  }
  if (!info?.isFIFO()) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    await makeFifo(path);
  }
  if (releasedWhileHolding.delete(path)) {
    rmSync(path, { force: true });
    throw new Error(`${path} was let go while it was being made`);
  }
  const fd = openSync(path, constants.O_RDWR | constants.O_NOFOLLOW);
  if (!fstatSync(fd).isFIFO()) {
    closeSync(fd);
    throw new Error(`${path} is not a FIFO`);
  }
  held.set(path, fd);
}

/** mkfifo(3) from the native module, off the event loop; without it, coreutils' `mkfifo` (a process per pipe). */
async function makeFifo(path: string): Promise<void> {
  const native = loadNative();
  if (native) {
    try {
      return await native.mkfifo(path, 0o600);
    } catch (error) {
      // Another reading of the same profile may have made it meanwhile.
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && lstatOrNull(path)?.isFIFO()) return;
      throw new Error(`cannot create the pipe ${path}: ${(error as Error).message}`);
    }
  }
  // spawnSync, not execFile: it reaps its own child before returning, so
  // the orphan reaper (PID 1, --reaper) cannot take mkfifo's exit from us.
  const made = spawnSync('mkfifo', ['-m', '600', path], { encoding: 'utf8', timeout: 10_000 });
  const error = made.error as NodeJS.ErrnoException | undefined;
  if (error?.code === 'ENOENT') throw new Error('mkfifo (coreutils) is not installed; without the native module it is needed for log/ and bounded output');
  if ((error || made.status !== 0) && !lstatOrNull(path)?.isFIFO()) {
    throw new Error(`cannot create the pipe ${path}: ${(made.stderr || error?.message || `mkfifo exited ${made.status}`).trim()}`);
  }
}

export const isHeld = (path: string): boolean => held.has(path);

/**
 * A new descriptor on a held pipe, for a child: the service writes (O_RDWR,
 * so that it never gets SIGPIPE even when no supervisor and no logger hold
 * it), the logger reads (O_RDONLY, so that it sees EOF once every writer is
 * gone for good). Opened through /proc/self/fd: the very pipe we hold,
 * whatever happened to the path, and never a blocking open. Each child gets
 * its own open file description, so a logger that sets O_NONBLOCK on its
 * stdin (svlogd does) does not make the service's writes fail with EAGAIN.
 */
export function openPipeEnd(path: string, end: 'writer' | 'reader' | 'drain'): number {
  const fd = held.get(path);
  if (fd === undefined) throw new Error(`the pipe ${path} is not open`);
  // The drain's: never EOF (it is a writer too), never blocking.
  const flags = { writer: constants.O_RDWR, reader: constants.O_RDONLY, drain: constants.O_RDWR | constants.O_NONBLOCK }[end];
  return openSync(`/proc/self/fd/${fd}`, flags);
}

/** The profile is gone and its logger stopped: close our end and remove the FIFO. */
export function releasePipe(path: string): void {
  if (holding.has(path)) releasedWhileHolding.add(path);
  const fd = held.get(path);
  held.delete(path);
  if (fd !== undefined) closeSync(fd);
  rmSync(path, { force: true });
}

const lstatOrNull = (path: string): Stats | null => lstatSync(path, { throwIfNoEntry: false }) ?? null;
