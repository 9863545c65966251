// The event history: derived from snapshot pairs, kept in a bounded file.
import { appendFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { select } from '../src/control/handlers.js';
import { PatternError, patternProblem } from '../src/profile/names.js';
import type { ExitInfo } from '../src/machine/policy.js';
import { EventLog } from '../src/supervisor/event-log.js';
import { eventsBetween, type EventRecord, type SnapshotView } from '../src/supervisor/events.js';

const proc = (pid: number) => ({ pid, startTime: 1, pgid: pid, child: true });
const exit = (pid: number, code: number | null, signal: NodeJS.Signals | null = null): ExitInfo => ({ pid, code, signal, at: 0, uptimeMs: 5000 });
type ViewState = 'running' | 'stopping' | 'stopped.idle' | 'stopped.failed' | 'starting' | 'starting.awaitingReady';
function view(state: ViewState, context: Partial<SnapshotView['context']> = {}): SnapshotView {
  const tags: Record<string, string[]> = { running: ['up'], stopping: ['stopping'], 'stopped.failed': ['failed'], 'starting.awaitingReady': ['awaitingReady'] };
  return {
    hasTag: (tag) => tags[state]?.includes(tag) ?? false,
    context: { proc: null, lastExit: null, problem: null, unhealthy: null, ...context },
  };
}

describe('eventsBetween', () => {
  it('started: reaching running, or a new pid while running', () => {
    expect(eventsBetween(view('starting'), view('running', { proc: proc(5) }))).toEqual([{ event: 'started', pid: 5 }]);
    expect(eventsBetween(view('running', { proc: proc(5) }), view('running', { proc: proc(5) }))).toEqual([]);
  });
  it('started when the process is up, ready or not; ready on reaching running from awaitingReady; a MAINPID= is no start', () => {
    expect(eventsBetween(view('starting'), view('starting.awaitingReady', { proc: proc(5) }))).toEqual([{ event: 'started', pid: 5 }]);
    expect(eventsBetween(view('starting.awaitingReady', { proc: proc(5) }), view('running', { proc: proc(5) }))).toEqual([{ event: 'ready', pid: 5 }]);
    // MAINPID= while awaiting, then ready as the new pid: one `ready`, no second `started`.
    expect(eventsBetween(view('starting.awaitingReady', { proc: proc(5) }), view('starting.awaitingReady', { proc: proc(6) }))).toEqual([]);
    expect(eventsBetween(view('starting.awaitingReady', { proc: proc(5) }), view('running', { proc: proc(6) }))).toEqual([{ event: 'ready', pid: 6 }]);
    expect(eventsBetween(view('running', { proc: proc(5) }), view('running', { proc: proc(6) }))).toEqual([]);
  });
  it('unhealthy: a new verdict, with the pid being restarted and the reason', () => {
    const verdict = { reason: 'health failed 3 times in a row, last: exited 1', at: 1 };
    expect(eventsBetween(view('running', { proc: proc(5) }), view('stopping', { proc: proc(5), unhealthy: verdict }))).toEqual([
      { event: 'unhealthy', pid: 5, reason: verdict.reason },
    ]);
    expect(eventsBetween(view('stopping', { proc: proc(5), unhealthy: verdict }), view('stopping', { proc: proc(5), unhealthy: verdict }))).toEqual([]);
  });
  it('an exit is stopped when we stopped it, crashed on a failure, exited when clean', () => {
    const e1 = exit(5, null, 'SIGTERM');
    expect(eventsBetween(view('stopping', { proc: proc(5) }), view('stopped.idle', { lastExit: e1 }))).toEqual([{ event: 'stopped', pid: 5, code: null, signal: 'SIGTERM' }]);
    const e2 = exit(5, 3);
    expect(eventsBetween(view('running', { proc: proc(5) }), view('stopped.idle', { lastExit: e2 }))).toEqual([{ event: 'crashed', pid: 5, code: 3, signal: null }]);
    const e3 = exit(5, 0);
    expect(eventsBetween(view('running', { proc: proc(5) }), view('stopped.idle', { lastExit: e3 }))).toEqual([{ event: 'exited', pid: 5, code: 0, signal: null }]);
    // The same exit seen again is not a new event.
    expect(eventsBetween(view('stopped.idle', { lastExit: e3 }), view('stopped.idle', { lastExit: e3 }))).toEqual([]);
  });
  it('failed, after the crash that caused it; a restart is an exit then a start', () => {
    const e = exit(5, 1);
    expect(eventsBetween(view('running', { proc: proc(5) }), view('stopped.failed', { lastExit: e, problem: 'crashed 10 times' }))).toEqual([
      { event: 'crashed', pid: 5, code: 1, signal: null },
      { event: 'failed', reason: 'crashed 10 times' },
    ]);
    expect(eventsBetween(view('stopping', { proc: proc(5) }), view('running', { proc: proc(6), lastExit: exit(5, null, 'SIGTERM') }))).toEqual([
      { event: 'stopped', pid: 5, code: null, signal: 'SIGTERM' },
      { event: 'started', pid: 6 },
    ]);
  });
});

describe('EventLog', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const record = (i: number): EventRecord => ({ time: new Date(Date.UTC(2026, 10, 23, 0, 0, i)).toISOString(), event: 'started', profile: `p${i}`, pid: 100 + i });

  it('keeps the history across instances, skips lines that are not events, and filters by time', () => {
    dir = mkdtempSync(join(tmpdir(), 'proclaunch-events-'));
    const path = join(dir, 'events.log');
    new EventLog(path).append(record(1));
    appendFileSync(path, 'garbage\n{"event":"nonsense","time":"x","profile":"y"}\n');
    const again = new EventLog(path);
    again.append(record(2));
    expect(again.read().map((r) => r.profile)).toEqual(['p1', 'p2']);
    expect(again.read(new Date(Date.UTC(2026, 10, 23, 0, 0, 2))).map((r) => r.profile)).toEqual(['p2']);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('is bounded: rotates to .1 and keeps at most about twice the limit', () => {
    dir = mkdtempSync(join(tmpdir(), 'proclaunch-events-'));
    const path = join(dir, 'events.log');
    const log = new EventLog(path, 1000);
    for (let i = 0; i < 200; i++) log.append(record(i));
    expect(statSync(path).size).toBeLessThanOrEqual(1000);
    expect(statSync(`${path}.1`).size).toBeLessThanOrEqual(1000);
    const kept = log.read();
    expect(kept.at(-1)!.profile).toBe('p199'); // the newest are kept, in order
    expect(kept.map((r) => r.pid)).toEqual([...kept.map((r) => r.pid!)].sort((a, b) => a - b));
  });

  it('tells live listeners, until they unsubscribe', () => {
    dir = mkdtempSync(join(tmpdir(), 'proclaunch-events-'));
    const log = new EventLog(join(dir, 'events.log'));
    const seen: string[] = [];
    const stop = log.subscribe((r) => seen.push(r.profile));
    log.append(record(1));
    stop();
    log.append(record(2));
    expect(seen).toEqual(['p1']);
  });
});

describe('select', () => {
  const known = ['web', 'worker@1', 'worker@2', 'worker@10', 'db'];
  it('names, globs, all; reports what matched nothing', () => {
    expect(select(known, ['worker@*'], false)).toEqual({ names: ['worker@1', 'worker@2', 'worker@10'], unmatched: [] });
    expect(select(known, ['worker@?', 'db'], false)).toEqual({ names: ['worker@1', 'worker@2', 'db'], unmatched: [] });
    expect(select(known, ['worker@[!1]'], false).names).toEqual(['worker@2']);
    expect(select(known, ['w.b', 'nope'], false)).toEqual({ names: [], unmatched: ['w.b', 'nope'] });
    expect(select(known, [], true).names).toEqual(known);
    expect(select(known, ['web'], false).names).toEqual(['web']);
    expect(select(known, ['worker'], false).names).toEqual(['worker@1', 'worker@2', 'worker@10']);
  });

  it('a pattern that cannot be read is refused with a clear message, never a SyntaxError', () => {
    expect(() => select(known, ['web['], false)).toThrow(new PatternError('bad pattern "web[": its "[" has no closing "]"'));
    expect(() => select(known, ['w[z-a]'], false)).toThrow(new PatternError('bad pattern "w[z-a]": a range in its [...] is out of order'));
    expect(patternProblem('web[')).toBe('bad pattern "web[": its "[" has no closing "]"');
    expect(patternProblem('worker@[0-9]')).toBeNull();
    // POSIX: a `]` first in a class is itself; `[!...]` and `[^...]` negate; `\` and `^` inside are themselves.
    expect(select(['a]', 'b', 'c^', 'c\\'], ['[]a]*', 'c[\\^]'], false).names).toEqual(['a]', 'c^', 'c\\']);
    expect(select(known, ['worker@[^1]'], false).names).toEqual(['worker@2']);
  });
});
