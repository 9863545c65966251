import { isAlive, type ProcRef } from './proc.js';

/**
 * Notices the death of processes that are not our children (self-daemonized
 * services), whose `exit` events never reach us. Portable fallback: one timer
 * for all watched pids, running only while there is something to watch.
 */
export class PidWatcher {
  private readonly watched = new Map<number, { proc: ProcRef; onExit: () => void }>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly intervalMs = 500) {}

  watch(proc: ProcRef, onExit: () => void): () => void {
    const entry = { proc, onExit };
    this.watched.set(proc.pid, entry);
    if (!isAlive(proc)) {
      queueMicrotask(() => this.fire(proc.pid, entry));
    } else if (!this.timer) {
      this.timer = setInterval(() => this.check(), this.intervalMs);
    }
    return () => {
      if (this.watched.get(proc.pid) === entry) this.watched.delete(proc.pid);
      this.idle();
    };
  }

  get size(): number {
    return this.watched.size;
  }

  private fire(pid: number, entry: { onExit: () => void }): void {
    if (this.watched.get(pid) !== entry) return;
    this.watched.delete(pid);
    this.idle();
    entry.onExit();
  }

  private check(): void {
    for (const [pid, entry] of this.watched) if (!isAlive(entry.proc)) this.fire(pid, entry);
  }

  private idle(): void {
    if (this.watched.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}
