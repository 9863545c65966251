// Re-adoption: a process left running (by the last supervisor, or by an actor
// of ours that failed) is taken over by the tag's new actor instead of being
// started twice. A recorded pid is trusted only while it is alive with the
// recorded start time; a reused pid is never signalled.
import type { ServiceActor, ServiceSnapshot } from '../machine/service-machine.js';
import { isAlive, signalService } from '../process/proc.js';
import type { Level } from '../vocabulary/levels.js';
import { AWAITING_READY, STOPPING, UP } from '../vocabulary/state-tags.js';
import { killUnrecordedServices } from './orphans.js';
import type { ServiceRecord, ServiceRecords } from './records.js';

export interface AdoptionDeps {
  stateDir: string;
  records: ServiceRecords;
  log(level: Level, tag: string, message: string): void;
}

const TAG = 'proclaunch';

export class Adoption {
  /** Processes left running, by tag, until an actor takes them over. */
  private readonly leftovers = new Map<string, ServiceRecord>();

  constructor(private readonly deps: AdoptionDeps) {}

  /**
   * At start-up, before anything is started: keep the records whose process
   * is alive with the recorded start time, discard the others, and kill the
   * services a supervisor started but died before recording.
   */
  load(): void {
    const { records, log } = this.deps;
    for (const record of records.load((file, reason) => log('WARN', TAG, `discarded unreadable record ${file}: ${reason}`))) {
      if (isAlive(record.proc)) this.leftovers.set(record.tag, record);
      else {
        log('INFO', TAG, `record of ${record.tag} pid ${record.proc.pid} discarded: that process is gone (or its pid was reused)`);
        records.remove(record.tag);
      }
    }
    const pids = new Set([...this.leftovers.values()].map((r) => r.proc.pid));
    killUnrecordedServices(this.deps.stateDir, new Set(this.leftovers.keys()), pids, (m) => log('WARN', TAG, m));
  }

  /** A new actor for `tag`: give it the process left running under that tag, if there is one. */
  handOver(tag: string, actor: ServiceActor): void {
    const left = this.leftovers.get(tag);
    if (!left) return;
    this.leftovers.delete(tag);
    // A record written before readiness existed is of a running process.
    const ready = left.ready !== false;
    const history = { restarts: left.restarts ?? 0, lastExit: left.lastExit ?? null };
    actor.send({ type: 'ADOPT', proc: { ...left.proc, child: false }, config: left.config, since: ready ? (left.since ?? Date.now()) : null, ready, ...history });
  }

  /**
   * Processes no actor took over after the first full look: their profile
   * went away while no supervisor ran. `pending(tag)`: its profile may still
   * turn up (within its grace period); `stop`: take it over, then stop it.
   */
  stopUnclaimed(pending: (tag: string) => boolean, stop: (tag: string, pid: number) => void): void {
    for (const [tag, record] of [...this.leftovers]) if (!pending(tag)) stop(tag, record.proc.pid);
  }

  /**
   * The actor of `tag` failed: what its last snapshot says runs becomes a
   * leftover for its successor, as a record would after a supervisor restart
   * (running, awaiting readiness or stopping, alive with the same start time). A `run` caught
   * mid-start has no record and is killed with its group, as the next
   * supervisor would; its successor starts afresh.
   */
  salvage(tag: string, snapshot: ServiceSnapshot): number | null {
    const { proc, config, runningSince, restarts, lastExit } = snapshot.context;
    if (!proc || !config || !isAlive(proc)) return null;
    const notReady = snapshot.hasTag(AWAITING_READY);
    if ((!snapshot.hasTag(UP) && !snapshot.hasTag(STOPPING) && !notReady) || proc.startTime === null) {
      this.deps.log('WARN', tag, `killing pid ${proc.pid}: it cannot be taken over (it was starting, or its start time is unknown)`);
      signalService(proc, 'SIGKILL');
      return null;
    }
    const since = notReady ? null : (runningSince ?? Date.now());
    this.leftovers.set(tag, { version: 1, tag, proc: { pid: proc.pid, startTime: proc.startTime, pgid: proc.pgid }, since, config, ready: !notReady, restarts, lastExit });
    return proc.pid;
  }

  /** Tags with a process waiting to be taken over. */
  tags(): IterableIterator<string> {
    return this.leftovers.keys();
  }

  forget(tag: string): void {
    this.leftovers.delete(tag);
  }

  get size(): number {
    return this.leftovers.size;
  }
}
