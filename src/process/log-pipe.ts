// The pipe between a service and its logger (`log/run`, runit/s6 style): a
// FIFO in STATE_DIR/pipes that the supervisor holds open for reading and
// writing for the life of the profile. Holding both ends means neither side
// ever sees EOF or SIGPIPE when the other restarts: what the service writes
// meanwhile waits in the kernel (64 KiB) for the next logger. The supervisor
// never reads from it. Because it is a named FIFO, a supervisor killed with -9
// or handed over with `quit --leave-running` leaves the service and its
// logger connected, and the next supervisor opens the same pipe again.
import { spawnSync } from 'node:child_process';
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, rmSync, unlinkSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';


/** Path → our O_RDWR descriptor of that FIFO. */
const held = new Map<string, number>();

/** STATE_DIR/pipes/NAME: one pipe per profile, shared by all its instances. */
export const logPipePath = (stateDir: string, name: string): string => join(stateDir, 'pipes', name);

/**
 * Make sure the FIFO exists and that we hold it open (O_RDWR: never blocks,
 * and keeps a reader and a writer on it). Idempotent. Node has no mkfifo(3),
 * so a missing FIFO is made with coreutils' `mkfifo`, once per profile.
 */
export async function holdPipe(path: string): Promise<void> {
  if (held.has(path)) return;
  const info = lstatOrNull(path);
  if (info && !info.isFIFO()) {
    // A file or a symlink where our FIFO should be: not ours to trust.
    if (info.isDirectory()) throw new Error(`${path} is a directory, expected the log pipe`);
    unlinkSync(path);
  }
  if (!info?.isFIFO()) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // spawnSync, not execFile: it reaps its own child before returning, so
    // the orphan reaper (PID 1, --reaper) cannot take mkfifo's exit from us.
    const made = spawnSync('mkfifo', ['-m', '600', path], { encoding: 'utf8', timeout: 10_000 });
    const error = made.error as NodeJS.ErrnoException | undefined;
    if (error?.code === 'ENOENT') throw new Error('mkfifo (coreutils) is not installed; it is needed for log/');
    // Another reading of the same profile may have made it meanwhile.
    if ((error || made.status !== 0) && !lstatOrNull(path)?.isFIFO()) {
      throw new Error(`cannot create the log pipe ${path}: ${(made.stderr || error?.message || `mkfifo exited ${made.status}`).trim()}`);
    }
  }
  if (held.has(path)) return; // held while we waited for mkfifo
  const fd = openSync(path, constants.O_RDWR | constants.O_NOFOLLOW);
  if (!fstatSync(fd).isFIFO()) {
    closeSync(fd);
    throw new Error(`${path} is not a FIFO`);
  }
  held.set(path, fd);
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
export function openPipeEnd(path: string, end: 'writer' | 'reader'): number {
  const fd = held.get(path);
  if (fd === undefined) throw new Error(`the log pipe ${path} is not open`);
  return openSync(`/proc/self/fd/${fd}`, end === 'writer' ? constants.O_RDWR : constants.O_RDONLY);
}

/** The profile is gone and its logger stopped: close our end and remove the FIFO. */
export function releasePipe(path: string): void {
  const fd = held.get(path);
  held.delete(path);
  if (fd !== undefined) closeSync(fd);
  rmSync(path, { force: true });
}

const lstatOrNull = (path: string): Stats | null => lstatSync(path, { throwIfNoEntry: false }) ?? null;
