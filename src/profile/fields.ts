// How a profile file's text becomes a value, or the reason it cannot.
import { readFile } from './files.js';
import { quote } from '../log/escape.js';

/** A profile that cannot be used: its message is the reason an operator reads. */
export class Invalid extends Error {}

export const fail = (reason: string): never => {
  throw new Invalid(reason);
};

export async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    if (code === 'EISDIR') return fail(`${path} is a directory, expected a file`);
    return fail(`cannot read ${path}: ${(error as Error).message}`);
  }
}

/** A file holding seconds (`2`, `0.5`), in milliseconds; `fallback` (seconds) when absent. */
export function seconds(file: string, text: string | null, fallback: number, allowZero: boolean): number {
  if (text === null) return fallback * 1000;
  const value = text.trim();
  const number = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(number) || (!allowZero && number === 0)) {
    return fail(`${file} must be a number of seconds${allowZero ? '' : ' above 0'}, not ${quote(value)}`);
  }
  return Math.round(number * 1000);
}

/**
 * Every problem of one profile, so that they are all reported at once rather
 * than one per fix: each reading that fails is noted and its fallback used.
 */
export class Problems {
  readonly reasons: string[] = [];

  take<T>(read: () => T, fallback: T): T {
    try {
      return read();
    } catch (error) {
      return this.noted(error, fallback);
    }
  }

  async wait<T>(read: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await read();
    } catch (error) {
      return this.noted(error, fallback);
    }
  }

  add(reason: string): void {
    if (!this.reasons.includes(reason)) this.reasons.push(reason);
  }

  private noted<T>(error: unknown, fallback: T): T {
    if (!(error instanceof Invalid)) throw error;
    this.add(error.message);
    return fallback;
  }

  /** Throw them, together, if there are any. */
  check(): void {
    if (this.reasons.length > 0) throw new Invalid(this.reasons.join('; '));
  }
}
