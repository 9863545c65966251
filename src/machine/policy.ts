// The restart policy as plain functions, so the machine reads as a table.
import { signalName } from '../profile/signals.js';
import type { ServiceConfig } from '../profile/types.js';
import { formatDuration } from '../vocabulary/durations.js';

/** A process that dies within this long of reaching `running` crashed. */
export const CRASH_WINDOW_MS = 1000;
/** This long up and the crash count starts again from zero. */
export const STABLE_AFTER_MS = 30_000;
export const CRASH_LIMIT = 10;
export const BACKOFF_FIRST_MS = 100;
export const BACKOFF_MAX_MS = 30_000;
/** After SIGKILL, how long to wait for the exit before giving the process up. */
export const KILL_GRACE_MS = 5000;

export interface ExitInfo {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
  /** Milliseconds in `running`; 0 if it never got there. */
  uptimeMs: number;
}

export function backoffMs(crashes: number): number {
  return Math.min(BACKOFF_FIRST_MS * 2 ** Math.max(0, crashes - 1), BACKOFF_MAX_MS);
}

export const isFailure = (exit: Pick<ExitInfo, 'code' | 'signal'>): boolean => exit.code !== 0 || exit.signal !== null;

export const isCrash = (exit: ExitInfo): boolean => exit.uptimeMs < CRASH_WINDOW_MS;

/** The crash count after this exit: a stable run forgets earlier crashes. */
export function crashesAfter(previous: number, exit: ExitInfo): number {
  const base = exit.uptimeMs >= STABLE_AFTER_MS ? 0 : previous;
  return isCrash(exit) ? base + 1 : base;
}

export function wantsRestart(config: ServiceConfig | null, exit: ExitInfo): boolean {
  if (!config) return false;
  return config.restart === 'always' || (config.restart === 'on-failure' && isFailure(exit));
}

/** `exited pid 4242 code 1 after 6.4s` — the first half of every exit line. */
export function describeExit(exit: ExitInfo): string {
  const how = exit.signal !== null ? `signal ${signalName(exit.signal)}` : exit.code === null ? 'status unknown' : `code ${exit.code}`;
  return `exited pid ${exit.pid} ${how} after ${formatDuration(exit.uptimeMs)}`;
}
