import { closeSync, openSync, readSync } from 'node:fs';
import type { ProcRef } from '../vocabulary/proc-ref.js';


export interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgid: number;
  startTime: number;
}

/**
 * Unit of the times in /proc/PID/stat: USER_HZ, which the kernel fixes at 100
 * on every architecture Node runs on (it is ABI, unlike CONFIG_HZ), so we do
 * not spawn `getconf CLK_TCK` to learn it.
 */
export const CLOCK_TICKS = 100;

/** The fields after the command name; fields[0] is field 3 (state), field N is fields[N - 3]. */
function statFields(text: string): string[] | null {
  // The command name may hold spaces and ')', so split after the last ')'.
  const close = text.lastIndexOf(')');
  return close < 0 ? null : text.slice(close + 2).split(' ');
}

/** Parse /proc/PID/stat. */
export function parseStat(text: string): ProcStat | null {
  const fields = statFields(text);
  if (!fields) return null;
  const pid = Number.parseInt(text, 10);
  // fields[0] is field 3 (state); field N is fields[N - 3].
  const state = fields[0];
  const ppid = Number(fields[1]);
  const pgid = Number(fields[2]);
  const startTime = Number(fields[19]);
  if (!state || !Number.isFinite(pid) || !Number.isFinite(startTime)) return null;
  return { pid, state, ppid, pgid, startTime };
}

/** More of /proc/PID/stat, for `proclaunch ps` (kept apart so ProcStat stays small). */
export interface ProcStatDetail extends ProcStat {
  /** Field 2, without its parentheses: the kernel's name, at most 15 bytes, raw. */
  comm: string;
  /** Fields 14 and 15: CPU time spent in user and kernel mode, in clock ticks. */
  utime: number;
  stime: number;
  /** Field 6: the session id. */
  session: number;
}

/** One buffer for every /proc read, grown when a file is larger. */
let procBuffer = Buffer.allocUnsafe(4096);

/**
 * Read a /proc file (latin1 unless told: bytes in, bytes out). Node cannot know the size of a /proc file, so
 * readFileSync allocates 64 KiB for each read: at 500 services that churn
 * alone kept tens of MB of freed memory in the supervisor's RSS.
 */
export function readProcFile(path: string, encoding: 'latin1' | 'utf8' = 'latin1'): string {
  const fd = openSync(path, 'r');
  try {
    let length = 0;
    for (;;) {
      if (length === procBuffer.length) {
        const bigger = Buffer.allocUnsafe(procBuffer.length * 2);
        procBuffer.copy(bigger, 0, 0, length);
        procBuffer = bigger;
      }
      const n = readSync(fd, procBuffer, length, procBuffer.length - length, null);
      if (n === 0) return procBuffer.toString(encoding, 0, length);
      length += n;
    }
  } finally {
    closeSync(fd);
  }
}

export function parseStatDetail(text: string): ProcStatDetail | null {
  const stat = parseStat(text);
  const fields = statFields(text);
  if (!stat || !fields) return null;
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return { ...stat, comm: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')), utime, stime, session: Number(fields[3]) };
}

export function readStatDetail(pid: number): ProcStatDetail | null {
  try {
    return parseStatDetail(readProcFile(`/proc/${pid}/stat`));
  } catch {
    return null;
  }
}

/** The real uid of a process (the first `Uid:` field of /proc/PID/status), or null. */
export function realUid(pid: number): number | null {
  try {
    const line = readProcFile(`/proc/${pid}/status`).split('\n').find((l) => l.startsWith('Uid:'));
    const uid = Number(line?.slice(4).trim().split(/\s+/)[0]);
    return Number.isInteger(uid) ? uid : null;
  } catch {
    return null;
  }
}

/** Whether `pid` came from `ancestor`: its child (at any depth), or still in its session or group. */
export function descendsFrom(pid: number, ancestor: number): boolean {
  let current = readStatDetail(pid);
  if (current && (current.session === ancestor || current.pgid === ancestor)) return true;
  for (let depth = 0; current && depth < 64; depth++) {
    if (current.ppid === ancestor) return true;
    if (current.ppid <= 1) return false;
    current = readStatDetail(current.ppid);
  }
  return false;
}

export function readStat(pid: number): ProcStat | null {
  try {
    return parseStat(readProcFile(`/proc/${pid}/stat`));
  } catch {
    return null;
  }
}

/** Alive means: exists, is not a zombie, and (when we know it) started when we recorded. */
export function isAlive(ref: Pick<ProcRef, 'pid' | 'startTime'>): boolean {
  const stat = readStat(ref.pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return false;
  return ref.startTime === null || stat.startTime === ref.startTime;
}

export function procRef(pid: number): ProcRef | null {
  const stat = readStat(pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return null;
  return { pid, startTime: stat.startTime, pgid: stat.pgid };
}

const ownPgid = readStat(process.pid)?.pgid ?? process.pid;

/** Why a pid must not be signalled, or null when it is safe. */
export function unsafeToSignal(ref: ProcRef): string | null {
  if (!Number.isInteger(ref.pid) || ref.pid <= 1) return `pid ${ref.pid} is not a service pid`;
  if (ref.pid === process.pid) return `pid ${ref.pid} is the supervisor itself`;
  const stat = readStat(ref.pid);
  if (!stat) return `pid ${ref.pid} is gone`;
  if (ref.startTime !== null && stat.startTime !== ref.startTime) {
    return `pid ${ref.pid} now belongs to another process (start time changed)`;
  }
  return null;
}

export type SignalResult = { ok: true } | { ok: false; reason: string };

/**
 * Signal a service: its whole process group when it leads one of its own,
 * else the pid alone. Never pid 1, our own pid or group, or a reused pid.
 */
export function signalService(ref: ProcRef, signal: NodeJS.Signals | number): SignalResult {
  const unsafe = unsafeToSignal(ref);
  if (unsafe) return { ok: false, reason: unsafe };
  // Only a process that leads its own group (we start services with setsid) has its group signalled.
  const group = ref.pgid === ref.pid && ref.pgid !== ownPgid;
  try {
    process.kill(group ? -ref.pgid : ref.pid, signal);
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

/** After the leader of a stopped service died: SIGKILL what is left of its group. */
export function killGroupLeftovers(pgid: number): void {
  if (pgid <= 1 || pgid === ownPgid || pgid === process.pid) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // ESRCH: nothing left, the usual case.
  }
}
