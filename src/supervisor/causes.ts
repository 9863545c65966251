// Who asked: the `by` of the events a command causes (CeSI's activity log,
// "who stopped what"). A command leaves, per tag, the events it is expected
// to bring, in order — a stop its `stopped`; a start its `started`, then
// `ready`; a restart all three. Each event derived from the service's
// snapshots that comes next in that list carries the caller; any other event
// (a crash, an exit, a failure, an edit's stop) ends the command's story, so
// a later restart by the policy is never put down to the operator. Nothing
// here reads a snapshot: observers.ts hands over the events it derived.
import type { EventDetail, EventKind } from './events.js';

export type CommandType = 'START' | 'STOP' | 'RESTART';

const EXPECTED: Record<CommandType, readonly EventKind[]> = {
  STOP: ['stopped'],
  START: ['started', 'ready'],
  RESTART: ['stopped', 'started', 'ready'],
};

export class Causes {
  /** tag → the caller and the events still expected of its last command. */
  private readonly pending = new Map<string, { by: string; expect: readonly EventKind[] }>();

  /** A command from `by` was sent to `tag` (a later one replaces it). */
  asked(tag: string, command: CommandType, by: string): void {
    this.pending.set(tag, { by, expect: EXPECTED[command] });
  }

  /** Put `by` on those of `details` (one snapshot change of `tag`, in order) that its last command caused. */
  attribute(tag: string, details: EventDetail[]): EventDetail[] {
    const cause = this.pending.get(tag);
    if (!cause || details.length === 0) return details;
    let expect = cause.expect;
    const out: EventDetail[] = [];
    for (const detail of details) {
      const at = expect.indexOf(detail.event);
      if (at < 0) {
        expect = [];
        out.push(detail);
        continue;
      }
      expect = expect.slice(at + 1);
      out.push({ ...detail, by: cause.by });
    }
    if (expect.length === 0) this.pending.delete(tag);
    else this.pending.set(tag, { by: cause.by, expect });
    return out;
  }

  /** `tag` was released: nothing of it stays. */
  forget(tag: string): void {
    this.pending.delete(tag);
  }

  get size(): number {
    return this.pending.size;
  }
}
