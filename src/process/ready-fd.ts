// The `notification-fd` profile file (s6): the service writes a newline to
// fd N when it is ready. Its fd N is STATE_DIR/ready/TAG, a regular file
// (0600, in a 0700 directory) opened O_WRONLY|O_APPEND, not a pipe:
//
// - a write never blocks and never raises SIGPIPE, whether or not a
//   supervisor runs;
// - what is written stays when the supervisor is killed -9 *and* the service
//   then closes fd N (as s6 services do): a FIFO's bytes vanish once its last
//   holder closes it, so the next supervisor would never learn of them;
// - once the line is seen the file is kept at one byte, "\n": a re-adopted
//   service that was ready is known ready. A fresh run starts with an empty
//   file (reset).
//
// The supervisor learns of writes from inotify (fs.watch): no timer. After
// readiness each write is cut away again, so a chatty service costs a few
// bytes of disk while a supervisor runs (while none runs, the file grows).
import { closeSync, constants, fstatSync, ftruncateSync, mkdirSync, openSync, readSync, rmSync, watch, writeSync, type FSWatcher } from 'node:fs';
import { dirname, join } from 'node:path';

export const readyFdPath = (stateDir: string, tag: string): string => join(stateDir, 'ready', tag);

/** What a service may write before its newline before it is cut (it is not a log). */
const MAX_BEFORE_READY = 64 * 1024;

export interface ReadyFd {
  readonly path: string;
  /** The current run has written its newline. */
  readonly ready: boolean;
  /** A new descriptor for the child's fd N (O_WRONLY|O_APPEND): close it once the child is spawned. */
  openForChild(): number;
  /** A fresh run is about to start: forget the last one's line. Not for a re-adopted run. */
  reset(): void;
  /**
   * `onReady` once: when the newline arrives, or in the next tick if it has
   * already. One listener at a time (a new one replaces the last). Returns
   * the function that stops it.
   */
  watch(onReady: () => void): () => void;
}

class HeldReadyFd implements ReadyFd {
  ready = false;
  #fd: number;
  #offset = 0;
  #watcher: FSWatcher;
  #listener: (() => void) | null = null;
  #chunk = Buffer.allocUnsafe(4096);

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // O_NOFOLLOW: STATE_DIR is ours, but never write through a symlink someone left there.
    this.#fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    try {
      const stat = fstatSync(this.#fd);
      if (!stat.isFile()) throw new Error(`${path} is not a regular file`);
      this.#watcher = watch(path, { persistent: false }, () => this.#look());
      this.#watcher.on('error', () => undefined); // the file removed under us: the fds still work, we just hear no more
    } catch (error) {
      closeSync(this.#fd);
      throw error;
    }
    this.#look(); // a re-adopted run may have written it while no supervisor ran
  }

  openForChild(): number {
    return openSync(`/proc/self/fd/${this.#fd}`, constants.O_WRONLY | constants.O_APPEND);
  }

  reset(): void {
    // A truncate costs a journal entry (~0.15 ms): not for the empty file of a first start.
    if (fstatSync(this.#fd).size > 0) ftruncateSync(this.#fd, 0);
    this.#offset = 0;
    this.ready = false;
  }

  watch(onReady: () => void): () => void {
    const listener = (): void => {
      if (this.#listener !== listener) return;
      this.#listener = null;
      onReady();
    };
    this.#listener = listener;
    if (this.ready) process.nextTick(listener);
    return () => {
      if (this.#listener === listener) this.#listener = null;
    };
  }

  close(): void {
    this.#listener = null;
    this.#watcher.close();
    closeSync(this.#fd);
  }

  /** Something was written (or cut): look for the newline, or keep the file small. */
  #look(): void {
    try {
      if (this.ready) return this.#keepMark();
      for (;;) {
        const n = readSync(this.#fd, this.#chunk, 0, this.#chunk.length, this.#offset);
        if (n === 0) break;
        if (this.#chunk.subarray(0, n).includes(10)) {
          this.ready = true;
          // The listener first: the file already holds the newline (what a re-adopting supervisor
          // reads), so cutting it to one byte is not on the way to the dependents' start. Unless
          // a fresh run was reset meanwhile: its file stays empty.
          // A file that is just the newline (the usual `echo >&N`) is the mark already.
          const isMark = this.#offset === 0 && n === 1;
          const listener = this.#listener;
          if (listener) listener();
          if (!this.ready) return;
          if (isMark) this.#offset = 1;
          else this.#keepMark();
          return;
        }
        this.#offset += n;
      }
      // Cut only what was read: more written since (the newline, perhaps) waits for its own event.
      // A write between this fstat and the truncate is still cut: a window of two syscalls.
      if (this.#offset > MAX_BEFORE_READY && fstatSync(this.#fd).size === this.#offset) {
        ftruncateSync(this.#fd, 0);
        this.#offset = 0;
      }
    } catch {
      // EIO and the like on our own file: the next write tries again
    }
  }

  /** "\n" first, then cut the rest: at every moment the file says "ready". */
  #keepMark(): void {
    if (fstatSync(this.#fd).size <= 1 && this.#offset === 1) return;
    writeSync(this.#fd, '\n', 0);
    ftruncateSync(this.#fd, 1);
    this.#offset = 1;
  }
}

const held = new Map<string, HeldReadyFd>();

/**
 * The readiness file of profile `tag` in STATE_DIR, held open (created if
 * missing, kept if there: what a run wrote while no supervisor ran counts).
 * Idempotent. Throws an Error when it cannot (the reason in its message).
 */
export function holdReadyFd(stateDir: string, tag: string): ReadyFd {
  const path = readyFdPath(stateDir, tag);
  let entry = held.get(path);
  if (!entry) held.set(path, (entry = new HeldReadyFd(path)));
  return entry;
}

/** Readiness files held under STATE_DIR (for tests: nothing of a released name may stay). */
export const readyFdsUnder = (stateDir: string): number => [...held.keys()].filter((path) => path.startsWith(`${stateDir}/`)).length;

/** The profile is gone and its service stopped: close and remove its file. */
export function releaseReadyFd(stateDir: string, tag: string): void {
  const path = readyFdPath(stateDir, tag);
  held.get(path)?.close();
  held.delete(path);
  rmSync(path, { force: true });
}
