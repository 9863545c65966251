// One record per running service process in STATE_DIR/services/TAG.json:
// what a supervisor started after us needs to take the process over instead
// of starting a duplicate (pid + start time make the pid unambiguous; the
// configuration tells how to stop it and whether the profile changed since).
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { WatchedProc } from '../machine/service-machine.js';
import type { LastExit } from '../machine/types.js';
import type { ServiceConfig } from '../profile/types.js';
import { writeAtomic } from './state-dir.js';

export interface ServiceRecord {
  version: 1;
  tag: string;
  proc: { pid: number; startTime: number; pgid: number };
  /** When it reached running (epoch ms); null while not ready. */
  since: number | null;
  config: ServiceConfig;
  /** false: in starting.awaitingReady (it has not said it is ready). Absent in records written before readiness: ready. */
  ready?: boolean;
  /** What `status` shows of its past (RESTARTS, LAST EXIT), kept across a supervisor restart. Absent in older records. */
  restarts?: number;
  lastExit?: LastExit | null;
}

/** The history a record carries over to the next supervisor. */
export type RecordHistory = Pick<ServiceRecord, 'restarts' | 'lastExit'>;

export class ServiceRecords {
  private readonly dir: string;
  /** What is on disk, so that an unchanged record is not rewritten. */
  private readonly written = new Map<string, string>();
  /** The pid of each record on disk (`has` is asked at every snapshot of a stopping service). */
  private readonly pids = new Map<string, number>();

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'services');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  private path(tag: string): string {
    return join(this.dir, `${tag}.json`);
  }

  /** Every readable record; unreadable ones are reported by tag and removed. */
  load(onBad: (file: string, reason: string) => void): ServiceRecord[] {
    const records: ServiceRecord[] = [];
    for (const file of readdirSync(this.dir)) {
      // A supervisor killed between writing and renaming a record leaves its temp file.
      if (file.endsWith('.tmp')) rmSync(join(this.dir, file), { force: true });
      if (!file.endsWith('.json')) continue;
      const path = join(this.dir, file);
      try {
        const record = JSON.parse(readFileSync(path, 'utf8')) as ServiceRecord;
        if (record.version !== 1 || !isProc(record.proc) || typeof record.tag !== 'string' || `${record.tag}.json` !== file || !record.config) {
          throw new Error('not a service record');
        }
        // Its past is shown, never acted on: what does not look right is dropped, not the record.
        if (record.restarts !== undefined && !(Number.isSafeInteger(record.restarts) && record.restarts >= 0)) delete record.restarts;
        if (record.lastExit != null && !isExit(record.lastExit)) delete record.lastExit;
        records.push(record);
        this.written.set(record.tag, JSON.stringify(record));
        this.pids.set(record.tag, record.proc.pid);
      } catch (error) {
        onBad(file, (error as Error).message);
        rmSync(path, { force: true });
      }
    }
    return records;
  }

  /** Record `proc` as the process of `tag`, ready (running) or not yet (written atomically, only when it changed). */
  save(tag: string, proc: WatchedProc, since: number | null, config: ServiceConfig, ready = true, history: RecordHistory = {}): void {
    if (proc.startTime === null) return; // cannot be recognised again: do not pretend
    const record: ServiceRecord = { version: 1, tag, proc: { pid: proc.pid, startTime: proc.startTime, pgid: proc.pgid }, since: ready ? since : null, config, ready, ...history };
    const text = JSON.stringify(record);
    if (this.written.get(tag) === text) return;
    writeAtomic(this.path(tag), `${text}\n`, 0o600);
    this.written.set(tag, text);
    this.pids.set(tag, proc.pid);
  }

  /** How many records are on disk. */
  get size(): number {
    return this.written.size;
  }

  has(tag: string, pid: number): boolean {
    return this.pids.get(tag) === pid;
  }

  remove(tag: string): void {
    this.pids.delete(tag);
    if (!this.written.delete(tag)) return;
    rmSync(this.path(tag), { force: true });
  }
}

function isProc(value: unknown): value is ServiceRecord['proc'] {
  const p = value as ServiceRecord['proc'] | null;
  return !!p && [p.pid, p.startTime, p.pgid].every((n) => Number.isInteger(n) && n > 0);
}

function isExit(value: unknown): value is LastExit {
  const e = value as LastExit;
  return typeof e === 'object' && [e.pid, e.at, e.uptimeMs].every(Number.isFinite) && (e.code === null || Number.isInteger(e.code)) && (e.signal === null || typeof e.signal === 'string');
}
