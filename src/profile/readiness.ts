// The profile files that say when a service is ready, what it needs first,
// and how its liveness is checked (SPEC § Readiness, start order and health).
import { stat } from './files.js';
import { join } from 'node:path';
import { quote } from '../log/escape.js';
import { fail, Problems, seconds } from './fields.js';
import { PROFILE_NAME } from './names.js';

/** How the service says it is ready; `none`: as soon as it runs. */
export type Readiness =
  | { kind: 'none' }
  /** s6: a newline on fd N. */
  | { kind: 'fd'; fd: number }
  /** systemd's sd_notify: READY=1 on NOTIFY_SOCKET; WATCHDOG=1 at least every watchdogMs, if set. */
  | { kind: 'notify'; watchdogMs: number | null }
  /** s6-notifyoncheck: the `ready` probe, run every intervalMs until it exits 0. */
  | { kind: 'probe'; path: string; intervalMs: number };

export interface HealthCheck {
  path: string;
  intervalMs: number;
  /** Each run is killed (with its group) after this long: a failure. */
  timeoutMs: number;
  /** This many failures in a row restart the service. */
  retries: number;
}

/** `db` (every instance of db) or `db@2` (that one). */
export interface Need {
  name: string;
  instance: number | null;
}

export interface ReadinessConfig {
  readiness: Readiness;
  /** From spawn until ready, else the start fails. */
  readyTimeoutMs: number;
  needs: Need[];
  health: HealthCheck | null;
}

export const READINESS_FILES = [
  'notification-fd', 'notify', 'watchdog_timeout', 'ready', 'ready_interval', 'ready_timeout',
  'needs', 'health', 'health_interval', 'health_timeout', 'health_retries',
] as const;
export type ReadinessFile = (typeof READINESS_FILES)[number];

/** The text of one of these files, or null when absent. */
export type FileText = (file: ReadinessFile) => Promise<string | null>;

export const DEFAULT_READY_INTERVAL_S = 0.1;
export const DEFAULT_READY_TIMEOUT_S = 60;
export const DEFAULT_HEALTH_INTERVAL_S = 10;
export const DEFAULT_HEALTH_TIMEOUT_S = 5;
export const DEFAULT_HEALTH_RETRIES = 3;

function notificationFd(text: string): number {
  const value = text.trim();
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  // 0, 1 and 2 are stdin, stdout and stderr; 1024 and up is past most fd limits.
  if (!Number.isInteger(n) || n < 3 || n > 1023) return fail(`notification-fd must be a file descriptor number from 3 to 1023, not ${quote(value)}`);
  return n;
}

function wholeNumber(file: string, text: string | null, fallback: number): number {
  if (text === null) return fallback;
  const value = text.trim();
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 1000) return fail(`${file} must be a whole number from 1 to 1000, not ${quote(value)}`);
  return n;
}

/** An executable of the profile's: its path, or the reason it cannot be run. */
async function probePath(dir: string, file: 'ready' | 'health'): Promise<string> {
  const path = join(dir, file);
  const info = await stat(path).catch(() => null);
  if (!info?.isFile()) return fail(`${file} is not a file`);
  if ((info.mode & 0o111) === 0) return fail(`${file} is not executable (chmod +x ${file})`);
  return path;
}

/** `needs`: one profile name (or NAME@N) a line; blank lines and `#` comments skipped. */
export function parseNeeds(text: string, self: string): Need[] {
  const needs: Need[] = [];
  const seen = new Set<string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const match = /^([^@]+)(?:@(\d+))?$/.exec(line);
    if (!match || !PROFILE_NAME.test(match[1]!) || (match[2] !== undefined && Number(match[2]) < 1)) {
      fail(`needs: ${quote(line)} is not a profile name (or NAME@N)`);
    }
    if (match![1] === self) fail(`needs: ${quote(line)} is this profile itself`);
    if (seen.has(line)) continue;
    seen.add(line);
    needs.push({ name: match![1]!, instance: match![2] === undefined ? null : Number(match![2]) });
  }
  return needs;
}

/** `db`, `db@2`: as written in `needs`, as shown in `status`. */
export const needText = (need: Need): string => (need.instance === null ? need.name : `${need.name}@${need.instance}`);

/**
 * Read the readiness, needs and health files. `notifyUnsupported`: why this
 * supervisor cannot serve `notify` (no native module), or null. Each problem is
 * noted in `noted` (all of them are reported at once); without it they are thrown together.
 */
export async function readReadiness(dir: string, name: string, present: Set<string>, text: FileText, notifyUnsupported: string | null, noted?: Problems): Promise<ReadinessConfig> {
  const problems = noted ?? new Problems();
  const [fdText, watchdogText, intervalText, timeoutText, needsText, healthIntervalText, healthTimeoutText, retriesText] = await Promise.all([
    text('notification-fd'), text('watchdog_timeout'), text('ready_interval'), text('ready_timeout'),
    text('needs'), text('health_interval'), text('health_timeout'), text('health_retries'),
  ]);
  const ways = (['notification-fd', 'notify', 'ready'] as const).filter((f) => present.has(f));
  if (ways.length > 1) problems.add(`${ways.join(' and ')}: choose one way to know the service is ready`);
  if (watchdogText !== null && !present.has('notify')) problems.add('watchdog_timeout needs notify (the service sends WATCHDOG=1)');

  let readiness: Readiness = { kind: 'none' };
  if (fdText !== null) readiness = { kind: 'fd', fd: problems.take(() => notificationFd(fdText), 3) };
  else if (present.has('notify')) {
    if (notifyUnsupported) problems.add(`notify cannot be served: ${notifyUnsupported}`);
    readiness = { kind: 'notify', watchdogMs: watchdogText === null ? null : problems.take(() => seconds('watchdog_timeout', watchdogText, 0, false), 0) };
  } else if (present.has('ready')) {
    readiness = { kind: 'probe', path: await problems.wait(() => probePath(dir, 'ready'), ''), intervalMs: problems.take(() => seconds('ready_interval', intervalText, DEFAULT_READY_INTERVAL_S, false), 0) };
  }
  const health = present.has('health')
    ? {
      path: await problems.wait(() => probePath(dir, 'health'), ''),
      intervalMs: problems.take(() => seconds('health_interval', healthIntervalText, DEFAULT_HEALTH_INTERVAL_S, false), 0),
      timeoutMs: problems.take(() => seconds('health_timeout', healthTimeoutText, DEFAULT_HEALTH_TIMEOUT_S, false), 0),
      retries: problems.take(() => wholeNumber('health_retries', retriesText, DEFAULT_HEALTH_RETRIES), 0),
    }
    : null;
  const config = {
    readiness,
    readyTimeoutMs: problems.take(() => seconds('ready_timeout', timeoutText, DEFAULT_READY_TIMEOUT_S, false), 0),
    needs: needsText === null ? [] : problems.take(() => parseNeeds(needsText, name), []),
    health,
  };
  if (!noted) problems.check();
  return config;
}
