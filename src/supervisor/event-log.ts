// The event history on disk: one JSON object per line in STATE_DIR/events.log,
// bounded by rotating to events.log.1 (so at most about twice maxBytes), and
// so surviving supervisor restarts. Live listeners get each record as well.
import { closeSync, fstatSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { rotateFiles } from '../output/rotate.js';
import { nameMatcher } from '../profile/names.js';
import { EVENT_KINDS, type EventRecord } from './events.js';

export class EventLog {
  private size: number;
  /** Kept open: opening the file for each event cost more than writing it (500 stops, 500 opens). */
  private fd: number | null = null;
  private readonly listeners = new Set<(record: EventRecord) => void>();

  constructor(
    private readonly path: string,
    private readonly maxBytes = 1024 * 1024,
  ) {
    this.size = sizeOf(path);
  }

  append(record: EventRecord): void {
    const line = `${JSON.stringify(record)}\n`;
    try {
      if (this.size + line.length > this.maxBytes && this.size > 0) {
        rotateFiles(this.path, 1);
        this.close();
        this.size = 0;
      }
      if (this.fd === null) {
        this.fd = openSync(this.path, 'a', 0o600);
        this.size = fstatSync(this.fd).size; // after SIGHUP: maybe a new file
      }
      writeSync(this.fd, line);
      this.size += Buffer.byteLength(line);
    } catch {
      // A full disk must not stop supervision; the log line still says what happened.
    }
    for (const listener of this.listeners) listener(record);
  }

  /** The stored history, oldest first; lines that are not events are skipped. */
  read(since: Date | null = null): EventRecord[] {
    const records: EventRecord[] = [];
    for (const file of [`${this.path}.1`, this.path]) {
      let text = '';
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n')) {
        const record = parseRecord(line);
        if (record && (since === null || Date.parse(record.time) >= since.getTime())) records.push(record);
      }
    }
    return records;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  subscribe(listener: (record: EventRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** `events NAME|GLOB ...`: is this record of a profile named (a name stands for its instances)? None named: all are. Throws PatternError. */
export function eventFilter(patterns: readonly string[]): (record: EventRecord) => boolean {
  const matchers = patterns.map(nameMatcher);
  return (record) => matchers.length === 0 || matchers.some((matches) => matches(record.profile));
}

/**
 * `events NAME|GLOB ... --since T -n N`: of the whole history `records`, those
 * of the profiles named since T, the last N of them. A pattern is unmatched
 * when it names no profile of `known` and none in the history (a typo).
 * Throws PatternError.
 */
export function selectEvents(records: EventRecord[], query: { names: readonly string[]; since: Date | null; last: number | null }, known: readonly string[]): { events: EventRecord[]; unmatched: string[] } {
  const unmatched = query.names.filter((pattern) => {
    const matches = nameMatcher(pattern);
    return !known.some(matches) && !records.some((r) => matches(r.profile));
  });
  const wanted = eventFilter(query.names);
  const since = query.since?.getTime() ?? null;
  const chosen = records.filter((r) => wanted(r) && (since === null || Date.parse(r.time) >= since));
  return { events: query.last === null ? chosen : chosen.slice(Math.max(0, chosen.length - query.last)), unmatched };
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** One line of events.log, or null if it is not an event (a line being written, garbage). */
export function parseRecord(line: string): EventRecord | null {
  if (!line) return null;
  try {
    const value = JSON.parse(line) as Partial<EventRecord>;
    const known = (EVENT_KINDS as readonly string[]).includes(value.event ?? '');
    return known && typeof value.time === 'string' && typeof value.profile === 'string' ? (value as EventRecord) : null;
  } catch {
    return null;
  }
}
