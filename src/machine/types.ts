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
  /** The needs coordinator's last verdict (NEEDS): null = every need is running and ready (or none was ever sent). */
  waitingFor: string | null;
  /** notify: the last STATUS= text of the current run (null at each new run). */
  notifyStatus: string | null;
  /** notify: the current run said STOPPING=1 (false at each new run). */
  notifyStopping: boolean;
  /** The last failed `ready` or `health` run of the current run (null at each new run, and once health passes again). */
  lastProbe: ProbeFailure | null;
  /** The last unhealthy verdict (health retries exhausted, or the notify watchdog), which restarted the service. */
  unhealthy: { reason: string; at: number } | null;
}

export interface ProbeFailure {
  probe: 'ready' | 'health';
  reason: string;
  /** The tail of its output (raw: quote it where it is written). */
  output: string;
  inARow: number;
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
  /**
   * A process the last supervisor left running (its record in STATE_DIR):
   * take it over, running (`ready`), or in starting.awaitingReady. `since`:
   * when it reached running (null when not ready).
   */
  /** `restarts`, `lastExit`: what the last supervisor recorded of its past (absent: none known). */
  | { type: 'ADOPT'; proc: WatchedProc; config: ServiceConfig; since: number | null; ready: boolean; restarts?: number; lastExit?: LastExit | null }
  | { type: 'PID_MISSING' }
  /** `final`: the pid file is this run's answer and it cannot be trusted — the start fails (else it is looked at again). */
  | { type: 'PID_PROBLEM'; reason: string; final?: boolean }
  | { type: 'EXITED'; pid: number; code: number | null; signal: NodeJS.Signals | null; at: number }
  /** `finish` ended (`error`: it could not be started; `killed`: the machine gave up on it after stop_timeout). */
  | { type: 'FINISHED'; code: number | null; signal: NodeJS.Signals | null; error?: string; killed?: boolean }
  /** From the supervisor's needs coordinator: null = every need is running and ready, else why not (`waiting for db (stopped by command)`). */
  | { type: 'NEEDS'; unmet: string | null }
  | ReadinessReport;

/**
 * What the readiness and health actors report (process/readiness-effects.ts's
 * ReadinessEvent, with `at` added by the effects where the machine keeps a time).
 */
export type ReadinessReport =
  | { type: 'READY'; via: 'notification-fd' | 'notify' | 'ready'; at: number }
  | { type: 'NOTIFY_STATUS'; text: string }
  | { type: 'NOTIFY_MAINPID'; proc: ProcRef }
  | { type: 'NOTIFY_RELOADING' }
  | { type: 'NOTIFY_STOPPING' }
  | { type: 'NOTIFY_IGNORED'; reason: string }
  | ({ type: 'PROBE_FAILED' } & ProbeFailure)
  | { type: 'PROBE_PASSED'; probe: 'health' }
  /** `health` failed health_retries times in a row, or no WATCHDOG=1 within watchdog_timeout. */
  | { type: 'UNHEALTHY'; reason: string; at: number }
  | { type: 'READINESS_PROBLEM'; reason: string };

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

/** The inputs of the readiness and health actors; null: this profile has none of that kind (the actor does nothing). */
export interface ReadyFdInput {
  tag: string;
}
export interface NotifyListenInput {
  tag: string;
  /** The run's pid, or the main pid it gave (MAINPID=), or the re-adopted one. */
  pid: number;
  /** The profile's user's uid, or null. */
  uid: number | null;
  /** The watchdog, only once running. */
  watchdogMs: number | null;
}
export interface ProbeInput {
  config: ServiceConfig;
}

/** What guards, actions and log lines are given. */
export interface MachineArgs {
  context: ServiceContext;
  event: ServiceEvent;
}
