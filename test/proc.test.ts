import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatLine } from '../src/log/logger.js';
import { PidWatcher } from '../src/process/pid-watch.js';
import { readPidFile, startedAfterWritten } from '../src/process/pidfile.js';
import { waitFor } from './support/wait.js';
import { isAlive, parseStat, procRef, readStat, signalService, unsafeToSignal } from '../src/process/proc.js';
import type { ProcRef } from '../src/vocabulary/proc-ref.js';

/** A pid that has exited and been reaped. */
function deadPid(): number {
  const result = spawnSync('true');
  expect(result.pid).toBeGreaterThan(1);
  return result.pid!;
}

const children: ChildProcess[] = [];

function sleeper(options: { detached?: boolean } = {}): ChildProcess & { pid: number } {
  const child = spawn('sleep', ['30'], { stdio: 'ignore', detached: options.detached ?? false });
  children.push(child);
  if (child.pid === undefined) throw new Error('spawn failed');
  return child as ChildProcess & { pid: number };
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

describe('parseStat', () => {
  it('handles a command name holding spaces and parentheses', () => {
    const text = '1234 (my (odd) cmd) x) S 77 1230 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 12345678 100 18446744073709551615\n';
    expect(parseStat(text)).toEqual({ pid: 1234, state: 'S', ppid: 77, pgid: 1230, startTime: 987654 });
  });

  it('returns null for text that is not a stat line', () => {
    expect(parseStat('garbage')).toBeNull();
    expect(parseStat('')).toBeNull();
  });
});

describe('readStat / isAlive', () => {
  it('reads a live child', () => {
    const child = sleeper();
    const stat = readStat(child.pid);
    expect(stat).not.toBeNull();
    expect(stat!.pid).toBe(child.pid);
    expect(stat!.ppid).toBe(process.pid);
    expect(Number.isInteger(stat!.startTime)).toBe(true);
    expect(stat!.startTime).toBeGreaterThan(0);
  });

  it('returns null for a pid that does not exist', () => {
    expect(readStat(deadPid())).toBeNull();
  });

  it('is alive with its own start time, not with another', () => {
    const child = sleeper();
    const startTime = readStat(child.pid)!.startTime;
    expect(isAlive({ pid: child.pid, startTime })).toBe(true);
    expect(isAlive({ pid: child.pid, startTime: null })).toBe(true);
    expect(isAlive({ pid: child.pid, startTime: startTime + 1 })).toBe(false);
  });

  it('is not alive after it is killed', async () => {
    const child = sleeper();
    const ref = { pid: child.pid, startTime: readStat(child.pid)!.startTime };
    child.kill('SIGKILL');
    await waitFor('condition', () => !isAlive(ref));
  });

  it('procRef gives the pid, start time and group', () => {
    const child = sleeper({ detached: true });
    expect(procRef(child.pid)).toEqual({ pid: child.pid, startTime: readStat(child.pid)!.startTime, pgid: child.pid });
    expect(procRef(deadPid())).toBeNull();
  });
});

describe('unsafeToSignal', () => {
  it('refuses pid 1 and below', () => {
    expect(unsafeToSignal({ pid: 1, startTime: null, pgid: 1 })).toMatch(/not a service pid/);
    expect(unsafeToSignal({ pid: 0, startTime: null, pgid: 0 })).not.toBeNull();
    expect(unsafeToSignal({ pid: -5, startTime: null, pgid: -5 })).not.toBeNull();
  });

  it('refuses the supervisor itself', () => {
    expect(unsafeToSignal({ pid: process.pid, startTime: null, pgid: process.pid })).toMatch(/supervisor itself/);
  });

  it('refuses a pid whose start time changed', () => {
    const child = sleeper();
    const ref = procRef(child.pid)!;
    expect(unsafeToSignal(ref)).toBeNull();
    expect(unsafeToSignal({ ...ref, startTime: ref.startTime! - 1 })).toMatch(/another process/);
  });

  it('refuses a pid that is gone', () => {
    const pid = deadPid();
    expect(unsafeToSignal({ pid, startTime: null, pgid: pid })).toMatch(/gone/);
  });
});

describe('signalService', () => {
  it('kills a child that leads its own process group', async () => {
    const child = sleeper({ detached: true });
    const ref = procRef(child.pid)!;
    expect(ref.pgid).toBe(child.pid);
    expect(signalService(ref, 'SIGTERM')).toEqual({ ok: true });
    await waitFor('condition', () => child.signalCode !== null);
    expect(child.signalCode).toBe('SIGTERM');
  });

  it('does not signal a reused pid', () => {
    const child = sleeper({ detached: true });
    const ref = procRef(child.pid)!;
    const result = signalService({ ...ref, startTime: ref.startTime! + 1 }, 'SIGKILL');
    expect(result.ok).toBe(false);
    expect(isAlive(ref)).toBe(true);
  });
});

describe('readPidFile', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'proclaunch-pid-'));
    path = join(dir, 'service.pid');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const reasonFor = (content: string | null): string => {
    if (content !== null) writeFileSync(path, content);
    const reading = readPidFile(path);
    if (reading.ok) throw new Error(`expected a refusal, got pid ${reading.proc.pid}`);
    return reading.reason;
  };

  it('refuses a missing file', () => {
    expect(reasonFor(null)).toMatch(/does not exist/);
  });

  it('refuses garbage', () => {
    expect(reasonFor('garbage\n')).toMatch(/"garbage".*not a pid/);
  });

  it('keeps a garbage line with a newline on one log line', () => {
    const line = formatLine('ERROR', 'd', reasonFor('12\n34\n'));
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(line).toContain('"12\\n34"');
  });

  it('refuses a negative pid', () => {
    expect(reasonFor('-5\n')).toMatch(/not a pid/);
  });

  it('refuses pid 1', () => {
    expect(reasonFor('1\n')).toMatch(/never a service/);
  });

  it("refuses the supervisor's own pid", () => {
    expect(reasonFor(`${process.pid}\n`)).toMatch(/supervisor's own pid/);
  });

  it('refuses a dead pid', () => {
    expect(reasonFor(`${deadPid()}\n`)).toMatch(/not running/);
  });

  it('accepts a live pid, with its start time', () => {
    const child = sleeper();
    writeFileSync(path, ` ${child.pid}\n`);
    const reading = readPidFile(path);
    expect(reading).toEqual({ ok: true, proc: { pid: child.pid, startTime: readStat(child.pid)!.startTime, pgid: readStat(child.pid)!.pgid } });
  });
});

describe('startedAfterWritten', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'proclaunch-pid-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts a pid file written after the process started', () => {
    const child = sleeper();
    const path = join(dir, 'fresh.pid');
    writeFileSync(path, String(child.pid));
    expect(startedAfterWritten(path, procRef(child.pid)!)).toBe(false);
  });

  it('flags a pid file older than the process it names (a reused pid)', () => {
    const child = sleeper();
    const path = join(dir, 'stale.pid');
    writeFileSync(path, String(child.pid));
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(path, hourAgo, hourAgo);
    expect(startedAfterWritten(path, procRef(child.pid)!)).toBe(true);
  });
});

describe('PidWatcher', () => {
  it('calls onExit soon after the watched process dies', async () => {
    const child = sleeper();
    const watcher = new PidWatcher(20);
    let exits = 0;
    watcher.watch(procRef(child.pid)!, () => exits++);
    expect(watcher.size).toBe(1);
    child.kill('SIGKILL');
    await waitFor('exit noticed', () => exits > 0);
    expect(exits).toBe(1);
    expect(watcher.size).toBe(0);
  });

  it('calls onExit in a microtask for a pid that is already dead', async () => {
    const watcher = new PidWatcher(20);
    const pid = deadPid();
    let exits = 0;
    watcher.watch({ pid, startTime: null, pgid: pid }, () => exits++);
    expect(exits).toBe(0);
    await Promise.resolve();
    expect(exits).toBe(1);
    expect(watcher.size).toBe(0);
  });

  it('does not call onExit after unwatch, and stops its timer', async () => {
    const child = sleeper();
    const watcher = new PidWatcher(20, null); // the polling fallback: it has a timer
    const timer = () => (watcher as unknown as { timer: NodeJS.Timeout | null }).timer;
    let exits = 0;
    const ref: ProcRef = procRef(child.pid)!;
    const unwatch = watcher.watch(ref, () => exits++);
    expect(timer()).not.toBeNull();
    unwatch();
    expect(watcher.size).toBe(0);
    expect(timer()).toBeNull();
    child.kill('SIGKILL');
    await waitFor('condition', () => !isAlive(ref));
    expect(exits).toBe(0);
  });

  it('keeps watching the others when one exits', async () => {
    const a = sleeper();
    const b = sleeper();
    const watcher = new PidWatcher(20);
    const exited: number[] = [];
    watcher.watch(procRef(a.pid)!, () => exited.push(a.pid));
    const unwatchB = watcher.watch(procRef(b.pid)!, () => exited.push(b.pid));
    a.kill('SIGKILL');
    await waitFor('exit noticed', () => exited.length > 0);
    expect(exited).toEqual([a.pid]);
    expect(watcher.size).toBe(1);
    unwatchB();
    expect(watcher.size).toBe(0);
  });
});
