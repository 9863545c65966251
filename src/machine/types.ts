// The data of one service's machine: its context, the events it handles and
// the log lines it emits. The chart itself is in service-machine.ts.
import type { Level } from '../vocabulary/levels.js';
import type { ProcRef } from '../vocabulary/proc-ref.js';
import type { ServiceConfig } from '../profile/types.js';
import type { ExitInfo } from './policy.js';

/** A process we watch: `child` when it is ours (its `exit` event reaches us). */
export interface WatchedProc extends ProcRef {
  child: boolean;
}

/**
 * What the operator and the profiles directory want (runit's `want`):
 * `run` — start it automatically, unless its profile has a `down` file;
 * `down` — stopped by command: no automatic start until `start`;
 * `removed` — its profile directory is gone.
 */
export type Want = 'run' | 'down' | 'removed';

/** An exit, and whether we asked for it (a stop, a restart, an edit, a removal). */
export interface LastExit extends ExitInfo {
  requested: boolean;
}

export interface ServiceContext {
  tag: string;
  /** The last good configuration; null before the first, after removal, or while the profile is invalid and nothing runs. */
  config: ServiceConfig | null;
  /** Why the profile is failed or invalid, for `status`. */
  problem: string | null;
  want: Want;
  /** `run` while starting, then the service process. */
  proc: WatchedProc | null;
  runningSince: number | null;
  crashes: number;
  restarts: number;
  lastExit: LastExit | null;
  /** In stopped.delayed: how long to wait, and when the start is due (for `status`), if known. */
  delayMs: number;
  startsAt: number | null;
}

export type ServiceEvent =
  /**
   * A valid reading of the profile. `touched`: its files changed on disk since
   * the last reading, even if back to the same content (chmod -x, then +x).
   */
  | { type: 'CONFIGURE'; config: ServiceConfig; at?: number; touched: boolean }
  | { type: 'INVALID'; reason: string }
  | { type: 'REMOVE' }
  | { type: 'START' }
  | { type: 'STOP' }
  | { type: 'RESTART' }
  | { type: 'RELOAD' }
  | { type: 'SIGNAL'; signal: NodeJS.Signals }
  | { type: 'SPAWNED'; proc: WatchedProc; at: number }
  /** `runMissing`: `run` itself did not exist any more (removed between reading and spawning). */
  | { type: 'SPAWN_FAILED'; reason: string; runMissing?: boolean }
  | { type: 'PID_FOUND'; proc: WatchedProc; at: number; adopted: boolean }
  /** A process the last supervisor left running (its record in STATE_DIR): take it over. */
  | { type: 'ADOPT'; proc: WatchedProc; config: ServiceConfig; since: number }
  | { type: 'PID_MISSING' }
  | { type: 'PID_PROBLEM'; reason: string }
  | { type: 'EXITED'; pid: number; code: number | null; signal: NodeJS.Signals | null; at: number }
  /** `finish` ended (`error`: it could not be started; `killed`: the machine gave up on it after stop_timeout). */
  | { type: 'FINISHED'; code: number | null; signal: NodeJS.Signals | null; error?: string; killed?: boolean };

export type ServiceEventType = ServiceEvent['type'];
export type EventOf<T extends ServiceEventType> = Extract<ServiceEvent, { type: T }>;

export type ServiceEmitted = { type: 'log'; level: Level; message: string };

/** What `finish` is run for (its arguments, s6's: exit code or -1, signal number or 0, come from `exit`). */
export interface FinishInput {
  config: ServiceConfig;
  exit: ExitInfo;
  /** The event kind the exit was (`stopped` when we asked for it). */
  event: 'exited' | 'crashed' | 'stopped';
}

/** What guards, actions and log lines are given. */
export interface MachineArgs {
  context: ServiceContext;
  event: ServiceEvent;
}
