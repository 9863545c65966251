// What each snapshot of a service means outside its actor: its record in
// STATE_DIR/records.jsonl (so that the next supervisor takes the process over),
// its hold in STATE_DIR/held (a stop by command outlives us), and the event
// history. One subscription per actor, attached when it is created; the
// machine knows nothing of them, and no other code calls them.
import { timestamp } from '../log/logger.js';
import type { ServiceActor, ServiceSnapshot } from '../machine/service-machine.js';
import type { Level } from '../vocabulary/levels.js';
import { AWAITING_READY, STOPPING, UP } from '../vocabulary/state-tags.js';
import type { EventLog } from './event-log.js';
import type { Causes } from './causes.js';
import { eventsBetween, type EventDetail } from './events.js';
import type { HeldProfiles } from './holds.js';
import type { ServiceRecords } from './records.js';

export interface ObserverDeps {
  eventLog: EventLog;
  holds: HeldProfiles;
  records: ServiceRecords;
  /** Who asked for the commands in flight: the `by` of the events they cause. */
  causes: Causes;
  /** Whether a STOP now is a stop by command, to remember (not while every service is stopped at shutdown). */
  keepHolds(): boolean;
  log(level: Level, message: string): void;
}

/** What the supervisor does on each snapshot (after its events, before its record) and on a failure of the actor. */
export interface AfterObservers {
  next(snapshot: ServiceSnapshot): void;
  /** The actor threw (a guard or an action): `last` is its last good snapshot. */
  error(error: unknown, last: ServiceSnapshot): void;
}

export class SnapshotObservers {
  private recordsFailing = false;

  constructor(private readonly deps: ObserverDeps) {}

  /** Follow `actor` (already started: its initial snapshot says nothing). */
  attach(tag: string, actor: ServiceActor, then: AfterObservers): void {
    let before = actor.getSnapshot();
    // With an `error` observer: an actor that throws ends alone, not the process (xstate rethrows unobserved errors).
    actor.subscribe({
      next: (after) => {
        for (const detail of this.deps.causes.attribute(tag, eventsBetween(before, after))) this.record(tag, detail);
        this.keepHold(tag, before, after);
        before = after;
        // The supervisor first (a need now ready starts its dependents), then the record: its
        // write (~0.5 ms) is not on the way from a need's readiness to its dependent's spawn.
        // Same tick, and xstate's mailbox hands over this tag's next snapshot only after this
        // one's observers return: the record never lags behind a later snapshot.
        try {
          then.next(after);
        } finally {
          this.keepRecord(tag, after);
        }
      },
      error: (error) => then.error(error, before),
    });
  }

  /** One event of the history: derived from snapshots here, or a reading of the supervisor's (added, removed, ...). */
  record(profile: string, detail: EventDetail): void {
    this.deps.eventLog.append({ time: timestamp(), profile, ...detail });
  }

  /** Keep the record of TAG (STATE_DIR/records.jsonl) in step with the process the actor owns (ready, or not yet: the next supervisor waits for it again). */
  private keepRecord(tag: string, snapshot: ServiceSnapshot): void {
    const { records } = this.deps;
    const { proc, config, runningSince, restarts, lastExit } = snapshot.context;
    const history = { restarts, lastExit };
    try {
      if (proc && config && snapshot.hasTag(UP)) records.save(tag, proc, runningSince ?? Date.now(), config, true, history);
      else if (proc && config && snapshot.hasTag(AWAITING_READY)) records.save(tag, proc, null, config, false, history);
      else if (proc && config && snapshot.hasTag(STOPPING)) {
        if (!records.has(tag, proc.pid)) records.save(tag, proc, runningSince ?? Date.now(), config, true, history);
      } else records.remove(tag);
      this.recordsFailing = false;
    } catch (error) {
      if (!this.recordsFailing) this.deps.log('ERROR', `cannot write the record of ${tag}: ${(error as Error).message}; a supervisor started after this one may not find it`);
      this.recordsFailing = true;
    }
  }

  /** STATE_DIR/held: the tags the machine keeps down because a command stopped them. */
  private keepHold(tag: string, before: ServiceSnapshot, after: ServiceSnapshot): void {
    if (!this.deps.keepHolds()) return;
    const was = before.context.want === 'down';
    const now = after.context.want === 'down';
    if (now && !was) this.deps.holds.add(tag);
    else if (was && !now) this.deps.holds.delete(tag);
  }
}
