// The event history users of PETeR and supervisord expect, derived from what
// the service actors already do: each snapshot change is compared with the
// one before it, so the machine needs no extra bookkeeping to report events.
import { isFailure } from '../machine/policy.js';
import type { ServiceContext } from '../machine/service-machine.js';
import { signalName } from '../profile/signals.js';
import { FAILED, STOPPING, UP, type StateTag } from '../vocabulary/state-tags.js';

export const EVENT_KINDS = ['started', 'exited', 'stopped', 'crashed', 'failed', 'added', 'removed', 'changed', 'invalid'] as const;
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
}

export type EventDetail = Omit<EventRecord, 'time' | 'profile'>;

/** The parts of an actor snapshot the events depend on. */
export interface SnapshotView {
  hasTag(tag: StateTag): boolean;
  context: Pick<ServiceContext, 'proc' | 'lastExit' | 'problem'>;
}

/**
 * What happened between two snapshots of one service: an exit (`stopped` when
 * we asked for it, `crashed` on a failure, `exited` when clean), then
 * `failed` on entering stopped.failed, then `started` on reaching running.
 */
export function eventsBetween(before: SnapshotView, after: SnapshotView): EventDetail[] {
  const events: EventDetail[] = [];
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
  if (after.hasTag(UP) && pid !== undefined && !(before.hasTag(UP) && before.context.proc?.pid === pid)) {
    events.push({ event: 'started', pid });
  }
  return events;
}
