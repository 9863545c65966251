// Which bounded outputs the profiles use, and when one may go. A sink is held
// from the first reading that names it; once no reading does (profile removed,
// fewer instances, another `stdout`), it is released as soon as no process of
// the tags that used it can still write into it — a stopping service's last
// words, or its `finish`'s, are drained first.
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ServiceSnapshot } from '../machine/service-machine.js';
import type { ProfileReading, ServiceConfig } from '../profile/types.js';
import { outputDir, targetOfPipe } from './paths.js';
import { holdSink, isSink, releaseSink } from './sinks.js';
import { readRecords } from '../supervisor/records.js';
import { OUTPUT_DEFAULTS } from '../vocabulary/output.js';
import { DOWN, FINISHING, STOPPING } from '../vocabulary/state-tags.js';

export interface ClaimDeps {
  /** The tag's actor's snapshot (none once released). */
  snapshot(tag: string): ServiceSnapshot | undefined;
}

const pipesOf = (config: ServiceConfig): Array<[string, string]> => {
  const { stdoutPipe = null, stderrPipe = null } = config.output ?? {};
  return [...(stdoutPipe ? [[stdoutPipe, config.stdout]] : []), ...(stderrPipe ? [[stderrPipe, config.stderr]] : [])] as Array<[string, string]>;
};

export class OutputClaims {
  /** Profile → the FIFOs its last valid reading names. */
  private readonly byProfile = new Map<string, Set<string>>();
  /** FIFO → tags that have written into it since it was held. */
  private readonly users = new Map<string, Set<string>>();
  /** FIFOs no reading names: released once unused. */
  private readonly unclaimed = new Set<string>();
  /** FIFOs found at start-up, held until sweep() judges them. */
  private readonly found = new Set<string>();
  private deps: ClaimDeps | null = null;
  private stateDir = '';

  /**
   * With the supervisor, before it stops or starts anything: hold every FIFO
   * the last one left, at once. A pipe nobody holds is freed by the kernel
   * with what waits in it, and a leftover service may be stopped (and exit)
   * before its profile is even read.
   */
  attach(deps: ClaimDeps, stateDir: string): void {
    this.deps = deps;
    this.stateDir = stateDir;
    const dir = outputDir(stateDir);
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return; // none yet
    }
    for (const name of names) {
      const fifo = join(dir, name);
      const target = name.endsWith('.path') ? null : targetOfPipe(stateDir, fifo);
      if (target === null || isSink(fifo)) continue;
      this.found.add(fifo);
      holdSink(fifo, target, OUTPUT_DEFAULTS).catch(() => this.found.delete(fifo)); // not a FIFO any more: nothing to keep
    }
  }

  /** A profile was read: hold what it names, let go of what it no longer names. Invalid if a FIFO cannot be made. */
  /** How many entries each map holds (for tests: nothing of a released name may stay). */
  counts(): { outputProfiles: number; outputUsers: number; outputUnclaimed: number } {
    return { outputProfiles: this.byProfile.size, outputUsers: this.users.size, outputUnclaimed: this.unclaimed.size };
  }

  async claim(name: string, reading: ProfileReading): Promise<ProfileReading> {
    if (reading.kind === 'invalid') return reading; // the running service goes on with its last good config
    const named = new Set<string>();
    if (reading.kind === 'valid') {
      try {
        for (const config of reading.configs) {
          for (const [fifo, target] of pipesOf(config)) {
            // Claimed before the wait (the FIFO may be made in the thread pool): a settle meanwhile must not release it.
            this.unclaimed.delete(fifo);
            await holdSink(fifo, target, config.output!);
            named.add(fifo);
            this.unclaimed.delete(fifo);
            this.found.delete(fifo);
            const users = this.users.get(fifo) ?? new Set<string>();
            this.users.set(fifo, users.add(config.tag));
          }
        }
      } catch (error) {
        return { kind: 'invalid', reason: `cannot make its output pipe: ${(error as Error).message}` };
      }
    }
    for (const fifo of this.byProfile.get(name) ?? []) if (!named.has(fifo) && !this.namedElsewhere(fifo, name)) this.unclaimed.add(fifo);
    if (named.size > 0) this.byProfile.set(name, named);
    else this.byProfile.delete(name);
    if (this.unclaimed.size > 0) setImmediate(() => this.settle()); // the actors have had the reading by then
    return reading;
  }

  /** At start-up, after the first readings: the FIFOs found that no profile names now (gone while no supervisor ran) are released once unused. */
  sweep(): void {
    const left = [...this.found].filter((fifo) => !this.users.has(fifo) && isSink(fifo)); // else named by a reading, or not held
    // out/TAG is written by TAG; out/_HASH by whoever the records of running services say.
    const recorded = left.some((fifo) => basename(fifo).startsWith('_')) ? recordedWriters(this.stateDir) : new Map<string, Set<string>>();
    for (const fifo of left) {
      this.users.set(fifo, basename(fifo).startsWith('_') ? (recorded.get(fifo) ?? new Set()) : new Set([basename(fifo)]));
      this.unclaimed.add(fifo);
    }
    this.found.clear();
    this.settle();
  }

  /** Release what no process can still write into (called on every state change: cheap while nothing waits). */
  settle(): void {
    if (this.unclaimed.size === 0 || !this.deps) return;
    for (const fifo of this.unclaimed) {
      if ([...(this.users.get(fifo) ?? [])].some((tag) => this.writes(this.deps!.snapshot(tag), fifo))) continue;
      this.unclaimed.delete(fifo);
      this.users.delete(fifo);
      releaseSink(fifo);
    }
  }

  /** May this tag's process (or its finish) still write into the FIFO? */
  private writes(snapshot: ServiceSnapshot | undefined, fifo: string): boolean {
    if (!snapshot || snapshot.hasTag(DOWN)) return false;
    // Stopping or finishing: the old process, whatever the new config says.
    if (snapshot.hasTag(STOPPING) || snapshot.hasTag(FINISHING)) return true;
    return snapshot.context.config ? pipesOf(snapshot.context.config).some(([f]) => f === fifo) : false;
  }

  private namedElsewhere(fifo: string, except: string): boolean {
    for (const [name, fifos] of this.byProfile) if (name !== except && fifos.has(fifo)) return true;
    return false;
  }
}

/** FIFO → the tags whose records (STATE_DIR/records.jsonl) say they write into it. */
function recordedWriters(stateDir: string): Map<string, Set<string>> {
  const writers = new Map<string, Set<string>>();
  for (const record of readRecords(stateDir).values()) {
    for (const [fifo] of pipesOf(record.config)) writers.set(fifo, (writers.get(fifo) ?? new Set()).add(record.tag));
  }
  return writers;
}

export const outputClaims = new OutputClaims();
