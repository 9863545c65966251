// The machine's actions, by name: context updates, the effects it asks of
// the world (implemented in process/effects.ts, faked in the tests), and the
// one `log` action. Read in the table of service-machine.ts as `actions: [...]`.
import { assertEvent, assign, emit, enqueueActions, raise } from 'xstate';
import type { ServiceConfig } from '../profile/types.js';
import { CRASH_LIMIT, describeExit } from './policy.js';
import { exitOf, nextCrashes, readinessOf, wantOnReading } from './guards.js';
import { LINES, type LineName } from './log-lines.js';
import type { LastExit, MachineArgs, ServiceContext, ServiceEmitted, ServiceEvent, WatchedProc } from './types.js';

const update = assign<ServiceContext, ServiceEvent, undefined, ServiceEvent, never>;

/** What the world is asked to do; process/effects.ts supplies these with `machine.provide(...)`. */
type Effect =
  | { type: 'launch'; params: { config: ServiceConfig } }
  | { type: 'prepare'; params: { config: ServiceConfig } }
  | { type: 'signal'; params: { proc: WatchedProc; signal: NodeJS.Signals } }
  | { type: 'killLeftovers'; params: { proc: WatchedProc } }
  | { type: 'release'; params: { tag: string } };
const effect = enqueueActions<ServiceContext, ServiceEvent, undefined, ServiceEvent, never, Effect, never, never, never>;
/** A signal to the service's process, if there is one yet. */
const signalWith = (signalOf: (args: MachineArgs) => NodeJS.Signals) =>
  effect(({ context, event, enqueue }) => {
    if (context.proc) enqueue({ type: 'signal', params: { proc: context.proc, signal: signalOf({ context, event }) } });
  });

function exitFrom(context: ServiceContext, event: ServiceEvent, requested: boolean): LastExit {
  assertEvent(event, 'EXITED');
  const uptimeMs = context.runningSince === null ? 0 : Math.max(0, event.at - context.runningSince);
  return { pid: event.pid, code: event.code, signal: event.signal, at: event.at, uptimeMs, requested };
}

export const effects = {
  /** Spawn `run`; report SPAWNED or SPAWN_FAILED, and EXITED when it ends. */
  launch: (_args: MachineArgs, _params: { config: ServiceConfig }) => undefined,
  /** Make ready what its launch will need (its readiness socket or file), while it waits for its needs. Reports nothing. */
  prepare: (_args: MachineArgs, _params: { config: ServiceConfig }) => undefined,
  /** Send a signal to the service's process group; EXITED if it is already gone. */
  signal: (_args: MachineArgs, _params: { proc: WatchedProc; signal: NodeJS.Signals }) => undefined,
  /** The leader died while stopping: SIGKILL what is left of its group. */
  killLeftovers: (_args: MachineArgs, _params: { proc: WatchedProc }) => undefined,
  /** The profile is gone and nothing of it runs: what the effects hold for its tag (readiness file, notify socket) goes. */
  release: (_args: MachineArgs, _params: { tag: string }) => undefined,
};

/** The seconds the start had: ready_timeout for a profile with readiness, else start_timeout. */
export const startTimeoutText = (config: ServiceConfig | null): string =>
  readinessOf(config).kind === 'none' ? `start_timeout ${(config?.startTimeoutMs ?? 0) / 1000}s` : `ready_timeout ${(config?.readyTimeoutMs ?? 0) / 1000}s`;

export const actions = {
  // ---- want (runit): what the operator and the profiles directory ask for
  wantRun: update({ want: 'run' }),
  wantDown: update({ want: 'down' }),
  wantRemoved: update({ want: 'removed' }),

  // ---- the profile
  /** A valid reading: the new config; no problem; a removed profile is back. */
  takeConfig: update(({ context, event }) => {
    assertEvent(event, 'CONFIGURE');
    return { config: event.config, problem: null, want: wantOnReading(context) };
  }),
  forgetConfig: update({ config: null }),
  forgetConfigIfRemoved: update({ config: ({ context }) => (context.want === 'removed' ? null : context.config) }),
  noteProblem: update({
    problem: ({ event }) => {
      assertEvent(event, ['INVALID', 'PID_PROBLEM']);
      return event.reason;
    },
  }),
  clearProblem: update({ problem: null }),
  /** A start by command, or a fixed profile: the crash count and the problem start again. */
  resetFailure: update({ crashes: 0, problem: null }),

  // ---- the process
  takeProc: update({
    proc: ({ event }) => {
      assertEvent(event, ['SPAWNED', 'PID_FOUND']);
      return event.proc;
    },
  }),
  forgetProc: update({ proc: null, runningSince: null }),
  /**
   * Entering `starting`: a new run, so the last one's process and what its
   * service said (STATUS=, STOPPING=1, the last probe failure) are forgotten —
   * except the process an ADOPT brings (a re-adopted run that is not ready yet).
   */
  beginRun: update(({ event }) => ({
    ...(event.type === 'ADOPT' ? {} : { proc: null, runningSince: null }),
    notifyStatus: null,
    notifyStopping: false,
    lastProbe: null,
  })),
  /** MAINPID=: the service's main process is another one; it is watched (not our child) instead. */
  takeMainPid: update({
    proc: ({ event }) => {
      assertEvent(event, 'NOTIFY_MAINPID');
      return { ...event.proc, child: false };
    },
  }),
  /** Running since the process was spawned or found, or said it was ready (or a reading dropped its readiness file). */
  upSince: update({
    runningSince: ({ event }) => {
      assertEvent(event, ['SPAWNED', 'PID_FOUND', 'READY', 'CONFIGURE']);
      return event.at ?? null;
    },
  }),
  /** Take over what the last supervisor left running, with the config it ran. */
  adopt: update(({ context, event }) => {
    assertEvent(event, 'ADOPT');
    const history = { restarts: event.restarts ?? context.restarts, lastExit: event.lastExit === undefined ? context.lastExit : event.lastExit };
    return { proc: event.proc, config: event.config, runningSince: event.ready ? event.since : null, problem: null, want: wantOnReading(context), ...history };
  }),

  // ---- needs, and what a run says of itself
  noteNeeds: update({
    waitingFor: ({ event }) => {
      assertEvent(event, 'NEEDS');
      return event.unmet;
    },
  }),
  noteStatus: update({
    notifyStatus: ({ event }) => {
      assertEvent(event, 'NOTIFY_STATUS');
      return event.text;
    },
  }),
  noteStopping: update({ notifyStopping: true }),
  noteProbe: update({
    lastProbe: ({ event }) => {
      assertEvent(event, 'PROBE_FAILED');
      return { probe: event.probe, reason: event.reason, output: event.output, inARow: event.inARow };
    },
  }),
  /** Health passes again: its failures are over (a `ready` failure is kept, it says why the start took long). */
  healthPassed: update({ lastProbe: ({ context }) => (context.lastProbe?.probe === 'health' ? null : context.lastProbe) }),
  noteUnhealthy: update({
    unhealthy: ({ event }) => {
      assertEvent(event, 'UNHEALTHY');
      return { reason: event.reason, at: event.at };
    },
  }),

  // ---- exits and the restart policy
  noteExit: update({ lastExit: ({ context, event }) => exitFrom(context, event, false) }),
  noteStoppedExit: update({ lastExit: ({ context, event }) => exitFrom(context, event, true) }),
  countCrash: update({ crashes: ({ context }) => nextCrashes(context) }),
  /** `run` of a self-daemonizing service died before its pid file named a daemon. */
  countRunCrash: update({ crashes: ({ context }) => context.crashes + 1 }),
  forgetCrashes: update({ crashes: 0 }),
  countRestart: update({ restarts: ({ context }) => context.restarts + 1 }),
  waitStartDelay: update(({ event }) => {
    assertEvent(event, 'CONFIGURE');
    const delayMs = event.config.startDelayMs;
    return { delayMs, startsAt: event.at === undefined ? null : event.at + delayMs };
  }),
  waitStartDelayAfterExit: update(({ context }) => ({ delayMs: context.config!.startDelayMs, startsAt: exitOf(context).at + context.config!.startDelayMs })),
  waitRestartDelay: update(({ context }) => ({ delayMs: context.config!.restartDelayMs, startsAt: exitOf(context).at + context.config!.restartDelayMs })),
  clearStartsAt: update({ startsAt: null }),

  // ---- why it failed (for `status`)
  failSpawn: update({
    problem: ({ event }) => {
      assertEvent(event, 'SPAWN_FAILED');
      return event.reason;
    },
  }),
  failRunExit: update({ problem: ({ context }) => `run ${describeExit(exitOf(context))} before writing its pid file` }),
  failCrashLimit: update({ problem: `crashed ${CRASH_LIMIT} times in a row; not restarting until \`proclaunch start\` or a change to the profile` }),
  failStartTimeout: update({
    problem: ({ context }) => `not running after ${startTimeoutText(context.config)}: ${context.problem ?? 'run did not exit'}`,
  }),
  failReadyTimeout: update({
    problem: ({ context }) => {
      const probe = context.lastProbe?.probe === 'ready' ? ` (the last ready run ${context.lastProbe.reason})` : '';
      return `not ready after ready_timeout ${(context.config?.readyTimeoutMs ?? 0) / 1000}s${probe}`;
    },
  }),

  // ---- effects
  launchRun: effect(({ context, enqueue }) => enqueue({ type: 'launch', params: { config: context.config! } })),
  prepareRun: effect(({ context, enqueue }) => {
    if (context.config) enqueue({ type: 'prepare', params: { config: context.config } });
  }),
  sendStopSignal: signalWith(({ context }) => context.config?.stopSignal ?? 'SIGTERM'),
  sendKill: signalWith(() => 'SIGKILL'),
  sendReloadSignal: signalWith(({ context }) => context.config?.reloadSignal ?? 'SIGHUP'),
  forwardSignal: signalWith(({ event }) => {
    assertEvent(event, 'SIGNAL');
    return event.signal;
  }),
  killGroup: effect(({ context, enqueue }) => {
    if (context.proc) enqueue({ type: 'killLeftovers', params: { proc: context.proc } });
  }),
  releaseIfRemoved: effect(({ context, enqueue }) => {
    if (context.want === 'removed') enqueue({ type: 'release', params: { tag: context.tag } });
  }),
  /** After stop_timeout: `finish` is killed (its actor stopped) and counts as ended with no code. */
  giveUpOnFinish: raise<ServiceContext, ServiceEvent, ServiceEvent, undefined>({ type: 'FINISHED', code: null, signal: null, killed: true }),

  /** One line of log-lines.ts, by name. */
  log: emit<ServiceContext, ServiceEvent, { line: LineName }, ServiceEvent, ServiceEmitted>(({ context, event }, { line }) => ({
    type: 'log',
    ...LINES[line]({ context, event }),
  })),
};

/** `log('stopped')` in the table: the `log` action with the line's name. */
export const log = (line: LineName) => ({ type: 'log', params: { line } }) as const;
