import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { quote } from '../log/escape.js';
import { userNames } from '../profile/users.js';
import { CLOCK_TICKS, descendsFrom, procRef, readProcFile, realUid } from './proc.js';
import type { ProcRef } from '../vocabulary/proc-ref.js';

export type PidFileReading = { ok: true; proc: ProcRef } | { ok: false; reason: string };

// Clock ticks since boot → epoch ms, to compare a process's start with a file's mtime.
let bootTimeMs: number | null = null;
function bootTime(): number {
  if (bootTimeMs === null) {
    const line = readProcFile('/proc/stat').split('\n').find((l) => l.startsWith('btime '));
    bootTimeMs = Number(line?.slice(6)) * 1000;
  }
  return bootTimeMs;
}

/** Read a pid file; accept only a plain pid of a live process that is not pid 1 nor ourselves. */
export function readPidFile(path: string): PidFileReading {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, reason: code === 'ENOENT' ? `pid file ${path} does not exist` : `cannot read pid file ${path}: ${(error as Error).message}` };
  }
  const value = text.trim();
  if (!/^\d{1,10}$/.test(value)) return { ok: false, reason: `pid file ${path} holds ${quote(value.slice(0, 40))}, not a pid` };
  return namedPid(Number(value), `pid file ${path}`);
}

/**
 * A pid named by a service (`source`: its pid file, its MAINPID=): only a live
 * process that is not pid 1 nor ourselves.
 */
export function namedPid(pid: number, source: string): PidFileReading {
  if (pid <= 1) return { ok: false, reason: `${source} names pid ${pid}, which is never a service` };
  if (pid === process.pid) return { ok: false, reason: `${source} names the supervisor's own pid ${pid}` };
  const proc = procRef(pid);
  if (!proc) return { ok: false, reason: `${source} names pid ${pid}, which is not running` };
  return { ok: true, proc };
}

/**
 * A pid file left from before may name a pid that has since been given to an
 * unrelated process. A process that started after the file was last written
 * cannot be the one that wrote it (2 s of slack: btime has 1 s resolution).
 */
export function startedAfterWritten(path: string, proc: ProcRef): boolean {
  if (proc.startTime === null) return false;
  try {
    const startedAt = bootTime() + (proc.startTime * 1000) / CLOCK_TICKS;
    return startedAt > statSync(path).mtimeMs + 2000;
  } catch {
    return true;
  }
}

/** Who may have written a pid file, and what its pid must then be. */
export interface PidTrust {
  /** The profile's `user` (its uid), or null when the service runs as the supervisor. */
  uid: number | null;
  /** The pid of the `run` that should have written it, when known. */
  runPid: number | null;
  /** The profile's user's name (with `uid`), for messages. */
  user?: string;
}

/** A tag's last `run`: its pid and when it was spawned (epoch ms). */
export interface LastRun {
  pid: number;
  at: number;
}

/** File times come from the kernel's coarse clock, up to a tick behind Date.now(). */
const MTIME_SLACK_MS = 20;

/**
 * A pid file written since the run was spawned (`spawnedAt`) that names a
 * process not to be trusted (untrustedPid) is the run's answer: why the start
 * fails, at once. null when it is trusted, or older than the run (a leftover
 * that the daemon may still replace: looked at again until start_timeout).
 */
export function refusedPid(path: string, proc: ProcRef, trust: PidTrust, spawnedAt: number | null): string | null {
  if (spawnedAt === null || untrustedPid(path, proc, trust) === null) return null;
  try {
    if (statSync(path).mtimeMs < spawnedAt - MTIME_SLACK_MS) return null;
  } catch {
    return null;
  }
  const uid = realUid(proc.pid);
  const owner = uid === null ? 'a user it cannot tell' : `${userNames().get(uid) ?? 'uid'} (uid ${uid})`;
  if (trust.uid !== null && trust.uid !== 0) {
    return `pid file ${path} names pid ${proc.pid}, owned by ${owner}: another user than the profile's (${trust.user ?? `uid ${trust.uid}`}), and not from its run; not trusted`;
  }
  return `pid file ${path} can be written by a user other than root and names pid ${proc.pid}, owned by ${owner}, not from its run; not trusted`;
}

/**
 * As root, a pid file that someone else could have written (the file or its
 * directory not owned by root, or writable by group or others) is believed
 * only for a process of the profile's user or one that came from its `run`
 * (systemd's PIDFile rule): otherwise a service user could make us signal any
 * process. Returns why the pid is refused, or null.
 */
export function untrustedPid(path: string, proc: ProcRef, trust: PidTrust): string | null {
  if (process.getuid?.() !== 0) return null;
  if (ownedByRootOnly(path) && ownedByRootOnly(dirname(path))) return null;
  const stranger = strangerPid(proc, trust);
  return stranger && `pid file ${path} can be written by a user other than root and names ${stranger}; not trusted`;
}

/** `pid N, which is neither…` when a process is neither the profile's user's nor from its run; null when it is one of those. */
export function strangerPid(proc: ProcRef, trust: PidTrust): string | null {
  if (trust.uid !== null && trust.uid !== 0 && realUid(proc.pid) === trust.uid) return null;
  if (trust.runPid !== null && descendsFrom(proc.pid, trust.runPid)) return null;
  return `pid ${proc.pid}, which is neither the profile's user's nor from its run`;
}

function ownedByRootOnly(path: string): boolean {
  try {
    const stat = statSync(path);
    const sticky = (stat.mode & 0o1000) !== 0; // /tmp-like: others may not replace our file
    return stat.uid === 0 && (sticky || (stat.mode & 0o022) === 0);
  } catch {
    return false;
  }
}
