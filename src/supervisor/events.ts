// The event history users of PETeR and supervisord expect, derived from what
// the service actors already do: each snapshot change is compared with the
// one before it, so the machine needs no extra bookkeeping to report events.
import { isFailure } from '../machine/policy.js';
import type { ServiceContext } from '../machine/service-machine.js';
import { signalName } from '../profile/signals.js';
import { AWAITING_READY, FAILED, STOPPING, UP, type StateTag } from '../vocabulary/state-tags.js';

export const EVENT_KINDS = ['started', 'ready', 'unhealthy', 'exited', 'stopped', 'crashed', 'failed', 'added', 'removed', 'changed', 'invalid'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface EventRecord {
  /** ISO 8601 with milliseconds and offset. */
  time: string;
  event: EventKind;
  profile: string;
  pid?: number;
  code?: number | null;
  signal?: string | null;
  reason?: string;
  /** Who asked, on an event a command caused: `uid N` (control socket), `http full` (causes.ts). */
  by?: string;
}

export type EventDetail = Omit<EventRecord, 'time' | 'profile'>;

/** The parts of an actor snapshot the events depend on. */
export interface SnapshotView {
  hasTag(tag: StateTag): boolean;
  context: Pick<ServiceContext, 'proc' | 'lastExit' | 'problem' | 'unhealthy'>;
}

/** Its process is up, ready or not yet. */
const hasRun = (view: SnapshotView): boolean => view.hasTag(UP) || view.hasTag(AWAITING_READY);

/**
 * What happened between two snapshots of one service: `unhealthy` (the
 * verdict that restarts it), an exit (`stopped` when we asked for it,
 * `crashed` on a failure, `exited` when clean), then `failed` on entering
 * stopped.failed, then `started` when its process is up (running, or
 * awaiting readiness), then `ready` on reaching running from awaiting
 * readiness (only profiles with a readiness file have that step). A new main
 * pid (MAINPID=) is not a start.
 */
export function eventsBetween(before: SnapshotView, after: SnapshotView): EventDetail[] {
  const events: EventDetail[] = [];
  const unhealthy = after.context.unhealthy;
  if (unhealthy && unhealthy !== before.context.unhealthy) {
    events.push({ event: 'unhealthy', ...(after.context.proc ? { pid: after.context.proc.pid } : {}), reason: unhealthy.reason });
  }
  const exit = after.context.lastExit;
  if (exit && exit !== before.context.lastExit) {
    const what = { pid: exit.pid, code: exit.code, signal: exit.signal === null ? null : signalName(exit.signal) };
    if (before.hasTag(STOPPING)) events.push({ event: 'stopped', ...what });
    else events.push({ event: isFailure(exit) ? 'crashed' : 'exited', ...what });
  }
  if (after.hasTag(FAILED) && !before.hasTag(FAILED)) {
    events.push({ event: 'failed', ...(after.context.problem ? { reason: after.context.problem } : {}) });
  }
  const pid = after.context.proc?.pid;
  const sameRun = hasRun(before) && (before.context.proc?.pid === pid || exit === before.context.lastExit);
  if (hasRun(after) && pid !== undefined && !sameRun) events.push({ event: 'started', pid });
  if (after.hasTag(UP) && before.hasTag(AWAITING_READY) && pid !== undefined) events.push({ event: 'ready', pid });
  return events;
}
