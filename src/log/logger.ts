import { closeSync, openSync, writeSync } from 'node:fs';
import { format } from 'date-fns/format';
import { LEVELS, type Level } from '../vocabulary/levels.js';
import { escapeValue } from './escape.js';


/** The formatted second (and its UTC offset) of the last timestamp: date-fns' format costs ~60 µs a call. */
let cachedSecond = Number.NaN;
let cachedPrefix = '';
let cachedOffset = '';

/** `2026-11-22T07:41:03.127+00:00`: ISO 8601, milliseconds, UTC offset, no spaces. */
export function timestamp(date: Date = new Date()): string {
  const ms = date.getTime();
  const second = Math.floor(ms / 1000);
  // An offset only changes on a second boundary, so it is cached with the second.
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = format(date, "yyyy-MM-dd'T'HH:mm:ss");
    cachedOffset = format(date, 'xxx');
  }
  return `${cachedPrefix}.${String(ms - second * 1000).padStart(3, '0')}${cachedOffset}`;
}

export function formatLine(level: Level, tag: string, message: string, date?: Date): string {
  return `${timestamp(date)} ${level} ${escapeValue(tag)} ${escapeValue(message)}\n`;
}

export interface Logger {
  log(level: Level, tag: string, message: string): void;
  /** Reopen the log file (logrotate moved it away); a no-op for stdout. */
  reopen(): void;
  close(): void;
}

/**
 * One line per event: `<timestamp> <LEVEL> <tag> <message>`. Lines are written
 * synchronously so that they are ordered and survive a crash right after.
 */
export function createLogger(options: { path?: string; level?: Level }): Logger {
  const threshold = LEVELS.indexOf(options.level ?? 'INFO');
  const open = (): number => (options.path ? openSync(options.path, 'a', 0o640) : 1);
  let fd = open();
  return {
    log(level, tag, message) {
      if (LEVELS.indexOf(level) < threshold) return;
      try {
        writeSync(fd, formatLine(level, tag, message));
      } catch {
        // A full disk or a closed stdout must not take the supervisor down.
      }
    },
    reopen() {
      if (!options.path) return;
      let next: number;
      try {
        next = open();
      } catch (error) {
        // Keep writing where we were rather than die or go silent.
        this.log('ERROR', 'proclaunch', `cannot reopen log ${options.path}: ${(error as Error).message}; still writing to the old file`);
        return;
      }
      const previous = fd;
      fd = next;
      closeSync(previous);
    },
    close() {
      if (options.path) closeSync(fd);
    },
  };
}
