// GET /api/v1/events/stream: every new event as an SSE event (`id:`,
// `event:` its kind, `data:` its JSON), resumable with Last-Event-ID. One
// subscription to the event log feeds every stream and the counts of
// /metrics (proclaunch_events_total).
import type { EventLog } from '../supervisor/event-log.js';
import { EVENT_KINDS, type EventKind } from '../supervisor/events.js';
import { EventNumbering, isAfter, parseEventId, withIds, type EventId, type IdentifiedEvent } from './event-ids.js';
import type { SseStream } from './sse.js';

/** Live events that may queue for one stream while its replay is written; beyond, it is dropped. */
const MAX_PENDING = 10_000;

export class EventHub {
  /** Events recorded since the HTTP side started (with the supervisor): proclaunch_events_total. */
  readonly counts = new Map<EventKind, number>(EVENT_KINDS.map((kind) => [kind, 0]));
  private readonly numbering = new EventNumbering();
  private readonly listeners = new Set<(event: IdentifiedEvent) => void>();
  private readonly unsubscribe: () => void;

  constructor(private readonly eventLog: EventLog) {
    this.unsubscribe = eventLog.subscribe((record) => {
      this.counts.set(record.event, (this.counts.get(record.event) ?? 0) + 1);
      const event = this.numbering.next(record);
      for (const listener of this.listeners) listener(event);
    });
  }

  close(): void {
    this.unsubscribe();
  }

  /**
   * Stream to `stream`: with `after` (Last-Event-ID) or `since`, first the
   * history from there, then what comes. Subscribed before the history is
   * read, so nothing falls in between (and nothing is sent twice).
   */
  async stream(stream: SseStream, resume: { after: EventId | null; since: Date | null }): Promise<void> {
    const pending: IdentifiedEvent[] = [];
    let live = false;
    const listener = (event: IdentifiedEvent) => {
      if (live) send(stream, event);
      else if (pending.push(event) > MAX_PENDING) stream.close();
    };
    this.listeners.add(listener);
    stream.onClose(() => this.listeners.delete(listener));
    let last: EventId | null = resume.after;
    if (resume.after !== null || resume.since !== null) {
      const from = resume.after !== null ? new Date(resume.after.ms) : resume.since;
      for (const event of withIds(this.eventLog.read(from))) {
        const id = parseEventId(event.id)!;
        if (resume.after !== null && !isAfter(id, resume.after)) continue;
        if (!(await sendPaced(stream, event))) return;
        last = id;
      }
    }
    for (const event of pending) if (last === null || isAfter(parseEventId(event.id)!, last)) send(stream, event);
    live = true;
  }
}

const send = (stream: SseStream, event: IdentifiedEvent): boolean => stream.send({ id: event.id, event: event.event, data: JSON.stringify(event) });

/** A replay may be long (the history holds up to ~2 MiB): written as the client reads it, not all at once into memory. */
async function sendPaced(stream: SseStream, event: IdentifiedEvent): Promise<boolean> {
  await stream.drained();
  return send(stream, event);
}
