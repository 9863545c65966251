// The hook runner's queue: one FIFO per hook (a hook runs its events in
// order), bounded over all hooks. When it is full the oldest run goes —
// supervisord's choice: the newest events say what is true now.
import type { EventRecord } from '../supervisor/events.js';

export interface Run {
  hook: string;
  record: EventRecord;
  /** Queue order over all hooks: the smallest is the oldest. */
  seq: number;
}

export class RunQueue {
  private readonly queues = new Map<string, Run[]>();
  private waiting = 0;
  private seq = 0;

  constructor(private readonly limit: number) {}

  /** Runs waiting, over all hooks. */
  get size(): number {
    return this.waiting;
  }

  /** Queue a run of hook for record; true when the oldest run was dropped to make room. */
  push(hook: string, record: EventRecord): boolean {
    const dropped = this.waiting >= this.limit && this.dropOldest();
    const run = { hook, record, seq: this.seq++ };
    const queue = this.queues.get(hook);
    if (queue) queue.push(run);
    else this.queues.set(hook, [run]);
    this.waiting++;
    return dropped;
  }

  /** The oldest waiting run of a hook that busy() does not hold back, taken off the queue. */
  takeOldest(busy: (hook: string) => boolean): Run | null {
    let next: [string, Run[]] | null = null;
    for (const entry of this.queues) {
      if (busy(entry[0])) continue;
      if (!next || entry[1][0]!.seq < next[1][0]!.seq) next = entry;
    }
    if (!next) return null;
    return this.shiftFrom(next);
  }

  /** Drop every waiting run; returns how many there were. */
  clear(): number {
    const dropped = this.waiting;
    this.queues.clear();
    this.waiting = 0;
    return dropped;
  }

  private dropOldest(): boolean {
    return this.takeOldest(() => false) !== null;
  }

  private shiftFrom([hook, queue]: [string, Run[]]): Run {
    const run = queue.shift()!;
    if (queue.length === 0) this.queues.delete(hook);
    this.waiting--;
    return run;
  }
}
