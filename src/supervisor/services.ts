// The name-keyed map of actors, one per tag, and their lives: created with
// their observers and the process left running under their tag; supervised
// afresh, alone, when one throws; released once a removed profile's tag is
// fully stopped, so that memory does not grow with the names ever seen.
import { createActor } from 'xstate';
import { quote } from '../log/escape.js';
import type { Logger } from '../log/logger.js';
import { backoffMs, STABLE_AFTER_MS } from '../machine/policy.js';
import type { ServiceActor, serviceMachine, ServiceSnapshot } from '../machine/service-machine.js';
import type { ProfileReading, ServiceConfig } from '../profile/types.js';
import { formatDuration } from '../vocabulary/durations.js';
import { DOWN } from '../vocabulary/state-tags.js';
import { profileOf } from '../vocabulary/tags.js';
import type { Adoption } from './adoption.js';
import type { HeldProfiles } from './holds.js';
import type { SnapshotObservers } from './observers.js';

export interface Service {
  actor: ServiceActor;
  /** What the directory looked like last time, to log additions, changes and removals once. */
  last: ProfileReading['kind'];
  lastReason: string | null;
  config: ServiceConfig | null;
  /** Internal errors of its actor in a row (reset after a stable run), and the pending re-creation. */
  errors: number;
  bornAt: number;
  recovery: NodeJS.Timeout | null;
}

export interface ServicesDeps {
  machine: ReturnType<typeof serviceMachine.provide>;
  logger: Logger;
  observers: SnapshotObservers;
  adoption: Adoption;
  holds: HeldProfiles;
  /** The snapshot of `tag`'s actor changed (after the observers). */
  changed(tag: string): void;
  /** Just before a CONFIGURE is sent to `tag`'s actor (where its needs stand goes first). */
  configuring(tag: string): void;
  /** The profile of `tag` is gone: stop it (a logger, once its service let go of the pipe). */
  letGo(tag: string): void;
  /** `tag` was released; `lastOfProfile`: no tag of its profile is left. */
  released(tag: string, lastOfProfile: boolean): void;
  /** Shutting down: a re-created actor is stopped at once. */
  closing(): boolean;
}

/** While shutting down, an actor that fails again and again is re-created this many times, then left. */
const GIVE_UP_WHILE_CLOSING = 3;

export class Services {
  private readonly byTag = new Map<string, Service>();
  /** Each profile's tags (NAME, NAME@N, NAME:log) that have an actor. */
  private readonly tagsOf = new Map<string, Set<string>>();

  constructor(private readonly deps: ServicesDeps) {}

  get(tag: string): Service | undefined {
    return this.byTag.get(tag);
  }

  has(tag: string): boolean {
    return this.byTag.has(tag);
  }

  entries(): IterableIterator<[string, Service]> {
    return this.byTag.entries();
  }

  tags(): IterableIterator<string> {
    return this.byTag.keys();
  }

  /** The profile names that have an actor. */
  profiles(): IterableIterator<string> {
    return this.tagsOf.keys();
  }

  tagsOfProfile(name: string): ReadonlySet<string> {
    return this.tagsOf.get(name) ?? new Set();
  }

  /** Map sizes, for tests. */
  counts(): { services: number; profiles: number } {
    return { services: this.byTag.size, profiles: this.tagsOf.size };
  }

  create(tag: string): Service {
    const profile = profileOf(tag);
    this.tagsOf.set(profile, (this.tagsOf.get(profile) ?? new Set<string>()).add(tag));
    const service: Service = { actor: this.newActor(tag), last: 'missing', lastReason: null, config: null, errors: 0, bornAt: Date.now(), recovery: null };
    this.byTag.set(tag, service);
    return service;
  }

  /** An actor for `tag`, followed by the observers, given the process left running under that tag (if any), and held if it was. */
  private newActor(tag: string): ServiceActor {
    const actor = createActor(this.deps.machine, { input: { tag } });
    actor.on('log', (event) => this.deps.logger.log(event.level, tag, event.message));
    actor.start();
    this.deps.observers.attach(tag, actor, {
      next: (snapshot) => {
        this.deps.changed(tag);
        this.releaseIfDone(tag, actor, snapshot);
      },
      error: (error, last) => this.failed(tag, actor, error, last),
    });
    this.deps.adoption.handOver(tag, actor);
    if (this.deps.holds.has(tag)) actor.send({ type: 'STOP' }); // stopped by command before a restart of ours
    return actor;
  }

  /**
   * Its actor threw (a guard or an action): that one tag is supervised
   * afresh by a new actor, which takes its process over as after a
   * supervisor restart; the others never notice. Again and again in a row,
   * it backs off as a crashing service would. (A restart under way when it
   * threw is not redone: the process is taken over running.)
   */
  private failed(tag: string, actor: ServiceActor, error: unknown, last: ServiceSnapshot): void {
    const service = this.byTag.get(tag);
    if (service?.actor !== actor) return;
    const message = error instanceof Error ? error.message : String(error);
    service.errors = Date.now() - service.bornAt >= STABLE_AFTER_MS ? 1 : service.errors + 1;
    this.deps.observers.record(tag, { event: 'failed', reason: `internal error: ${message}` });
    if (this.deps.closing() && service.errors > GIVE_UP_WHILE_CLOSING) {
      // Shutting down and it cannot even be stopped: leave its process (and record) to the next supervisor.
      this.deps.logger.log('ERROR', tag, `internal error: ${quote(message)}; given up, its process is left running`);
      return;
    }
    const delay = this.deps.closing() || service.errors === 1 ? 0 : backoffMs(service.errors - 1);
    this.deps.logger.log('ERROR', tag, `internal error: ${quote(message)}; supervising it afresh${delay ? ` in ${formatDuration(delay)}` : ''}`);
    service.recovery = setTimeout(() => this.recover(tag, service, last), delay);
  }

  private recover(tag: string, service: Service, last: ServiceSnapshot): void {
    service.recovery = null;
    if (this.byTag.get(tag) !== service) return;
    this.deps.adoption.salvage(tag, last);
    service.actor = this.newActor(tag);
    service.bornAt = Date.now();
    if (this.deps.closing()) service.actor.send({ type: 'STOP' }); // first: nothing is started again
    // What the supervisor last read of the profile, as after a restart of ours.
    if (service.last === 'valid' && service.config) {
      this.deps.configuring(tag);
      service.actor.send({ type: 'CONFIGURE', config: service.config, at: Date.now(), touched: false });
    } else if (service.last === 'invalid') service.actor.send({ type: 'INVALID', reason: service.lastReason ?? 'invalid' });
    else this.deps.letGo(tag);
  }

  /** Shutting down: re-create now the actors waiting to be (their processes must be stopped too). */
  recoverNow(): void {
    for (const [tag, service] of this.byTag) {
      if (!service.recovery) continue;
      clearTimeout(service.recovery);
      this.recover(tag, service, service.actor.getSnapshot());
    }
  }

  /**
   * A removed profile's tag, fully stopped: its actor and everything kept
   * for it go. A name put back later starts afresh, with a new actor.
   */
  private releaseIfDone(tag: string, actor: ServiceActor, snapshot: ServiceSnapshot): void {
    const service = this.byTag.get(tag);
    if (service?.actor !== actor || service.last !== 'missing' || snapshot.context.want !== 'removed' || !snapshot.hasTag(DOWN)) return;
    if (service.recovery) clearTimeout(service.recovery);
    this.byTag.delete(tag);
    actor.stop();
    const profile = profileOf(tag);
    const tags = this.tagsOf.get(profile);
    tags?.delete(tag);
    if (tags?.size === 0) this.tagsOf.delete(profile);
    this.deps.released(tag, !this.tagsOf.has(profile));
  }
}
