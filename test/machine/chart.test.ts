// The chart's phases that `status` does not show as states of their own —
// want, the restart intent while stopping, what follows `finish`, why a
// profile failed, a `run` that vanished before its spawn — and the CONFIGURE
// contract with the supervisor (`touched`, valid again after invalid).
import { describe, expect, it } from 'vitest';
import type { StateValue } from 'xstate';
import type { FinishInput } from '../../src/machine/service-machine.js';
import { stateName } from '../../src/machine/state-name.js';
import { KILL_GRACE_MS } from '../../src/machine/policy.js';
import type { ServiceConfig } from '../../src/profile/types.js';
import { harness, makeConfig, type ConfigOverrides, type Harness } from './harness.js';

const withFinish = (overrides: ConfigOverrides = {}) => makeConfig({ finishPath: '/profiles/web/finish', restart: 'always', ...overrides });
const daemon = (overrides: ConfigOverrides = {}) => makeConfig({ pidFile: '/run/web.pid', restart: 'always', ...overrides });
const lastFinish = (h: Harness) => h.invoked.runFinish.at(-1) as FinishInput;

/** A `run` with the launch fingerprint `launch`: an edit that needs a restart. */
const edited = (launch: string, overrides: ConfigOverrides = {}) => makeConfig({ ...overrides, fp: { launch } });

// ---------------------------------------------------------------- tags and names

describe('tags: what consumers read instead of the state value', () => {
  it.each<[string, string, string[], (h: Harness) => void]>([
    ['a fresh service', 'stopped.idle.settled', ['down'], () => undefined],
    ['start_delay', 'stopped.delayed', ['down'], (h) => h.configure(makeConfig({ startDelayMs: 5000 }))],
    ['a crash', 'stopped.backoff', ['down'], (h) => (h.run(makeConfig({ restart: 'always' }), 1), h.die(1, 10))],
    ['a crash loop', 'stopped.failed.gaveUp', ['down', 'failed'], (h) => h.crashLoop(makeConfig({ restart: 'always' }))],
    ['an invalid profile', 'stopped.failed.invalid', ['down', 'failed'], (h) => h.send({ type: 'INVALID', reason: 'no run file' })],
    ['finish after an exit', 'stopped.finishing.exited', ['finishing', 'transitional'], (h) => (h.run(withFinish(), 1), h.die(1, 5000))],
    ['spawning', 'starting.spawning.current', ['transitional'], (h) => h.configure(makeConfig())],
    ['waiting for a pid file', 'starting.awaitingPidFile.current', ['transitional'], (h) => (h.configure(daemon()), h.send({ type: 'PID_MISSING' }), h.spawned(2), h.exited(2, 0))],
    ['running', 'running.serving', ['up'], (h) => h.run(makeConfig(), 1)],
    ['a stop', 'stopping.signal.signalled+stopping.next.stay', ['stopping', 'transitional'], (h) => (h.run(makeConfig(), 1), h.send({ type: 'STOP' }))],
  ])('%s: %s has tags %j', (_what, state, tags, drive) => {
    const h = harness();
    drive(h);
    expect(h.fullState()).toBe(state);
    expect(h.tags()).toEqual(tags);
  });
});

describe('stateName: what `status` prints', () => {
  it.each<[StateValue, [string, string | null]]>([
    ['running', ['running', null]],
    [{ running: 'serving' }, ['running', null]],
    [{ running: 'reloading' }, ['running', 'reloading']],
    [{ starting: 'awaitingReady' }, ['starting', 'awaitingReady']],
    [{ starting: 'waiting' }, ['starting', 'waiting']],
    [{ stopped: { idle: 'settled' } }, ['stopped', 'idle']],
    [{ stopped: { idle: 'runMissing' } }, ['stopped', 'idle']],
    [{ stopped: 'backoff' }, ['stopped', 'backoff']],
    [{ stopped: { failed: 'invalid' } }, ['stopped', 'failed']],
    [{ stopped: { finishing: 'restarting' } }, ['stopped', 'finishing']],
    [{ starting: { spawning: 'outdated' } }, ['starting', 'spawning']],
    [{ starting: 'launched' }, ['starting', 'launched']],
    [{ stopping: { signal: 'killed', next: 'restart' } }, ['stopping', 'killed']],
  ])('%j → %j', (value, name) => {
    expect(stateName({ value } as Parameters<typeof stateName>[0])).toEqual(name);
  });
});

// ---------------------------------------------------------------- want

describe('want: run, down (stopped by command), removed', () => {
  it.each<[string, string, (h: Harness) => void]>([
    ['fresh', 'run', () => undefined],
    ['STOP', 'down', (h) => h.send({ type: 'STOP' })],
    ['STOP, then START', 'run', (h) => (h.send({ type: 'STOP' }), h.send({ type: 'START' }))],
    ['REMOVE', 'removed', (h) => h.send({ type: 'REMOVE' })],
    ['REMOVE, then START (nothing to start)', 'removed', (h) => (h.send({ type: 'REMOVE' }), h.send({ type: 'START' }))],
    ['REMOVE, then a reading (re-added)', 'run', (h) => (h.send({ type: 'REMOVE' }), h.configure(makeConfig({ down: true })))],
    ['a `down` file', 'run', (h) => h.configure(makeConfig({ down: true }))],
    ['REMOVE while stopping, then START', 'removed', (h) => (h.run(makeConfig(), 1), h.send({ type: 'REMOVE' }), h.send({ type: 'START' }))],
  ])('%s → want %s', (_what, want, drive) => {
    const h = harness();
    drive(h);
    expect(h.ctx().want).toBe(want);
  });

  it('a `down` file is not want: removing it starts the service; a stop by command is kept through edits', () => {
    const h = harness();
    h.configure(makeConfig({ down: true, fp: { policy: 'down' } }));
    expect(h.state()).toBe('stopped.idle');
    h.configure(makeConfig());
    expect(h.state()).toBe('starting.spawning');

    const g = harness();
    g.send({ type: 'STOP' });
    g.configure(makeConfig());
    g.configure(edited('launch-2'));
    expect(g.state()).toBe('stopped.idle');
    expect(g.launches).toEqual([]);
  });
});

// ---------------------------------------------------------------- stopping: signal × next

describe('stopping: the signal phase beside what follows (stay or restart)', () => {
  it.each<[string, 'stay' | 'restart', (h: Harness) => void]>([
    ['STOP', 'stay', (h) => h.send({ type: 'STOP' })],
    ['REMOVE', 'stay', (h) => h.send({ type: 'REMOVE' })],
    ['RESTART', 'restart', (h) => h.send({ type: 'RESTART' })],
    ['an edit of `run`', 'restart', (h) => h.configure(edited('launch-2'))],
    ['STOP, then START', 'restart', (h) => (h.send({ type: 'STOP' }), h.send({ type: 'START' }))],
    ['RESTART, then STOP', 'stay', (h) => (h.send({ type: 'RESTART' }), h.send({ type: 'STOP' }))],
    ['RESTART, then REMOVE', 'stay', (h) => (h.send({ type: 'RESTART' }), h.send({ type: 'REMOVE' }))],
    ['REMOVE, then START', 'stay', (h) => (h.send({ type: 'REMOVE' }), h.send({ type: 'START' }))],
    ['REMOVE, then re-added', 'restart', (h) => (h.send({ type: 'REMOVE' }), h.configure(makeConfig()))],
    ['REMOVE, then re-added with a `down` file', 'stay', (h) => (h.send({ type: 'REMOVE' }), h.configure(makeConfig({ down: true })))],
  ])('%s → next.%s, and so after the exit', (_what, next, drive) => {
    const h = harness();
    h.run(makeConfig(), 4242);
    drive(h);
    expect(h.fullState()).toBe(`stopping.signal.signalled+stopping.next.${next}`);
    h.exited(4242, null, 'SIGTERM');
    expect(h.state()).toBe(next === 'restart' ? 'starting.spawning' : 'stopped.idle');
  });

  it('a command changes `next` without touching the signal phase: no second stop signal, the same stop timeout', () => {
    const h = harness();
    h.run(makeConfig({ stopTimeoutMs: 3000 }), 4242);
    h.send({ type: 'STOP' });
    h.advance(2000);
    h.send({ type: 'START' });
    h.advance(999);
    expect(h.signals).toEqual([{ pid: 4242, signal: 'SIGTERM' }]);
    h.advance(1);
    expect(h.fullState()).toBe('stopping.signal.killed+stopping.next.restart');
    expect(h.signals.at(-1)).toEqual({ pid: 4242, signal: 'SIGKILL' });
  });

  it('an edit while spawning: SPAWNED enters stopping.next.restart, and signals the process', () => {
    const h = harness();
    h.configure(makeConfig());
    h.configure(edited('launch-2'));
    expect(h.fullState()).toBe('starting.spawning.outdated');
    h.configure(edited('launch-3'));
    expect(h.fullState()).toBe('starting.spawning.outdated');
    h.spawned(4242);
    expect(h.fullState()).toBe('stopping.signal.signalled+stopping.next.restart');
    expect(h.signals).toEqual([{ pid: 4242, signal: 'SIGTERM' }]);
    h.exited(4242, null, 'SIGTERM');
    expect(h.launches.at(-1)?.fingerprint.launch).toBe('launch-3');
  });

  it('STOP during spawning, then SPAWNED: signalled once it is there, and the stop holds', () => {
    const h = harness();
    h.configure(makeConfig());
    h.send({ type: 'STOP' });
    h.spawned(4242);
    expect(h.fullState()).toBe('stopping.signal.signalled+stopping.next.stay');
    expect(h.messages().slice(-2)).toEqual(['stopping (waiting for the process to start)', 'stopping pid 4242 with SIGTERM']);
  });

  it('a process that never dies is given up on, and a restart asked for meanwhile does not start a second one', () => {
    const h = harness();
    h.run(makeConfig({ stopTimeoutMs: 1000 }), 4242);
    h.send({ type: 'RESTART' });
    h.advance(1000); // SIGKILL
    h.advance(KILL_GRACE_MS); // given up
    expect(h.state()).toBe('stopped.idle');
    expect(h.launches).toHaveLength(1);
  });

  it.each<[string, 'STOP' | 'REMOVE', string[], ServiceConfig | null]>([
    ['a removal', 'REMOVE', ['stopping (waiting for the process to start)', 'removed before it started'], null],
    ['a stop', 'STOP', ['stopping (waiting for the process to start)'], makeConfig()],
  ])('SPAWN_FAILED while stopping for %s: stopped.idle, quietly', (_what, command, messages, config) => {
    const h = harness();
    h.configure(makeConfig());
    h.send({ type: command });
    h.send({ type: 'SPAWN_FAILED', reason: 'whatever', runMissing: true });
    expect(h.state()).toBe('stopped.idle');
    expect(h.messages()).toEqual(messages);
    expect(h.ctx().config).toEqual(config);
    expect(h.logs.filter((l) => l.level === 'ERROR')).toEqual([]);
  });
});

// ---------------------------------------------------------------- starting: outdated while waiting for a pid file

describe('starting.awaitingPidFile: current or outdated', () => {
  /** A daemon whose `run` has exited 0: waiting for its pid file. */
  function awaiting(config = daemon()): Harness {
    const h = harness();
    h.configure(config);
    h.send({ type: 'PID_MISSING' });
    h.spawned(200);
    h.exited(200, 0);
    return h;
  }

  it.each<[string, string, (h: Harness) => void]>([
    ['nothing', 'running.serving', () => undefined],
    ['an edit', 'stopping.signal.signalled+stopping.next.restart', (h) => h.configure(daemon({ fp: { launch: 'launch-2' } }))],
    ['an edit, then STOP', 'stopping.signal.signalled+stopping.next.stay', (h) => (h.configure(daemon({ fp: { launch: 'launch-2' } })), h.send({ type: 'STOP' }))],
    ['STOP', 'stopping.signal.signalled+stopping.next.stay', (h) => h.send({ type: 'STOP' })],
    ['REMOVE', 'stopping.signal.signalled+stopping.next.stay', (h) => h.send({ type: 'REMOVE' })],
    // (Was a bug: `removed` stayed set, so the re-added daemon was stopped and forgotten.)
    ['REMOVE, then re-added as it was', 'running.serving', (h) => (h.send({ type: 'REMOVE' }), h.configure(daemon()))],
  ])('%s meanwhile, then PID_FOUND → %s', (_what, state, meanwhile) => {
    const h = awaiting();
    meanwhile(h);
    h.pidFound(300);
    expect(h.fullState()).toBe(state);
  });

  it('an edit shows as awaitingPidFile.outdated (status still says starting.awaitingPidFile)', () => {
    const h = awaiting();
    h.configure(daemon({ fp: { launch: 'launch-2' } }));
    expect(h.fullState()).toBe('starting.awaitingPidFile.outdated');
    expect(h.state()).toBe('starting.awaitingPidFile');
  });
});

// ---------------------------------------------------------------- finishing: what follows finish

describe('stopped.finishing: the substate says what follows finish', () => {
  it.each<[string, string, FinishInput['event'], (h: Harness) => void]>([
    ['an exit of its own (clean)', 'exited', 'exited', (h) => h.die(10, 5000, 0)],
    ['an exit of its own (a failure)', 'exited', 'crashed', (h) => h.die(10, 5000, 3)],
    ['a stop', 'stopped', 'stopped', (h) => (h.send({ type: 'STOP' }), h.exited(10, null, 'SIGTERM'))],
    ['a restart', 'restarting', 'stopped', (h) => (h.send({ type: 'RESTART' }), h.exited(10, null, 'SIGTERM'))],
    ['an edit', 'restarting', 'stopped', (h) => (h.configure(withFinish({ fp: { launch: 'launch-2' } })), h.exited(10, null, 'SIGTERM'))],
  ])('after %s: finishing.%s, finish told %s', (_what, substate, event, drive) => {
    const h = harness();
    h.run(withFinish(), 10);
    drive(h);
    expect(h.fullState()).toBe(`stopped.finishing.${substate}`);
    expect(lastFinish(h).event).toBe(event);
  });

  it.each<[string, string, (h: Harness) => void]>([
    ['STOP', 'stopped', (h) => h.send({ type: 'STOP' })],
    ['REMOVE', 'stopped', (h) => h.send({ type: 'REMOVE' })],
    ['START', 'restarting', (h) => h.send({ type: 'START' })],
    ['RESTART', 'restarting', (h) => h.send({ type: 'RESTART' })],
    ['STOP, then START', 'restarting', (h) => (h.send({ type: 'STOP' }), h.send({ type: 'START' }))],
    ['START, then STOP', 'stopped', (h) => (h.send({ type: 'START' }), h.send({ type: 'STOP' }))],
    ['REMOVE, then START', 'stopped', (h) => (h.send({ type: 'REMOVE' }), h.send({ type: 'START' }))],
    ['an edit of `run`', 'restarting', (h) => h.configure(withFinish({ fp: { launch: 'launch-2' } }))],
    ['a policy-only edit', 'exited', (h) => h.configure(withFinish({ fp: { policy: 'policy-2' } }))],
    ['INVALID', 'invalid', (h) => h.send({ type: 'INVALID', reason: 'bad' })],
    ['INVALID, then STOP', 'invalid', (h) => (h.send({ type: 'INVALID', reason: 'bad' }), h.send({ type: 'STOP' }))],
    ['INVALID, then START', 'invalid', (h) => (h.send({ type: 'INVALID', reason: 'bad' }), h.send({ type: 'START' }))],
    ['INVALID, then REMOVE', 'stopped', (h) => (h.send({ type: 'INVALID', reason: 'bad' }), h.send({ type: 'REMOVE' }))],
    ['INVALID, then valid again', 'restarting', (h) => (h.send({ type: 'INVALID', reason: 'bad' }), h.configure(withFinish()))],
    ['INVALID, then valid again with `down`', 'stopped', (h) => (h.send({ type: 'INVALID', reason: 'bad' }), h.configure(withFinish({ down: true })))],
    ['STOP, INVALID, then valid again', 'stopped', (h) => (h.send({ type: 'STOP' }), h.send({ type: 'INVALID', reason: 'bad' }), h.configure(withFinish()))],
  ])('after an exit, %s while finish runs → finishing.%s', (_what, substate, meanwhile) => {
    const h = harness();
    h.run(withFinish(), 10);
    h.die(10, 5000, 1);
    meanwhile(h);
    expect(h.fullState()).toBe(`stopped.finishing.${substate}`);
    expect(h.isActive('runFinish')).toBe(true); // finish is never interrupted by these
  });

  it.each<[string, number | null, string, string | null]>([
    ['exited', 0, 'starting.spawning', null],
    ['exited', 125, 'stopped.idle', 'exited pid 10 code 1 after 5.0s; not restarting (finish exited 125)'],
    ['stopped', 0, 'stopped.idle', null],
    ['restarting', 125, 'starting.spawning', null],
    ['invalid', 0, 'stopped.failed', null],
  ])('finishing.%s, finish exits %s → %s', (substate, code, state, line) => {
    const h = harness();
    h.run(withFinish(), 10);
    h.die(10, 5000, 1);
    if (substate === 'stopped') h.send({ type: 'STOP' });
    if (substate === 'restarting') h.send({ type: 'RESTART' });
    if (substate === 'invalid') h.send({ type: 'INVALID', reason: 'bad' });
    expect(h.fullState()).toBe(`stopped.finishing.${substate}`);
    h.finished(code);
    expect(h.state()).toBe(state);
    if (line) expect(h.messages().at(-1)).toBe(line);
  });

  it('the finish timeout runs from the exit: a command meanwhile does not restart it', () => {
    const h = harness();
    h.run(withFinish({ stopTimeoutMs: 2000 }), 10);
    h.die(10, 5000, 0);
    h.advance(1500);
    h.send({ type: 'STOP' });
    h.advance(499);
    expect(h.isActive('runFinish')).toBe(true);
    h.advance(1);
    expect(h.isActive('runFinish')).toBe(false);
    expect(h.logs).toContainEqual({ level: 'WARN', message: 'finish killed: still running after 2s' });
    expect(h.state()).toBe('stopped.idle');
  });

  it('killed after a stop of a profile removed meanwhile: stopped.idle, config forgotten', () => {
    const h = harness();
    h.run(withFinish({ stopTimeoutMs: 2000 }), 10);
    h.send({ type: 'STOP' });
    h.exited(10, null, 'SIGTERM');
    h.send({ type: 'REMOVE' });
    h.advance(2000);
    expect(h.state()).toBe('stopped.idle');
    expect(h.ctx()).toMatchObject({ config: null, want: 'removed' });
  });
});

// ---------------------------------------------------------------- failed: why, and what gets it going

describe('stopped.failed: why, and which reading gets it going again', () => {
  it.each<[string, string, (h: Harness) => void]>([
    ['a crash loop', 'gaveUp', (h) => h.crashLoop(makeConfig({ restart: 'always' }))],
    ['a start timeout', 'gaveUp', (h) => (h.configure(daemon()), h.send({ type: 'PID_MISSING' }), h.spawned(2), h.advance(10_000))],
    ['a `run` exiting badly before its pid file', 'gaveUp', (h) => (h.configure(daemon({ restart: 'never' })), h.send({ type: 'PID_MISSING' }), h.spawned(2), h.exited(2, 1))],
    ['a spawn failure', 'spawnFailed', (h) => (h.configure(makeConfig()), h.send({ type: 'SPAWN_FAILED', reason: 'permission denied' }))],
    ['an invalid profile', 'invalid', (h) => (h.configure(makeConfig({ down: true })), h.send({ type: 'INVALID', reason: 'bad' }))],
  ])('%s → stopped.failed.%s', (_what, substate, drive) => {
    const h = harness();
    drive(h);
    expect(h.fullState()).toBe(`stopped.failed.${substate}`);
    expect(h.state()).toBe('stopped.failed');
  });

  type Failure = 'gaveUp' | 'spawnFailed' | 'invalid';
  const failIn: Record<Failure, (h: Harness, config: ServiceConfig) => void> = {
    gaveUp: (h, config) => h.crashLoop(config),
    spawnFailed: (h, config) => (h.configure(config), h.send({ type: 'SPAWN_FAILED', reason: 'permission denied' })),
    // The contract: a profile valid again after INVALID starts, even with the fingerprint of its last good reading.
    invalid: (h, config) => (h.run(config, 1), h.die(1, 10), h.send({ type: 'INVALID', reason: 'bad' })),
  };
  it.each<[Failure, string, boolean, ServiceConfig, string]>([
    ['gaveUp', 'the same reading', false, makeConfig({ restart: 'always' }), 'stopped.failed'],
    ['gaveUp', 'the same reading, touched', true, makeConfig({ restart: 'always' }), 'stopped.failed'],
    ['gaveUp', 'an edit', false, edited('launch-2', { restart: 'always' }), 'starting.spawning'],
    ['gaveUp', 'an edit adding `down`', false, edited('launch-2', { restart: 'always', down: true }), 'stopped.idle'],
    ['spawnFailed', 'the same reading', false, makeConfig({ restart: 'always' }), 'stopped.failed'],
    ['spawnFailed', 'the same reading, touched', true, makeConfig({ restart: 'always' }), 'starting.spawning'],
    ['spawnFailed', 'an edit', false, edited('launch-2', { restart: 'always' }), 'starting.spawning'],
    ['invalid', 'the same reading as the last good one', false, makeConfig({ restart: 'always' }), 'starting.spawning'],
    ['invalid', 'the same reading, touched', true, makeConfig({ restart: 'always' }), 'starting.spawning'],
    ['invalid', 'a reading with `down`', true, makeConfig({ restart: 'always', down: true }), 'stopped.idle'],
  ])('failed.%s, then %s (touched: %s) → %s', (failure, _what, touched, reading, state) => {
    const h = harness();
    failIn[failure](h, makeConfig({ restart: 'always' }));
    h.configure(reading, touched);
    expect(h.state()).toBe(state);
    if (state !== 'stopped.failed') expect(h.ctx()).toMatchObject({ crashes: 0, problem: null, config: reading });
  });

  it('failed.invalid of a profile stopped by command: valid again → stopped.idle, still down', () => {
    const h = harness();
    h.send({ type: 'STOP' });
    h.send({ type: 'INVALID', reason: 'bad' });
    h.configure(makeConfig(), true);
    expect(h.state()).toBe('stopped.idle');
    expect(h.ctx().want).toBe('down');
    expect(h.launches).toEqual([]);
  });
});

// ---------------------------------------------------------------- a `run` that vanished before its spawn

describe('stopped.idle.runMissing: `run` gone when it was to be spawned (removed meanwhile)', () => {
  /** Configured, and `run` found missing at the spawn. */
  function vanished(config = makeConfig()): Harness {
    const h = harness();
    h.configure(config);
    h.send({ type: 'SPAWN_FAILED', reason: `cannot execute ${config.runPath}: it does not exist (any more)`, runMissing: true });
    return h;
  }

  it('is logged once at INFO, not as a failure: stopped.idle with no problem', () => {
    const h = vanished();
    expect(h.fullState()).toBe('stopped.idle.runMissing');
    expect(h.state()).toBe('stopped.idle');
    expect(h.logs).toEqual([{ level: 'INFO', message: 'removed before it started' }]);
    expect(h.ctx().problem).toBeNull();
    expect(h.tags()).toEqual(['down']);
  });

  it.each<[string, string, number, (h: Harness) => void]>([
    ['REMOVE (the profile is gone)', 'stopped.idle.settled', 1, (h) => h.send({ type: 'REMOVE' })],
    ['INVALID (no run file)', 'stopped.failed.invalid', 1, (h) => h.send({ type: 'INVALID', reason: 'no run file' })],
    ['a touched reading (run re-created)', 'starting.spawning.current', 2, (h) => h.configure(makeConfig(), true)],
    ['an untouched identical reading', 'stopped.idle.runMissing', 1, (h) => h.configure(makeConfig())],
    ['a reading with a new run', 'starting.spawning.current', 2, (h) => h.configure(edited('launch-2'))],
    ['a touched reading with `down`', 'stopped.idle.runMissing', 1, (h) => h.configure(makeConfig({ down: true }), true)],
    ['START', 'starting.spawning.current', 2, (h) => h.send({ type: 'START' })],
    ['STOP', 'stopped.idle.settled', 1, (h) => h.send({ type: 'STOP' })],
  ])('then %s → %s', (_what, state, launches, next) => {
    const h = vanished();
    next(h);
    expect(h.fullState()).toBe(state);
    expect(h.launches).toHaveLength(launches);
  });

  it('REMOVE first, then the spawn finds no run: one INFO line, no ERROR', () => {
    const h = harness();
    h.configure(makeConfig());
    h.send({ type: 'REMOVE' });
    h.send({ type: 'SPAWN_FAILED', reason: 'gone', runMissing: true });
    expect(h.state()).toBe('stopped.idle');
    expect(h.messages().filter((m) => m === 'removed before it started')).toHaveLength(1);
    expect(h.logs.filter((l) => l.level === 'ERROR')).toEqual([]);
  });
});

// ---------------------------------------------------------------- the same reading again

describe('an identical reading, touched (a touch, or chmod -x then +x): nothing, except where a run could not be executed', () => {
  it.each<[string, (h: Harness) => void]>([
    ['running', (h) => h.run(makeConfig({ restart: 'always' }), 1)],
    ['stopped after an exit', (h) => (h.run(makeConfig(), 1), h.die(1, 5000, 0))],
    ['stopped by command', (h) => (h.run(makeConfig(), 1), h.send({ type: 'STOP' }), h.exited(1, 0))],
    ['backing off', (h) => (h.run(makeConfig({ restart: 'always' }), 1), h.die(1, 10))],
    ['start_delay', (h) => h.configure(makeConfig({ restart: 'always', startDelayMs: 5000 }))],
    ['stopping', (h) => (h.run(makeConfig({ restart: 'always' }), 1), h.send({ type: 'STOP' }))],
    ['finishing', (h) => (h.run(withFinish({ restart: 'never' }), 1), h.die(1, 5000, 0))],
    ['failed after a crash loop', (h) => h.crashLoop(makeConfig({ restart: 'always' }))],
  ])('%s', (_what, drive) => {
    const h = harness();
    drive(h);
    const before = { state: h.fullState(), launches: h.launches.length, signals: h.signals.length, logs: h.logs.length };
    h.configure(h.ctx().config!, true);
    expect({ state: h.fullState(), launches: h.launches.length, signals: h.signals.length, logs: h.logs.length }).toEqual(before);
  });
});
