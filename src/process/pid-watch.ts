import { loadNative, nativeUnavailableReason, type Native } from './native.js';
import type { ProcRef } from '../vocabulary/proc-ref.js';
import { isAlive } from './proc.js';

interface Entry {
  proc: ProcRef;
  onExit: () => void;
  /** Cancels the pidfd watch, if there is one. */
  cancel: (() => void) | null;
  /** Checked by the timer. */
  polled: boolean;
}

/**
 * Notices the death of processes that are not our children (self-daemonized
 * services, re-adopted ones), whose `exit` events never reach us.
 *
 * With the native module: one pidfd per watched pid, watched by the event
 * loop, no timer at all; a death is noticed at once. Without it (or for a pid
 * whose pidfd could not be opened, e.g. out of fds): one timer for all polled
 * pids, running only while there is something to poll.
 */
export class PidWatcher {
  readonly mode: 'pidfd' | 'polling';
  /** Why this watcher polls (one line), or null in pidfd mode. */
  readonly pollingReason: string | null;
  private readonly native: Native | null;
  private readonly watched = new Set<Entry>();
  private polled = 0;
  private timer: NodeJS.Timeout | null = null;

  /** `native`: the native module to use, null to poll; by default whatever loadNative() gives. */
  constructor(
    private readonly intervalMs = 250,
    native: Native | null = loadNative(),
  ) {
    this.native = native?.pidfd ? native : null;
    this.mode = this.native ? 'pidfd' : 'polling';
    this.pollingReason = this.native ? null : (native?.pidfdProblem ?? nativeUnavailableReason() ?? 'no native module given');
  }

  /** Call `onExit` once when `proc` is gone (at once, in a microtask, if it already is). Returns unwatch. */
  watch(proc: ProcRef, onExit: () => void): () => void {
    const entry: Entry = { proc, onExit, cancel: null, polled: false };
    this.watched.add(entry);
    let gone = false;
    if (this.native) {
      try {
        // Open first, then check the start time: if the process still holds
        // the pid now, it held it when the pidfd was opened, so it is ours.
        const cancel = this.native.watchExit(proc.pid, (error) => (error ? this.poll(entry) : this.fire(entry)));
        if (cancel === null) gone = true;
        else entry.cancel = cancel;
      } catch {
        // EMFILE and the like: poll this one.
      }
    }
    if (!gone && !isAlive(proc)) gone = true;
    if (gone) {
      entry.cancel?.();
      entry.cancel = null;
      queueMicrotask(() => this.fire(entry));
    } else if (!entry.cancel) {
      this.poll(entry);
    }
    return () => {
      if (this.watched.delete(entry)) this.forget(entry);
    };
  }

  get size(): number {
    return this.watched.size;
  }

  private poll(entry: Entry): void {
    entry.cancel = null;
    if (entry.polled || !this.watched.has(entry)) return;
    entry.polled = true;
    this.polled++;
    this.timer ??= setInterval(() => this.check(), this.intervalMs);
  }

  private fire(entry: Entry): void {
    if (!this.watched.delete(entry)) return;
    this.forget(entry);
    entry.onExit();
  }

  /** After the entry left `watched`: release its pidfd or its share of the timer. */
  private forget(entry: Entry): void {
    entry.cancel?.();
    entry.cancel = null;
    if (entry.polled) {
      entry.polled = false;
      this.polled--;
    }
    if (this.polled === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private check(): void {
    for (const entry of this.watched) if (entry.polled && !isAlive(entry.proc)) this.fire(entry);
  }
}
