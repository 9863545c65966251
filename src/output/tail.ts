import { closeSync, existsSync, fstatSync, openSync, readSync, statSync, watch, type FSWatcher } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

/** Read size: big enough to be few syscalls, small enough that a huge log never sits in memory. */
const CHUNK = 64 * 1024;
const NEWLINE = 0x0a;

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

/** Errors from the file system (they carry a syscall), as opposed to bugs or errors thrown by `out`. */
function isSystemError(error: unknown): boolean {
  return error instanceof Error && 'syscall' in error;
}

/** PATH.1, PATH.2, … as far as they go, newest first: the rotations of a bounded output (src/output/rotate.ts). */
function rotatedFiles(path: string): string[] {
  const files: string[] = [];
  for (let i = 1; existsSync(`${path}.${i}`); i++) files.push(`${path}.${i}`);
  return files;
}

/** The current size of `path`, 0 when it does not exist: a `fromOffset` for {@link follow}. */
export function sizeOf(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.size ?? 0;
}

/**
 * The last `lines` lines of `path` — reading on into PATH.1, PATH.2, … (its
 * rotations) when it holds fewer — and the offset the read stopped at in
 * `path`. Following from `end` (not from a separate {@link sizeOf}) neither
 * repeats nor loses what the service writes in between.
 */
export async function tail(path: string, lines: number): Promise<{ text: string; end: number }> {
  const chunks: Buffer[] = [];
  let end = 0;
  let newlines = 0;
  let last = true; // the very last byte: a final newline ends the last line, it does not start another
  for (const [index, file] of [path, ...rotatedFiles(path)].entries()) {
    let handle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      if (isMissing(error)) continue;
      throw error;
    }
    try {
      let position = (await handle.stat()).size;
      if (index === 0) end = position;
      if (lines <= 0) return { text: '', end };
      // Walk backwards a chunk at a time, counting newlines, until the one before the first wanted line.
      while (position > 0) {
        const length = Math.min(CHUNK, position);
        position -= length;
        const chunk = Buffer.allocUnsafe(length);
        const { bytesRead } = await handle.read(chunk, 0, length, position);
        for (let i = bytesRead - 1; i >= 0; i--) {
          const skip = last;
          last = false;
          if (chunk[i] !== NEWLINE || skip) continue;
          if (++newlines === lines) {
            chunks.push(chunk.subarray(i + 1, bytesRead));
            // Cut right after a newline, so never inside a multi-byte character.
            return { text: Buffer.concat(chunks.reverse()).toString(), end };
          }
        }
        chunks.push(chunk.subarray(0, bytesRead));
      }
    } finally {
      await handle.close();
    }
  }
  return { text: Buffer.concat(chunks.reverse()).toString(), end };
}

/** The last `lines` lines of the file (all if it is shorter), read from the end in chunks. Missing file → ''. */
export async function lastLines(path: string, lines: number): Promise<string> {
  return (await tail(path, lines)).text;
}

/**
 * Follow `path` like `tail -F`: pass everything appended after `fromOffset` to
 * `out`. Survives truncation (restart from 0), rotation by rename (finish the
 * old file, then each newer one — PATH.2, PATH.1, … as it finds them, should
 * several rotations have gone by — then the new one, each from 0) and a file
 * that does not exist yet.
 *
 * Woken by fs.watch on the directory — a watch on the file itself would follow
 * the inode away on rename and never see the new file — and by a slow poll,
 * because inotify can drop events or be out of watches (ENOSPC).
 */
export function follow(
  path: string,
  fromOffset: number,
  out: (chunk: Buffer) => void | false,
  options: { pollMs?: number } = {},
): { stop(): void } {
  const name = basename(path);
  let file: { fd: number; dev: number; ino: number } | null = null; // the file we read, and who it is
  let position = fromOffset;
  let stopped = false;
  let watcher: FSWatcher | null = null;

  /** Pass on what the open file holds now; later writes bring another event. */
  function drain(fd: number): void {
    const size = fstatSync(fd).size;
    // Shorter than what we have read: truncated (`> log`, copytruncate). Start over.
    if (size < position) position = 0;
    while (position < size && !stopped) {
      // A fresh buffer per read: `out` may keep it (stdout writes asynchronously).
      const buffer = Buffer.allocUnsafe(Math.min(CHUNK, size - position));
      const bytesRead = readSync(fd, buffer, 0, buffer.length, position);
      if (bytesRead === 0) break; // truncated while we read: the next check starts over
      position += bytesRead;
      // false: no more wanted (a client gone) — said from here, because it may come before follow() has returned.
      if (out(buffer.subarray(0, bytesRead)) === false) stop();
    }
  }

  function closeFile(): void {
    if (file !== null) closeSync(file.fd);
    file = null;
  }

  function check(): void {
    if (file !== null) {
      // Finish the open file first: the service may have written to it just before it was renamed away.
      drain(file.fd);
      if (stopped) return;
      const now = statSync(path, { throwIfNoEntry: false });
      // Still the same file? Holding it open means its inode cannot be reused by a new one.
      if (now && now.dev === file.dev && now.ino === file.ino) return;
      // Renamed away since that read: what it got in between is ours too (it is complete once renamed).
      drain(file.fd);
      if (stopped) return;
      const done = { dev: file.dev, ino: file.ino };
      const next = newerThan(done);
      closeFile(); // rotated or deleted: what the old file gets from now on is not ours
      position = 0;
      if (next) return openAndDrain(next, done);
    }
    openAndDrain(null, null);
  }

  /** Read the rotated file `next` (PATH itself if null) from `position` on. */
  function openAndDrain(next: { path: string; ino: number } | null, done: { dev: number; ino: number } | null): void {
    let fd: number;
    try {
      fd = openSync(next?.path ?? path, 'r');
    } catch (error) {
      if (isMissing(error)) return next ? openAndDrain(null, null) : undefined; // else not there (yet): the watch or the poll brings us back
      throw error;
    }
    const info = fstatSync(fd);
    if (next && done && info.ino !== next.ino) {
      closeSync(fd); // renamed on between our look and the open: look again
      return openAndDrain(newerThan(done), done);
    }
    file = { fd, dev: info.dev, ino: info.ino };
    drain(fd);
    if (next) check(); // a rotated file is complete: on to the next one
  }

  /** The rotated file written right after `done` (PATH.k-1 if done is PATH.k), or null: then PATH. */
  function newerThan(done: { dev: number; ino: number }): { path: string; ino: number } | null {
    const files = rotatedFiles(path);
    const at = files.findIndex((f) => {
      const info = statSync(f, { throwIfNoEntry: false });
      return info?.dev === done.dev && info.ino === done.ino;
    });
    if (at <= 0) return null;
    const ino = statSync(files[at - 1]!, { throwIfNoEntry: false })?.ino;
    return ino === undefined ? null : { path: files[at - 1]!, ino };
  }

  function safeCheck(): void {
    if (stopped) return;
    try {
      check();
    } catch (error) {
      // EACCES, EIO, a directory that went away…: try again at the next event or poll.
      if (!isSystemError(error)) throw error;
    }
  }

  function ensureWatcher(): void {
    if (watcher !== null || stopped) return;
    try {
      watcher = watch(dirname(path), (_event, filename) => {
        // Some platforms do not say which file changed: then check anyway.
        if (filename === null || filename === name) safeCheck();
      });
      watcher.on('error', () => {
        // E.g. the directory was removed: drop the watch, the poll sets up a new one.
        watcher?.close();
        watcher = null;
      });
    } catch {
      watcher = null; // no directory yet, or no inotify watches left: the poll still works
    }
  }

  // Before the first check: `out` may stop us in it.
  const timer = setInterval(() => {
    ensureWatcher();
    safeCheck();
  }, options.pollMs ?? 1000);
  ensureWatcher();
  safeCheck();
  // A file created later is new: read it from its start, not from an offset into some other file.
  if (file === null) position = 0;

  function stop(): void {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    watcher?.close();
    watcher = null;
    closeFile();
  }
  return { stop };
}
