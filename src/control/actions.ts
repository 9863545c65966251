// start, stop, restart and reload in terms of the supervisor's actors. Each
// waits (by subscription, not polling) until the service reaches the state
// asked for, fails, or the timeout passes. start and restart wait until it is
// ready — and, for a profile with no readiness file, until it has been up
// CRASH_WINDOW_MS (supervisord's startsecs): a process that exits 1 ms after
// its spawn is a failed start, not `ok running`.
import { CRASH_WINDOW_MS, describeExit } from '../machine/policy.js';
import type { ServiceActor, ServiceSnapshot } from '../machine/service-machine.js';
import { stateText } from '../machine/state-name.js';
import { phaseOf } from '../needs/coordinator.js';
import { needsClosure, unmetText, type ServiceView } from '../needs/graph.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import { DOWN, FAILED, FINISHING, UP } from '../vocabulary/state-tags.js';
import { profileOf } from '../vocabulary/tags.js';
import type { ActionCommand, ActionResult } from './protocol.js';

export interface ActOptions {
  wait: boolean;
  timeoutMs: number;
  /** restart: one at a time, each ready before the next; stop at the first failure. */
  rolling?: boolean;
  /** Who asked (`uid 0`, `http full`): the `by` of the events this causes. */
  by?: string;
}

/** Do `command` to each of `names` (already selected and known) and say what became of each. */
export function actOn(supervisor: Supervisor, names: string[], command: ActionCommand, options: ActOptions): Promise<ActionResult[]> {
  if (command === 'stop') return stop(supervisor, names, options);
  if (command === 'restart' && options.rolling) return rolling(supervisor, names, options);
  if (command === 'start') return start(supervisor, names, options);
  return Promise.all(names.map((name) => act(supervisor, name, command, options)));
}

/** Stopped, or its `finish` runs: the old process is gone. */
const isStopped = (s: ServiceSnapshot): boolean => s.hasTag(DOWN) || s.hasTag(FINISHING);

export const result = (name: string, snapshot: ServiceSnapshot, ok: boolean, message: string): ActionResult => ({
  name,
  ok,
  state: stateText(snapshot),
  pid: snapshot.context.proc?.pid ?? null,
  message,
});

/** Resolve with the first snapshot for which `decide` gives a result (a number: decide again that many ms later), or a timeout result. */
function until(
  actor: ServiceActor,
  timeoutMs: number,
  decide: (s: ServiceSnapshot) => ActionResult | number | null,
  onTimeout: (s: ServiceSnapshot) => ActionResult,
): Promise<ActionResult> {
  return new Promise((resolve) => {
    let again: NodeJS.Timeout | null = null;
    let subscription: { unsubscribe(): void } | null = null;
    const finish = (r: ActionResult) => {
      clearTimeout(timer);
      if (again) clearTimeout(again);
      subscription?.unsubscribe();
      resolve(r);
    };
    const look = (s: ServiceSnapshot): boolean => {
      const decided = decide(s);
      if (typeof decided === 'number') {
        // Nothing may happen meanwhile (a service up and quiet): look again then.
        if (!again) again = setTimeout(() => ((again = null), look(actor.getSnapshot())), decided);
        return false;
      }
      if (decided) finish(decided);
      return decided !== null;
    };
    const timer = setTimeout(() => finish(onTimeout(actor.getSnapshot())), timeoutMs);
    if (look(actor.getSnapshot())) return;
    subscription = actor.subscribe({
      next: (snapshot) => void look(snapshot),
      // The actor threw (the supervisor re-creates it): answer now. An observer without `error` would make xstate rethrow it.
      error: () => finish({ ...onTimeout(actor.getSnapshot()), message: 'internal error while waiting; see the supervisor log' }),
    });
  });
}

/** `timed out after 5s, still starting.waiting: waiting for db (stopped by command)`. */
function timedOut(supervisor: Supervisor, name: string, timeoutMs: number, extra = ''): (s: ServiceSnapshot) => ActionResult {
  return (s) => {
    const waiting = s.hasTag(UP) || isStopped(s) ? null : supervisor.waitingFor(name);
    return result(name, s, false, `timed out after ${timeoutMs / 1000}s, still ${stateText(s)}${waiting ? `: ${unmetText(waiting)}` : ''}${extra}`);
  };
}

async function act(supervisor: Supervisor, name: string, command: Exclude<ActionCommand, 'stop'>, { wait, timeoutMs, by }: ActOptions, note = ''): Promise<ActionResult> {
  const actor = supervisor.actor(name)!;
  const before = actor.getSnapshot();
  const oldPid = before.context.proc?.pid ?? null;
  if (!before.context.config) return result(name, before, false, `profile invalid: ${before.context.problem ?? 'not readable'}`);

  if (command === 'reload') {
    if (!before.hasTag(UP)) return result(name, before, false, `not running (${stateText(before)})`);
    supervisor.command(name, { type: 'RELOAD' }, by);
    return result(name, before, true, `sent ${before.context.config.reloadSignal ?? 'SIGHUP'} to pid ${oldPid}`);
  }
  // Up for less than the crash window (just deployed, just restarted on a change): not yet a success; wait it out.
  const young = before.context.config.readiness.kind === 'none' && Date.now() - (before.context.runningSince ?? 0) < CRASH_WINDOW_MS;
  if (command === 'start' && before.hasTag(UP) && !young) return result(name, before, true, `already running pid ${oldPid}${note}`);

  if (!(command === 'start' && before.hasTag(UP))) supervisor.command(name, { type: command === 'start' ? 'START' : 'RESTART' }, by);
  if (!wait) return result(name, actor.getSnapshot(), true, `${command} requested${note}`);

  let left = false; // a restart must go through stopping/starting first
  let upPid: number | null = null;
  return until(
    actor,
    timeoutMs,
    (s) => {
      if (!s.hasTag(UP)) left = true;
      const exit = s.context.lastExit;
      // An exit we did not ask for, since the command: a failed start.
      if (exit && exit !== before.context.lastExit && !exit.requested) {
        const when = exit.pid === upPid ? `died within ${CRASH_WINDOW_MS / 1000}s of starting` : 'died before it was ready';
        return result(name, s, false, `${when}: ${describeExit(exit)} (now ${stateText(s)})`);
      }
      if (s.hasTag(UP) && (command === 'start' || left || s.context.proc?.pid !== oldPid)) {
        upPid = s.context.proc?.pid ?? null;
        // Nothing says when it is ready: it is, once it has outlived the crash window.
        const upFor = Date.now() - (s.context.runningSince ?? Date.now());
        if (s.context.config?.readiness.kind === 'none' && upFor < CRASH_WINDOW_MS) return CRASH_WINDOW_MS - upFor;
        return result(name, s, true, `running pid ${upPid}${note}${command === 'restart' ? keptRunning(supervisor, name) : ''}`);
      }
      if (s.hasTag(FAILED)) return result(name, s, false, `failed: ${s.context.problem ?? 'unknown'}`);
      return null;
    },
    timedOut(supervisor, name, timeoutMs),
  );
}

/** `(not restarted with it: web, api)`: restarting a need does not restart what needs it (systemd's Wants=). */
function keptRunning(supervisor: Supervisor, name: string): string {
  const running = supervisor.dependentsOf(name).filter((tag) => supervisor.actor(tag)?.getSnapshot().hasTag(UP));
  return running.length === 0 ? '' : ` (not restarted with it: ${running.join(', ')})`;
}

/**
 * `start` also starts the needs (transitively) that were stopped by command
 * or have a `down` file — a start by command is what those wait for; failed
 * ones are left to the operator. Their rows come first.
 */
function start(supervisor: Supervisor, names: string[], options: ActOptions): Promise<ActionResult[]> {
  const all = supervisor.names();
  const named = new Set(names);
  // (`start --all`: every need is named already.)
  const views: ServiceView[] = names.length === all.length ? [] : all.map((tag) => ({ tag, name: profileOf(tag), phase: phaseOf(supervisor.actor(tag)!.getSnapshot()) }));
  const phases = new Map(views.map((v) => [v.tag, v.phase]));
  const needsByTag = new Map(views.map((v) => [v.tag, supervisor.needsOf(v.name)]));
  const neededBy = new Map<string, string[]>();
  for (const name of views.length ? names : []) {
    for (const tag of needsClosure(supervisor.needsOf(profileOf(name)), views, needsByTag)) {
      const phase = phases.get(tag);
      if (named.has(tag) || (phase !== 'stopped by command' && phase !== 'down')) continue;
      neededBy.set(tag, [...(neededBy.get(tag) ?? []), name]);
    }
  }
  const alsoStarted = (name: string): string => {
    const needs = [...neededBy].filter(([, by]) => by.includes(name)).map(([tag]) => tag);
    return needs.length === 0 ? '' : ` (also started ${needs.join(', ')}, which it needs)`;
  };
  // The needs first, so that they are on their way when the dependents ask.
  const needs = [...neededBy].map(([tag, by]) => act(supervisor, tag, 'start', options, ` (needed by ${by.join(', ')})`));
  return Promise.all([...needs, ...names.map((name) => act(supervisor, name, 'start', options, alsoStarted(name)))]);
}

/** Each named service stops once those among them that need it have stopped; `stop NAME` stops only NAME. */
function stop(supervisor: Supervisor, names: string[], { wait, timeoutMs, by }: ActOptions): Promise<ActionResult[]> {
  const early = new Map<string, ActionResult>();
  const oldPids = new Map<string, number | null>();
  for (const name of names) {
    const before = supervisor.actor(name)!.getSnapshot();
    oldPids.set(name, before.context.proc?.pid ?? null);
    // Nothing of an invalid profile runs (one that runs on keeps its config): stopped is what was asked (LSB: stop of a stopped service is a success).
    if (!before.context.config) early.set(name, result(name, before, true, `not running (profile invalid: ${before.context.problem ?? 'not readable'})`));
    else if (isStopped(before)) {
      supervisor.command(name, { type: 'STOP' }, by); // still remembered, and ends a backoff
      early.set(name, result(name, supervisor.actor(name)!.getSnapshot(), true, 'already stopped'));
    }
  }
  const sent = new Set<string>();
  supervisor.stopInOrder(names.filter((name) => !early.has(name)), (tag) => {
    sent.add(tag);
    supervisor.command(tag, { type: 'STOP' }, by);
  });
  return Promise.all(
    names.map(async (name) => {
      const known = early.get(name);
      if (known) return known;
      const actor = supervisor.actor(name)!;
      const after = sent.has(name) ? '' : ' (after the services that need it)';
      if (!wait) return result(name, actor.getSnapshot(), true, `stop requested${after}`);
      const pid = oldPids.get(name);
      const stoppedMessage = pid ? `stopped pid ${pid}` : 'stopped';
      const late = (s: ServiceSnapshot) => timedOut(supervisor, name, timeoutMs, sent.has(name) ? '' : ', waiting for the services that need it to stop')(s);
      return until(actor, timeoutMs, (s) => (isStopped(s) ? result(name, s, true, stoppedMessage) : null), late);
    }),
  );
}

/** `restart --rolling`: one at a time, in order, each ready before the next; the first failure ends it. */
async function rolling(supervisor: Supervisor, names: string[], options: ActOptions): Promise<ActionResult[]> {
  const results: ActionResult[] = [];
  for (const name of names) {
    const failed = results.find((r) => !r.ok);
    if (failed) {
      results.push(result(name, supervisor.actor(name)!.getSnapshot(), false, `not restarted: the rolling restart stopped at ${failed.name}`));
      continue;
    }
    results.push(await act(supervisor, name, 'restart', { ...options, wait: true }));
  }
  return results;
}
