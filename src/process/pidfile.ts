import { readFileSync, statSync } from 'node:fs';
import { quote } from '../log/escape.js';
import { CLOCK_TICKS, procRef, type ProcRef } from './proc.js';

export type PidFileReading = { ok: true; proc: ProcRef } | { ok: false; reason: string };

// Clock ticks since boot → epoch ms, to compare a process's start with a file's mtime.
let bootTimeMs: number | null = null;
function bootTime(): number {
  if (bootTimeMs === null) {
    const line = readFileSync('/proc/stat', 'latin1').split('\n').find((l) => l.startsWith('btime '));
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
  const pid = Number(value);
  if (pid <= 1) return { ok: false, reason: `pid file ${path} names pid ${pid}, which is never a service` };
  if (pid === process.pid) return { ok: false, reason: `pid file ${path} names the supervisor's own pid ${pid}` };
  const proc = procRef(pid);
  if (!proc) return { ok: false, reason: `pid file ${path} names pid ${pid}, which is not running` };
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
