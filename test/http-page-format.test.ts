// The web page's pure parts (src/http/page/format.js, api.js's joinNames),
// run in Node: the page is plain JavaScript served as it is, so it keeps its
// own copy of formatDuration, checked here against the CLI's.
import { describe, expect, it } from 'vitest';
import { joinNames } from '../src/http/page/api.js';
import { cpuShare, describeLastExit, eventDetail, formatBytes, formatDuration, formatUptime, matchesFilter, noteOf, stateClass, stateText } from '../src/http/page/format.js';
import { formatDuration as cliDuration } from '../src/vocabulary/durations.js';

describe('the web page formats', () => {
  it('writes durations as the CLI and the log lines do', () => {
    for (const ms of [0, 1, 250, 999, 1000, 6400, 59_999, 60_000, 185_000, 3_599_000, 3_600_000, 7_620_000, 90_000_000]) {
      expect(formatDuration(ms), String(ms)).toBe(cliDuration(ms));
    }
    expect(formatUptime(4_321)).toBe('4s');
    expect(formatUptime(null)).toBe('-');
  });

  it('names states as status does, with a colour for failed and backoff', () => {
    expect(stateText('running', null)).toBe('running');
    expect(stateText('stopped', 'idle')).toBe('stopped');
    expect(stateText('starting', 'awaitingReady')).toBe('starting.awaitingReady');
    expect(stateClass('stopped', 'failed')).toBe('failed');
    expect(stateClass('stopped', 'backoff')).toBe('backoff');
    expect(stateClass('stopping', 'signalled')).toBe('stopping');
    expect(stateClass('weird', null)).toBe('stopped');
  });

  it('describes the last exit, memory and CPU', () => {
    const at = '2026-11-23T11:00:00.000+00:00';
    const now = Date.parse(at) + 2_500;
    expect(describeLastExit({ pid: 1, code: 1, signal: null, at }, now)).toBe('code 1 2s ago');
    expect(describeLastExit({ pid: 1, code: null, signal: 'SIGKILL', at }, now)).toBe('SIGKILL 2s ago');
    expect(describeLastExit(null, now)).toBe('-');
    expect(formatBytes(812 * 1024)).toBe('812 KiB');
    expect(formatBytes(14.2 * 1024 ** 2)).toBe('14.2 MiB');
    expect(formatBytes(null)).toBe('-');
    // Two readings of one process: the share over the time between; else the lifetime average.
    expect(cpuShare({ cpuSeconds: 3, pid: 5, at: 10_000, uptimeMs: 60_000 }, { cpuSeconds: 2, pid: 5, at: 5_000 })).toBeCloseTo(0.2);
    expect(cpuShare({ cpuSeconds: 3, pid: 6, at: 10_000, uptimeMs: 60_000 }, { cpuSeconds: 2, pid: 5, at: 5_000 })).toBeCloseTo(0.05);
    expect(cpuShare({ cpuSeconds: null, pid: null, at: 0, uptimeMs: null }, null)).toBeNull();
  });

  it('gives the NOTE of status and the details of an event', () => {
    const base = { reason: null, waitingFor: null, held: false, startsInMs: null, status: null, notifyStopping: false, probe: null, down: false };
    expect(noteOf({ ...base, held: true })).toBe('stopped by command');
    expect(noteOf({ ...base, waitingFor: { need: 'db', phase: 'not ready' } })).toBe('waiting for db (not ready)');
    expect(noteOf({ ...base, reason: 'crashed 10 times in a row' })).toBe('crashed 10 times in a row');
    expect(noteOf(base)).toBe('');
    expect(eventDetail({ event: 'stopped', pid: 42, signal: 'SIGTERM', code: null, by: 'http full' })).toBe('pid 42 signal SIGTERM by http full');
    expect(eventDetail({ event: 'crashed', pid: 42, code: 1 })).toBe('pid 42 code 1');
  });

  it('filters on every word, in the name or the state, with globs', () => {
    expect(matchesFilter('', 'web', 'running')).toBe(true);
    expect(matchesFilter('web fail', 'web-2', 'stopped.failed')).toBe(true);
    expect(matchesFilter('web fail', 'web-2', 'running')).toBe(false);
    expect(matchesFilter('WEB', 'web', 'running')).toBe(true);
    expect(matchesFilter('w*@2', 'worker@2', 'running')).toBe(true);
    expect(matchesFilter('w*@2', 'worker@12', 'running')).toBe(false);
    expect(matchesFilter('a.b', 'axb', 'running')).toBe(false);
  });

  it('joins names by commas in groups the server takes (255 bytes each)', () => {
    const names = Array.from({ length: 100 }, (_, i) => `worker-${String(i).padStart(4, '0')}`);
    const groups = joinNames(names);
    expect(groups.every((g) => g.length <= 255)).toBe(true);
    expect(groups.join(',').split(',')).toEqual(names);
    expect(joinNames([])).toEqual([]);
  });
});
