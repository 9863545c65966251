// An event's SSE id, `MS-K`: its time in ms since the epoch and its index
// among the events of that millisecond. Derived from the history itself, so
// the ids of a replay and of the live stream agree, and a client resumes
// after a supervisor restart too (ids grow with time, not with a counter
// that a restart would reset).
import type { EventRecord } from '../supervisor/events.js';

export type IdentifiedEvent = EventRecord & { id: string };

export interface EventId {
  ms: number;
  k: number;
}

export function parseEventId(text: string): EventId | null {
  const match = /^(\d{1,15})-(\d{1,9})$/.exec(text.trim());
  return match ? { ms: Number(match[1]), k: Number(match[2]) } : null;
}

export const isAfter = (a: EventId, b: EventId): boolean => a.ms > b.ms || (a.ms === b.ms && a.k > b.k);

/** Numbers events in order; `records` must start at a millisecond boundary (a read `since` a time does). */
export class EventNumbering {
  private lastMs = -1;
  private k = 0;

  next(record: EventRecord): IdentifiedEvent {
    const ms = Date.parse(record.time);
    if (ms === this.lastMs) this.k++;
    else {
      this.lastMs = ms;
      this.k = 0;
    }
    return { id: `${ms}-${this.k}`, ...record };
  }
}

export function withIds(records: EventRecord[]): IdentifiedEvent[] {
  const numbering = new EventNumbering();
  return records.map((record) => numbering.next(record));
}
