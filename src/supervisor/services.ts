// The name-keyed map of actors, one per tag: created with their observers
// and the process left running under their tag, never replaced.
import { createActor } from 'xstate';
import type { Logger } from '../log/logger.js';
import type { ServiceActor, ServiceEvent, serviceMachine } from '../machine/service-machine.js';
import type { ProfileReading, ServiceConfig } from '../profile/types.js';
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
}

export type Configure = Extract<ServiceEvent, { type: 'CONFIGURE' }> & { touched: boolean };

export interface ServicesDeps {
  machine: ReturnType<typeof serviceMachine.provide>;
  logger: Logger;
  observers: SnapshotObservers;
  adoption: Adoption;
  holds: HeldProfiles;
  /** Any actor's snapshot changed (after the observers). */
  changed(): void;
}

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

  create(tag: string): Service {
    const profile = profileOf(tag);
    this.tagsOf.set(profile, (this.tagsOf.get(profile) ?? new Set<string>()).add(tag));
    const service: Service = { actor: this.newActor(tag), last: 'missing', lastReason: null, config: null };
    this.byTag.set(tag, service);
    return service;
  }

  /** An actor for `tag`, followed by the observers, given the process left running under that tag (if any), and held if it was. */
  private newActor(tag: string): ServiceActor {
    const actor = createActor(this.deps.machine, { input: { tag } });
    actor.on('log', (event) => this.deps.logger.log(event.level, tag, event.message));
    actor.start();
    this.deps.observers.attach(tag, actor, () => this.deps.changed());
    this.deps.adoption.handOver(tag, actor);
    if (this.deps.holds.has(tag)) actor.send({ type: 'STOP' }); // stopped by command before a restart of ours
    return actor;
  }
}
