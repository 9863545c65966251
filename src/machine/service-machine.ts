// The life of one service, as a table: state × event → guard, target,
// actions (s6-supervise keeps its whole logic in one such table). Every guard
// is named in guards.ts, every action in actions.ts, every log line in
// log-lines.ts; `node scripts/machine-table.mjs` prints this chart as rows.
//
// No I/O here: spawning, signalling and watching pids are actions and actors
// supplied with `machine.provide(...)` (process/effects.ts); log lines are
// emitted, not written. Context: `want` is runit's (run | down | removed),
// `config` the last good profile; the phases are states:
//
//   stopped   idle.{settled, runMissing}  nothing runs (runMissing: `run` vanished just before its spawn)
//             delayed                    start_delay / restart_delay before an automatic start
//             backoff                    after a crash, before the next start
//             exited, deciding           transient: the restart policy after an exit of its own
//             finishing.{exited, stopped, restarting, invalid}
//                                        `finish` runs; the substate says what follows it
//             failed.{gaveUp, spawnFailed, invalid}
//                                        not started again until `start` or a change (spawnFailed:
//                                        or its files touched; invalid: any valid reading)
//   starting  choosing (transient), waiting (for needs: no timeout), probing,
//             spawning.{current, outdated}, launched,
//             awaitingPidFile.{current, outdated}   (outdated: edited meanwhile, restart once up)
//             awaitingReady                      the process runs; not ready until it says so
//   running   serving (`status`: running), reloading (RELOADING=1 until READY=1)
//   stopping  parallel: signal.{signalled, killed} × next.{stay, restart}
//
// The readiness and health actors, and the watch of a pid that is not our
// child, are invoked only where they apply (`invokeWhereApplies`): most
// profiles have none of them, and an actor costs ~1 KB and its start and stop.
import { and, enqueueActions, fromCallback, not, or, setup, type ActorRefFrom, type SnapshotFrom } from 'xstate';
import { AWAITING_READY, DOWN, FAILED, FINISHING, STOPPING, TRANSITIONAL, UP, type StateTag } from '../vocabulary/state-tags.js';
import { actions, effects, log } from './actions.js';
import { guards, readinessOf } from './guards.js';
import { KILL_GRACE_MS, backoffMs } from './policy.js';
import type {
  FinishInput, NotifyListenInput, ProbeInput, ReadyFdInput, ServiceContext, ServiceEmitted, ServiceEvent, WatchedProc,
} from './types.js';
import type { ServiceConfig } from '../profile/types.js';
import { finishInput, invokeWhereApplies, optionalInput, type Optional } from './actor-inputs.js';

export type {
  EventOf, FinishInput, LastExit, NotifyListenInput, ProbeFailure, ProbeInput, ReadinessReport, ReadyFdInput,
  ServiceContext, ServiceEmitted, ServiceEvent, ServiceEventType, Want, WatchedProc,
} from './types.js';
export { FINISH_NO_RESTART } from './guards.js';

type Callback<I> = ReturnType<typeof fromCallback<ServiceEvent, I>>;
const onOptional = enqueueActions<ServiceContext, ServiceEvent, { actors: Optional[] }, ServiceEvent, never, never, never, never, never>;
const noop = fromCallback(() => undefined);

export const serviceMachine = setup({
  types: {
    context: {} as ServiceContext,
    events: {} as ServiceEvent,
    input: {} as { tag: string },
    emitted: {} as ServiceEmitted,
    tags: {} as StateTag,
  },
  guards,
  actions: {
    ...effects,
    ...actions,
    // What `invoke` does on entry and exit, for each actor whose input applies (see invokeWhereApplies).
    startWhereApplies: onOptional(({ context, enqueue }, params) => {
      for (const actor of params.actors) {
        const input = optionalInput(context, actor);
        if (input !== null) enqueue.spawnChild(actor.src as never, { id: actor.src, input } as never);
      }
    }),
    stopStarted: onOptional(({ enqueue }, params) => {
      for (const actor of params.actors) enqueue.stopChild(actor.src);
    }),
  },
  actors: {
    /** Does the pid file already name a live process? PID_FOUND (adopted) or PID_MISSING. */
    probePidFile: noop as Callback<{ config: ServiceConfig }>,
    /** Wait for the pid file to name a live process: PID_FOUND, with PID_PROBLEM along the way. */
    awaitPidFile: noop as Callback<{ config: ServiceConfig }>,
    /** Report EXITED when a process that is not our child dies. */
    watchPid: noop as Callback<{ proc: WatchedProc }>,
    /** Run the profile's `finish`; FINISHED when it ends. Stopping this actor kills it. */
    runFinish: noop as Callback<FinishInput>,
    /** notification-fd: READY once the run has written its newline (at once if it already has). */
    awaitReadyFd: noop as Callback<ReadyFdInput>,
    /** `ready`: run the probe until it passes: READY, with PROBE_FAILED along the way. */
    probeReady: noop as Callback<ProbeInput>,
    /** notify: READY, NOTIFY_* from the run's datagrams; UNHEALTHY when the watchdog (if given) runs out. */
    listenNotify: noop as Callback<NotifyListenInput>,
    /** `health`: PROBE_FAILED, PROBE_PASSED, then UNHEALTHY after health_retries failures in a row. */
    probeHealth: noop as Callback<ProbeInput>,
  },
  delays: {
    backoff: ({ context }) => backoffMs(context.crashes),
    // From the start (or from the end of `waiting`) until running: ready_timeout covers a readiness profile's whole start.
    startTimeout: ({ context }) => (readinessOf(context.config).kind === 'none' ? context.config?.startTimeoutMs : context.config?.readyTimeoutMs) ?? 10_000,
    stopTimeout: ({ context }) => context.config?.stopTimeoutMs ?? 10_000,
    killGrace: KILL_GRACE_MS,
    startDelay: ({ context }) => context.delayMs,
    // `finish` gets as long as the service gets to stop.
    finishTimeout: ({ context }) => context.config?.stopTimeoutMs ?? 10_000,
  },
}).createMachine({
  id: 'service',
  context: ({ input }) => ({
    tag: input.tag, config: null, problem: null, want: 'run', proc: null, runningSince: null,
    crashes: 0, restarts: 0, lastExit: null, delayMs: 0, startsAt: null,
    waitingFor: null, notifyStatus: null, notifyStopping: false, lastProbe: null, unhealthy: null,
  }),
  initial: 'stopped',
  on: {
    SIGNAL: { guard: 'hasProcess', actions: [log('sendingSignal'), 'forwardSignal'] },
    // Kept in every state; only starting.waiting acts on it.
    NEEDS: { actions: 'noteNeeds' },
    // What a run says of itself, and probe results, wherever they arrive; the states below act on the rest.
    NOTIFY_STATUS: { actions: 'noteStatus' },
    NOTIFY_STOPPING: { actions: ['noteStopping', log('notifyStopping')] },
    NOTIFY_IGNORED: { actions: log('notifyIgnored') },
    READINESS_PROBLEM: { actions: log('readinessProblem') },
    PROBE_FAILED: { actions: 'noteProbe' },
    PROBE_PASSED: { actions: 'healthPassed' },
  },
  states: {
    stopped: {
      initial: 'idle',
      entry: 'forgetProc',
      on: {
        INVALID: { target: '.failed.invalid', actions: ['forgetConfig', 'noteProblem'] },
        REMOVE: { target: '.idle', actions: ['wantRemoved', 'forgetConfig', 'clearProblem'] },
        START: [
          { guard: 'hasConfig', target: 'starting', actions: ['wantRun', 'resetFailure'] },
          { guard: not('wantsRemoved'), actions: 'wantRun' },
        ],
        RESTART: { guard: 'hasConfig', target: 'starting', actions: ['wantRun', 'resetFailure'] },
        STOP: { target: '.idle', actions: 'wantDown' },
      },
      states: {
        idle: {
          tags: [DOWN],
          initial: 'settled',
          // Removed and fully stopped (a REMOVE while idle enters it again).
          entry: 'releaseIfRemoved',
          on: {
            ADOPT: [
              { guard: 'adoptedReady', target: '#service.running', actions: ['adopt', log('readopted')] },
              // Left before it was ready: wait for it again (a newline already written counts; a datagram sent meanwhile is lost).
              { target: '#service.starting.awaitingReady', actions: ['adopt', log('readoptedNotReady')] },
            ],
            // New, re-added, edited, or `down` removed: start it (after start_delay).
            CONFIGURE: [
              { guard: and(['startsOnConfigure', 'hasStartDelay']), target: 'delayed', actions: ['takeConfig', 'waitStartDelay', log('startingIn')] },
              { guard: 'startsOnConfigure', target: '#service.starting', actions: 'takeConfig' },
              { guard: 'restartsLastExit', target: '#service.starting', actions: ['takeConfig', 'countRestart', log('restartingOnNewPolicy')] },
              { actions: 'takeConfig' },
            ],
          },
          states: {
            settled: {},
            /** `run` was gone when it was to be spawned: removed, or about to be re-created. The next reading tells. */
            runMissing: {
              on: { CONFIGURE: { guard: and(['touched', 'autostarts']), target: '#service.starting', actions: 'takeConfig' } },
            },
          },
        },
        /** start_delay / restart_delay: an automatic start that waits. Commands start at once. */
        delayed: {
          tags: [DOWN],
          after: { startDelay: '#service.starting' },
          exit: 'clearStartsAt',
          on: { CONFIGURE: { actions: 'takeConfig' } },
        },
        backoff: {
          tags: [DOWN],
          after: { backoff: '#service.starting' },
          on: { CONFIGURE: { actions: 'takeConfig' } },
        },
        /** Transient: the service has just exited on its own; `finish` first, if there is one. */
        exited: {
          always: [
            { guard: 'hasFinish', target: 'finishing' },
            { target: 'deciding' },
          ],
        },
        /** `finish` runs; what follows it is the substate. Commands and edits change that, and wait. */
        finishing: {
          tags: [FINISHING, TRANSITIONAL],
          initial: 'exited',
          entry: log('finishRunning'),
          invoke: { src: 'runFinish', input: ({ context }) => finishInput(context) },
          after: { finishTimeout: { actions: 'giveUpOnFinish' } },
          on: {
            STOP: { target: '.stopped', actions: 'wantDown' },
            REMOVE: { target: '.stopped', actions: 'wantRemoved' },
            // (A removed profile has nothing to start: not stopped's START, which would use the config finish still has.)
            START: [{ guard: not('wantsRemoved'), target: '.restarting', actions: ['wantRun', 'resetFailure'] }, {}],
            RESTART: [{ guard: not('wantsRemoved'), target: '.restarting', actions: ['wantRun', 'resetFailure'] }, {}],
            // Not stopped.failed at once: that would kill finish midway.
            INVALID: { target: '.invalid', actions: 'noteProblem' },
            // Edited meanwhile: start once finish is over, as an edit of a stopped service does.
            CONFIGURE: [
              { guard: 'startsOnConfigure', target: '.restarting', actions: 'takeConfig' },
              { actions: 'takeConfig' },
            ],
          },
          states: {
            /** After an exit of its own: the restart policy, unless finish exits 125. */
            exited: {
              on: {
                FINISHED: [
                  { guard: 'finishSaysNoRestart', target: '#service.stopped.idle', actions: [log('finishEnded'), 'countCrash', log('notRestartingFinish')] },
                  { target: '#service.stopped.deciding', actions: log('finishEnded') },
                ],
              },
            },
            /** After a stop (or a `stop` or removal meanwhile): stay stopped. */
            stopped: {
              on: { FINISHED: { target: '#service.stopped.idle', actions: [log('finishEnded'), 'forgetConfigIfRemoved'] } },
            },
            /** After a restart (or a `start`, `restart` or edit meanwhile): start; a 125 does not undo a command. */
            restarting: {
              on: { FINISHED: { target: '#service.starting', actions: log('finishEnded') } },
            },
            /** The profile turned invalid meanwhile: failed once finish is over, unless it is valid again by then. */
            invalid: {
              on: {
                STOP: { actions: 'wantDown' },
                START: { actions: 'wantRun' },
                RESTART: { actions: 'wantRun' },
                CONFIGURE: [
                  { guard: 'autostarts', target: 'restarting', actions: 'takeConfig' },
                  { target: 'stopped', actions: 'takeConfig' },
                ],
                FINISHED: { target: '#service.stopped.failed.invalid', actions: [log('finishEnded'), 'forgetConfig'] },
              },
            },
          },
        },
        /** Transient: an exit of its own (after `finish`): restart, back off, wait, or stay stopped. */
        deciding: {
          always: [
            { guard: 'wontRestart', target: 'idle', actions: ['countCrash', log('notRestarting')] },
            { guard: 'isPeriodic', target: 'delayed', actions: ['forgetCrashes', 'countRestart', 'waitRestartDelay', log('restartingIn')] },
            { guard: 'reachesCrashLimit', target: 'failed.gaveUp', actions: ['countCrash', 'failCrashLimit', log('failedAfterExit')] },
            { guard: 'crashed', target: 'backoff', actions: ['countCrash', 'countRestart', log('crashRestarting')] },
            // Not a crash, no restart_delay: start_delay before each automatic start.
            { guard: 'waitsStartDelay', target: 'delayed', actions: ['countCrash', 'countRestart', 'waitStartDelayAfterExit', log('restartingIn')] },
            { target: '#service.starting', actions: ['countCrash', 'countRestart', log('restartingNow')] },
          ],
        },
        failed: {
          tags: [DOWN, FAILED],
          initial: 'gaveUp',
          states: {
            /** A crash loop, a start timeout, a `run` that exited badly: `start` or a change gets it going. */
            gaveUp: {
              on: {
                CONFIGURE: [
                  { guard: and(['profileChanged', 'autostarts']), target: '#service.starting', actions: ['takeConfig', 'resetFailure'] },
                  { guard: 'profileChanged', target: '#service.stopped.idle', actions: ['takeConfig', 'resetFailure'] },
                ],
              },
            },
            /** `run` could not be executed although the profile read fine: its files changed since (chmod -x, then +x). */
            spawnFailed: {
              on: {
                CONFIGURE: [
                  { guard: and([or(['profileChanged', 'touched']), 'autostarts']), target: '#service.starting', actions: ['takeConfig', 'resetFailure'] },
                  { guard: or(['profileChanged', 'touched']), target: '#service.stopped.idle', actions: ['takeConfig', 'resetFailure'] },
                ],
              },
            },
            /** The profile cannot be used (no config): any valid reading of it gets it going again. */
            invalid: {
              on: {
                CONFIGURE: [
                  { guard: 'autostarts', target: '#service.starting', actions: ['takeConfig', 'resetFailure'] },
                  { target: '#service.stopped.idle', actions: ['takeConfig', 'resetFailure'] },
                ],
              },
            },
          },
        },
      },
    },

    starting: {
      tags: [TRANSITIONAL],
      entry: 'beginRun',
      initial: 'choosing',
      after: {
        startTimeout: [
          // Leaving `waiting` enters starting again, and the time counts from then.
          { guard: 'isWaiting' },
          // Stopped or removed while waiting for a pid file that never came: nothing to stop.
          { guard: not('wantsRun'), target: '#service.stopped.idle', actions: ['forgetConfigIfRemoved', log('pidFileNeverNamed')] },
          // The process is killed, not left behind, as a `run` that never exited is.
          { guard: 'isAwaitingReady', target: '#service.stopped.failed.gaveUp', actions: ['failReadyTimeout', log('failed'), 'sendKill'] },
          // A `run` that never exited is killed, not left behind.
          { target: '#service.stopped.failed.gaveUp', actions: ['failStartTimeout', log('failed'), 'sendKill'] },
        ],
      },
      on: {
        STOP: { target: 'stopped.idle', actions: 'wantDown' },
        REMOVE: { target: 'stopped.idle', actions: ['wantRemoved', 'forgetConfig'] },
        INVALID: { actions: 'noteProblem' },
        CONFIGURE: { actions: 'takeConfig' },
      },
      states: {
        choosing: {
          always: [
            { guard: 'waitsForNeeds', target: 'waiting', actions: log('waiting') },
            { guard: 'hasPidFile', target: 'probing' },
            { target: 'spawning' },
          ],
        },
        /** A need is not running and ready (NEEDS said why): nothing runs, and no timeout runs out. */
        waiting: {
          // What its start will need is made ready now, not on the way from its needs' readiness to its spawn.
          entry: 'prepareRun',
          on: {
            // Nothing runs yet: an invalid profile (a cycle of needs, a bad file) fails now, as a stopped one does.
            INVALID: { target: '#service.stopped.failed.invalid', actions: ['forgetConfig', 'noteProblem'] },
            NEEDS: [
              { guard: 'needsMet', target: '#service.starting', reenter: true, actions: ['noteNeeds', log('needsMet')] },
              { guard: 'needsChanged', actions: ['noteNeeds', log('waiting')] },
            ],
            CONFIGURE: [
              { guard: 'needsDropped', target: '#service.starting', reenter: true, actions: 'takeConfig' },
              { actions: 'takeConfig' },
            ],
          },
        },
        probing: {
          invoke: { src: 'probePidFile', input: ({ context }) => ({ config: context.config! }) },
          on: {
            PID_MISSING: 'spawning',
            // Already running before we started it: ready, whatever its readiness file says.
            PID_FOUND: { target: '#service.running', actions: ['takeProc', 'upSince', log('running')] },
            // A new profile while probing: probe again, with it (the pid file may have moved).
            CONFIGURE: { guard: 'launchChanged', target: '#service.starting', reenter: true, actions: 'takeConfig' },
          },
        },
        spawning: {
          entry: 'launchRun',
          initial: 'current',
          on: {
            // The process is on its way: `stopping` waits for SPAWNED, then signals it.
            STOP: { target: '#service.stopping', actions: 'wantDown' },
            REMOVE: { target: '#service.stopping', actions: 'wantRemoved' },
            SPAWNED: [
              { guard: 'hasPidFile', target: 'launched', actions: ['takeProc', log('startedAwaitingPidFile')] },
              { guard: 'hasReadiness', target: 'awaitingReady', actions: ['takeProc', log('startedAwaitingReady')] },
              { target: '#service.running', actions: ['takeProc', 'upSince', log('started'), log('running')] },
            ],
            SPAWN_FAILED: [
              { guard: 'runMissing', target: '#service.stopped.idle.runMissing', actions: log('removedBeforeStart') },
              { target: '#service.stopped.failed.spawnFailed', actions: ['failSpawn', log('failed')] },
            ],
          },
          states: {
            current: {
              on: { CONFIGURE: { guard: 'launchChanged', target: 'outdated', actions: 'takeConfig' } },
            },
            /** A new `run`, env, ... while the old one is being spawned: that process runs the old one; restart it once it is there. */
            outdated: {
              on: { SPAWNED: { target: '#service.stopping.next.restart', actions: 'takeProc' } },
            },
          },
        },
        /** A self-daemonizing `run`: it must exit 0, leaving the pid file behind. */
        launched: {
          on: {
            STOP: { target: '#service.stopping', actions: 'wantDown' },
            REMOVE: { target: '#service.stopping', actions: 'wantRemoved' },
            CONFIGURE: { guard: 'launchChanged', target: '#service.stopping.next.restart', actions: 'takeConfig' },
            EXITED: [
              { guard: 'notOurs' },
              { guard: 'exitedCleanly', target: 'awaitingPidFile', actions: 'forgetProc' },
              { guard: 'mayRetryRun', target: '#service.stopped.backoff', actions: ['countRunCrash', 'noteExit', log('runCrashed')] },
              { target: '#service.stopped.failed.gaveUp', actions: ['noteExit', 'failRunExit', log('failed')] },
            ],
          },
        },
        /**
         * `run` is gone and the daemon it forked is not known yet: a stop or
         * removal waits for it, so that it is stopped rather than left behind.
         */
        awaitingPidFile: {
          invoke: { src: 'awaitPidFile', input: ({ context }) => ({ config: context.config! }) },
          initial: 'current',
          on: {
            STOP: { actions: 'wantDown' },
            REMOVE: { actions: 'wantRemoved' },
            PID_PROBLEM: [
              { guard: and(['pidRefused', 'wantsRun']), target: '#service.stopped.failed.gaveUp', actions: ['noteProblem', log('failed')] },
              { guard: 'pidRefused', target: '#service.stopped.idle', actions: ['forgetConfigIfRemoved', 'noteProblem', log('pidFileRefused')] },
              { actions: 'noteProblem' },
            ],
            PID_FOUND: [
              { guard: not('wantsRun'), target: '#service.stopping', actions: ['takeProc', 'clearProblem'] },
              { guard: 'hasReadiness', target: '#service.starting.awaitingReady', actions: ['takeProc', 'clearProblem', log('foundAwaitingReady')] },
              { target: '#service.running', actions: ['takeProc', 'clearProblem', 'upSince', log('running')] },
            ],
          },
          states: {
            current: {
              on: { CONFIGURE: { guard: 'launchChanged', target: 'outdated', actions: 'takeConfig' } },
            },
            /** Edited meanwhile: restart the daemon once it is known. */
            outdated: {
              on: { PID_FOUND: { guard: 'wantsRun', target: '#service.stopping.next.restart', actions: ['takeProc', 'clearProblem'] } },
            },
          },
        },
        /** The process runs (spawned, named by its pid file, or re-adopted) and is not ready yet; the timeout is ready_timeout. */
        awaitingReady: {
          tags: [AWAITING_READY],
          ...invokeWhereApplies({ src: 'watchPid' }, { src: 'awaitReadyFd' }, { src: 'probeReady' }, { src: 'listenNotify', watchdog: false }),
          on: {
            READY: { target: '#service.running', actions: ['upSince', log('running')] },
            // Before running, as any exit before running: decided in `stopped` (a crash: it never got up).
            EXITED: [
              { guard: 'notOurs' },
              { target: '#service.stopped.exited', actions: 'noteExit' },
            ],
            // Watch the new one (and keep listening: the socket trusts it as the run's).
            NOTIFY_MAINPID: { guard: 'newMainPid', target: 'awaitingReady', reenter: true, actions: [log('mainPid'), 'takeMainPid'] },
            STOP: { target: '#service.stopping', actions: 'wantDown' },
            REMOVE: { target: '#service.stopping', actions: 'wantRemoved' },
            RESTART: { target: '#service.stopping.next.restart', actions: 'wantRun' },
            CONFIGURE: [
              { guard: 'launchChanged', target: '#service.stopping.next.restart', actions: 'takeConfig' },
              { guard: 'readinessDropped', target: '#service.running', actions: ['takeConfig', 'upSince', log('running')] },
              // Another probe or interval: wait for it that way (its actors again, with the new config).
              { guard: 'readinessChanged', target: 'awaitingReady', reenter: true, actions: 'takeConfig' },
              { actions: 'takeConfig' },
            ],
          },
        },
      },
    },

    running: {
      tags: [UP],
      initial: 'serving',
      ...invokeWhereApplies({ src: 'listenNotify', watchdog: true }, { src: 'probeHealth' }),
      on: {
        // Health retries exhausted, or the notify watchdog ran out: stop it and start it again.
        UNHEALTHY: { target: 'stopping.next.restart', actions: ['noteUnhealthy', 'countRestart', log('unhealthyRestarting')] },
        EXITED: [
          { guard: 'notOurs' },
          // What happens next is decided in `stopped`, after `finish` if there is one.
          { target: 'stopped.exited', actions: 'noteExit' },
        ],
        STOP: { target: 'stopping', actions: 'wantDown' },
        REMOVE: { target: 'stopping', actions: 'wantRemoved' },
        RESTART: { target: 'stopping.next.restart', actions: 'wantRun' },
        RELOAD: { actions: [log('reloading'), 'sendReloadSignal'] },
        INVALID: { actions: ['noteProblem', log('leftRunning')] },
        CONFIGURE: [
          { guard: 'needsRestart', target: 'stopping.next.restart', actions: 'takeConfig' },
          { guard: 'watchChanged', actions: ['takeConfig', log('reloading'), 'sendReloadSignal'] },
          { actions: 'takeConfig' },
        ],
      },
      // The process is watched in each substate, so that a MAINPID= (re-entering it) watches the new one.
      states: {
        /** Plain running (`status` prints `running`). */
        serving: {
          ...invokeWhereApplies({ src: 'watchPid' }),
          on: {
            NOTIFY_RELOADING: { target: 'reloading', actions: log('reloadingNotified') },
            NOTIFY_MAINPID: { guard: 'newMainPid', target: 'serving', reenter: true, actions: [log('mainPid'), 'takeMainPid'] },
          },
        },
        /** RELOADING=1: until the next READY=1. */
        reloading: {
          ...invokeWhereApplies({ src: 'watchPid' }),
          on: {
            READY: { target: 'serving', actions: log('reloaded') },
            NOTIFY_MAINPID: { guard: 'newMainPid', target: 'reloading', reenter: true, actions: [log('mainPid'), 'takeMainPid'] },
          },
        },
      },
    },

    /** The stop signal, then SIGKILL (`signal`), and beside it what follows once the process is gone (`next`). */
    stopping: {
      tags: [STOPPING, TRANSITIONAL],
      type: 'parallel',
      // STATUS= and STOPPING=1 while it stops (no watchdog: it is being stopped).
      ...invokeWhereApplies({ src: 'watchPid' }, { src: 'listenNotify', watchdog: false }),
      on: {
        SIGNAL: { guard: 'hasProcess', actions: 'forwardSignal' },
        SPAWN_FAILED: [
          { guard: 'wantsRemoved', target: 'stopped.idle', actions: ['forgetConfig', log('removedBeforeStart')] },
          { target: 'stopped.idle' },
        ],
        INVALID: { actions: 'noteProblem' },
        CONFIGURE: { actions: 'takeConfig' },
      },
      states: {
        signal: {
          initial: 'signalled',
          on: {
            // Stopped while spawning (no process yet): signal it now that it is there.
            SPAWNED: { target: '.signalled', actions: 'takeProc' },
            PID_FOUND: { target: '.signalled', actions: 'takeProc' },
          },
          states: {
            signalled: {
              entry: [log('stopping'), 'sendStopSignal'],
              after: { stopTimeout: { target: 'killed', actions: [log('killed'), 'sendKill'] } },
            },
            killed: {
              after: { killGrace: { target: '#service.stopped.idle', actions: ['forgetConfigIfRemoved', log('gaveUp')] } },
            },
          },
        },
        next: {
          initial: 'stay',
          states: {
            /** Stay stopped: a stop, or a removal. */
            stay: {
              on: {
                START: { guard: not('wantsRemoved'), target: 'restart', actions: 'wantRun' },
                RESTART: { guard: not('wantsRemoved'), target: 'restart', actions: 'wantRun' },
                STOP: { actions: 'wantDown' },
                REMOVE: { actions: 'wantRemoved' },
                // Removed, then put back before the old process was gone: start it again.
                CONFIGURE: { guard: 'readdedAutostarts', target: 'restart', actions: 'takeConfig' },
                EXITED: [
                  { guard: 'notOurs' },
                  // `finish` runs after a stop too.
                  { guard: 'hasFinish', target: '#service.stopped.finishing.stopped', actions: ['killGroup', log('stopped'), 'noteStoppedExit'] },
                  { target: '#service.stopped.idle', actions: ['killGroup', log('stopped'), 'noteStoppedExit', 'forgetConfigIfRemoved'] },
                ],
              },
            },
            /** A restart: start again once the old process is gone (and its `finish`). */
            restart: {
              on: {
                STOP: { target: 'stay', actions: 'wantDown' },
                REMOVE: { target: 'stay', actions: 'wantRemoved' },
                EXITED: [
                  { guard: 'notOurs' },
                  { guard: 'hasFinish', target: '#service.stopped.finishing.restarting', actions: ['killGroup', log('stopped'), 'noteStoppedExit'] },
                  // Started by the restart itself, not `autostart`: a restart of a running `down` profile was asked for.
                  { target: '#service.starting', actions: ['killGroup', log('stopped'), 'noteStoppedExit', 'resetFailure'] },
                ],
              },
            },
          },
        },
      },
    },
  },
});

export type ServiceMachine = typeof serviceMachine;
export type ServiceActor = ActorRefFrom<ServiceMachine>;
export type ServiceSnapshot = SnapshotFrom<ServiceMachine>;
