// Wires the parts together: profile readings go in, one actor per profile
// turns them into processes. It knows nothing of pid files or /proc.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createActor } from 'xstate';
import { quote } from '../log/escape.js';
import type { Logger } from '../log/logger.js';
import type { Level } from '../vocabulary/levels.js';
import { serviceMachine, type ServiceActor, type ServiceSnapshot } from '../machine/service-machine.js';
import { processEffects } from '../process/effects.js';
import { PidWatcher } from '../process/pid-watch.js';
import { isRoot } from '../process/spawn.js';
import { judgeName } from '../profile/names.js';
import { profileSignature } from '../profile/signature.js';
import type { ProfileReading, ServiceConfig } from '../profile/types.js';
import { timestamp } from '../log/logger.js';
import type { ServiceEvent } from '../machine/service-machine.js';
import type { EventLog } from './event-log.js';
import { eventsBetween, type EventDetail } from './events.js';
import type { HeldProfiles } from './holds.js';
import type { ServiceRecord, ServiceRecords } from './records.js';
import { isAlive } from '../process/proc.js';
import { directoryIdentity, ProfileWatcher } from './profile-watcher.js';
import { killUnrecordedServices } from './orphans.js';
import { byTag, isLoggerTag, profileOf } from '../vocabulary/tags.js';
import { LoggerRemovals, readProfileAndLogger, sweepPipes, watchedPaths } from './loggers.js';

export interface SupervisorOptions {
  stateDir: string;
  profilesDir: string;
  logger: Logger;
  /** Where events (started, crashed, added, ...) are kept and streamed from. */
  eventLog: EventLog;
  /** Profiles stopped by command, kept down across restarts. */
  holds: HeldProfiles;
  /** The running processes, for the next supervisor to take over. */
  records: ServiceRecords;
  /** Safety-net full rescan, on top of filesystem events. */
  rescanIntervalMs?: number;
  /** Rescan interval once the inotify watch limit is hit and events are off. */
  fallbackRescanMs?: number;
  /** Coalesce a burst of filesystem events into one look at each profile. */
  debounceMs?: number;
  /** A new profile that is not yet valid gets this long (it may be half-written) before an ERROR. */
  newProfileGraceMs?: number;
}


interface Service {
  actor: ServiceActor;
  /** What the directory looked like last time, to log additions, changes and removals once. */
  last: ProfileReading['kind'];
  lastReason: string | null;
  config: ServiceConfig | null;
}

const TAG = 'proclaunch';
/** Profiles looked at per event-loop turn by the safety net (~20 µs each). */
const SAFETY_NET_SLICE = 100;

/** chokidar emits at most one `change` per file per 50 ms and drops the rest. */
const CHOKIDAR_CHANGE_THROTTLE_MS = 50;

export class Supervisor {
  private readonly services = new Map<string, Service>();
  private readonly badNames = new Set<string>();
  private readonly pidWatcher = new PidWatcher();
  private readonly machine;
  private watcher: ProfileWatcher | null = null;
  private readonly queued = new Set<string>();
  private flushTimer: NodeJS.Timeout | null = null;
  private readonly trailing = new Set<string>();
  private trailingTimer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<string>();
  private readonly again = new Set<string>();
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();
  private rescanTimer: NodeJS.Timeout | null = null;
  private rootMissing = false;
  private rootIdentity: string | null = null;
  private watchFailed = false; // inotify refused us: rescans are all we have
  private closed = false;

  /** Stopping every service or exiting: no more starts. */
  get shuttingDown(): boolean {
    return this.closed;
  }
  /** Processes the last supervisor left running, by tag, until taken over. */
  private leftovers = new Map<string, ServiceRecord>();
  private recordsFailing = false;
  /** For the safety net: each profile's stat() summary when it was last read, and its `watch` paths. */
  private readonly signatures = new Map<string, string>();
  /** Each profile's tags (NAME, NAME@N, NAME:log): actors are never removed, so neither are these. */
  private readonly tagsOf = new Map<string, Set<string>>();
  private readonly watchLists = new Map<string, string[]>();
  private readonly loggerRemovals: LoggerRemovals;

  constructor(private readonly options: SupervisorOptions) {
    const { logger } = options;
    this.machine = serviceMachine.provide(processEffects({ pidWatcher: this.pidWatcher, stateDir: options.stateDir, warn: (tag, message) => logger.log('WARN', tag, message) }));
    this.loggerRemovals = new LoggerRemovals({
      stateDir: options.stateDir,
      actor: (tag) => this.services.get(tag)?.actor,
      tags: () => this.services.keys(),
      gone: (tag) => (this.services.get(tag)?.last ?? 'missing') === 'missing',
      profileOf,
      log: (message) => this.log('WARN', message),
    });
  }

  private log(level: Level, message: string): void {
    this.options.logger.log(level, TAG, message);
  }

  async start(): Promise<void> {
    this.log('INFO', `supervising ${this.options.profilesDir} pid ${process.pid}`);
    if (this.pidWatcher.mode === 'polling') {
      this.log('WARN', `watching pids that are not our children by polling /proc (deaths noticed within ~250ms, not at once): ${this.pidWatcher.pollingReason}`);
    }
    this.leftovers = this.loadLeftovers();
    killUnrecordedServices(this.options.stateDir, new Set(this.leftovers.keys()), new Set([...this.leftovers.values()].map((r) => r.proc.pid)), (m) => this.log('WARN', m));
    this.startWatcher();
    await this.rescan();
    this.stopOrphanedLeftovers();
    const known = new Set([...this.services.keys(), ...this.leftovers.keys()].map(profileOf));
    await sweepPipes(this.options.stateDir, known, this.options.profilesDir).catch((e: Error) => this.log('WARN', `sweeping log pipes: ${e.message}`));
    if (!this.rootMissing) {
      for (const tag of this.options.holds.all()) if ((this.services.get(tag)?.last ?? 'missing') === 'missing') this.options.holds.delete(tag);
    }
    if (!this.rootMissing) this.setRescanInterval(this.steadyRescanMs());
  }

  /** The safety-net period: long while inotify works, short once it has failed us. */
  private steadyRescanMs(): number {
    return this.watchFailed ? (this.options.fallbackRescanMs ?? 5000) : (this.options.rescanIntervalMs ?? 300_000);
  }

  private startWatcher(): void {
    this.watcher = new ProfileWatcher({
      profilesDir: this.options.profilesDir,
      onProfile: (name) => {
        this.log('DEBUG', `filesystem event for ${quote(name)}`);
        this.queue(name);
      },
      onRoot: () => void this.rescan(),
      onError: (error) => this.watcherFailed(error),
    });
  }

  private watcherFailed(error: NodeJS.ErrnoException): void {
    if (error.code === 'ENOSPC' || error.code === 'EMFILE') {
      this.watchFailed = true;
      const every = this.steadyRescanMs();
      this.log('ERROR', `cannot watch ${this.options.profilesDir}: the inotify watch limit is reached (${error.code}); raise it with \`sysctl fs.inotify.max_user_watches=524288\`; until restarted, rescanning every ${every / 1000}s instead`);
      void this.watcher?.close();
      this.watcher = null;
      if (!this.rootMissing) this.setRescanInterval(every);
    } else {
      this.log('WARN', `watching ${this.options.profilesDir}: ${error.message}`);
    }
  }

  private setRescanInterval(ms: number): void {
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    this.rescanTimer = setInterval(() => void this.safetyNet(), ms);
  }

  /**
   * The safety-net pass: what filesystem events may have missed (an inotify
   * queue overflow). Only stat() of each profile's files, compared with what
   * they were when it was last read; a profile is read again only if they
   * differ. In slices, so that no slice blocks the event loop for long.
   */
  private async safetyNet(): Promise<void> {
    const identity = directoryIdentity(this.options.profilesDir);
    if (this.rootMissing || identity === null || identity !== this.rootIdentity) return this.rescan();
    let names: string[];
    try {
      names = await readdir(this.options.profilesDir);
    } catch {
      return this.rescan();
    }
    const all = [...new Set([...names.filter((n) => judgeName(n) !== 'ignore'), ...this.signatures.keys()])];
    for (let i = 0; i < all.length && !this.closed; i += SAFETY_NET_SLICE) {
      for (const name of all.slice(i, i + SAFETY_NET_SLICE)) {
        if (judgeName(name) !== 'profile') {
          if (judgeName(name) === 'invalid' && !this.badNames.has(name)) void this.rescan();
          continue;
        }
        if (profileSignature(join(this.options.profilesDir, name), this.watchLists.get(name)) !== this.signatures.get(name)) void this.reconcile(name);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Look at every profile now (start-up, SIGHUP, `rescan`, the safety-net timer). */
  async rescan(): Promise<void> {
    if (this.closed) return;
    let entries: string[];
    try {
      entries = await readdir(this.options.profilesDir);
    } catch (error) {
      if (!this.rootMissing) {
        this.log('ERROR', `profiles directory ${this.options.profilesDir} is not readable: ${(error as Error).message}; its services are stopped until it is back`);
        this.setRescanInterval(1000); // look for its return often, only while it is gone
      }
      this.rootMissing = true;
      await Promise.all([...new Set([...this.services.keys()].map(profileOf))].map((name) => this.reconcile(name)));
      return;
    }
    const identity = directoryIdentity(this.options.profilesDir);
    if (!this.rootMissing && identity !== null && this.rootIdentity !== null && identity !== this.rootIdentity && this.watcher) {
      this.log('INFO', `profiles directory ${this.options.profilesDir} is now another directory; watching it`);
      await this.watcher.close();
      this.startWatcher();
    }
    this.rootIdentity = identity;
    if (this.rootMissing) {
      this.rootMissing = false;
      this.log('INFO', `profiles directory ${this.options.profilesDir} is back`);
      this.setRescanInterval(this.steadyRescanMs());
      // The old watch died with the directory.
      await this.watcher?.close();
      if (this.watcher) this.startWatcher();
    }
    const present = new Set<string>();
    for (const name of entries) {
      const verdict = judgeName(name);
      if (verdict === 'profile') present.add(name);
      else if (verdict === 'invalid' && !this.badNames.has(name)) {
        this.badNames.add(name);
        this.log('WARN', `skipped ${quote(name)}: a profile name is letters, digits, '.', '_' and '-', starting with a letter or digit`);
      }
    }
    for (const tag of this.services.keys()) present.add(profileOf(tag));
    await Promise.all([...present].map((name) => this.reconcile(name)));
  }

  /**
   * A filesystem event touched profile NAME: look at it soon, once per burst,
   * and once more after chokidar's 50 ms window in which it drops further
   * `change` events for the same file (a write then a chmod would be lost).
   */
  private queue(name: string): void {
    if (judgeName(name) !== 'profile') {
      if (judgeName(name) === 'invalid') void this.rescan();
      return;
    }
    this.queued.add(name);
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = null;
      const names = [...this.queued];
      this.queued.clear();
      for (const n of names) {
        void this.reconcile(n);
        this.trailing.add(n);
      }
      if (this.trailingTimer) clearTimeout(this.trailingTimer);
      this.trailingTimer = setTimeout(() => {
        this.trailingTimer = null;
        const again = [...this.trailing];
        this.trailing.clear();
        for (const n of again) void this.reconcile(n);
      }, CHOKIDAR_CHANGE_THROTTLE_MS + 10);
    }, this.options.debounceMs ?? 1);
  }

  /** Read one profile and tell its actor; one reading at a time per profile. */
  async reconcile(name: string): Promise<void> {
    if (this.inFlight.has(name)) {
      this.again.add(name);
      return;
    }
    this.inFlight.add(name);
    try {
      // Taken before reading: a change made during the read shows at the next safety-net pass.
      const dir = join(this.options.profilesDir, name);
      const signature = profileSignature(dir, this.watchLists.get(name));
      const touched = signature !== this.signatures.get(name);
      this.signatures.set(name, signature);
      const reading = this.rootMissing ? ({ kind: 'missing' } as const) : await readProfileAndLogger(join(this.options.profilesDir, name), name, { stateDir: this.options.stateDir });
      if (!this.closed) this.apply(name, reading, touched);
    } finally {
      this.inFlight.delete(name);
      if (this.again.delete(name)) await this.reconcile(name);
    }
  }

  /** A profile's reading, applied to each of its tags (`NAME`, or `NAME@1` … `NAME@N`). */
  /** `touched`: the profile's files changed on disk since the last reading (even if back to the same content). */
  private apply(name: string, reading: ProfileReading, touched = false): void {
    const existing = [...(this.tagsOf.get(name) ?? [])];
    if (reading.kind === 'valid') {
      this.clearGrace(name);
      const wanted = new Set(reading.configs.map((c) => c.tag));
      // Fewer instances (or none, or a plain profile now instanced): only the difference stops.
      for (const tag of existing) if (!wanted.has(tag)) this.applyTag(tag, { kind: 'missing' });
      for (const config of reading.configs) this.applyTag(config.tag, { kind: 'valid', config }, touched);
      const watched = watchedPaths(reading.configs);
      this.watcher?.setWatchList(name, watched);
      if (watched.join('\0') !== (this.watchLists.get(name) ?? []).join('\0')) {
        this.watchLists.set(name, watched);
        this.signatures.delete(name); // taken without these paths: look again at the next pass
      }
    } else if (existing.length === 0) {
      this.applyTag(name, reading);
    } else {
      if (reading.kind === 'missing') this.clearGrace(name);
      for (const tag of existing) this.applyTag(tag, reading);
    }
  }

  private applyTag(name: string, reading: { kind: 'missing' } | { kind: 'invalid'; reason: string } | { kind: 'valid'; config: ServiceConfig }, touched = false): void {
    let service = this.services.get(name);
    if (reading.kind === 'missing') {
      this.clearGrace(name);
      if (!service || service.last === 'missing') return;
      service.last = 'missing';
      service.config = null;
      this.log('INFO', `profile removed: ${name}`);
      this.record(name, { event: 'removed' });
      this.options.holds.delete(name); // a profile put back later is a new deployment
      if (isLoggerTag(name)) this.loggerRemovals.remove(name); // once its service has let go of the pipe
      else service.actor.send({ type: 'REMOVE' });
      return;
    }
    if (reading.kind === 'invalid') {
      if (service?.last === 'invalid' && service.lastReason === reading.reason) return;
      if (!service && !this.graceTimers.has(name)) {
        // Maybe half-written (mkdir, then the files): look again before calling it broken.
        const timer = setTimeout(() => {
          this.graceTimers.delete(name);
          void this.reconcile(name).then(() => this.graceExpired(name));
        }, this.options.newProfileGraceMs ?? 1000);
        this.graceTimers.set(name, timer);
        return;
      }
      if (!service) return; // still within its grace period
      service.last = 'invalid';
      service.lastReason = reading.reason;
      this.log('ERROR', `profile invalid: ${name}: ${reading.reason}`);
      this.record(name, { event: 'invalid', reason: reading.reason });
      service.actor.send({ type: 'INVALID', reason: reading.reason });
      return;
    }
    this.clearGrace(name);
    const { config } = reading;
    if (!service || service.last === 'missing') {
      service ??= this.createService(name);
      this.log('INFO', `profile added: ${name}`);
      this.record(name, { event: 'added' });
    } else if (service.last === 'invalid') {
      this.log('INFO', `profile changed: ${name} (valid again)`);
      this.record(name, { event: 'changed' });
    } else if (service.config && JSON.stringify(service.config.fingerprint) !== JSON.stringify(config.fingerprint)) {
      this.log('INFO', `profile changed: ${name}`);
      this.record(name, { event: 'changed' });
    } else if (!(touched && service.actor.getSnapshot().context.spawnFailed)) {
      // Nothing that matters changed (a touch, a file the service wrote) —
      // unless `run` could not be executed last time and its files were
      // touched since (chmod -x, then +x): then try again.
      return;
    }
    if (config.user && !isRoot() && service.config?.user?.name !== config.user.name) {
      this.options.logger.log('WARN', config.tag, `user ${config.user.name} ignored: the supervisor is not root`);
    }
    const wasInvalid = service.last === 'invalid';
    service.last = 'valid';
    service.lastReason = null;
    service.config = config;
    service.actor.send({ type: 'CONFIGURE', config, at: Date.now() });
    const now = service.actor.getSnapshot();
    if (wasInvalid && now.matches({ stopped: 'failed' }) && !now.context.held && !config.down) service.actor.send({ type: 'START' });
  }

  /** Still invalid after its grace period: now it is reported and shown. */
  private graceExpired(name: string): void {
    if (this.services.has(name)) return;
    void readProfileAndLogger(join(this.options.profilesDir, name), name, { stateDir: this.options.stateDir }).then((reading) => {
      if (reading.kind !== 'invalid' || this.services.has(name) || this.closed) return;
      const service = this.createService(name);
      service.last = 'invalid';
      service.lastReason = reading.reason;
      this.log('ERROR', `profile invalid: ${name}: ${reading.reason}`);
      this.record(name, { event: 'invalid', reason: reading.reason });
      service.actor.send({ type: 'INVALID', reason: reading.reason });
    });
  }

  private clearGrace(name: string): void {
    const timer = this.graceTimers.get(name);
    if (timer) clearTimeout(timer);
    this.graceTimers.delete(name);
  }

  private createService(name: string): Service {
    const tags = this.tagsOf.get(profileOf(name)) ?? new Set<string>();
    this.tagsOf.set(profileOf(name), tags.add(name));
    const actor = createActor(this.machine, { input: { tag: name } });
    actor.on('log', (event) => this.options.logger.log(event.level, name, event.message));
    let before = actor.getSnapshot();
    actor.subscribe((after) => {
      for (const detail of eventsBetween(before, after)) this.record(name, detail);
      this.keepRecord(name, after);
      before = after;
      this.loggerRemovals.settle();
    });
    actor.start();
    const left = this.leftovers.get(name);
    if (left) {
      this.leftovers.delete(name);
      actor.send({ type: 'ADOPT', proc: { ...left.proc, child: false }, config: left.config, since: left.since });
    }
    if (this.options.holds.has(name)) actor.send({ type: 'STOP' }); // stopped by command before a restart of ours
    const service: Service = { actor, last: 'missing', lastReason: null, config: null };
    this.services.set(name, service);
    return service;
  }

  /** Records of processes still alive with the recorded start time; the rest are dropped, never signalled. */
  private loadLeftovers(): Map<string, ServiceRecord> {
    const { records } = this.options;
    const alive = new Map<string, ServiceRecord>();
    for (const record of records.load((file, reason) => this.log('WARN', `discarded unreadable record ${file}: ${reason}`))) {
      if (isAlive(record.proc)) alive.set(record.tag, record);
      else {
        this.log('INFO', `record of ${record.tag} pid ${record.proc.pid} discarded: that process is gone (or its pid was reused)`);
        records.remove(record.tag);
      }
    }
    return alive;
  }

  /** A process left running whose profile went away while we were down: take it over, then stop it. */
  private stopOrphanedLeftovers(): void {
    for (const [tag, record] of this.leftovers) {
      if (this.services.has(tag) || this.graceTimers.has(tag)) continue;
      // A logger whose profile is there but not readable yet is taken over with it later.
      const profile = profileOf(tag);
      if (isLoggerTag(tag) && (this.graceTimers.has(profile) || [...this.services].some(([t, s]) => profileOf(t) === profile && s.last === 'invalid'))) continue;
      this.log('INFO', `profile removed while the supervisor was down: ${tag}; stopping pid ${record.proc.pid}`);
      const service = this.createService(tag);
      this.record(tag, { event: 'removed' });
      if (isLoggerTag(tag)) this.loggerRemovals.remove(tag);
      else service.actor.send({ type: 'REMOVE' });
    }
  }

  /** Keep STATE_DIR/services/TAG.json in step with the process the actor owns. */
  private keepRecord(tag: string, snapshot: ServiceSnapshot): void {
    const { proc, config, runningSince } = snapshot.context;
    try {
      if (proc && config && snapshot.matches('running')) {
        this.options.records.save(tag, proc, runningSince ?? Date.now(), config);
      } else if (proc && config && snapshot.matches('stopping')) {
        if (!this.options.records.has(tag, proc.pid)) this.options.records.save(tag, proc, runningSince ?? Date.now(), config);
      } else this.options.records.remove(tag);
      this.recordsFailing = false;
    } catch (error) {
      if (!this.recordsFailing) this.log('ERROR', `cannot write the record of ${tag}: ${(error as Error).message}; a supervisor started after this one may not find it`);
      this.recordsFailing = true;
    }
  }

  private record(profile: string, detail: EventDetail): void {
    this.options.eventLog.append({ time: timestamp(), profile, ...detail });
  }

  /** Every tag we know, valid or not; a removed one once it has stopped is no longer shown. */
  names(): string[] {
    return [...this.services]
      .filter(([, s]) => s.last !== 'missing' || !s.actor.getSnapshot().matches('stopped'))
      .map(([tag]) => tag)
      .sort(byTag);
  }

  actor(name: string): ServiceActor | undefined {
    return this.services.get(name)?.actor;
  }

  /** A command from the operator; `stop` and `start` are remembered across restarts. */
  command(name: string, event: Extract<ServiceEvent, { type: 'START' | 'STOP' | 'RESTART' | 'RELOAD' | 'SIGNAL' }>): void {
    const service = this.services.get(name);
    if (!service) return;
    if (event.type === 'STOP') this.options.holds.add(name);
    if (event.type === 'START' || event.type === 'RESTART') this.options.holds.delete(name);
    service.actor.send(event);
  }

  snapshots(): Array<[string, ServiceSnapshot]> {
    return [...this.services].map(([name, s]) => [name, s.actor.getSnapshot()]);
  }

  /** Stop every service in parallel, each with its own signal and timeout; resolves when all are stopped. */
  async stopAll(): Promise<void> {
    this.closed = true;
    await this.closeWatching();
    const stop = (loggers: boolean) => [...this.services].filter(([tag]) => isLoggerTag(tag) === loggers).map(([, { actor }]) => {
      actor.send({ type: 'STOP' });
      return new Promise<void>((resolve) => {
        // Stopped, and its `finish` (run after a stop too) is over.
        const check = (snapshot: ServiceSnapshot) => snapshot.matches('stopped') && !snapshot.matches({ stopped: 'finishing' }) && (resolve(), true);
        if (check(actor.getSnapshot())) return;
        const sub = actor.subscribe((snapshot) => check(snapshot) && sub.unsubscribe());
      });
    });
    // Loggers last, so that what a service says while it stops is logged.
    await Promise.all(stop(false));
    await Promise.all(stop(true));
  }

  /** Stop watching and timers; leave services as they are (exit with services running). */
  async closeWatching(): Promise<void> {
    this.closed = true;
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.trailingTimer) clearTimeout(this.trailingTimer);
    for (const timer of this.graceTimers.values()) clearTimeout(timer);
    await this.watcher?.close();
    this.watcher = null;
  }
}
