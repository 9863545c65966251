// Needs (starting.waiting, driven by NEEDS from the supervisor's
// coordinator), health (UNHEALTHY restarts), and the release of what the
// effects hold for a removed profile.
import { describe, expect, it } from 'vitest';
import type { HealthCheck, Readiness } from '../../src/profile/readiness.js';
import { harness, makeConfig, type ConfigOverrides, type Harness } from './harness.js';

const NOTIFY: Readiness = { kind: 'notify', watchdogMs: null };
const needy = (overrides: ConfigOverrides = {}) => makeConfig({ needs: [{ name: 'db', instance: null }], ...overrides });
const WAITING = 'waiting for db (stopped by command)';

describe('starting.waiting: a need is not running and ready', () => {
  it('NEEDS before the CONFIGURE → waiting, nothing launched, the reason logged once; no timeout runs out, however long', () => {
    const h = harness();
    h.needs(WAITING);
    h.configure(needy({ readiness: NOTIFY, readyTimeoutMs: 5000 }));
    expect(h.state()).toBe('starting.waiting');
    expect(h.tags()).toEqual(['transitional']);
    expect(h.ctx().waitingFor).toBe(WAITING);
    h.advance(24 * 3600_000);
    h.needs(WAITING); // the same verdict again: nothing new
    h.configure(needy({ readiness: NOTIFY, readyTimeoutMs: 5000, fp: { launch: 'launch-2' } }));
    expect(h.state()).toBe('starting.waiting');
    expect(h.launches).toEqual([]);
    expect(h.signals).toEqual([]);
    expect(h.messages()).toEqual([WAITING]);
  });

  it('a new reason is logged; NEEDS null starts it, and ready_timeout counts from then', () => {
    const h = harness();
    h.needs(WAITING);
    h.configure(needy({ readiness: NOTIFY, readyTimeoutMs: 5000 }));
    h.advance(60_000);
    h.needs('waiting for db (starting.awaitingReady)');
    h.needs(null);
    expect(h.state()).toBe('starting.spawning');
    expect(h.launches).toHaveLength(1);
    expect(h.messages()).toEqual([WAITING, 'waiting for db (starting.awaitingReady)', 'its needs are running and ready; starting']);
    h.spawned(42);
    h.advance(4999);
    expect(h.state()).toBe('starting.awaitingReady');
    h.advance(1);
    expect(h.state()).toBe('stopped.failed');
    expect(h.ctx().problem).toBe('not ready after ready_timeout 5s');
  });

  it('what its launch needs is prepared on entering waiting, once, with the config it waits with; nothing without needs', () => {
    const h = harness();
    h.needs(WAITING);
    const config = needy({ readiness: NOTIFY });
    h.configure(config);
    expect(h.prepared).toEqual([config]);
    h.needs('waiting for db (not ready)');
    h.needs(null);
    expect(h.state()).toBe('starting.spawning');
    expect(h.prepared).toHaveLength(1);
    const plain = harness();
    plain.configure(makeConfig({ readiness: NOTIFY }));
    expect(plain.state()).toBe('starting.spawning');
    expect(plain.prepared).toEqual([]);
  });

  it.each<[string, string, (h: Harness) => void]>([
    ['never sent NEEDS: met', 'starting.spawning', () => undefined],
    ['NEEDS null', 'starting.spawning', (h) => h.needs(null)],
    ['unmet, but the profile has no needs', 'running', (h) => (h.needs(WAITING), h.configure(makeConfig(), true))],
  ])('%s → %s', (_what, state, before) => {
    // (before: what the coordinator said, and maybe a reading)
    const h = harness();
    before(h);
    if (h.state() === 'stopped.idle') h.configure(needy());
    if (state === 'running') h.spawned(1);
    expect(h.state()).toBe(state);
  });

  it.each<[string, string, string, (h: Harness) => void]>([
    ['STOP', 'stopped.idle', 'down', (h) => h.send({ type: 'STOP' })],
    ['REMOVE', 'stopped.idle', 'removed', (h) => h.send({ type: 'REMOVE' })],
    ['a reading without needs', 'starting.spawning', 'run', (h) => h.configure(makeConfig({ fp: { policy: 'no-needs' } }))],
  ])('%s while waiting → %s, want %s', (_what, state, want, act) => {
    const h = harness();
    h.needs(WAITING);
    h.configure(needy());
    act(h);
    expect(h.state()).toBe(state);
    expect(h.ctx().want).toBe(want);
  });

  it('a need that goes away while the service runs leaves it running (systemd Wants=); the next start waits', () => {
    const h = harness();
    h.run(needy({ restart: 'always' }), 42);
    h.needs(WAITING);
    expect(h.state()).toBe('running');
    h.die(42, 5000, 1);
    h.advance(100);
    expect(h.state()).toBe('starting.waiting');
  });
});

describe('health: UNHEALTHY restarts a running service', () => {
  const HEALTH: HealthCheck = { path: '/profiles/web/health', intervalMs: 1000, timeoutMs: 500, retries: 3 };
  const healthy = (overrides: ConfigOverrides = {}) => makeConfig({ health: HEALTH, restart: 'always', ...overrides });
  const failure = (inARow: number, output = 'ERR connection refused\n') =>
    ({ type: 'PROBE_FAILED', probe: 'health', reason: 'exited 1', output, inARow }) as const;

  it('is probed only while running, with the config', () => {
    const h = harness();
    h.configure(healthy({ readiness: NOTIFY }));
    h.spawned(42);
    expect(h.isActive('probeHealth')).toBe(false);
    h.ready();
    expect(h.isActive('probeHealth')).toBe(true);
    expect(h.lastInput('probeHealth')).toEqual({ config: healthy({ readiness: NOTIFY }) });
    h.send({ type: 'STOP' });
    expect(h.isActive('probeHealth')).toBe(false);
    const none = harness();
    none.run(makeConfig(), 1);
    expect(none.invoked.probeHealth).toEqual([]);
  });

  it('failures are kept (not logged), a pass clears them; UNHEALTHY: a WARN naming the output, restart, context.unhealthy', () => {
    const h = harness();
    h.run(healthy(), 42);
    h.send(failure(1));
    expect(h.ctx().lastProbe).toEqual({ probe: 'health', reason: 'exited 1', output: 'ERR connection refused\n', inARow: 1 });
    h.send({ type: 'PROBE_PASSED', probe: 'health' });
    expect(h.ctx().lastProbe).toBeNull();
    for (const n of [1, 2, 3]) h.send(failure(n));
    expect(h.messages()).toEqual(['started pid 42', 'running pid 42']);
    h.advance(50);
    h.unhealthy('health failed 3 times in a row, last: exited 1');
    expect(h.fullState()).toBe('stopping.signal.signalled+stopping.next.restart');
    expect(h.signals).toEqual([{ pid: 42, signal: 'SIGTERM' }]);
    expect(h.ctx()).toMatchObject({ unhealthy: { reason: 'health failed 3 times in a row, last: exited 1', at: h.clock.now() }, restarts: 1 });
    expect(h.logs.at(-2)).toEqual({ level: 'WARN', message: 'unhealthy: health failed 3 times in a row, last: exited 1, output "ERR connection refused"; restarting pid 42' });
    h.exited(42, null, 'SIGTERM');
    expect(h.state()).toBe('starting.spawning');
    expect(h.launches).toHaveLength(2);
    expect(h.ctx().lastProbe).toBeNull(); // a new run
    expect(h.ctx().unhealthy).not.toBeNull(); // the last verdict stays
  });

  it('the watchdog (no probe output to name); a long output is cut to its end', () => {
    const h = harness();
    h.runReady(makeConfig({ readiness: NOTIFY }), 42);
    h.unhealthy('no WATCHDOG=1 for watchdog_timeout 2.0s');
    expect(h.logs.at(-2)?.message).toBe('unhealthy: no WATCHDOG=1 for watchdog_timeout 2.0s; restarting pid 42');
    const long = harness();
    long.run(healthy(), 42);
    long.send(failure(3, `${'x'.repeat(500)}THE END\n`));
    long.unhealthy('health failed 3 times in a row, last: exited 1');
    expect(long.logs.at(-2)?.message).toMatch(/, output "\.\.\.x{193}THE END"; restarting pid 42$/);
  });

  it('UNHEALTHY anywhere but running changes nothing (a late report)', () => {
    const h = harness();
    h.configure(healthy({ readiness: NOTIFY }));
    h.spawned(42);
    h.unhealthy('late');
    expect(h.state()).toBe('starting.awaitingReady');
    expect(h.ctx().unhealthy).toBeNull();
  });
});

describe('release: what the effects hold for a tag goes once its removed profile is fully stopped', () => {
  it.each<[string, string[], (h: Harness) => void]>([
    ['removed while stopped', ['web'], (h) => (h.configure(makeConfig({ down: true })), h.send({ type: 'REMOVE' }))],
    ['removed while running: once it has exited', ['web'], (h) => (h.run(makeConfig(), 42), h.send({ type: 'REMOVE' }), h.exited(42, null, 'SIGTERM'))],
    ['removed while awaiting readiness', ['web'], (h) => (h.configure(makeConfig({ readiness: NOTIFY })), h.spawned(42), h.send({ type: 'REMOVE' }), h.exited(42, null))],
    ['stopped by command: kept', [], (h) => (h.run(makeConfig(), 42), h.send({ type: 'STOP' }), h.exited(42, null, 'SIGTERM'))],
    ['removed, re-added before the process was gone: kept', [], (h) => (h.run(makeConfig(), 42), h.send({ type: 'REMOVE' }), h.configure(makeConfig()), h.exited(42, null))],
  ])('%s → released %j', (_what, released, drive) => {
    const h = harness();
    drive(h);
    expect(h.released).toEqual(released);
  });
});
