// Wires the parts together and does nothing else. The profile watcher says
// which profile to look at; readings.ts turns each reading into the profile's
// events and messages to its actors; services.ts keeps one actor per tag
// (re-created alone if it throws, released once its removed profile is fully
// stopped); observers.ts follows their snapshots into records, holds and the
// event history; adoption.ts hands processes left running to new actors. It
// reads no /proc and knows nothing of pid files.
import type { Logger } from '../log/logger.js';
import { NeedsCoordinator } from '../needs/coordinator.js';
import { NeedCycles } from '../needs/cycles.js';
import { dependentsIndex, type Unmet } from '../needs/graph.js';
import { serviceMachine, type ServiceActor, type ServiceEvent, type ServiceSnapshot } from '../machine/service-machine.js';
import { outputClaims } from '../output/claims.js';
import { sinksUnder } from '../output/sinks.js';
import { processEffects } from '../process/effects.js';
import { notifySocketsOf } from '../process/notify.js';
import { readyFdsUnder } from '../process/ready-fd.js';
import type { LastRun } from '../process/pidfile.js';
import { PidWatcher } from '../process/pid-watch.js';
import type { Level } from '../vocabulary/levels.js';
import { DOWN } from '../vocabulary/state-tags.js';
import { byTag, isLoggerTag, profileOf } from '../vocabulary/tags.js';
import { Adoption } from './adoption.js';
import { Causes, type CommandType } from './causes.js';
import type { EventLog } from './event-log.js';
import type { HeldProfiles } from './holds.js';
import { LoggerRemovals, sweepPipes } from './loggers.js';
import { SnapshotObservers } from './observers.js';
import { ProfileWatcher } from './profile-watcher.js';
import { Readings } from './readings.js';
import type { ServiceRecords } from './records.js';
import { Services } from './services.js';

/** What the machine is given to act on the world (process/effects.ts). */
export type MachineEffects = ReturnType<typeof processEffects>;

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
  /** For tests only: wrap the machine's effects (to inject one that throws, say). */
  effects?: (real: MachineEffects) => MachineEffects;
}

export class Supervisor {
  private readonly pidWatcher = new PidWatcher();
  /** The last `run` pid of each tag, for the effects' pid-file trust rule. */
  private readonly lastRun = new Map<string, LastRun>();
  private readonly services: Services;
  private readonly watcher: ProfileWatcher;
  private readonly readings: Readings;
  private readonly adoption: Adoption;
  private readonly loggerRemovals: LoggerRemovals;
  private readonly needs: NeedsCoordinator;
  private readonly cycles = new NeedCycles();
  private readonly causes = new Causes();
  private closed = false;

  constructor(private readonly options: SupervisorOptions) {
    const { logger, stateDir } = options;
    const log = (level: Level, message: string) => logger.log(level, 'proclaunch', message);
    const effects = processEffects({ pidWatcher: this.pidWatcher, stateDir, lastRun: this.lastRun, warn: (tag, message) => logger.log('WARN', tag, message) });
    this.adoption = new Adoption({ stateDir, records: options.records, log: (level, tag, message) => logger.log(level, tag, message) });
    // The shutdown's own STOPs are not stops by command: they are not remembered.
    const observers = new SnapshotObservers({ ...options, causes: this.causes, keepHolds: () => !this.closed, log });
    this.services = new Services({
      machine: serviceMachine.provide(options.effects ? options.effects(effects) : effects),
      logger,
      observers,
      adoption: this.adoption,
      holds: options.holds,
      changed: (tag) => {
        this.loggerRemovals.settle();
        this.needs.changed(tag);
      },
      configuring: (tag) => this.needs.configuring(tag),
      letGo: (tag) => this.readings.letGo(tag),
      released: (tag, lastOfProfile) => this.released(tag, lastOfProfile),
      closing: () => this.closed,
    });
    this.loggerRemovals = new LoggerRemovals({
      stateDir,
      actor: (tag) => this.services.get(tag)?.actor,
      tagsOf: (name) => this.services.tagsOfProfile(name),
      gone: (tag) => (this.services.get(tag)?.last ?? 'missing') === 'missing',
      profileOf,
      log: (message) => log('WARN', message),
    });
    this.needs = new NeedsCoordinator({
      // A removed profile's tag is missing to those that need it, even while it stops.
      actor: (tag) => {
        const service = this.services.get(tag);
        return service && service.last !== 'missing' ? service.actor : undefined;
      },
      invalid: (tag) => this.services.get(tag)?.last === 'invalid',
      tagsOf: (name) => this.services.tagsOfProfile(name),
      send: (tag, event) => this.services.get(tag)?.actor.send(event),
    });
    this.watcher = new ProfileWatcher({ ...options, log, look: (name, look) => this.readings.look(name, look), known: () => this.services.profiles() });
    this.readings = new Readings({ ...options, services: this.services, observers, watcher: this.watcher, loggerRemovals: this.loggerRemovals, needs: this.needs, cycles: this.cycles, closed: () => this.closed });
  }

  /** Stopping every service or exiting: no more starts. */
  get shuttingDown(): boolean {
    return this.closed;
  }

  async start(): Promise<void> {
    const { logger, stateDir, profilesDir, holds } = this.options;
    logger.log('INFO', 'proclaunch', `supervising ${profilesDir} pid ${process.pid}`);
    if (this.pidWatcher.mode === 'polling') {
      logger.log('WARN', 'proclaunch', `watching pids that are not our children by polling /proc (deaths noticed within ~250ms, not at once): ${this.pidWatcher.pollingReason}`);
    }
    this.adoption.load();
    this.needs.holdUntilRead();
    await this.watcher.rescan();
    this.needs.allRead();
    this.watcher.start();
    this.adoption.stopUnclaimed((tag) => this.readings.mayTurnUp(tag), (tag, pid) => this.readings.removedWhileDown(tag, pid));
    const known = new Set([...this.services.tags(), ...this.adoption.tags()].map(profileOf));
    await sweepPipes(stateDir, known, profilesDir).catch((e: Error) => logger.log('WARN', 'proclaunch', `sweeping log pipes: ${e.message}`));
    // A profile gone while no supervisor ran forgets its stop by command (putting it back is a new deployment).
    if (!this.watcher.missing) for (const tag of holds.all()) if ((this.services.get(tag)?.last ?? 'missing') === 'missing') holds.delete(tag);
  }

  /** Look at every profile now (start-up, SIGHUP, `rescan`). */
  rescan(): Promise<void> {
    return this.watcher.rescan();
  }

  /** A removed tag was let go by its actor: nothing else of it stays. */
  private released(tag: string, lastOfProfile: boolean): void {
    this.adoption.forget(tag);
    this.lastRun.delete(tag);
    this.readings.clearGrace(tag);
    this.needs.forget(tag);
    this.causes.forget(tag);
    if (!lastOfProfile) return;
    this.readings.clearGrace(profileOf(tag));
    this.watcher.forget(profileOf(tag));
  }

  /** How many entries each map holds, for tests: nothing of a released name may stay. */
  debugCounts(): Record<string, number> {
    return {
      ...this.services.counts(),
      ...this.needs.counts(),
      needCycles: this.cycles.size,
      causes: this.causes.size,
      graceTimers: this.readings.pendingGrace,
      warnedProfiles: this.readings.warnedProfiles,
      leftovers: this.adoption.size,
      loggerRemovals: this.loggerRemovals.size,
      pidWatches: this.pidWatcher.size,
      lastRun: this.lastRun.size,
      records: this.options.records.size,
      holds: this.options.holds.all().length,
      ...this.watcher.counts(),
      ...outputClaims.counts(),
      outputSinks: sinksUnder(this.options.stateDir),
      readyFds: readyFdsUnder(this.options.stateDir),
      notifySockets: notifySocketsOf(this.options.stateDir),
    };
  }

  /** Every tag we know, valid or not; a removed one once it has stopped is no longer shown. */
  names(): string[] {
    return [...this.services.entries()]
      .filter(([, s]) => s.last !== 'missing' || !s.actor.getSnapshot().hasTag(DOWN))
      .map(([tag]) => tag)
      .sort(byTag);
  }

  get profilesDir(): string {
    return this.options.profilesDir;
  }

  /** Entries of PROFILES_DIR that are not profiles for their name (`my service`): `status` shows them as invalid. */
  badNames(): string[] {
    return this.watcher.skippedDirectories();
  }

  actor(name: string): ServiceActor | undefined {
    return this.services.get(name)?.actor;
  }

  /**
   * A command from the operator (a `stop` is remembered across restarts by the
   * holds observer); `by` (`uid 0`, `http full`) goes on the events it causes.
   */
  command(name: string, event: Extract<ServiceEvent, { type: 'START' | 'STOP' | 'RESTART' | 'RELOAD' | 'SIGNAL' }>, by?: string): void {
    const service = this.services.get(name);
    if (!service) return;
    if (by !== undefined && isCausing(event.type)) this.causes.asked(name, event.type, by);
    // While shutting down the observer keeps no holds (every service is being stopped): a stop by command still counts.
    if (this.closed && event.type === 'STOP') this.options.holds.add(name);
    service.actor.send(event);
  }

  snapshots(): Array<[string, ServiceSnapshot]> {
    return [...this.services.entries()].map(([name, s]) => [name, s.actor.getSnapshot()]);
  }

  /** What `tag` waits for before it may start (its first unmet need), or null. */
  waitingFor(tag: string): Unmet | null {
    return this.needs.unmet(tag);
  }

  /** The tags that need `tag`. */
  dependentsOf(tag: string): string[] {
    return this.needs.dependentsOf(tag);
  }

  /** The needs of a profile as last read. */
  needsOf(name: string): ReturnType<NeedsCoordinator['needs']> {
    return this.needs.needs(name);
  }

  /**
   * Stop every service in parallel, each with its own signal and timeout —
   * but each only once the services that need it are stopped; loggers last.
   * Resolves when all are stopped. `by`: who asked (`quit`), for the events.
   */
  async stopAll(by?: string): Promise<void> {
    this.closed = true; // no reading is acted on from now: nothing starts
    this.readings.close();
    this.services.recoverNow();
    const tags = [...this.services.tags()];
    const stop = (tag: string) => {
      if (by !== undefined) this.causes.asked(tag, 'STOP', by);
      this.services.get(tag)?.actor.send({ type: 'STOP' });
    };
    const services = this.stopInOrder(tags.filter((tag) => !isLoggerTag(tag)), stop);
    // Unwatched after the STOPs are sent: closing a watch on every profile is not on the way to any service's stop.
    await this.watcher.close();
    await Promise.all(services.values());
    // Loggers last (after every service, not only their own): what a service says while it stops is logged.
    await Promise.all(this.stopInOrder(tags.filter(isLoggerTag), stop).values());
  }

  /**
   * Stop `tags`, each (`send` its STOP) once those among them that need it
   * are stopped. Resolves, per tag, when it is stopped and its `finish` over.
   */
  stopInOrder(tags: string[], send: (tag: string) => void): Map<string, Promise<void>> {
    const needsByTag = new Map(tags.map((tag) => [tag, this.services.get(tag)?.actor.getSnapshot().context.config?.needs ?? []]));
    const dependents = dependentsIndex(needsByTag);
    // A logger after its service, so that what the service says while it stops is logged.
    const chosen = new Set(tags);
    for (const tag of tags.filter(isLoggerTag)) dependents.set(tag, [...this.services.tagsOfProfile(profileOf(tag))].filter((t) => t !== tag && chosen.has(t)));
    const down = new Map<string, Promise<void>>();
    const visiting = new Set<string>();
    const after = (tag: string): Promise<void> => {
      const known = down.get(tag);
      if (known) return known;
      // A cycle among running configs (edited since): do not wait on oneself.
      if (visiting.has(tag)) return Promise.resolve();
      visiting.add(tag);
      const first = (dependents.get(tag) ?? []).map(after);
      visiting.delete(tag);
      // Nothing to wait for: its STOP goes now, before the caller replies.
      const done = first.length === 0 ? this.stopOne(tag, send) : Promise.all(first).then(() => this.stopOne(tag, send));
      down.set(tag, done);
      return done;
    };
    for (const tag of tags) after(tag);
    return down;
  }

  /** Stopped, and its `finish` (run after a stop too) is over — through a failure of its actor too. */
  private stopOne(tag: string, send: (tag: string) => void): Promise<void> {
    const actor = this.services.get(tag)?.actor;
    if (!actor) return Promise.resolve();
    send(tag);
    return new Promise<void>((resolve) => {
      const check = (snapshot: ServiceSnapshot) => snapshot.hasTag(DOWN) && (resolve(), true);
      if (check(actor.getSnapshot())) return;
      const sub = actor.subscribe({
        next: (snapshot) => check(snapshot) && sub.unsubscribe(),
        // Its actor threw: follow the new one (re-created at once while closing, before this timer), if any.
        error: () => setTimeout(() => resolve(this.services.get(tag)?.actor === actor ? undefined : this.stopOne(tag, send)), 0),
      });
    });
  }
}

/** The commands whose events say who asked (a reload or a signal causes no event of its own). */
const isCausing = (type: string): type is CommandType => type === 'START' || type === 'STOP' || type === 'RESTART';
