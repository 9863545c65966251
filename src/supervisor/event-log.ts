// The event history on disk: one JSON object per line in STATE_DIR/events.log,
// bounded by rotating to events.log.1 (so at most about twice maxBytes), and
// so surviving supervisor restarts. Live listeners get each record as well.
import { closeSync, fstatSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { rotateFiles } from '../output/rotate.js';
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

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function parseRecord(line: string): EventRecord | null {
  if (!line) return null;
  try {
    const value = JSON.parse(line) as Partial<EventRecord>;
    const known = (EVENT_KINDS as readonly string[]).includes(value.event ?? '');
    return known && typeof value.time === 'string' && typeof value.profile === 'string' ? (value as EventRecord) : null;
  } catch {
    return null;
  }
}
