// The records of running service processes: what a supervisor started after
// us needs to take each process over instead of starting a duplicate (pid +
// start time make the pid unambiguous; the configuration tells how to stop it
// and whether the profile changed since).
//
// One append-only journal, STATE_DIR/records.jsonl: a line per change, the
// last line of a tag wins, `"removed":true` ends it. Not a file per tag
// written beside and renamed: each of those cost a new inode (~1.5 ms on ext4
// here, the largest part of a bulk start's main-thread time). A line is one
// write(2) with O_APPEND: a supervisor killed mid-way leaves at most a torn
// last line, which the next one skips with a WARN. The journal is rewritten
// (beside, then rename) at start-up and when it has grown to 4× what is
// live. Records of older versions (STATE_DIR/services/TAG.json) are read
// once, folded in and removed.
import { closeSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
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

export const recordsPath = (stateDir: string): string => join(stateDir, 'records.jsonl');
/** Where earlier versions kept one record per file. */
const legacyDir = (stateDir: string): string => join(stateDir, 'services');

/** Appended lines beyond what is live, before the journal is rewritten. */
const COMPACT_AFTER = 256;

/**
 * Every record in STATE_DIR by tag: the older per-file ones, then the
 * journal's lines in order. `onBad` hears of each that cannot be read.
 */
export function readRecords(stateDir: string, onBad: (where: string, reason: string) => void = () => undefined): Map<string, ServiceRecord> {
  const records = new Map<string, ServiceRecord>();
  const dir = legacyDir(stateDir);
  for (const file of entries(dir)) {
    if (!file.endsWith('.json')) continue;
    try {
      const record = checked(JSON.parse(readFileSync(join(dir, file), 'utf8')));
      if (`${record.tag}.json` !== file) throw new Error('not a service record');
      records.set(record.tag, record);
    } catch (error) {
      onBad(`services/${file}`, (error as Error).message);
    }
  }
  let text = '';
  try {
    text = readFileSync(recordsPath(stateDir), 'utf8');
  } catch {
    return records; // none yet
  }
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    if (line === '') return;
    try {
      const value = JSON.parse(line) as { tag?: unknown; removed?: unknown };
      if (value?.removed === true && typeof value.tag === 'string') records.delete(value.tag);
      else records.set((value as ServiceRecord).tag, checked(value));
    } catch (error) {
      onBad(`records.jsonl line ${index + 1}`, index === lines.length - 1 ? 'cut short (a supervisor killed while writing it)' : (error as Error).message);
    }
  });
  return records;
}

export class ServiceRecords {
  /** What is on disk, so that an unchanged record is not written again (and what a rewrite writes). */
  private readonly written = new Map<string, string>();
  /** The pid of each record on disk (`has` is asked at every snapshot of a stopping service). */
  private readonly pids = new Map<string, number>();
  private fd: number | null = null;
  private appended = 0;

  constructor(private readonly stateDir: string) {}

  /** Every readable record (unreadable ones reported, and dropped); then the journal is rewritten. Before any save. */
  load(onBad: (where: string, reason: string) => void): ServiceRecord[] {
    const records = readRecords(this.stateDir, onBad);
    for (const record of records.values()) {
      this.written.set(record.tag, JSON.stringify(record));
      this.pids.set(record.tag, record.proc.pid);
    }
    this.rewrite();
    rmSync(legacyDir(this.stateDir), { recursive: true, force: true });
    return [...records.values()];
  }

  /** Record `proc` as the process of `tag`, ready (running) or not yet (only when it changed). */
  save(tag: string, proc: WatchedProc, since: number | null, config: ServiceConfig, ready = true, history: RecordHistory = {}): void {
    if (proc.startTime === null) return; // cannot be recognised again: do not pretend
    const record: ServiceRecord = { version: 1, tag, proc: { pid: proc.pid, startTime: proc.startTime, pgid: proc.pgid }, since: ready ? since : null, config, ready, ...history };
    const text = JSON.stringify(record);
    if (this.written.get(tag) === text) return;
    this.append(text);
    this.written.set(tag, text);
    this.pids.set(tag, proc.pid);
  }

  /** How many records are live. */
  get size(): number {
    return this.written.size;
  }

  has(tag: string, pid: number): boolean {
    return this.pids.get(tag) === pid;
  }

  remove(tag: string): void {
    this.pids.delete(tag);
    if (!this.written.delete(tag)) return;
    this.append(JSON.stringify({ version: 1, tag, removed: true }));
  }

  private append(line: string): void {
    this.fd ??= openSync(recordsPath(this.stateDir), 'a', 0o600);
    writeSync(this.fd, `${line}\n`);
    if (++this.appended > COMPACT_AFTER + 3 * this.written.size) this.rewrite();
  }

  /** The live records alone, beside and renamed over the journal. */
  private rewrite(): void {
    writeAtomic(recordsPath(this.stateDir), [...this.written.values()].map((text) => `${text}\n`).join(''), 0o600);
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.appended = 0;
  }
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** `value` as a record, its past dropped where it does not look right (it is shown, never acted on); throws if it is none. */
function checked(value: unknown): ServiceRecord {
  const record = value as ServiceRecord;
  if (record?.version !== 1 || !isProc(record.proc) || typeof record.tag !== 'string' || !record.config) throw new Error('not a service record');
  if (record.restarts !== undefined && !(Number.isSafeInteger(record.restarts) && record.restarts >= 0)) delete record.restarts;
  if (record.lastExit != null && !isExit(record.lastExit)) delete record.lastExit;
  return record;
}

function isProc(value: unknown): value is ServiceRecord['proc'] {
  const p = value as ServiceRecord['proc'] | null;
  return !!p && [p.pid, p.startTime, p.pgid].every((n) => Number.isInteger(n) && n > 0);
}

function isExit(value: unknown): value is LastExit {
  const e = value as LastExit;
  return typeof e === 'object' && [e.pid, e.at, e.uptimeMs].every(Number.isFinite) && (e.code === null || Number.isInteger(e.code)) && (e.signal === null || typeof e.signal === 'string');
}
