// `check` decisions at the threshold boundaries (the guidelines: `-w N` alerts above N).
import { describe, expect, it } from 'vitest';
import { evaluateCheck, isDown, parseThreshold } from '../src/cli/check.js';
import type { ServiceStatus } from '../src/control/protocol.js';

const service = (name: string, over: Partial<ServiceStatus> = {}): ServiceStatus => ({
  name, state: 'running', substate: null, pid: 100, since: null, uptimeMs: 1, restarts: 0, lastExit: null, reason: null, held: false, down: false, startsInMs: null, ready: true, status: null, notifyStopping: false, probe: null, waitingFor: null, ...over,
});
const failed = (name: string) => service(name, { state: 'stopped', substate: 'failed', pid: null, reason: 'boom' });
const fleet = (up: number, downCount: number) => [
  ...Array.from({ length: up }, (_, i) => service(`up${i}`)),
  ...Array.from({ length: downCount }, (_, i) => failed(`down${i}`)),
];

describe('parseThreshold', () => {
  it('takes a count or a percentage', () => {
    expect(parseThreshold('3')).toEqual({ value: 3, percent: false });
    expect(parseThreshold('50%')).toEqual({ value: 50, percent: true });
    expect(parseThreshold('2.5%')).toEqual({ value: 2.5, percent: true });
    for (const bad of ['', '-1', 'x', '101%', '1%%', '5 %x']) expect(parseThreshold(bad)).toBeNull();
  });
});

describe('evaluateCheck', () => {
  const w = (t: string) => parseThreshold(t);
  it('counts: at the threshold is OK, one above alerts', () => {
    expect(evaluateCheck(fleet(8, 1), w('1'), w('3')).status).toBe('OK');
    expect(evaluateCheck(fleet(8, 2), w('1'), w('3')).status).toBe('WARNING');
    expect(evaluateCheck(fleet(7, 3), w('1'), w('3')).status).toBe('WARNING');
    expect(evaluateCheck(fleet(6, 4), w('1'), w('3')).status).toBe('CRITICAL');
  });
  it('percentages of the services that should run (lancelot: half the workers down)', () => {
    expect(evaluateCheck(fleet(5, 5), null, w('50%')).status).toBe('OK'); // exactly 50%
    expect(evaluateCheck(fleet(4, 6), null, w('50%')).status).toBe('CRITICAL');
    expect(evaluateCheck(fleet(5, 5), null, w('49%')).status).toBe('CRITICAL');
  });
  it('the status line and perfdata', () => {
    expect(evaluateCheck(fleet(8, 2), w('1'), w('5')).line).toBe('PROCLAUNCH WARNING - 8/10 running, down: down0, down1 | running=8;;;0;10 down=2;1;5;0;10');
    expect(evaluateCheck(fleet(3, 0), null, null).line).toBe('PROCLAUNCH OK - 3/3 running | running=3;;;0;3 down=0;;;0;3');
    expect(evaluateCheck([], w('0'), null).line).toBe('PROCLAUNCH OK - 0/0 running | running=0;;;0;0 down=0;0;;0;0');
  });
  it('names at most ten down services, escaped', () => {
    const many = [...fleet(0, 12), failed('bad\nname')];
    const { line } = evaluateCheck(many, w('0'), null);
    expect(line).toContain('down9, and 3 more |');
    expect(line.split('\n')).toHaveLength(1);
  });
  it('stopped by command, down files and clean one-shot exits are not down; backoff and failed are', () => {
    expect(isDown(service('a', { state: 'stopped', substate: 'idle', held: true }))).toBe(false);
    expect(isDown(service('a', { state: 'stopped', substate: 'idle', down: true }))).toBe(false);
    expect(isDown(service('a', { state: 'stopped', substate: 'idle', lastExit: { pid: 5, code: 0, signal: null, at: '' } }))).toBe(false);
    expect(isDown(service('a', { state: 'stopped', substate: 'idle', lastExit: { pid: 5, code: 1, signal: null, at: '' } }))).toBe(true);
    expect(isDown(service('a', { state: 'stopped', substate: 'backoff' }))).toBe(true);
    expect(isDown(failed('a'))).toBe(true);
    // A `down` profile started by hand counts as running.
    expect(evaluateCheck([service('a', { down: true })], w('0'), null).line).toMatch(/1\/1 running/);
  });
  it('a service waiting for a need stopped by command (or with a down file) is held back, not down; one waiting for a missing or failed need is down', () => {
    const waiting = (phase: string) => service('web', { state: 'starting', substate: 'waiting', pid: null, ready: false, waitingFor: { need: 'db', phase } });
    const db = service('db', { state: 'stopped', substate: 'idle', pid: null, held: true });
    expect(evaluateCheck([db, waiting('stopped by command'), service('api')], w('0'), null).line).toBe('PROCLAUNCH OK - 1/1 running | running=1;;;0;1 down=0;0;;0;1');
    expect(isDown(waiting('down'))).toBe(false);
    expect(isDown(waiting('missing'))).toBe(true);
    expect(isDown(waiting('failed'))).toBe(true);
    expect(isDown(waiting('not ready'))).toBe(true);
  });
});
