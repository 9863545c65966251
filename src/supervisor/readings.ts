// What a reading of a profile directory means: the supervisor's own profile
// events (added, removed, changed, invalid — logged and recorded here and
// only here) and the messages they are to the actors of its tags.
import { notifySupport } from '../process/notify.js';
import { join } from 'node:path';
import type { Logger } from '../log/logger.js';
import type { NeedsCoordinator } from '../needs/coordinator.js';
import type { NeedCycles } from '../needs/cycles.js';
import { isRoot } from '../process/spawn.js';
import type { ProfileReading, ServiceConfig } from '../profile/types.js';
import type { Level } from '../vocabulary/levels.js';
import { isLoggerTag, profileOf } from '../vocabulary/tags.js';
import type { EventDetail } from './events.js';
import { readProfileAndLogger, watchedPaths, type LoggerRemovals } from './loggers.js';
import type { SnapshotObservers } from './observers.js';
import type { Look, ProfileWatcher } from './profile-watcher.js';
import type { Service, Services } from './services.js';

export interface ReadingsDeps {
  profilesDir: string;
  stateDir: string;
  logger: Logger;
  services: Services;
  observers: SnapshotObservers;
  watcher: ProfileWatcher;
  loggerRemovals: LoggerRemovals;
  /** Tells dependents where their needs stand. */
  needs: NeedsCoordinator;
  cycles: NeedCycles;
  /** A new profile that is not yet valid gets this long (it may be half-written) before an ERROR. */
  newProfileGraceMs?: number;
  /** No more readings are acted on (shutting down). */
  closed(): boolean;
}

type TagReading = { kind: 'missing' } | { kind: 'invalid'; reason: string } | { kind: 'valid'; config: ServiceConfig };

export class Readings {
  /** New profiles not valid yet, looked at again before they are called broken. */
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();
  /** The warnings last said of each profile, so that a reading says only new ones. */
  private readonly warned = new Map<string, string[]>();

  constructor(private readonly deps: ReadingsDeps) {}

  /** The supervisor's own reading of a profile: one log line and one event. */
  private said(tag: string, level: Level, message: string, detail: EventDetail): void {
    this.deps.logger.log(level, 'proclaunch', message);
    this.deps.observers.record(tag, detail);
  }

  /** Read profile NAME (the watcher says when) and act on it. */
  async look(name: string, { touched, rootMissing }: Look): Promise<void> {
    const reading = rootMissing ? ({ kind: 'missing' } as const) : await this.read(name);
    if (!this.deps.closed()) this.apply(name, reading, touched);
  }

  private read(name: string): Promise<ProfileReading> {
    // A `notify` profile is invalid, saying why, where the native module cannot serve it.
    return readProfileAndLogger(join(this.deps.profilesDir, name), name, { stateDir: this.deps.stateDir, notifyUnsupported: notifySupport() });
  }

  /**
   * A profile's reading, applied to each of its tags (`NAME`, or `NAME@1` …
   * `NAME@N`); then to the profiles whose cycle of needs it made or broke.
   */
  private apply(name: string, reading: ProfileReading, touched: boolean): void {
    this.warn(name, reading);
    const changes = this.deps.cycles.read(name, reading.kind === 'valid' ? reading.configs : null);
    const cycle = this.deps.cycles.reason(name);
    if (reading.kind === 'valid' && cycle) this.applyCycle(name, reading.configs, cycle);
    else if (reading.kind === 'valid') this.applyValid(name, reading.configs, touched);
    else this.applyNotValid(name, reading);
    for (const [other, reason] of changes) {
      const configs = other === name ? undefined : this.deps.cycles.lastValid(other);
      if (!configs) continue;
      // Back out of a cycle: its last valid reading applies again, as read.
      if (reason === null) this.applyValid(other, configs, false);
      else this.applyCycle(other, configs, reason);
    }
  }

  /** A reading's warnings (a mistyped file name, an unknown restart content): each said once while it stands. */
  private warn(name: string, reading: ProfileReading): void {
    const warnings = reading.kind === 'missing' ? [] : (reading.warnings ?? []);
    const said = this.warned.get(name) ?? [];
    for (const warning of warnings) if (!said.includes(warning)) this.deps.logger.log('WARN', name, warning);
    if (warnings.length > 0) this.warned.set(name, warnings);
    else this.warned.delete(name);
  }

  private applyValid(name: string, configs: ServiceConfig[], touched: boolean): void {
    this.clearGrace(name);
    this.deps.needs.setNeeds(name, configs[0]?.needs ?? null);
    const wanted = new Set(configs.map((c) => c.tag));
    // Fewer instances (or none, or a plain profile now instanced): only the difference stops.
    for (const tag of this.deps.services.tagsOfProfile(name)) if (!wanted.has(tag)) this.applyTag(tag, { kind: 'missing' });
    for (const config of configs) this.applyTag(config.tag, { kind: 'valid', config }, touched);
    this.deps.watcher.setWatchList(name, watchedPaths(configs));
  }

  /** A valid profile in a cycle of needs: invalid, each of its tags, with the cycle as the reason (no grace: it is read whole). */
  private applyCycle(name: string, configs: ServiceConfig[], reason: string): void {
    this.clearGrace(name);
    this.deps.needs.setNeeds(name, null);
    const wanted = new Set(configs.map((c) => c.tag));
    for (const tag of this.deps.services.tagsOfProfile(name)) if (!wanted.has(tag)) this.applyTag(tag, { kind: 'missing' });
    for (const { tag } of configs) {
      this.clearGrace(tag);
      const service = this.deps.services.get(tag) ?? this.deps.services.create(tag);
      if (service.last !== 'invalid' || service.lastReason !== reason) this.invalid(tag, service, reason);
    }
    this.deps.watcher.setWatchList(name, watchedPaths(configs));
  }

  private applyNotValid(name: string, reading: Exclude<ProfileReading, { kind: 'valid' }>): void {
    this.deps.needs.setNeeds(name, null);
    const existing = [...this.deps.services.tagsOfProfile(name)];
    if (reading.kind === 'missing') this.clearGrace(name);
    if (existing.length === 0) this.applyTag(name, reading);
    else for (const tag of existing) this.applyTag(tag, reading);
    if (reading.kind === 'missing' && existing.length === 0) this.deps.watcher.forget(name); // nothing of it left
  }

  private applyTag(tag: string, reading: TagReading, touched = false): void {
    let service = this.deps.services.get(tag);
    if (reading.kind === 'missing') {
      this.clearGrace(tag);
      if (!service || service.last === 'missing') return;
      service.last = 'missing';
      service.config = null;
      this.said(tag, 'INFO', `profile removed: ${tag}`, { event: 'removed' });
      this.deps.needs.changed(tag); // missing, to those that need it
      this.letGo(tag);
      return;
    }
    if (reading.kind === 'invalid') {
      if (service?.last === 'invalid' && service.lastReason === reading.reason) return;
      if (service) this.invalid(tag, service, reading.reason);
      else this.startGrace(tag);
      return;
    }
    this.clearGrace(tag);
    const { config } = reading;
    const was = service?.last ?? 'missing';
    const identical = was === 'valid' && JSON.stringify(service!.config?.fingerprint) === JSON.stringify(config.fingerprint);
    if (was === 'missing') {
      service ??= this.deps.services.create(tag);
      this.said(tag, 'INFO', `profile added: ${tag}`, { event: 'added' });
    } else if (was === 'invalid') this.said(tag, 'INFO', `profile changed: ${tag} (valid again)`, { event: 'changed' });
    else if (!identical) this.said(tag, 'INFO', `profile changed: ${tag}`, { event: 'changed' });
    else if (!touched) return; // nothing that matters changed, and its files were not touched
    service = service!;
    if (config.user && !isRoot() && service.config?.user?.name !== config.user.name) {
      this.deps.logger.log('WARN', config.tag, `user ${config.user.name} ignored: the supervisor is not root`);
    }
    service.last = 'valid';
    service.lastReason = null;
    service.config = config;
    // Where its needs stand first: the machine decides on CONFIGURE whether it may start.
    this.deps.needs.configuring(tag);
    // The machine decides what an identical but touched reading means (a `run` that could not be executed is tried again).
    service.actor.send({ type: 'CONFIGURE', config, at: Date.now(), touched });
    this.deps.needs.changed(tag); // added, or valid again
  }

  private invalid(tag: string, service: Service, reason: string): void {
    service.last = 'invalid';
    service.lastReason = reason;
    this.said(tag, 'ERROR', `profile invalid: ${tag}: ${reason}`, { event: 'invalid', reason });
    service.actor.send({ type: 'INVALID', reason });
    this.deps.needs.changed(tag);
  }

  /** The profile of `tag` is gone: stop it — a logger once its service let go of the pipe. */
  letGo(tag: string): void {
    if (isLoggerTag(tag)) this.deps.loggerRemovals.remove(tag);
    else this.deps.services.get(tag)?.actor.send({ type: 'REMOVE' });
  }

  /** A process left running whose profile went away while no supervisor ran: take it over, then stop it. */
  removedWhileDown(tag: string, pid: number): void {
    this.said(tag, 'INFO', `profile removed while the supervisor was down: ${tag}; stopping pid ${pid}`, { event: 'removed' });
    this.deps.services.create(tag);
    this.letGo(tag);
  }

  /** A leftover's profile is not read yet but may be: within its grace period, or a logger whose profile is invalid for now. */
  mayTurnUp(tag: string): boolean {
    const { services } = this.deps;
    if (services.has(tag) || this.graceTimers.has(tag)) return true;
    const profile = profileOf(tag);
    return isLoggerTag(tag) && (this.graceTimers.has(profile) || [...services.tagsOfProfile(profile)].some((t) => services.get(t)?.last === 'invalid'));
  }

  /** A new profile that is not valid yet may be half-written (mkdir, then the files): look again before calling it broken. */
  private startGrace(tag: string): void {
    if (this.graceTimers.has(tag)) return;
    const timer = setTimeout(() => {
      this.graceTimers.delete(tag);
      void this.deps.watcher.look(tag).then(() => this.graceExpired(tag));
    }, this.deps.newProfileGraceMs ?? 1000);
    this.graceTimers.set(tag, timer);
  }

  /** Still invalid after its grace period: now it is reported and shown. */
  private graceExpired(name: string): void {
    const { services } = this.deps;
    if (services.has(name)) return;
    void this.read(name).then((reading) => {
      if (reading.kind !== 'invalid' || services.has(name) || this.deps.closed()) return;
      this.invalid(name, services.create(name), reading.reason);
    });
  }

  /** Nothing of `tag` (a tag or a profile name) waits any more. */
  clearGrace(tag: string): void {
    const timer = this.graceTimers.get(tag);
    if (timer) clearTimeout(timer);
    this.graceTimers.delete(tag);
  }

  get pendingGrace(): number {
    return this.graceTimers.size;
  }

  /** Profiles with warnings standing (for tests: nothing of a forgotten name may stay). */
  get warnedProfiles(): number {
    return this.warned.size;
  }

  close(): void {
    for (const timer of this.graceTimers.values()) clearTimeout(timer);
  }
}
