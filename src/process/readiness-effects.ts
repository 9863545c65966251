// The readiness and health effects, as the machine invokes them: each is an
// xstate callback actor's body, `(input, sendBack) => cleanup`, that reports
// with ReadinessEvent (the machine maps them to its own). prepareReadiness
// is for `launch`: what a fresh run needs before it is spawned.
import { closeSync } from 'node:fs';
import { fromCallback, type EventObject } from 'xstate';
import type { ServiceConfig } from '../profile/types.js';
import type { ProcRef } from '../vocabulary/proc-ref.js';
import { formatDuration } from '../vocabulary/durations.js';
import { bindNotifySocket, expectNotifyRun, holdNotifySocket, releaseNotifySocket, watchNotify } from './notify.js';
import { healthLoop, probeUntilReady } from './probe-loop.js';
import { runProbe, type ProbeResult } from './probe.js';
import { holdReadyFd, releaseReadyFd } from './ready-fd.js';
import type { ExtraFds } from './spawn.js';

export type ReadinessEvent =
  | { type: 'READY'; via: 'notification-fd' | 'notify' | 'ready' }
  | { type: 'NOTIFY_STATUS'; text: string }
  | { type: 'NOTIFY_MAINPID'; proc: ProcRef }
  | { type: 'NOTIFY_RELOADING' }
  | { type: 'NOTIFY_STOPPING' }
  /** A datagram (or line) not used, and why: for a WARN. At most MAX_IGNORED per run, the last saying so. */
  | { type: 'NOTIFY_IGNORED'; reason: string }
  /** A `ready` or `health` run that failed: its reason and the tail of its output, for `status`. */
  | { type: 'PROBE_FAILED'; probe: 'ready' | 'health'; reason: string; output: string; inARow: number }
  /** `health` passed again after failing (not after every pass): the failures in a row are over. */
  | { type: 'PROBE_PASSED'; probe: 'health' }
  /** `health` failed `health_retries` times in a row, or no WATCHDOG=1 came within watchdog_timeout: restart. */
  | { type: 'UNHEALTHY'; reason: string }
  /** The readiness file or notify socket could not be watched: a WARN; ready_timeout decides. */
  | { type: 'READINESS_PROBLEM'; reason: string };

type Send = (event: ReadinessEvent) => void;

/** How a profile says it is ready (what the lead's profile reading gives). */
export interface ReadinessFiles {
  /** `notification-fd`: N >= 3, or null. */
  notificationFd: number | null;
  /** `notify` present. */
  notify: boolean;
  /** `watchdog_timeout` in ms (with notify), or null. */
  watchdogMs: number | null;
}

export interface ReadinessSetup {
  /** Merge into the config's env: NOTIFY_SOCKET (unset for a service without notify), WATCHDOG_USEC. */
  env: Record<string, string | null>;
  /** spawnService's extraFds: the readiness file at N. */
  extraFds: ExtraFds;
  /** Close our copies once the child is spawned (or failed to be). */
  close(): void;
  /** The run is spawned (call it in the same tick): with notify, its datagrams are read from now on, before the machine listens. */
  spawned(run: { pid: number; uid: number | null }): void;
  /** Something to WARN about (a notify socket name that had to change). */
  warning: string | null;
}

/**
 * Before a fresh run (not a re-adopted one): the readiness file emptied and
 * its fd for the child, the notify socket bound and named. Throws an Error
 * whose message is the reason (for SPAWN_FAILED).
 */
export function prepareReadiness(stateDir: string, tag: string, files: ReadinessFiles): ReadinessSetup {
  // NOTIFY_SOCKET from our own environment (a supervisor under systemd) is not the service's to use.
  const env: Record<string, string | null> = { NOTIFY_SOCKET: null, WATCHDOG_USEC: null, WATCHDOG_PID: null };
  const extraFds = new Map<number, number>();
  let warning: string | null = null;
  let spawned: ReadinessSetup['spawned'] = () => undefined;
  if (files.notify) {
    const held = holdNotifySocket(stateDir, tag);
    env.NOTIFY_SOCKET = held.address;
    spawned = (run) => expectNotifyRun(held.address, run);
    warning = held.warning;
    // sd_watchdog_enabled() reads it; no WATCHDOG_PID: the pid is not known before the spawn.
    if (files.watchdogMs !== null) env.WATCHDOG_USEC = String(Math.round(files.watchdogMs * 1000));
  }
  if (files.notificationFd !== null) {
    const ready = holdReadyFd(stateDir, tag);
    ready.reset();
    extraFds.set(files.notificationFd, ready.openForChild());
  }
  return { env, extraFds, warning, close: () => extraFds.forEach((fd) => closeSync(fd)), spawned };
}

/**
 * While the service waits for its needs: its notify socket bound and its
 * readiness file opened now, so that its start, once they are ready, does not
 * wait for them (~0.5 ms a link of a chain). A failure is left to the launch,
 * which tries again and reports it.
 */
export function holdReadiness(stateDir: string, tag: string, files: ReadinessFiles): void {
  try {
    if (files.notify) bindNotifySocket(stateDir, tag);
    if (files.notificationFd !== null) holdReadyFd(stateDir, tag);
  } catch {
    // prepareReadiness, at the launch, says why (SPAWN_FAILED)
  }
}

/** The profile is gone and its service stopped: its readiness file and notify socket with it. */
export function releaseReadiness(stateDir: string, tag: string): void {
  releaseReadyFd(stateDir, tag);
  releaseNotifySocket(stateDir, tag);
}

/** notification-fd: READY once the run has written its newline (also when that happened while no supervisor ran). */
export function awaitReadyFd(input: { stateDir: string; tag: string }, send: Send): () => void {
  try {
    return holdReadyFd(input.stateDir, input.tag).watch(() => send({ type: 'READY', via: 'notification-fd' }));
  } catch (error) {
    send({ type: 'READINESS_PROBLEM', reason: `cannot watch the notification-fd file: ${(error as Error).message}` });
    return () => undefined;
  }
}

const MAX_IGNORED = 10;

export interface NotifyInput {
  stateDir: string;
  tag: string;
  /** The run's pid (the process we started or adopted). */
  pid: number;
  /** The profile's user's uid, or null. */
  uid: number | null;
  watchdogMs: number | null;
}

/**
 * notify: for the whole life of a run (invoke it while the run has a
 * process). Every READY=1 is reported (after RELOADING=1 it ends the reload).
 * With watchdogMs, one timer: UNHEALTHY when no WATCHDOG=1 came for that long.
 */
export function listenNotify(input: NotifyInput, send: Send): () => void {
  let stop: () => void;
  try {
    stop = watchNotify(holdNotifySocket(input.stateDir, input.tag).address, { pid: input.pid, uid: input.uid }, onResult);
  } catch (error) {
    send({ type: 'READINESS_PROBLEM', reason: `cannot listen on the notify socket: ${(error as Error).message}` });
    return () => undefined;
  }
  let ignored = 0;
  let watchdog: NodeJS.Timeout | null = null;
  const arm = (): void => {
    if (input.watchdogMs === null) return;
    if (watchdog) clearTimeout(watchdog);
    watchdog = setTimeout(() => send({ type: 'UNHEALTHY', reason: `no WATCHDOG=1 for watchdog_timeout ${formatDuration(input.watchdogMs!)}` }), input.watchdogMs);
  };
  arm();
  function onResult(result: Parameters<Parameters<typeof watchNotify>[2]>[0]): void {
    switch (result.kind) {
      case 'ready':
        return send({ type: 'READY', via: 'notify' });
      case 'status':
        return send({ type: 'NOTIFY_STATUS', text: result.text });
      case 'mainpid':
        return send({ type: 'NOTIFY_MAINPID', proc: result.proc });
      case 'reloading':
        return send({ type: 'NOTIFY_RELOADING' });
      case 'stopping':
        return send({ type: 'NOTIFY_STOPPING' });
      case 'watchdog':
        return arm();
      case 'ignored':
        // A service (or a stranger) sending garbage in a loop must not flood the log.
        if (++ignored < MAX_IGNORED) return send({ type: 'NOTIFY_IGNORED', reason: result.reason });
        if (ignored === MAX_IGNORED) send({ type: 'NOTIFY_IGNORED', reason: `${result.reason} (further ignored datagrams of this run are not reported)` });
    }
  }
  return () => {
    stop();
    if (watchdog) clearTimeout(watchdog);
  };
}

export interface ProbeInput {
  config: ServiceConfig;
  stateDir: string;
  /** The `ready` or `health` file. */
  probePath: string;
  intervalMs: number;
  /** Each run's bound (health_timeout; for ready, ready_timeout is a fine one). */
  timeoutMs: number;
}

const runner = (input: ProbeInput) => (done: (result: ProbeResult) => void) => runProbe(input.config, input.stateDir, input.probePath, input.timeoutMs, done);
const failedEvent = (probe: 'ready' | 'health', result: ProbeResult, inARow: number): ReadinessEvent => ({
  type: 'PROBE_FAILED', probe, reason: result.reason ?? 'failed', output: result.output, inARow,
});

/** ready: at once, then every interval until a run passes (ready_timeout is the machine's). */
export function probeReady(input: ProbeInput, send: Send): () => void {
  let inARow = 0;
  return probeUntilReady({
    run: runner(input),
    intervalMs: input.intervalMs,
    onReady: () => send({ type: 'READY', via: 'ready' }),
    onFailure: (result) => send(failedEvent('ready', result, ++inARow)),
  });
}

/** health: every interval while running; UNHEALTHY after `retries` failures in a row (and the loop ends). */
export function probeHealth(input: ProbeInput & { retries: number }, send: Send): () => void {
  let failing = 0;
  return healthLoop({
    run: runner(input),
    intervalMs: input.intervalMs,
    retries: input.retries,
    onResult: (result, inARow) => {
      const wasFailing = failing > 0;
      failing = inARow;
      if (!result.ok) send(failedEvent('health', result, inARow));
      else if (wasFailing) send({ type: 'PROBE_PASSED', probe: 'health' });
    },
    onUnhealthy: (last, inARow) =>
      send({ type: 'UNHEALTHY', reason: `health failed ${inARow} time${inARow === 1 ? '' : 's'} in a row, last: ${last.reason ?? 'failed'}` }),
  });
}

/** The same, as xstate actors for the machine's `actors` (they receive nothing; they send ReadinessEvent). */
export const readinessActors = {
  awaitReadyFd: fromCallback<EventObject, { stateDir: string; tag: string }>(({ input, sendBack }) => awaitReadyFd(input, sendBack)),
  listenNotify: fromCallback<EventObject, NotifyInput>(({ input, sendBack }) => listenNotify(input, sendBack)),
  probeReady: fromCallback<EventObject, ProbeInput>(({ input, sendBack }) => probeReady(input, sendBack)),
  probeHealth: fromCallback<EventObject, ProbeInput & { retries: number }>(({ input, sendBack }) => probeHealth(input, sendBack)),
};
