// The machine's conditions, by name: each is a question about the context
// and the event, read in the table of service-machine.ts as `guard: 'name'`.
import { assertEvent, stateIn } from 'xstate';
import type { Readiness } from '../profile/readiness.js';
import type { ServiceConfig } from '../profile/types.js';
import { CRASH_LIMIT, crashesAfter, isCrash, isFailure, wantsRestart } from './policy.js';
import type { LastExit, MachineArgs, ServiceContext, Want } from './types.js';

/** s6 convention: `finish` exiting 125 means "do not restart". */
export const FINISH_NO_RESTART = 125;

/** In stopped.deciding and finishing: the exit being decided on. */
export const exitOf = (c: ServiceContext): LastExit => c.lastExit!;
/** The crash count once this exit is counted. */
export const nextCrashes = (c: ServiceContext): number => crashesAfter(c.crashes, exitOf(c));

const NO_READINESS: Readiness = { kind: 'none' };
/** How the profile says it is ready (a record written before readiness existed has none). */
export const readinessOf = (config: ServiceConfig | null): Readiness => config?.readiness ?? NO_READINESS;

/** A reading of the profile means it is there: a removed profile is back. */
export const wantOnReading = (c: ServiceContext): Want => (c.want === 'removed' ? 'run' : c.want);

const launchChanged = (old: ServiceConfig | null, next: ServiceConfig): boolean => old?.fingerprint.launch !== next.fingerprint.launch;
const watchChanged = (old: ServiceConfig | null, next: ServiceConfig): boolean => old?.fingerprint.watch !== next.fingerprint.watch;
const anyChange = (old: ServiceConfig | null, next: ServiceConfig): boolean =>
  launchChanged(old, next) || watchChanged(old, next) || old?.fingerprint.policy !== next.fingerprint.policy;

const reading = (event: MachineArgs['event']) => {
  assertEvent(event, 'CONFIGURE');
  return event;
};
/** With the reading in this CONFIGURE, would it start on its own (runit: want up, and no `down` file)? */
const autostartsWith = (c: ServiceContext, config: ServiceConfig): boolean => wantOnReading(c) === 'run' && !config.down;

export const guards = {
  hasConfig: ({ context }: MachineArgs) => context.config !== null,
  hasProcess: ({ context }: MachineArgs) => context.proc !== null,
  hasPidFile: ({ context }: MachineArgs) => context.config?.pidFile != null,
  /** `finish` runs after an exit or a stop, but not for a profile that was removed (its directory is gone). */
  hasFinish: ({ context }: MachineArgs) => context.config?.finishPath != null && context.want !== 'removed',
  wantsRun: ({ context }: MachineArgs) => context.want === 'run',
  wantsRemoved: ({ context }: MachineArgs) => context.want === 'removed',
  /** EXITED of a pid that is not (or no longer) the service's: ignored. */
  notOurs: ({ context, event }: MachineArgs) => {
    assertEvent(event, 'EXITED');
    return context.proc?.pid !== event.pid;
  },

  // ---- CONFIGURE: what the new reading changes
  /** A new `run`, env, user, ...: the process must be replaced. */
  launchChanged: ({ context, event }: MachineArgs) => launchChanged(context.config, reading(event).config),
  /** A file named in `watch` changed. */
  watchChanged: ({ context, event }: MachineArgs) => watchChanged(context.config, reading(event).config),
  /** A running service must restart: a new launch, or a watched file without `reload`. */
  needsRestart: ({ context, event }: MachineArgs) => {
    const { config } = reading(event);
    return launchChanged(context.config, config) || (watchChanged(context.config, config) && !config.reloadSignal);
  },
  /** Anything in the profile that matters changed. */
  profileChanged: ({ context, event }: MachineArgs) => anyChange(context.config, reading(event).config),
  /** Its files changed on disk since the last reading, even back to the same content. */
  touched: ({ event }: MachineArgs) => reading(event).touched,
  autostarts: ({ context, event }: MachineArgs) => autostartsWith(context, reading(event).config),
  /** A stopped service starts on a reading that is new, re-added, edited, or lifts `down`. */
  startsOnConfigure: ({ context, event }: MachineArgs) => {
    const { config } = reading(event);
    const old = context.want === 'removed' ? null : context.config;
    const downLifted = old?.down === true && !config.down;
    return autostartsWith(context, config) && (old === null || launchChanged(old, config) || watchChanged(old, config) || downLifted);
  },
  /**
   * Stopped after an exit of its own that the old policy did not restart, and
   * the new reading's would: a `restart` file written just after the start
   * (`chmod +x run; touch restart`) counts whether it came before that exit or
   * after — ProcLaunch restarts any stopped profile that has one.
   */
  restartsLastExit: ({ context, event }: MachineArgs) => {
    const { config } = reading(event);
    const exit = context.lastExit;
    if (!exit || exit.requested || !autostartsWith(context, config) || context.want === 'removed') return false;
    return !wantsRestart(context.config, exit) && wantsRestart(config, exit);
  },
  /** Removed, then put back before the old process was gone: start it again once it is. */
  readdedAutostarts: ({ context, event }: MachineArgs) => context.want === 'removed' && autostartsWith(context, reading(event).config),
  hasStartDelay: ({ event }: MachineArgs) => reading(event).config.startDelayMs > 0,

  // ---- needs (NEEDS from the supervisor's coordinator; never sent = met)
  /** A start must wait: the profile has needs and the last verdict says one is not running and ready. */
  waitsForNeeds: ({ context }: MachineArgs) => (context.config?.needs?.length ?? 0) > 0 && context.waitingFor !== null,
  needsMet: ({ event }: MachineArgs) => {
    assertEvent(event, 'NEEDS');
    return event.unmet === null;
  },
  needsChanged: ({ context, event }: MachineArgs) => {
    assertEvent(event, 'NEEDS');
    return event.unmet !== context.waitingFor;
  },
  /** While waiting: the new reading has no `needs` any more. */
  needsDropped: ({ event }: MachineArgs) => (reading(event).config.needs?.length ?? 0) === 0,
  /** The start timeout does not run out while waiting for needs (that may last forever). */
  isWaiting: stateIn('#service.starting.waiting'),

  // ---- readiness
  /** `notification-fd`, `notify` or `ready`: running only once it says so. */
  hasReadiness: ({ context }: MachineArgs) => readinessOf(context.config).kind !== 'none',
  isAwaitingReady: stateIn('#service.starting.awaitingReady'),
  /** The new reading says how it is ready differently (another probe, interval, fd): wait for it that way. */
  readinessChanged: ({ context, event }: MachineArgs) => JSON.stringify(readinessOf(context.config)) !== JSON.stringify(readinessOf(reading(event).config)),
  /** The new reading has no readiness file any more: it is ready as it runs. */
  readinessDropped: ({ event }: MachineArgs) => readinessOf(reading(event).config).kind === 'none',
  /** Its record says it was ready (running) when the last supervisor left it. */
  adoptedReady: ({ event }: MachineArgs) => {
    assertEvent(event, 'ADOPT');
    return event.ready;
  },
  /** MAINPID= names a process other than the one watched now. */
  newMainPid: ({ context, event }: MachineArgs) => {
    assertEvent(event, 'NOTIFY_MAINPID');
    return event.proc.pid !== context.proc?.pid;
  },

  // ---- the exit of `run` of a self-daemonizing service (starting.launched)
  exitedCleanly: ({ event }: MachineArgs) => {
    assertEvent(event, 'EXITED');
    return event.code === 0;
  },
  mayRetryRun: ({ context }: MachineArgs) => context.config?.restart !== 'never' && context.crashes + 1 < CRASH_LIMIT,

  /** The pid file this run wrote names a process that may not be trusted: no use waiting. */
  pidRefused: ({ event }: MachineArgs) => {
    assertEvent(event, 'PID_PROBLEM');
    return event.final === true;
  },
  runMissing: ({ event }: MachineArgs) => {
    assertEvent(event, 'SPAWN_FAILED');
    return event.runMissing === true;
  },
  finishSaysNoRestart: ({ event }: MachineArgs) => {
    assertEvent(event, 'FINISHED');
    return event.code === FINISH_NO_RESTART;
  },

  // ---- stopped.deciding: the restart policy after an exit of its own
  wontRestart: ({ context }: MachineArgs) => !wantsRestart(context.config, exitOf(context)) || context.want === 'removed',
  /** A periodic job: a clean exit with restart_delay is its rhythm, however short the run. */
  isPeriodic: ({ context }: MachineArgs) => !isFailure(exitOf(context)) && (context.config?.restartDelayMs ?? 0) > 0,
  reachesCrashLimit: ({ context }: MachineArgs) => nextCrashes(context) >= CRASH_LIMIT,
  crashed: ({ context }: MachineArgs) => isCrash(exitOf(context)),
  waitsStartDelay: ({ context }: MachineArgs) => (context.config?.startDelayMs ?? 0) > 0,
};

export type GuardName = keyof typeof guards;
