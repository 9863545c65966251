// The life of one service, as data. No I/O here: spawning, signalling and
// watching pids are actions and actors supplied with `machine.provide(...)`
// (see process/effects.ts); log lines are emitted, not written.
import { assign, emit, enqueueActions, fromCallback, setup, type ActorRefFrom, type SnapshotFrom } from 'xstate';
import type { ProcRef } from '../vocabulary/proc-ref.js';
import type { Level } from '../vocabulary/levels.js';
import { formatDuration } from '../vocabulary/durations.js';
import { signalName, signalNumber } from '../profile/signals.js';
import type { ServiceConfig } from '../profile/types.js';
import {
  CRASH_LIMIT, KILL_GRACE_MS, backoffMs, crashesAfter, describeExit, isCrash, isFailure, wantsRestart, type ExitInfo,
} from './policy.js';

/** A process we watch: `child` when it is ours (its `exit` event reaches us). */
export interface WatchedProc extends ProcRef {
  child: boolean;
}

export interface ServiceContext {
  tag: string;
  /** The last good configuration; null before the first or after removal. */
  config: ServiceConfig | null;
  /** Why the profile is failed or invalid, for `status`. */
  problem: string | null;
  /** Stopped by command: no automatic start until `start`. */
  held: boolean;
  removed: boolean;
  /** `run` while starting, then the service process. */
  proc: WatchedProc | null;
  runningSince: number | null;
  crashes: number;
  restarts: number;
  lastExit: ExitInfo | null;
  /** A restart is in progress: start again once stopped. */
  startAfterStop: boolean;
  /** In stopped.delayed: how long to wait, and when the start is due (for `status`), if known. */
  delayMs: number;
  startsAt: number | null;
  /**
   * What follows `finish`: `decide` after an exit of its own (restart policy,
   * unless finish exits 125), `start` or `idle` after a stop (restart or not).
   */
  afterFinish: 'decide' | 'start' | 'idle';
  /** How `finish` ended: its exit code, or null if it was killed or could not run. */
  finishCode: number | null;
  /**
   * `run` could not be executed although the profile read fine: the files
   * changed between reading and spawning (chmod -x, then +x). Any reading,
   * even an identical one, is worth another try.
   */
  spawnFailed: boolean;
  /** The profile turned invalid while `finish` ran: stopped.failed once it is over. */
  pendingInvalid: string | null;
}

export type ServiceEvent =
  | { type: 'CONFIGURE'; config: ServiceConfig; at?: number }
  | { type: 'INVALID'; reason: string }
  | { type: 'REMOVE' }
  | { type: 'START' }
  | { type: 'STOP' }
  | { type: 'RESTART' }
  | { type: 'RELOAD' }
  | { type: 'SIGNAL'; signal: NodeJS.Signals }
  | { type: 'SPAWNED'; proc: WatchedProc; at: number }
  | { type: 'SPAWN_FAILED'; reason: string }
  | { type: 'PID_FOUND'; proc: WatchedProc; at: number; adopted: boolean }
  /** A process the last supervisor left running (its record in STATE_DIR): take it over. */
  | { type: 'ADOPT'; proc: WatchedProc; config: ServiceConfig; since: number }
  | { type: 'PID_MISSING' }
  | { type: 'PID_PROBLEM'; reason: string }
  | { type: 'EXITED'; pid: number; code: number | null; signal: NodeJS.Signals | null; at: number }
  /** `finish` ended (`error`: it could not be started). */
  | { type: 'FINISHED'; code: number | null; signal: NodeJS.Signals | null; error?: string };

export type ServiceEmitted = { type: 'log'; level: Level; message: string };

type Exited = Extract<ServiceEvent, { type: 'EXITED' }>;

/** What `finish` is run for (its arguments, s6's: exit code or -1, signal number or 0, come from `exit`). */
export interface FinishInput {
  config: ServiceConfig;
  exit: ExitInfo;
  /** The event kind the exit was (`stopped` when we asked for it). */
  event: 'exited' | 'crashed' | 'stopped';
}

const exitOf = (context: ServiceContext, event: Exited): ExitInfo => ({
  pid: event.pid,
  code: event.code,
  signal: event.signal,
  at: event.at,
  uptimeMs: context.runningSince === null ? 0 : Math.max(0, event.at - context.runningSince),
});

const autostart = (c: ServiceContext): boolean => c.config !== null && !c.removed && !c.held && !c.config.down;
const isOurs = (c: ServiceContext, e: { pid: number }): boolean => c.proc?.pid === e.pid;
/** In stopped.deciding: the exit being decided on. */
const lastExit = (c: ServiceContext): ExitInfo => c.lastExit!;
const nextCrashes = (c: ServiceContext): number => crashesAfter(c.crashes, lastExit(c));
const hasFinish = (c: ServiceContext): boolean => c.config?.finishPath != null && !c.removed;
/** s6 convention: `finish` exiting 125 means "do not restart". */
export const FINISH_NO_RESTART = 125;

/** Whether a new configuration differs in a way that should (re)start or reload the service. */
const launchChanged = (old: ServiceConfig | null, next: ServiceConfig): boolean => old?.fingerprint.launch !== next.fingerprint.launch;
const watchChanged = (old: ServiceConfig | null, next: ServiceConfig): boolean => old?.fingerprint.watch !== next.fingerprint.watch;
const anyChange = (old: ServiceConfig | null, next: ServiceConfig): boolean =>
  launchChanged(old, next) || watchChanged(old, next) || old?.fingerprint.policy !== next.fingerprint.policy;

/** A CONFIGURE in stopped.idle that should start the service: new, re-added, edited, or `down` lifted. */
function startsOnConfigure(context: ServiceContext, event: { config: ServiceConfig }): boolean {
  const next = { ...context, config: event.config, removed: false };
  const old = context.removed ? null : context.config;
  const downLifted = old?.down === true && !event.config.down;
  return autostart(next) && (old === null || launchChanged(old, event.config) || watchChanged(old, event.config) || downLifted);
}

const noop = fromCallback(() => undefined);

export const serviceMachine = setup({
  types: {
    context: {} as ServiceContext,
    events: {} as ServiceEvent,
    input: {} as { tag: string },
    emitted: {} as ServiceEmitted,
  },
  actions: {
    /** Spawn `run`; report SPAWNED or SPAWN_FAILED, and EXITED when it ends. */
    launch: (_args, _params: { config: ServiceConfig }) => undefined,
    /** Send a signal to the service's process group; EXITED if it is already gone. */
    signal: (_args, _params: { proc: WatchedProc; signal: NodeJS.Signals }) => undefined,
    /** The leader died while stopping: SIGKILL what is left of its group. */
    killLeftovers: (_args, _params: { proc: WatchedProc }) => undefined,
  },
  actors: {
    /** Does the pid file already name a live process? PID_FOUND (adopted) or PID_MISSING. */
    probePidFile: noop as ReturnType<typeof fromCallback<ServiceEvent, { config: ServiceConfig }>>,
    /** Wait for the pid file to name a live process: PID_FOUND, with PID_PROBLEM along the way. */
    awaitPidFile: noop as ReturnType<typeof fromCallback<ServiceEvent, { config: ServiceConfig }>>,
    /** Report EXITED when a process that is not our child dies. */
    watchPid: noop as ReturnType<typeof fromCallback<ServiceEvent, { proc: WatchedProc | null }>>,
    /** Run the profile's `finish`; FINISHED when it ends. Stopping this actor kills it. */
    runFinish: noop as ReturnType<typeof fromCallback<ServiceEvent, FinishInput>>,
  },
  delays: {
    backoff: ({ context }) => backoffMs(context.crashes),
    startTimeout: ({ context }) => context.config?.startTimeoutMs ?? 10_000,
    stopTimeout: ({ context }) => context.config?.stopTimeoutMs ?? 10_000,
    killGrace: KILL_GRACE_MS,
    startDelay: ({ context }) => context.delayMs,
    // `finish` gets as long as the service gets to stop.
    finishTimeout: ({ context }) => context.config?.stopTimeoutMs ?? 10_000,
  },
}).createMachine({
  id: 'service',
  context: ({ input }) => ({
    tag: input.tag, config: null, problem: null, held: false, removed: false, proc: null,
    runningSince: null, crashes: 0, restarts: 0, lastExit: null, startAfterStop: false, delayMs: 0, startsAt: null,
    afterFinish: 'decide', finishCode: null, spawnFailed: false, pendingInvalid: null,
  }),
  initial: 'stopped',
  on: {
    SIGNAL: {
      guard: ({ context }) => context.proc !== null,
      actions: [
        emit(({ context, event }) => ({ type: 'log', level: 'INFO', message: `sending ${event.signal} to pid ${context.proc!.pid}` }) as const),
        { type: 'signal', params: ({ context, event }) => ({ proc: context.proc!, signal: event.signal }) },
      ],
    },
  },
  states: {
    stopped: {
      initial: 'idle',
      entry: assign({ proc: null, runningSince: null, startAfterStop: false }),
      on: {
        INVALID: { target: '.failed', actions: assign({ config: null, problem: ({ event }) => event.reason }) },
        REMOVE: { target: '.idle', actions: assign({ config: null, removed: true, held: false, problem: null }) },
        START: [
          { guard: ({ context }) => context.config !== null, target: 'starting', actions: assign({ held: false, crashes: 0, problem: null }) },
          { actions: assign({ held: false }) },
        ],
        RESTART: { guard: ({ context }) => context.config !== null, target: 'starting', actions: assign({ held: false, crashes: 0, problem: null }) },
        STOP: { target: '.idle', actions: assign({ held: true }) },
      },
      states: {
        idle: {
          tags: ['down'],
          on: {
            ADOPT: { target: '#service.running', actions: assign({ proc: ({ event }) => event.proc, config: ({ event }) => event.config, removed: false, problem: null }) },
            CONFIGURE: [
              {
                // New, re-added, fixed, edited, or `down` removed: start it (after start_delay).
                guard: ({ context, event }) => startsOnConfigure(context, event) && event.config.startDelayMs > 0,
                target: 'delayed',
                actions: [
                  assign({
                    config: ({ event }) => event.config, removed: false, problem: null,
                    delayMs: ({ event }) => event.config.startDelayMs,
                    startsAt: ({ event }) => (event.at === undefined ? null : event.at + event.config.startDelayMs),
                  }),
                  emit(({ event }) => ({ type: 'log', level: 'INFO', message: `starting in ${formatDuration(event.config.startDelayMs)} (start_delay)` }) as const),
                ],
              },
              {
                guard: ({ context, event }) => startsOnConfigure(context, event),
                target: '#service.starting',
                actions: assign({ config: ({ event }) => event.config, removed: false, problem: null }),
              },
              { actions: assign({ config: ({ event }) => event.config, removed: false, problem: null }) },
            ],
          },
        },
        /** start_delay / restart_delay: an automatic start that waits. Commands start at once. */
        delayed: {
          tags: ['down'],
          after: { startDelay: '#service.starting' },
          exit: assign({ startsAt: null }),
          on: { CONFIGURE: { actions: assign({ config: ({ event }) => event.config, removed: false, problem: null }) } },
        },
        backoff: {
          tags: ['down'],
          after: { backoff: '#service.starting' },
          on: { CONFIGURE: { actions: assign({ config: ({ event }) => event.config, removed: false, problem: null }) } },
        },
        /** Transient: the service has just exited; `finish` first, if there is one. */
        exited: {
          always: [{ guard: ({ context }) => hasFinish(context), target: 'finishing' }, { target: 'deciding' }],
        },
        /** `finish` runs; the exit is decided once it ends (or is killed after stop_timeout). */
        finishing: {
          tags: ['finishing', 'transitional'],
          entry: emit(({ context }) => ({
            type: 'log', level: 'INFO',
            message: `running finish ${lastExit(context).code ?? -1} ${lastExit(context).signal === null ? 0 : signalNumber(lastExit(context).signal!)}`,
          }) as const),
          invoke: {
            src: 'runFinish',
            input: ({ context }) => ({
              config: context.config!,
              exit: lastExit(context),
              event: context.afterFinish !== 'decide' ? 'stopped' : isFailure(lastExit(context)) ? 'crashed' : 'exited',
            }),
          },
          after: {
            finishTimeout: {
              target: 'finished',
              actions: [
                assign({ finishCode: null }),
                emit(({ context }) => ({ type: 'log', level: 'WARN', message: `finish killed: still running after ${(context.config?.stopTimeoutMs ?? 0) / 1000}s` }) as const),
              ],
            },
          },
          on: {
            FINISHED: {
              target: 'finished',
              actions: [
                assign({ finishCode: ({ event }) => event.code }),
                emit(({ event }) => ({
                  type: 'log',
                  // 125 is finish saying "do not restart": an answer, not a problem.
                  level: event.error || (event.code !== 0 && event.code !== FINISH_NO_RESTART) ? 'WARN' : 'INFO',
                  message: event.error ? `finish could not run: ${event.error}`
                    : `finish exited ${event.signal ? `signal ${signalName(event.signal)}` : `code ${event.code}`}`,
                }) as const),
              ],
            },
            // Commands wait for `finish`, then apply.
            STOP: { actions: assign({ held: true, afterFinish: 'idle' }) },
            START: { actions: assign({ held: false, crashes: 0, problem: null, afterFinish: 'start' }) },
            RESTART: { actions: assign({ held: false, crashes: 0, problem: null, afterFinish: 'start' }) },
            REMOVE: { actions: assign({ removed: true, held: false, afterFinish: 'idle' }) },
            // Not stopped.failed at once: that would kill finish midway.
            INVALID: { actions: assign({ problem: ({ event }) => event.reason, pendingInvalid: ({ event }) => event.reason }) },
            CONFIGURE: {
              actions: assign({
                pendingInvalid: null,
                // Edited meanwhile: start once finish is over, as an edit of a stopped service does.
                afterFinish: ({ context, event }) => (startsOnConfigure(context, event) ? 'start' : context.afterFinish),
                config: ({ event }) => event.config, removed: false, problem: null,
              }),
            },
          },
        },
        /** Transient: `finish` is over. */
        finished: {
          always: [
            { guard: ({ context }) => context.pendingInvalid !== null, target: 'failed', actions: assign({ config: null, pendingInvalid: null }) },
            {
              guard: ({ context }) => context.afterFinish === 'start' && context.config !== null && !context.removed && !context.held,
              target: '#service.starting',
            },
            { guard: ({ context }) => context.afterFinish !== 'decide', target: 'idle', actions: assign({ config: ({ context }) => (context.removed ? null : context.config) }) },
            {
              guard: ({ context }) => context.finishCode === FINISH_NO_RESTART,
              target: 'idle',
              actions: [
                assign({ crashes: ({ context }) => nextCrashes(context) }),
                emit(({ context }) => ({ type: 'log', level: 'INFO', message: `${describeExit(lastExit(context))}; not restarting (finish exited ${FINISH_NO_RESTART})` }) as const),
              ],
            },
            { target: 'deciding' },
          ],
        },
        /** An exit of its own (after `finish`): restart, back off, wait, or stay stopped. */
        deciding: {
          always: [
            {
              guard: ({ context }) => !wantsRestart(context.config, lastExit(context)) || context.removed,
              target: 'idle',
              actions: [
                assign({ crashes: ({ context }) => nextCrashes(context) }),
                emit(({ context }) => ({
                  type: 'log', level: 'INFO',
                  message: `${describeExit(lastExit(context))}; not restarting (${context.config?.restart === 'on-failure' ? 'restart is on-failure' : 'no restart file'})`,
                }) as const),
              ],
            },
            {
              // A periodic job: a clean exit with restart_delay is its rhythm, however short the run.
              guard: ({ context }) => !isFailure(lastExit(context)) && (context.config?.restartDelayMs ?? 0) > 0,
              target: 'delayed',
              actions: [
                emit(({ context }) => ({ type: 'log', level: 'INFO', message: `${describeExit(lastExit(context))}; restarting in ${formatDuration(context.config!.restartDelayMs)}` }) as const),
                assign({
                  crashes: 0, restarts: ({ context }) => context.restarts + 1,
                  delayMs: ({ context }) => context.config!.restartDelayMs,
                  startsAt: ({ context }) => lastExit(context).at + context.config!.restartDelayMs,
                }),
              ],
            },
            {
              guard: ({ context }) => nextCrashes(context) >= CRASH_LIMIT,
              target: 'failed',
              actions: [
                assign({
                  crashes: ({ context }) => nextCrashes(context),
                  problem: `crashed ${CRASH_LIMIT} times in a row; not restarting until \`proclaunch start\` or a change to the profile`,
                }),
                emit(({ context }) => ({ type: 'log', level: 'ERROR', message: `${describeExit(lastExit(context))}; failed: ${context.problem}` }) as const),
              ],
            },
            {
              guard: ({ context }) => isCrash(lastExit(context)),
              target: 'backoff',
              actions: [
                emit(({ context }) => {
                  const crashes = nextCrashes(context);
                  return { type: 'log', level: 'WARN', message: `${describeExit(lastExit(context))}; restarting in ${backoffMs(crashes)}ms (crash ${crashes} of ${CRASH_LIMIT})` } as const;
                }),
                assign({ crashes: ({ context }) => nextCrashes(context), restarts: ({ context }) => context.restarts + 1 }),
              ],
            },
            {
              // Not a crash, no restart_delay: start_delay before each automatic start.
              guard: ({ context }) => (context.config?.startDelayMs ?? 0) > 0,
              target: 'delayed',
              actions: [
                emit(({ context }) => ({ type: 'log', level: 'INFO', message: `${describeExit(lastExit(context))}; restarting in ${formatDuration(context.config!.startDelayMs)}` }) as const),
                assign({
                  crashes: ({ context }) => nextCrashes(context), restarts: ({ context }) => context.restarts + 1,
                  delayMs: ({ context }) => context.config!.startDelayMs,
                  startsAt: ({ context }) => lastExit(context).at + context.config!.startDelayMs,
                }),
              ],
            },
            {
              target: '#service.starting',
              actions: [
                emit(({ context }) => ({ type: 'log', level: 'INFO', message: `${describeExit(lastExit(context))}; restarting now` }) as const),
                assign({ crashes: ({ context }) => nextCrashes(context), restarts: ({ context }) => context.restarts + 1 }),
              ],
            },
          ],
        },
        failed: {
          tags: ['down', 'failed'],
          on: {
            CONFIGURE: [
              {
                guard: ({ context, event }) => (anyChange(context.config, event.config) || context.spawnFailed) && autostart({ ...context, config: event.config, removed: false }),
                target: '#service.starting',
                actions: assign({ config: ({ event }) => event.config, crashes: 0, problem: null, removed: false }),
              },
              {
                guard: ({ context, event }) => anyChange(context.config, event.config) || context.spawnFailed,
                target: 'idle',
                actions: assign({ config: ({ event }) => event.config, crashes: 0, problem: null, removed: false }),
              },
            ],
          },
        },
      },
    },

    starting: {
      tags: ['transitional'],
      entry: assign({ proc: null, runningSince: null, startAfterStop: false, spawnFailed: false }),
      initial: 'choosing',
      after: {
        startTimeout: [
          {
            // Stopped while waiting for a pid file that never came: nothing to stop.
            guard: ({ context }) => (context.held || context.removed) && context.proc === null,
            target: '#service.stopped.idle',
            actions: [
              assign({ config: ({ context }) => (context.removed ? null : context.config) }),
              emit({ type: 'log', level: 'INFO', message: 'stopped (its pid file never named a live process)' } as const),
            ],
          },
          {
          target: '#service.stopped.failed',
          actions: [
            assign({ problem: ({ context }) => `not running after start_timeout ${(context.config?.startTimeoutMs ?? 0) / 1000}s: ${context.problem ?? 'run did not exit'}` }),
            emit(({ context }) => ({ type: 'log', level: 'ERROR', message: `failed: ${context.problem}` }) as const),
            // A `run` that never exited is killed, not left behind.
            enqueueActions(({ context, enqueue }) => {
              if (context.proc) enqueue({ type: 'signal', params: { proc: context.proc, signal: 'SIGKILL' } });
            }),
          ],
          },
        ],
      },
      on: {
        STOP: [
          { guard: ({ context }) => context.proc !== null, target: 'stopping', actions: assign({ held: true }) },
          { target: 'stopped.idle', actions: assign({ held: true }) },
        ],
        REMOVE: [
          { guard: ({ context }) => context.proc !== null, target: 'stopping', actions: assign({ removed: true, held: false }) },
          { target: 'stopped.idle', actions: assign({ removed: true, held: false, config: null }) },
        ],
        INVALID: { actions: assign({ problem: ({ event }) => event.reason }) },
        CONFIGURE: [
          {
            guard: ({ context, event }) => launchChanged(context.config, event.config) && context.proc !== null,
            target: 'stopping',
            actions: assign({ config: ({ event }) => event.config, startAfterStop: true, problem: null }),
          },
          { actions: assign({ config: ({ event }) => event.config, problem: null }) },
        ],
      },
      states: {
        choosing: {
          always: [{ guard: ({ context }) => context.config?.pidFile != null, target: 'probing' }, { target: 'spawning' }],
        },
        probing: {
          invoke: { src: 'probePidFile', input: ({ context }) => ({ config: context.config! }) },
          // A new profile while probing: probe again, with it (the pid file may have moved).
          on: {
            PID_MISSING: 'spawning',
            PID_FOUND: { target: '#service.running', actions: assign({ proc: ({ event }) => event.proc }) },
            CONFIGURE: {
              guard: ({ context, event }) => launchChanged(context.config, event.config),
              target: '#service.starting',
              reenter: true,
              actions: assign({ config: ({ event }) => event.config, problem: null }),
            },
          },
        },
        spawning: {
          entry: { type: 'launch', params: ({ context }) => ({ config: context.config! }) },
          on: {
            // The process is on its way: `stopping` waits for SPAWNED, then signals it.
            STOP: { target: '#service.stopping', actions: assign({ held: true }) },
            // A new `run`, env, ... while the old one is being spawned: restart once it is there.
            CONFIGURE: { guard: ({ context, event }) => launchChanged(context.config, event.config), actions: assign({ config: ({ event }) => event.config, startAfterStop: true, problem: null }) },
            REMOVE: { target: '#service.stopping', actions: assign({ removed: true, held: false }) },
            SPAWNED: [
              {
                // The profile changed while `run` was being spawned: that process runs the old one.
                guard: ({ context }) => context.startAfterStop,
                target: '#service.stopping',
                actions: assign({ proc: ({ event }) => event.proc }),
              },
              {
                guard: ({ context }) => context.config?.pidFile != null,
                target: 'launched',
                actions: [
                  assign({ proc: ({ event }) => event.proc }),
                  emit(({ event, context }) => ({ type: 'log', level: 'INFO', message: `started pid ${event.proc.pid}; waiting for pid file ${context.config!.pidFile}` }) as const),
                ],
              },
              {
                target: '#service.running',
                actions: [
                  assign({ proc: ({ event }) => event.proc }),
                  emit(({ event }) => ({ type: 'log', level: 'INFO', message: `started pid ${event.proc.pid}` }) as const),
                ],
              },
            ],
            SPAWN_FAILED: {
              target: '#service.stopped.failed',
              actions: [
                assign({ problem: ({ event }) => event.reason, spawnFailed: true }),
                emit(({ event }) => ({ type: 'log', level: 'ERROR', message: `failed: ${event.reason}` }) as const),
              ],
            },
          },
        },
        launched: {
          // A self-daemonizing `run`: it must exit 0, leaving the pid file behind.
          on: {
            EXITED: [
              { guard: ({ context, event }) => !isOurs(context, event) },
              {
                guard: ({ event }) => event.code === 0,
                target: 'awaitingPidFile',
                actions: assign({ proc: null }),
              },
              {
                guard: ({ context }) => context.config?.restart !== 'never' && context.crashes + 1 < CRASH_LIMIT,
                target: '#service.stopped.backoff',
                actions: [
                  assign({ crashes: ({ context }) => context.crashes + 1, lastExit: ({ context, event }) => exitOf(context, event) }),
                  emit(({ context, event }) => ({
                    type: 'log', level: 'WARN',
                    message: `run ${describeExit(exitOf(context, event))} before writing its pid file; restarting in ${backoffMs(context.crashes)}ms (crash ${context.crashes} of ${CRASH_LIMIT})`,
                  }) as const),
                ],
              },
              {
                target: '#service.stopped.failed',
                actions: [
                  assign({
                    lastExit: ({ context, event }) => exitOf(context, event),
                    problem: ({ context, event }) => `run ${describeExit(exitOf(context, event))} before writing its pid file`,
                  }),
                  emit(({ context }) => ({ type: 'log', level: 'ERROR', message: `failed: ${context.problem}` }) as const),
                ],
              },
            ],
          },
        },
        awaitingPidFile: {
          invoke: { src: 'awaitPidFile', input: ({ context }) => ({ config: context.config! }) },
          on: {
            // `run` is gone and the daemon it forked is not known yet: keep
            // waiting for it, so that it is stopped rather than left behind.
            STOP: { actions: assign({ held: true }) },
            REMOVE: { actions: assign({ removed: true, held: false }) },
            CONFIGURE: { guard: ({ context, event }) => launchChanged(context.config, event.config), actions: assign({ config: ({ event }) => event.config, startAfterStop: true, problem: null }) },
            PID_PROBLEM: { actions: assign({ problem: ({ event }) => event.reason }) },
            PID_FOUND: [
              {
                // Stopped, removed or changed meanwhile: stop (and maybe restart) the daemon now that it is known.
                guard: ({ context }) => context.held || context.removed || context.startAfterStop,
                target: '#service.stopping',
                actions: assign({ proc: ({ event }) => event.proc, problem: null }),
              },
              { target: '#service.running', actions: assign({ proc: ({ event }) => event.proc, problem: null }) },
            ],
          },
        },
      },
    },

    running: {
      tags: ['up'],
      entry: [
        assign({ runningSince: ({ event }) => (event.type === 'ADOPT' ? event.since : 'at' in event ? (event.at ?? null) : null) }),
        emit(({ context, event }) => ({
          type: 'log', level: 'INFO',
          message: `running pid ${context.proc!.pid}${
            event.type === 'ADOPT' ? ' (re-adopted: left running by the last supervisor)'
            : event.type === 'PID_FOUND' && event.adopted ? ' (adopted: its pid file named a live process)' : ''}`,
        }) as const),
      ],
      invoke: { src: 'watchPid', input: ({ context }) => ({ proc: context.proc }) },
      on: {
        EXITED: [
          { guard: ({ context, event }) => !isOurs(context, event) },
          // What happens next is decided in `stopped`, after `finish` if there is one.
          { target: 'stopped.exited', actions: assign({ lastExit: ({ context, event }) => exitOf(context, event), afterFinish: 'decide' }) },
        ],
        STOP: { target: 'stopping', actions: assign({ held: true }) },
        REMOVE: { target: 'stopping', actions: assign({ removed: true, held: false }) },
        RESTART: { target: 'stopping', actions: assign({ startAfterStop: true, held: false }) },
        RELOAD: {
          actions: [
            emit(({ context }) => ({ type: 'log', level: 'INFO', message: `reloading pid ${context.proc!.pid} with ${context.config?.reloadSignal ?? 'SIGHUP'}` }) as const),
            { type: 'signal', params: ({ context }) => ({ proc: context.proc!, signal: context.config?.reloadSignal ?? 'SIGHUP' }) },
          ],
        },
        INVALID: {
          actions: [
            assign({ problem: ({ event }) => event.reason }),
            emit(({ context }) => ({ type: 'log', level: 'WARN', message: `left running pid ${context.proc!.pid} with its last good profile` }) as const),
          ],
        },
        CONFIGURE: [
          {
            guard: ({ context, event }) => launchChanged(context.config, event.config) || (watchChanged(context.config, event.config) && !event.config.reloadSignal),
            target: 'stopping',
            actions: assign({ config: ({ event }) => event.config, startAfterStop: true, problem: null }),
          },
          {
            guard: ({ context, event }) => watchChanged(context.config, event.config),
            actions: [
              assign({ config: ({ event }) => event.config, problem: null }),
              emit(({ context }) => ({ type: 'log', level: 'INFO', message: `reloading pid ${context.proc!.pid} with ${context.config!.reloadSignal}` }) as const),
              { type: 'signal', params: ({ context }) => ({ proc: context.proc!, signal: context.config!.reloadSignal! }) },
            ],
          },
          { actions: assign({ config: ({ event }) => event.config, problem: null }) },
        ],
      },
    },

    stopping: {
      tags: ['stopping', 'transitional'],
      entry: [
        emit(({ context }) => ({
          type: 'log', level: 'INFO',
          message: context.proc ? `stopping pid ${context.proc.pid} with ${context.config?.stopSignal ?? 'SIGTERM'}` : 'stopping (waiting for the process to start)',
        }) as const),
        // Without a process yet (stopped while spawning), SPAWNED re-enters `stopping` and signals then.
        enqueueActions(({ context, enqueue }) => {
          if (context.proc) enqueue({ type: 'signal', params: { proc: context.proc, signal: context.config?.stopSignal ?? 'SIGTERM' } });
        }),
      ],
      invoke: { src: 'watchPid', input: ({ context }) => ({ proc: context.proc }) },
      initial: 'signalled',
      states: {
        signalled: {
          after: {
            stopTimeout: {
              target: 'killed',
              actions: [
                emit(({ context }) => ({ type: 'log', level: 'WARN', message: `killed pid ${context.proc?.pid ?? '?'} with SIGKILL: still running ${(context.config?.stopTimeoutMs ?? 0) / 1000}s after ${context.config?.stopSignal ?? 'SIGTERM'}` }) as const),
                { type: 'signal', params: ({ context }) => ({ proc: context.proc!, signal: 'SIGKILL' as const }) },
              ],
            },
          },
        },
        killed: {
          after: {
            killGrace: {
              target: '#service.stopped.idle',
              actions: [
                assign({ config: ({ context }) => (context.removed ? null : context.config) }),
                emit(({ context }) => ({ type: 'log', level: 'ERROR', message: `gave up on pid ${context.proc?.pid ?? '?'}: still there ${KILL_GRACE_MS / 1000}s after SIGKILL (stuck in the kernel?)` }) as const),
              ],
            },
          },
        },
      },
      on: {
        SIGNAL: {
          guard: ({ context }) => context.proc !== null,
          actions: { type: 'signal', params: ({ context, event }) => ({ proc: context.proc!, signal: event.signal }) },
        },
        SPAWNED: {
          target: 'stopping',
          reenter: true,
          actions: assign({ proc: ({ event }) => event.proc }),
        },
        SPAWN_FAILED: 'stopped.idle',
        PID_FOUND: { target: 'stopping', reenter: true, actions: assign({ proc: ({ event }) => event.proc }) },
        EXITED: [
          { guard: ({ context, event }) => !isOurs(context, event) },
          {
            // `finish` runs after a stop too; a restart waits for it.
            guard: ({ context }) => hasFinish(context),
            target: 'stopped.finishing',
            actions: [
              { type: 'killLeftovers', params: ({ context }) => ({ proc: context.proc! }) },
              emit(({ context }) => ({ type: 'log', level: 'INFO', message: `stopped pid ${context.proc!.pid}` }) as const),
              assign({
                lastExit: ({ context, event }) => exitOf(context, event),
                afterFinish: ({ context }) => (context.startAfterStop && context.config !== null && !context.held ? 'start' : 'idle'),
              }),
            ],
          },
          {
            target: 'stopped.idle',
            actions: [
              { type: 'killLeftovers', params: ({ context }) => ({ proc: context.proc! }) },
              emit(({ context }) => ({ type: 'log', level: 'INFO', message: `stopped pid ${context.proc!.pid}` }) as const),
              assign({
                lastExit: ({ context, event }) => exitOf(context, event),
                config: ({ context }) => (context.removed ? null : context.config),
              }),
              // A restart: start again once the old process is gone.
              enqueueActions(({ context, enqueue }) => {
                // Not `autostart`: a restart of a running `down` profile is asked for explicitly.
                if (context.startAfterStop && context.config !== null && !context.removed && !context.held) enqueue.raise({ type: 'START' });
              }),
            ],
          },
        ],
        START: { actions: assign({ startAfterStop: true, held: false }) },
        RESTART: { actions: assign({ startAfterStop: true, held: false }) },
        STOP: { actions: assign({ startAfterStop: false, held: true }) },
        REMOVE: { actions: assign({ startAfterStop: false, removed: true, held: false }) },
        INVALID: { actions: assign({ problem: ({ event }) => event.reason }) },
        CONFIGURE: {
          actions: assign({
            config: ({ event }) => event.config,
            // Removed, then put back before the old process was gone: start it again.
            startAfterStop: ({ context, event }) => context.startAfterStop || (context.removed && autostart({ ...context, config: event.config, removed: false })),
            removed: false,
            problem: null,
          }),
        },
      },
    },
  },
});

export type ServiceMachine = typeof serviceMachine;
export type ServiceActor = ActorRefFrom<ServiceMachine>;
export type ServiceSnapshot = SnapshotFrom<ServiceMachine>;
