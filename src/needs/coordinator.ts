// Tells each dependent whether its needs are met (`{ type: 'NEEDS', unmet }`),
// from its needs' snapshots: before the CONFIGURE of a config with needs, and
// again whenever its verdict changes. Event-driven and O(change): a snapshot
// of `db` re-evaluates only the profiles that need db, and only when what
// they see of db (its phase) changed. No timer, no scan of every service.
import type { Want } from '../machine/types.js';
import { DOWN, FAILED, UP, type StateTag } from '../vocabulary/state-tags.js';
import { byTag, isLoggerTag, profileOf } from '../vocabulary/tags.js';
import { needText, type Need } from '../profile/readiness.js';
import { dependentsOf, firstUnmet, unmetText, type NeedPhase, type ServiceView, type Unmet } from './graph.js';

/** What the machine is told: the first unmet need (`waiting for db (missing)`), or null when all are met. */
export interface NeedsEvent {
  type: 'NEEDS';
  unmet: string | null;
}

/** What is read of a service's snapshot. */
export interface NeedSnapshot {
  hasTag(tag: StateTag): boolean;
  context: { want: Want; config: { down: boolean } | null };
}

export interface NeedsActor {
  getSnapshot(): NeedSnapshot;
}

export interface CoordinatorDeps {
  /** The actor of a tag whose profile is there (not removed), else undefined. */
  actor(tag: string): NeedsActor | undefined;
  /** The tags of a profile that have an actor (its logger's included: skipped here). */
  tagsOf(profile: string): Iterable<string>;
  /** Its profile is invalid now (a cycle, a bad file): failed to those that need it, even while it waits or runs on. */
  invalid(tag: string): boolean;
  send(tag: string, event: NeedsEvent): void;
}

/** What a service is to the services that need it. */
export function phaseOf(snapshot: NeedSnapshot, invalid = false): NeedPhase {
  if (snapshot.hasTag(UP)) return 'ready';
  if (snapshot.context.want === 'down') return 'stopped by command';
  if (snapshot.hasTag(FAILED) || invalid) return 'failed';
  if (snapshot.context.config?.down && snapshot.hasTag(DOWN)) return 'down';
  return 'not ready';
}

export class NeedsCoordinator {
  /** The needs of each profile that has some (valid readings, not in a cycle). */
  private readonly needsOf = new Map<string, readonly Need[]>();
  /** Profile → the profiles that need it. */
  private readonly neededBy = new Map<string, Set<string>>();
  /** The phase each tag was last seen in (only tags something needs). */
  private readonly phases = new Map<string, NeedPhase | 'missing'>();
  /** What each tag's actor was last told. */
  private readonly told = new Map<string, { actor: NeedsActor; unmet: Unmet | null }>();

  /** The first full look is under way: nothing with needs is told they are met until every profile is read. */
  private reading = false;

  constructor(private readonly deps: CoordinatorDeps) {}

  /**
   * Start-up: profiles are read a few at a time, and services start as they
   * are read; one that needs others waits until all are read, so that it
   * never starts on a need that a profile read later makes part of a cycle
   * (nor is told its need is `missing` when it is only not read yet).
   */
  holdUntilRead(): void {
    this.reading = true;
  }

  /** Every profile is read: each dependent is told where its needs stand. */
  allRead(): void {
    if (!this.reading) return;
    this.reading = false;
    for (const profile of this.needsOf.keys()) this.evaluate(profile);
  }

  /**
   * A profile's needs as now read; null when it is not valid (invalid, in a
   * cycle, removed): followed no more. Its tags are told nothing here, but
   * each just before its CONFIGURE (configuring): told first, a tag that
   * waits would start on the profile it had before.
   */
  setNeeds(profile: string, needs: readonly Need[] | null): void {
    const before = this.needsOf.get(profile) ?? [];
    const after = needs ?? [];
    if (sameNeeds(before, after)) return;
    for (const name of new Set(before.map((n) => n.name))) this.unlink(name, profile);
    if (after.length === 0) this.needsOf.delete(profile);
    else this.needsOf.set(profile, after);
    for (const name of new Set(after.map((n) => n.name))) this.neededBy.set(name, (this.neededBy.get(name) ?? new Set()).add(profile));
  }

  /** Just before a CONFIGURE of `tag`: tell its actor where its needs stand, if it has any (or was told of some). */
  configuring(tag: string): void {
    if (!this.needsOf.has(profileOf(tag)) && !this.told.has(tag)) return;
    this.tell(tag, this.verdict(profileOf(tag)));
  }

  /** `tag`'s snapshot changed, or it appeared or went away: re-evaluate the profiles that need it if its phase changed. */
  changed(tag: string): void {
    if (isLoggerTag(tag)) return;
    const profile = profileOf(tag);
    const dependents = this.neededBy.get(profile);
    if (!dependents) return; // nobody needs it: nothing to remember either
    const actor = this.deps.actor(tag);
    const phase = actor ? phaseOf(actor.getSnapshot(), this.deps.invalid(tag)) : 'missing';
    if ((this.phases.get(tag) ?? 'missing') === phase) return;
    if (phase === 'missing') this.phases.delete(tag);
    else this.phases.set(tag, phase);
    for (const dependent of [...dependents]) this.evaluate(dependent);
  }

  /** What `tag` was last told it waits for (null: nothing), for `status` and command replies. */
  unmet(tag: string): Unmet | null {
    return this.told.get(tag)?.unmet ?? null;
  }

  /** The needs of `profile` as last read (none: empty). */
  needs(profile: string): readonly Need[] {
    return this.needsOf.get(profile) ?? [];
  }

  /** The tags whose needs `tag` answers (`needs db@2`: only db@2's), from the index: no scan of every service. */
  dependentsOf(tag: string): string[] {
    const needsByTag = new Map<string, readonly Need[]>();
    for (const profile of this.neededBy.get(profileOf(tag)) ?? []) {
      for (const t of this.deps.tagsOf(profile)) if (!isLoggerTag(t)) needsByTag.set(t, this.needsOf.get(profile) ?? []);
    }
    return dependentsOf({ tag, name: profileOf(tag) }, needsByTag).sort(byTag);
  }

  /** `tag` is gone for good (its actor released): nothing of it stays. */
  forget(tag: string): void {
    this.told.delete(tag);
    this.phases.delete(tag);
  }

  /** Map sizes, for tests: nothing of a released name may stay. */
  counts(): { needs: number; neededBy: number; phases: number; told: number } {
    return { needs: this.needsOf.size, neededBy: this.neededBy.size, phases: this.phases.size, told: this.told.size };
  }

  private unlink(name: string, profile: string): void {
    const set = this.neededBy.get(name);
    set?.delete(profile);
    if (set?.size !== 0) return;
    this.neededBy.delete(name);
    for (const tag of this.phases.keys()) if (profileOf(tag) === name) this.phases.delete(tag);
  }

  /** The first unmet need of `profile`, from the snapshots of the profiles it needs (and only those). */
  private verdict(profile: string): Unmet | null {
    const needs = this.needsOf.get(profile) ?? [];
    if (this.reading && needs.length > 0) return { need: needText(needs[0]!), phase: 'not read yet' };
    const views: ServiceView[] = [];
    for (const name of new Set(needs.map((n) => n.name))) {
      for (const tag of this.deps.tagsOf(name)) {
        if (isLoggerTag(tag)) continue;
        const actor = this.deps.actor(tag);
        if (!actor) continue;
        const phase = phaseOf(actor.getSnapshot(), this.deps.invalid(tag));
        this.phases.set(tag, phase);
        views.push({ tag, name, phase });
      }
    }
    return firstUnmet(needs, views);
  }

  private evaluate(profile: string): void {
    const unmet = this.verdict(profile);
    for (const tag of [...this.deps.tagsOf(profile)]) if (!isLoggerTag(tag)) this.tell(tag, unmet);
  }

  /** Send NEEDS unless this very actor was told just that (a re-created actor is told again). */
  private tell(tag: string, unmet: Unmet | null): void {
    const actor = this.deps.actor(tag);
    if (!actor) return;
    const last = this.told.get(tag);
    const hasNeeds = this.needsOf.has(profileOf(tag));
    if (last?.actor === actor && sameUnmet(last.unmet, unmet)) return;
    if (!last && !hasNeeds) return; // it never needed anything: nothing to take back
    this.deps.send(tag, { type: 'NEEDS', unmet: unmet && unmetText(unmet) });
    // Needs gone: it was told they are met, and is not followed any more.
    if (hasNeeds) this.told.set(tag, { actor, unmet });
    else this.told.delete(tag);
  }
}

const sameUnmet = (a: Unmet | null, b: Unmet | null): boolean => a === b || (a !== null && b !== null && a.need === b.need && a.phase === b.phase);

const needKey = (n: Need): string => `${n.name}@${n.instance ?? ''}`;
const sameNeeds = (a: readonly Need[], b: readonly Need[]): boolean => a.length === b.length && a.every((n, i) => needKey(n) === needKey(b[i]!));
