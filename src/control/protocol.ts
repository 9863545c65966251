// The control protocol: one JSON object per line each way over
// STATE_DIR/control.sock. Requests are validated here, before anything acts
// on them, so a broken or hostile client gets a clear error and nothing else.
import { join } from 'node:path';

export const controlSocketPath = (stateDir: string): string => join(stateDir, 'control.sock');

/** A request line longer than this is refused (and the connection closed). */
export const MAX_REQUEST_BYTES = 64 * 1024;

export type ActionCommand = 'start' | 'stop' | 'restart' | 'reload';

export type Request =
  /** `usage` (default true): read rssBytes and cpuSeconds from /proc; `detail`: add each service's `detail`. */
  | { command: 'status'; names: string[]; usage?: boolean; detail?: boolean }
  /** `rolling` (restart only): one at a time, each ready before the next; stop at the first failure. */
  | { command: ActionCommand; names: string[]; all: boolean; wait: boolean; timeoutMs: number; rolling: boolean }
  | { command: 'signal'; signal: string; names: string[]; all: boolean }
  /** `name` (the first protocol): that one profile, the old reply; else `names` (none or absent: all), a row per service. */
  | { command: 'logs'; name: string | null; names?: string[] }
  /** `names`: only the events of those profiles; `last`: only the last N of the history (then live ones, with follow). Absent: all. */
  | { command: 'events'; since: string | null; follow: boolean; names?: string[]; last?: number | null }
  | { command: 'ps'; names?: string[] }
  | { command: 'rescan' }
  | { command: 'quit'; leaveRunning: boolean };

export type RequestId = string | number | null;

/** One service as `status` reports it. */
export interface ServiceStatus {
  name: string;
  /** running, starting, stopping or stopped. */
  state: string;
  /** backoff, failed, idle, ... or null. */
  substate: string | null;
  pid: number | null;
  /** When it reached running (ISO 8601), or null. */
  since: string | null;
  uptimeMs: number | null;
  restarts: number;
  lastExit: { pid: number; code: number | null; signal: string | null; at: string } | null;
  /** Why it is failed or invalid. */
  reason: string | null;
  /** Stopped by command: stays down until `start`. */
  held: boolean;
  /** Has a `down` file: not started automatically. */
  down: boolean;
  /** In stopped.delayed (start_delay, restart_delay): milliseconds until it starts, if known. */
  startsInMs: number | null;
  /** Running and ready (not starting.awaitingReady, not running.reloading). */
  ready: boolean;
  /** The service's own `STATUS=` text (sd_notify), or null. */
  status: string | null;
  /** It said `STOPPING=1` (sd_notify) and is still there. */
  notifyStopping: boolean;
  /** The last failed run of its `ready` or `health` probe (while it still fails), with the tail of its output. */
  probe: { kind: 'ready' | 'health'; reason: string; inARow: number; output: string } | null;
  /** In starting.waiting: the need it waits for (`db`, `db@2`) and why (missing, stopped by command, failed, down, not ready). */
  waitingFor: { need: string; phase: string } | null;
  /** Resident memory and CPU time (user + system, seconds) of its whole process group, read at request time; null when it has no process (or not asked). */
  rssBytes: number | null;
  cpuSeconds: number | null;
  /** With `"detail": true`: what `status NAME` shows beyond the row. */
  detail?: ServiceDetail;
}

/** One service in depth (`status NAME`): its profile, where its output goes, its processes. */
export interface ServiceDetail {
  /** The profile directory, and the names in it (a directory with a trailing `/`). */
  dir: string;
  files: string[];
  /** Where its stdout and stderr go (files), or null with a logger. */
  stdout: string | null;
  stderr: string | null;
  /** Its logger's tag (`NAME:log`) when its output goes to `log/run`. */
  logger: string | null;
  /** Every process of its group, as `ps` gives them. */
  processes: Array<{ pid: number; ppid: number; user: string; rssKiB: number; pcpu: number; stat: string; args: string }>;
}

/** What happened to one service on start/stop/restart/reload/signal. */
export interface ActionResult {
  name: string;
  ok: boolean;
  state: string;
  pid: number | null;
  message: string;
}

const DEFAULT_TIMEOUT_MS = 60_000;

type Parsed = { id: RequestId; request: Request } | { id: RequestId; error: string };

export function parseRequest(line: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { id: null, error: 'malformed request: not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { id: null, error: 'malformed request: not a JSON object' };
  const raw = value as Record<string, unknown>;
  const id = typeof raw.id === 'string' || typeof raw.id === 'number' ? raw.id : null;
  try {
    return { id, request: toRequest(raw) };
  } catch (error) {
    return { id, error: (error as Error).message };
  }
}

class FieldError extends Error {}

function field<T>(raw: Record<string, unknown>, name: string, check: (v: unknown) => v is T, what: string, fallback?: T): T {
  const v = raw[name];
  if (v === undefined && fallback !== undefined) return fallback;
  if (!check(v)) throw new FieldError(`${String(raw.command)}: "${name}" must be ${what}`);
  return v;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isNames = (v: unknown): v is string[] => Array.isArray(v) && v.every((n) => typeof n === 'string' && n.length > 0);
const isTimeout = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 24 * 3600_000;
const isNullableString = (v: unknown): v is string | null => v === null || typeof v === 'string';
const isNullableCount = (v: unknown): v is number | null => v === null || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0);

function toRequest(raw: Record<string, unknown>): Request {
  const command = raw.command;
  switch (command) {
    case 'status':
      return {
        command,
        names: field(raw, 'names', isNames, 'a list of names', []),
        usage: field(raw, 'usage', isBoolean, 'true or false', true),
        detail: field(raw, 'detail', isBoolean, 'true or false', false),
      };
    case 'start':
    case 'stop':
    case 'restart':
    case 'reload': {
      const names = field(raw, 'names', isNames, 'a list of names', []);
      const all = field(raw, 'all', isBoolean, 'true or false', false);
      if (names.length === 0 && !all) throw new FieldError(`${command}: give "names" or "all": true`);
      const wait = field(raw, 'wait', isBoolean, 'true or false', true);
      const timeoutMs = field(raw, 'timeoutMs', isTimeout, 'milliseconds (0 to 86400000)', DEFAULT_TIMEOUT_MS);
      const rolling = field(raw, 'rolling', isBoolean, 'true or false', false);
      if (rolling && command !== 'restart') throw new FieldError(`${command}: "rolling" is for restart only`);
      if (rolling && !wait) throw new FieldError(`restart: "rolling" waits for each service to be ready: it cannot be given with "wait": false`);
      return { command, names, all, wait, timeoutMs, rolling };
    }
    case 'signal': {
      const signal = field(raw, 'signal', isString, 'a signal name or number');
      const names = field(raw, 'names', isNames, 'a list of names', []);
      const all = field(raw, 'all', isBoolean, 'true or false', false);
      if (names.length === 0 && !all) throw new FieldError(`signal: give "names" or "all": true`);
      return { command, signal, names, all };
    }
    case 'logs': {
      const name = raw.name === undefined ? null : field(raw, 'name', isString, 'a profile name');
      return { command, name, names: field(raw, 'names', isNames, 'a list of names', []) };
    }
    case 'events': {
      const since = field(raw, 'since', isNullableString, 'an ISO 8601 time', null);
      if (since !== null && Number.isNaN(Date.parse(since))) throw new FieldError(`events: "since" must be an ISO 8601 time`);
      const follow = field(raw, 'follow', isBoolean, 'true or false', false);
      const names = field(raw, 'names', isNames, 'a list of names', []);
      return { command, since, follow, names, last: field(raw, 'last', isNullableCount, 'a number of events (0 or more)', null) };
    }
    case 'ps':
      return { command, names: field(raw, 'names', isNames, 'a list of names', []) };
    case 'rescan':
      return { command };
    case 'quit':
      return { command, leaveRunning: field(raw, 'leaveRunning', isBoolean, 'true or false', false) };
    default:
      throw new FieldError(
        typeof command === 'string'
          ? `unknown command "${command.slice(0, 40)}" (known: status, start, stop, restart, reload, signal, logs, events, ps, rescan, quit)`
          : 'malformed request: "command" must be a string',
      );
  }
}
