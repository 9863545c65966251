// Readiness in the machine: starting.awaitingReady (notification-fd, notify,
// the `ready` probe; spawned, named by a pid file, or re-adopted), its
// timeout, running.reloading and what a notify run says of itself. Needs
// (starting.waiting) and health are in needs-health.test.ts.
import { describe, expect, it } from 'vitest';
import type { NotifyListenInput } from '../../src/machine/service-machine.js';
import type { Readiness } from '../../src/profile/readiness.js';
import { harness, makeConfig, proc, type ConfigOverrides, type Harness } from './harness.js';

const FD: Readiness = { kind: 'fd', fd: 3 };
const NOTIFY: Readiness = { kind: 'notify', watchdogMs: null };
const PROBE: Readiness = { kind: 'probe', path: '/profiles/web/ready', intervalMs: 100 };
const withReadiness = (readiness: Readiness, overrides: ConfigOverrides = {}) => makeConfig({ readiness, readyTimeoutMs: 30_000, restart: 'always', ...overrides });
const notify = (overrides: ConfigOverrides = {}) => withReadiness(NOTIFY, overrides);
const daemon = (readiness: Readiness) => withReadiness(readiness, { pidFile: '/run/web.pid' });

/** A pid-file daemon whose `run` exited 0: awaiting its pid file. */
function toPidFile(h: Harness, readiness: Readiness): void {
  h.configure(daemon(readiness));
  h.send({ type: 'PID_MISSING' });
  h.spawned(2);
  h.exited(2, 0);
  expect(h.state()).toBe('starting.awaitingPidFile');
}

describe('starting.awaitingReady: the process runs, not ready until it says so', () => {
  it.each<[string, Readiness, string, string]>([
    ['notification-fd', FD, 'awaitReadyFd', 'started pid 42; waiting until it is ready (notification-fd 3)'],
    ['notify', NOTIFY, 'listenNotify', 'started pid 42; waiting until it is ready (notify)'],
    ['ready', PROBE, 'probeReady', 'started pid 42; waiting until it is ready (ready probe)'],
  ])('%s: SPAWNED → awaitingReady with its actor; READY → running, up since then', (_kind, readiness, actor, line) => {
    const h = harness();
    const config = withReadiness(readiness);
    h.configure(config);
    h.spawned(42);
    expect(h.state()).toBe('starting.awaitingReady');
    expect(h.tags()).toEqual(['awaitingReady', 'transitional']);
    expect(h.ctx()).toMatchObject({ proc: proc(42), runningSince: null });
    for (const name of ['awaitReadyFd', 'listenNotify', 'probeReady', 'probeHealth'] as const) expect(h.isActive(name), name).toBe(name === actor);
    expect(h.isActive('watchPid')).toBe(false); // our own child: no pid watch
    expect(h.messages()).toEqual([line]);
    h.advance(500);
    h.ready(readiness.kind === 'fd' ? 'notification-fd' : readiness.kind === 'notify' ? 'notify' : 'ready');
    expect(h.state()).toBe('running');
    expect(h.tags()).toEqual(['up']);
    expect(h.ctx().runningSince).toBe(h.clock.now());
    expect(h.isActive(actor as 'awaitReadyFd')).toBe(actor === 'listenNotify'); // notify listens on while running
    expect(h.messages().at(-1)).toBe('running pid 42');
  });

  it('the actors get what they need: the tag, the config, the pid and uid (no watchdog before running)', () => {
    const fd = harness();
    fd.configure(withReadiness(FD));
    fd.spawned(42);
    expect(fd.lastInput('awaitReadyFd')).toEqual({ tag: 'web' });
    const probe = harness();
    const config = withReadiness(PROBE);
    probe.configure(config);
    probe.spawned(42);
    expect(probe.lastInput('probeReady')).toEqual({ config });
    const n = harness();
    n.configure(notify({ readiness: { kind: 'notify', watchdogMs: 2000 } }));
    n.spawned(42);
    expect(n.lastInput('listenNotify')).toEqual({ tag: 'web', pid: 42, uid: null, watchdogMs: null });
    n.ready();
    expect(n.lastInput('listenNotify')).toEqual({ tag: 'web', pid: 42, uid: null, watchdogMs: 2000 });
  });

  it.each<[string, number, string]>([
    ['a crash (code 1) with restart', 1, 'stopped.backoff'],
    ['even a clean exit (uptime 0: it never got up)', 0, 'stopped.backoff'],
  ])('an exit before ready is as any exit before running: %s → %s', (_what, code, state) => {
    const h = harness();
    h.configure(notify());
    h.spawned(42);
    h.exited(7, 1); // not ours: ignored
    expect(h.state()).toBe('starting.awaitingReady');
    h.advance(300);
    h.exited(42, code);
    expect(h.state()).toBe(state);
    expect(h.ctx()).toMatchObject({ crashes: 1, lastExit: { pid: 42, code, uptimeMs: 0, requested: false } });
    expect(h.messages().at(-1)).toBe(`exited pid 42 code ${code} after 0ms; restarting in 100ms (crash 1 of 10)`);
  });

  it('ready_timeout (not start_timeout) runs out: SIGKILL, stopped.failed.gaveUp, saying the last ready run', () => {
    const h = harness();
    h.configure(withReadiness(PROBE, { startTimeoutMs: 10_000, readyTimeoutMs: 30_000 }));
    h.spawned(42);
    h.send({ type: 'PROBE_FAILED', probe: 'ready', reason: 'exited 1', output: 'Connection refused\n', inARow: 3 });
    h.advance(29_999);
    expect(h.state()).toBe('starting.awaitingReady');
    expect(h.messages()).toHaveLength(1); // a ready run that fails is not logged
    h.advance(1);
    expect(h.state()).toBe('stopped.failed');
    expect(h.signals).toEqual([{ pid: 42, signal: 'SIGKILL' }]);
    expect(h.ctx().problem).toBe('not ready after ready_timeout 30s (the last ready run exited 1)');
    expect(h.logs.at(-1)).toEqual({ level: 'ERROR', message: 'failed: not ready after ready_timeout 30s (the last ready run exited 1)' });
    expect(h.ctx().lastProbe).toMatchObject({ probe: 'ready', output: 'Connection refused\n' }); // for `status`
  });

  it('a pid-file daemon with readiness: PID_FOUND → awaitingReady, watched as not ours; found already running → running', () => {
    const h = harness();
    toPidFile(h, NOTIFY);
    h.pidFound(300);
    expect(h.state()).toBe('starting.awaitingReady');
    expect(h.messages().at(-1)).toBe('pid 300 named by its pid file; waiting until it is ready (notify)');
    expect(h.invoked.watchPid.at(-1)).toEqual({ proc: proc(300, false) });
    h.ready();
    expect(h.state()).toBe('running');
    const found = harness();
    found.configure(daemon(NOTIFY));
    found.pidFound(300, true);
    expect(found.state()).toBe('running');
  });

  it.each<[string, string, { pid: number; signal: string }[], (h: Harness) => void]>([
    ['STOP', 'stopping.signal.signalled+stopping.next.stay', [{ pid: 42, signal: 'SIGTERM' }], (h) => h.send({ type: 'STOP' })],
    ['REMOVE', 'stopping.signal.signalled+stopping.next.stay', [{ pid: 42, signal: 'SIGTERM' }], (h) => h.send({ type: 'REMOVE' })],
    ['RESTART', 'stopping.signal.signalled+stopping.next.restart', [{ pid: 42, signal: 'SIGTERM' }], (h) => h.send({ type: 'RESTART' })],
    ['a new `run`', 'stopping.signal.signalled+stopping.next.restart', [{ pid: 42, signal: 'SIGTERM' }], (h) => h.configure(notify({ fp: { launch: 'launch-2' } }))],
    ['a policy edit', 'starting.awaitingReady', [], (h) => h.configure(notify({ fp: { policy: 'policy-2' } }))],
    ['`notify` removed (a new launch: NOTIFY_SOCKET goes)', 'stopping.signal.signalled+stopping.next.restart', [{ pid: 42, signal: 'SIGTERM' }],
      (h) => h.configure(makeConfig({ restart: 'always', fp: { launch: 'launch-2' } }))],
  ])('%s while awaiting readiness → %s', (_what, state, signals, act) => {
    const h = harness();
    h.configure(notify());
    h.spawned(42);
    act(h);
    expect(h.fullState()).toBe(state);
    expect(h.signals).toEqual(signals);
  });

  it('an edit of the `ready` probe waits with the new one; the `ready` file removed: running at once', () => {
    const h = harness();
    h.configure(withReadiness(PROBE));
    h.spawned(42);
    const slower = withReadiness({ ...PROBE, intervalMs: 2000 }, { fp: { policy: 'policy-2' } });
    h.configure(slower);
    expect(h.state()).toBe('starting.awaitingReady');
    expect(h.invoked.probeReady).toHaveLength(2);
    expect(h.lastInput('probeReady')).toEqual({ config: slower });
    h.send({ type: 'CONFIGURE', config: makeConfig({ restart: 'always', fp: { policy: 'policy-3' } }), at: h.clock.now(), touched: true });
    expect(h.state()).toBe('running');
    expect(h.ctx().runningSince).toBe(h.clock.now());
    expect(h.isActive('probeReady')).toBe(false);
  });

  it('MAINPID= while awaiting: the new pid is watched (not ours) and listened for; the run\'s exit is then not the service\'s', () => {
    const h = harness();
    h.configure(notify());
    h.spawned(42);
    h.send({ type: 'NOTIFY_MAINPID', proc: { pid: 42, startTime: 5042, pgid: 42 } }); // itself: nothing changes
    expect(h.invoked.watchPid).toHaveLength(0); // our own child needs no pid watch
    h.send({ type: 'NOTIFY_MAINPID', proc: { pid: 50, startTime: 9, pgid: 42 } });
    expect(h.ctx().proc).toEqual({ pid: 50, startTime: 9, pgid: 42, child: false });
    expect(h.invoked.watchPid.at(-1)).toEqual({ proc: { pid: 50, startTime: 9, pgid: 42, child: false } });
    expect(h.lastInput<NotifyListenInput>('listenNotify')?.pid).toBe(50);
    expect(h.messages().at(-1)).toBe('main process is now pid 50 (MAINPID=; was pid 42)');
    h.exited(42, 0);
    expect(h.state()).toBe('starting.awaitingReady');
    h.ready();
    expect(h.state()).toBe('running');
    expect(h.ctx().proc?.pid).toBe(50);
  });

  it('ADOPT of a run left before it was ready: awaitingReady (its actors again), the timeout from now; ready → running', () => {
    const h = harness();
    const config = withReadiness(FD);
    h.send({ type: 'ADOPT', proc: proc(77, false), config, since: null, ready: false });
    expect(h.state()).toBe('starting.awaitingReady');
    expect(h.ctx()).toMatchObject({ proc: proc(77, false), runningSince: null, config });
    expect(h.messages()).toEqual(['starting pid 77 (re-adopted before it was ready: left by the last supervisor); waiting until it is ready (notification-fd 3)']);
    expect(h.isActive('awaitReadyFd')).toBe(true);
    expect(h.invoked.watchPid.at(-1)).toEqual({ proc: proc(77, false) });
    expect(h.launches).toEqual([]);
    h.advance(29_000);
    h.ready('notification-fd');
    expect(h.state()).toBe('running');
    expect(h.ctx().runningSince).toBe(h.clock.now());
  });

  it('ADOPT of a ready run, and of a record from before readiness (ready): running at once', () => {
    const h = harness();
    h.send({ type: 'ADOPT', proc: proc(77, false), config: notify(), since: 5, ready: true });
    expect(h.state()).toBe('running');
    expect(h.ctx().runningSince).toBe(5);
    expect(h.isActive('listenNotify')).toBe(true);
  });
});

describe('running: a notify service says what it does', () => {
  const running = (overrides: ConfigOverrides = {}) => {
    const h = harness();
    h.configure(notify(overrides));
    h.spawned(42);
    h.ready();
    return h;
  };

  it('RELOADING=1 → running.reloading (still up) until READY=1; a READY=1 while plainly running changes nothing', () => {
    const h = running();
    h.ready();
    expect(h.fullState()).toBe('running.serving');
    h.send({ type: 'NOTIFY_RELOADING' });
    expect(h.state()).toBe('running.reloading');
    expect(h.tags()).toEqual(['up']);
    h.ready();
    expect(h.state()).toBe('running');
    expect(h.messages().slice(-2)).toEqual(['reloading pid 42 (RELOADING=1)', 'running pid 42 (reloaded: READY=1)']);
  });

  it.each<[string, boolean]>([['running', false], ['running.reloading', true]])('MAINPID= in %s: the new pid is watched, the substate kept', (state, reloading) => {
    const h = running();
    if (reloading) h.send({ type: 'NOTIFY_RELOADING' });
    const listens = h.invoked.listenNotify.length;
    h.send({ type: 'NOTIFY_MAINPID', proc: { pid: 60, startTime: 1, pgid: 60 } });
    expect(h.state()).toBe(state);
    expect(h.invoked.watchPid.at(-1)).toEqual({ proc: { pid: 60, startTime: 1, pgid: 60, child: false } });
    expect(h.invoked.listenNotify).toHaveLength(listens); // the socket trusts the main pid as the run's: no new listener needed
    h.exited(42, 0); // `run` exits after naming its daemon
    expect(h.state()).toBe(state);
    h.exited(60, null);
    expect(h.state()).toBe('stopped.backoff');
  });

  it('STATUS= and STOPPING=1 are kept for `status` (and forgotten at the next run); ignored datagrams and problems are WARN lines', () => {
    const h = running();
    h.send({ type: 'NOTIFY_STATUS', text: 'serving 3 clients' });
    h.send({ type: 'NOTIFY_STOPPING' });
    h.send({ type: 'NOTIFY_IGNORED', reason: 'the line "x" is not KEY=VALUE' });
    h.send({ type: 'READINESS_PROBLEM', reason: 'cannot listen on the notify socket: EIO' });
    expect(h.ctx()).toMatchObject({ notifyStatus: 'serving 3 clients', notifyStopping: true });
    expect(h.state()).toBe('running');
    expect(h.logs.slice(-3)).toEqual([
      { level: 'INFO', message: 'pid 42 says it is stopping (STOPPING=1)' },
      { level: 'WARN', message: 'notify message ignored: the line "x" is not KEY=VALUE' },
      { level: 'WARN', message: 'readiness: cannot listen on the notify socket: EIO' },
    ]);
    h.send({ type: 'RESTART' });
    expect(h.ctx().notifyStatus).toBe('serving 3 clients'); // still the run being stopped
    h.exited(42, null, 'SIGTERM');
    expect(h.state()).toBe('starting.spawning');
    expect(h.ctx()).toMatchObject({ notifyStatus: null, notifyStopping: false });
  });

  it('listens while stopping too (no watchdog there), and while stopping a MAINPID= is not taken', () => {
    const h = running({ readiness: { kind: 'notify', watchdogMs: 1000 } });
    h.send({ type: 'STOP' });
    expect(h.isActive('listenNotify')).toBe(true);
    expect(h.lastInput<NotifyListenInput>('listenNotify')?.watchdogMs).toBeNull();
    h.send({ type: 'NOTIFY_MAINPID', proc: { pid: 60, startTime: 1, pgid: 60 } });
    expect(h.ctx().proc?.pid).toBe(42);
    h.send({ type: 'UNHEALTHY', reason: 'no WATCHDOG=1', at: h.clock.now() });
    expect(h.ctx().unhealthy).toBeNull();
    h.exited(42, null, 'SIGTERM');
    expect(h.state()).toBe('stopped.idle');
    expect(h.isActive('listenNotify')).toBe(false);
  });
});
