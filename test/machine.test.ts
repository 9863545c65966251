// The service machine on its own: no processes, no timers of the real world
// (see machine/harness.ts). The new states and the CONFIGURE contract are in
// machine/chart.test.ts.
import { describe, expect, it } from 'vitest';
import { serviceMachine, type FinishInput } from '../src/machine/service-machine.js';
import { BACKOFF_MAX_MS, CRASH_LIMIT, KILL_GRACE_MS, backoffMs } from '../src/machine/policy.js';
import type { ServiceConfig } from '../src/profile/types.js';
import { harness, makeConfig, proc, type ConfigOverrides } from './machine/harness.js';

// ---------------------------------------------------------------- shape

describe('shape', () => {
  it('has exactly the four top-level states of the SPEC', () => {
    expect(Object.keys(serviceMachine.root.states)).toEqual(['stopped', 'starting', 'running', 'stopping']);
  });

  it('has stopped.idle, stopped.delayed, stopped.backoff, stopped.failed and the finish states', () => {
    // exited and deciding are transient (eventless): a snapshot is never in them.
    expect(Object.keys(serviceMachine.root.states.stopped!.states)).toEqual(['idle', 'delayed', 'backoff', 'exited', 'finishing', 'deciding', 'failed']);
  });

  it('starts in stopped.idle with no config', () => {
    const h = harness();
    expect(h.state()).toBe('stopped.idle');
    expect(h.ctx()).toMatchObject({ tag: 'web', config: null, proc: null, crashes: 0, restarts: 0 });
    expect(h.launches).toEqual([]);
  });
});

// ---------------------------------------------------------------- starting

describe('starting', () => {
  it('starts on the first CONFIGURE: launch, starting.spawning, then running on SPAWNED', () => {
    const h = harness();
    const config = makeConfig();
    h.configure(config);
    expect(h.state()).toBe('starting.spawning');
    expect(h.launches).toEqual([config]);

    h.spawned(4242);
    expect(h.state()).toBe('running');
    expect(h.ctx().proc?.pid).toBe(4242);
    expect(h.ctx().runningSince).toBe(h.clock.now());
    expect(h.invoked.watchPid).toEqual([]); // our own child: its exit event tells, no pid watch
    expect(h.messages()).toEqual(['started pid 4242', 'running pid 4242']);
  });

  it('a plain profile invokes no actor while it starts, runs or stops (no readiness, health or foreign pid to watch)', () => {
    const h = harness();
    h.configure(makeConfig());
    h.spawned(4242);
    expect(Object.keys(h.actor.getSnapshot().children)).toEqual([]);
    h.send({ type: 'STOP' });
    expect(h.state()).toMatch(/^stopping/);
    expect(Object.keys(h.actor.getSnapshot().children)).toEqual([]);
  });

  it('cancels the start timeout once running', () => {
    const h = harness();
    h.run(makeConfig(), 4242);
    h.advance(3_600_000);
    expect(h.state()).toBe('running');
    expect(h.signals).toEqual([]);
  });

  it('does not start a `down` profile; START starts it', () => {
    const h = harness();
    h.configure(makeConfig({ down: true }));
    expect(h.state()).toBe('stopped.idle');
    expect(h.ctx().config?.down).toBe(true);
    expect(h.launches).toEqual([]);

    h.send({ type: 'START' });
    expect(h.state()).toBe('starting.spawning');
    expect(h.launches).toHaveLength(1);
  });

  it('starts a `down` profile when `down` is removed', () => {
    const h = harness();
    h.configure(makeConfig({ down: true, fp: { policy: 'down' } }));
    h.configure(makeConfig({ down: false }));
    expect(h.state()).toBe('starting.spawning');
    expect(h.launches).toHaveLength(1);
  });

  it('START without any config does nothing', () => {
    const h = harness();
    h.send({ type: 'START' });
    expect(h.state()).toBe('stopped.idle');
    expect(h.launches).toEqual([]);
  });

  it('SPAWN_FAILED → stopped.failed with the reason', () => {
    const h = harness();
    h.configure(makeConfig());
    h.send({ type: 'SPAWN_FAILED', reason: 'cannot execute /profiles/web/run: permission denied' });
    expect(h.state()).toBe('stopped.failed');
    expect(h.ctx().problem).toBe('cannot execute /profiles/web/run: permission denied');
    expect(h.messages()).toContain('failed: cannot execute /profiles/web/run: permission denied');
  });
});

// ---------------------------------------------------------------- exits and restarts

describe('exits and the restart policy', () => {
  it('no restart file: an exit ends in stopped.idle and stays there', () => {
    const h = harness();
    h.run(makeConfig({ restart: 'never' }), 4242);
    h.die(4242, 5000, 0);
    expect(h.state()).toBe('stopped.idle');
    expect(h.ctx().lastExit).toMatchObject({ pid: 4242, code: 0, signal: null, uptimeMs: 5000 });
    expect(h.ctx().proc).toBeNull();
    expect(h.messages()).toContain('exited pid 4242 code 0 after 5.0s; not restarting (no restart file)');
    h.advance(3_600_000);
    expect(h.state()).toBe('stopped.idle');
    expect(h.launches).toHaveLength(1);
  });

  it('no restart file: the same config again does not start it; a real edit does', () => {
    const h = harness();
    h.run(makeConfig(), 4242);
    h.die(4242, 5000, 0);
    h.configure(makeConfig());
    h.configure(makeConfig({ stopSignal: 'SIGINT', fp: { policy: 'policy-2' } }));
    expect(h.state()).toBe('stopped.idle');
    h.configure(makeConfig({ fp: { launch: 'launch-2' } }));
    expect(h.state()).toBe('starting.spawning');
  });

  it('a restart file read after the exit it would have restarted (`chmod +x run; touch restart`): restarting now', () => {
    const h = harness();
    h.run(makeConfig({ restart: 'never' }), 4242);
    h.die(4242, 5, 0);
    expect(h.state()).toBe('stopped.idle');
    h.configure(makeConfig({ restart: 'always', fp: { policy: 'policy-2' } }));
    expect(h.state()).toBe('starting.spawning');
    expect(h.launches).toHaveLength(2);
    expect(h.ctx().restarts).toBe(1);
    expect(h.messages().at(-1)).toBe('exited pid 4242 code 0 after 5ms; restarting now (its restart file now asks for it)');
  });

  it('a restart file does not undo a stop by command, and on-failure does not restart a clean exit', () => {
    const stopped = harness();
    stopped.run(makeConfig({ restart: 'never' }), 4242);
    stopped.send({ type: 'STOP' });
    stopped.die(4242, 5000, null, 'SIGTERM');
    stopped.configure(makeConfig({ restart: 'always', fp: { policy: 'policy-2' } }));
    expect(stopped.state()).toBe('stopped.idle');
    const clean = harness();
    clean.run(makeConfig({ restart: 'never' }), 4242);
    clean.die(4242, 5000, 0);
    clean.configure(makeConfig({ restart: 'on-failure', fp: { policy: 'policy-2' } }));
    expect(clean.state()).toBe('stopped.idle');
    expect(clean.launches).toHaveLength(1);
  });

  it("restart 'always' after more than 1 s up: starting again at once, no backoff", () => {
    const h = harness();
    h.run(makeConfig({ restart: 'always' }), 4242);
    h.die(4242, 6400, 1);
    expect(h.state()).toBe('starting.spawning');
    expect(h.launches).toHaveLength(2);
    expect(h.ctx()).toMatchObject({ crashes: 0, restarts: 1 });
    expect(h.messages()).toContain('exited pid 4242 code 1 after 6.4s; restarting now');
    h.spawned(4243);
    expect(h.state()).toBe('running');
  });

  it('an exit within 1 s is a crash: stopped.backoff for 100 ms, then starting', () => {
    const h = harness();
    h.run(makeConfig({ restart: 'always' }), 4242);
    h.die(4242, 500, 1);
    expect(h.state()).toBe('stopped.backoff');
    expect(h.ctx()).toMatchObject({ crashes: 1, restarts: 1 });
    expect(h.messages()).toContain('exited pid 4242 code 1 after 500ms; restarting in 100ms (crash 1 of 10)');

    h.advance(99);
    expect(h.state()).toBe('stopped.backoff');
    expect(h.launches).toHaveLength(1);
    h.advance(1);
    expect(h.state()).toBe('starting.spawning');
    expect(h.launches).toHaveLength(2);
  });

  it('backs off 100, 200, 400 ... ms, then stopped.failed after 10 crashes in a row', () => {
    const h = harness();
    h.run(makeConfig({ restart: 'always' }), 1);
    const delays: number[] = [];
    for (let pid = 1; pid < CRASH_LIMIT; pid++) {
      h.die(pid, 200, 1);
      expect(h.state()).toBe('stopped.backoff');
      let waited = 0;
      while (h.state() === 'stopped.backoff') {
        h.advance(1);
        waited++;
      }
      delays.push(waited);
      expect(h.state()).toBe('starting.spawning');
      h.spawned(pid + 1);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1600, 3200, 6400, 12_800, 25_600]);
    expect(h.messages()).toContain(`exited pid 9 code 1 after 200ms; restarting in 25600ms (crash 9 of 10)`);

    h.die(CRASH_LIMIT, 200, 1);
    expect(h.state()).toBe('stopped.failed');
    expect(h.ctx().crashes).toBe(CRASH_LIMIT);
    expect(h.ctx().problem).toMatch(/^crashed 10 times in a row/);
    expect(h.logs.at(-1)).toMatchObject({ level: 'ERROR', message: expect.stringMatching(/^exited pid 10 code 1 after 200ms; failed: crashed 10 times/) });
    h.advance(3_600_000);
    expect(h.state()).toBe('stopped.failed');
    expect(h.launches).toHaveLength(CRASH_LIMIT);
  });

  it('the backoff is capped at 30 s (policy)', () => {
    // With CRASH_LIMIT 10 the machine never waits longer than backoffMs(9) = 25.6 s;
    // the cap is a property of backoffMs.
    expect(backoffMs(1)).toBe(100);
    expect(backoffMs(9)).toBe(25_600);
    expect(backoffMs(10)).toBe(BACKOFF_MAX_MS);
    expect(backoffMs(50)).toBe(30_000);
  });

  /** Drive a fresh service into stopped.failed by crashing it 10 times. */
  function crashLoop(config: ServiceConfig) {
    const h = harness();
    h.crashLoop(config);
    expect(h.state()).toBe('stopped.failed');
    return h;
  }

  it('START gets a failed profile going again, with the crash count reset', () => {
    const h = crashLoop(makeConfig({ restart: 'always' }));
    h.send({ type: 'START' });
    expect(h.state()).toBe('starting.spawning');
    expect(h.ctx()).toMatchObject({ crashes: 0, problem: null });
    h.spawned(100);
    h.die(100, 10, 1);
    expect(h.state()).toBe('stopped.backoff');
    expect(h.messages().at(-1)).toMatch(/restarting in 100ms \(crash 1 of 10\)$/);
  });

  it('a change to the profile gets a failed profile going again', () => {
    const h = crashLoop(makeConfig({ restart: 'always' }));
    h.configure(makeConfig({ restart: 'always', fp: { launch: 'launch-2' } }));
    expect(h.state()).toBe('starting.spawning');
    expect(h.ctx()).toMatchObject({ crashes: 0, problem: null });
    expect(h.launches.at(-1)?.fingerprint.launch).toBe('launch-2');
  });

  it('the same config again leaves a failed profile failed', () => {
    const h = crashLoop(makeConfig({ restart: 'always' }));
    h.configure(makeConfig({ restart: 'always' }));
    expect(h.state()).toBe('stopped.failed');
  });

  it('resets the crash count after 30 s of running', () => {
    const h = harness();
    h.run(makeConfig({ restart: 'always' }), 1);
    h.die(1, 10);
    h.advance(100);
    h.spawned(2);
    h.die(2, 10);
    h.advance(200);
    h.spawned(3);
    expect(h.ctx().crashes).toBe(2);

    h.die(3, 30_000, 1);
    expect(h.state()).toBe('starting.spawning');
    expect(h.ctx().crashes).toBe(0);
    h.spawned(4);
    h.die(4, 10);
    expect(h.messages().at(-1)).toBe('exited pid 4 code 1 after 10ms; restarting in 100ms (crash 1 of 10)');
  });

  it('keeps the crash count over a run between 1 s and 30 s', () => {
    const h = harness();
    h.run(makeConfig({ restart: 'always' }), 1);
    h.die(1, 10);
    h.advance(100);
    h.spawned(2);
    h.die(2, 5000);
    expect(h.state()).toBe('starting.spawning');
    expect(h.ctx().crashes).toBe(1);
    h.spawned(3);
    h.die(3, 10);
    expect(h.messages().at(-1)).toBe('exited pid 3 code 1 after 10ms; restarting in 200ms (crash 2 of 10)');
  });

  it("on-failure: exit 0 → stopped.idle", () => {
    const h = harness();
    h.run(makeConfig({ restart: 'on-failure' }), 4242);
    h.die(4242, 2000, 0);
    expect(h.state()).toBe('stopped.idle');
    expect(h.messages().at(-1)).toBe('exited pid 4242 code 0 after 2.0s; not restarting (restart is on-failure)');
  });

  it('on-failure: exit 1 or a signal → restarted', () => {
    const h = harness();
    h.run(makeConfig({ restart: 'on-failure' }), 4242);
    h.die(4242, 2000, 1);
    expect(h.state()).toBe('starting.spawning');
    h.spawned(4243);
    h.die(4243, 2000, null, 'SIGSEGV');
    expect(h.state()).toBe('starting.spawning');
    expect(h.messages()).toContain('exited pid 4243 signal SIGSEGV after 2.0s; restarting now');
    h.spawned(4244);
    h.die(4244, 10, 1);
    expect(h.state()).toBe('stopped.backoff');
  });

  it('no restart file: a crash is not restarted either', () => {
    const h = harness();
    h.run(makeConfig(), 4242);
    h.die(4242, 10, 1);
    expect(h.state()).toBe('stopped.idle');
    h.advance(60_000);
    expect(h.launches).toHaveLength(1);
  });

  it('ignores EXITED for a pid that is not the service', () => {
    const h = harness();
    h.run(makeConfig({ restart: 'always' }), 4242);
    h.die(999, 10, 1);
    expect(h.state()).toBe('running');
    expect(h.ctx().lastExit).toBeNull();
  });
});

// ---------------------------------------------------------------- stopping

describe('stopping', () => {
  it('STOP: stopping with the stop signal, then stopped.idle on EXITED with the leftovers killed', () => {
    const h = harness();
    h.run(makeConfig({ restart: 'always', stopSignal: 'SIGINT' }), 4242);
    h.send({ type: 'STOP' });
    expect(h.state()).toBe('stopping.signalled');
    expect(h.signals).toEqual([{ pid: 4242, signal: 'SIGINT' }]);
    expect(h.messages().at(-1)).toBe('stopping pid 4242 with SIGINT');

    h.die(4242, 300, null, 'SIGINT');
    expect(h.state()).toBe('stopped.idle');
    expect(h.leftovers).toEqual([4242]);
    expect(h.ctx()).toMatchObject({ want: 'down', proc: null });
    expect(h.messages().at(-1)).toBe('stopped pid 4242');
    // held: neither the restart policy nor the same config starts it again
    h.configure(makeConfig({ restart: 'always', stopSignal: 'SIGINT' }));
    h.advance(3_600_000);
    expect(h.state()).toBe('stopped.idle');
    expect(h.launches).toHaveLength(1);
  });

  it('ignores EXITED for another pid while stopping', () => {
    const h = harness();
    h.run(makeConfig(), 4242);
    h.send({ type: 'STOP' });
    h.exited(999, 0);
    expect(h.state()).toBe('stopping.signalled');
    expect(h.leftovers).toEqual([]);
  });

  it('stop timeout: SIGKILL after stop_timeout, then stopped on EXITED', () => {
    const h = harness();
    h.run(makeConfig({ stopTimeoutMs: 3000 }), 4242);
    h.send({ type: 'STOP' });
    h.advance(2999);
    expect(h.signals).toEqual([{ pid: 4242, signal: 'SIGTERM' }]);
    h.advance(1);
    expect(h.state()).toBe('stopping.killed');
    expect(h.signals).toEqual([{ pid: 4242, signal: 'SIGTERM' }, { pid: 4242, signal: 'SIGKILL' }]);
    expect(h.messages().at(-1)).toBe('killed pid 4242 with SIGKILL: still running 3s after SIGTERM');
    h.exited(4242, null, 'SIGKILL');
    expect(h.state()).toBe('stopped.idle');
    expect(h.leftovers).toEqual([4242]);
  });

  it('stop timeout with no exit at all: gives up after the kill grace and still ends in stopped', () => {
    const h = harness();
    h.run(makeConfig({ stopTimeoutMs: 3000 }), 4242);
    h.send({ type: 'STOP' });
    h.advance(3000);
    h.advance(KILL_GRACE_MS - 1);
    expect(h.state()).toBe('stopping.killed');
    h.advance(1);
    expect(h.state()).toBe('stopped.idle');
    expect(h.logs.at(-1)).toEqual({ level: 'ERROR', message: 'gave up on pid 4242: still there 5s after SIGKILL (stuck in the kernel?)' });
    expect(h.isActive('watchPid')).toBe(false);
  });

  it('STOP while probing the pid file: stopped at once, nothing launched', () => {
    const h = harness();
    h.configure(makeConfig({ pidFile: '/run/web.pid' }));
    expect(h.state()).toBe('starting.probing');
    h.send({ type: 'STOP' });
    expect(h.state()).toBe('stopped.idle');
    expect(h.isActive('probePidFile')).toBe(false);
    expect(h.launches).toEqual([]);
  });

  // Regression (was a bug): `starting` sends STOP to stopped.idle whenever proc is null, which is
  // also the case in starting.spawning after `launch` ran but before SPAWNED.
  // The process is then spawned with nobody watching it (SPAWNED is ignored in
  // `stopped`), and `stopAll` (quit) leaves it running.
  it('STOP during spawning waits for SPAWNED, then signals it', () => {
    const h = harness();
    h.configure(makeConfig());
    expect(h.state()).toBe('starting.spawning');
    h.send({ type: 'STOP' });
    expect(h.state()).toBe('stopping.signalled');
    expect(h.messages().at(-1)).toBe('stopping (waiting for the process to start)');
    h.spawned(4242);
    expect(h.signals).toEqual([{ pid: 4242, signal: 'SIGTERM' }]);
    h.exited(4242, null, 'SIGTERM');
    expect(h.state()).toBe('stopped.idle');
  });

  it('REMOVE during spawning waits for SPAWNED, then signals it', () => {
    const h = harness();
    h.configure(makeConfig());
    h.send({ type: 'REMOVE' });
    h.spawned(4242);
    expect(h.signals).toEqual([{ pid: 4242, signal: 'SIGTERM' }]);
  });

  it('STOP while in backoff: stopped.idle and no restart when the delay ends', () => {
    const h = harness();
    h.run(makeConfig({ restart: 'always' }), 4242);
    h.die(4242, 10);
    h.send({ type: 'STOP' });
    expect(h.state()).toBe('stopped.idle');
    h.advance(60_000);
    expect(h.state()).toBe('stopped.idle');
    expect(h.launches).toHaveLength(1);
  });

  it('START while stopping: starts again once the process is gone', () => {
    const h = harness();
    h.run(makeConfig(), 4242);
    h.send({ type: 'STOP' });
    h.send({ type: 'START' });
    h.exited(4242, 0);
    expect(h.state()).toBe('starting.spawning');
    expect(h.launches).toHaveLength(2);
  });

  it('a stopped service ignores late SPAWNED/EXITED', () => {
    const h = harness();
    h.run(makeConfig(), 4242);
    h.send({ type: 'STOP' });
    h.exited(4242, 0);
    h.exited(4242, 0);
    h.spawned(5);
    expect(h.state()).toBe('stopped.idle');
  });
});

// ---------------------------------------------------------------- restart, reload, signal

describe('restart, reload and signal commands', () => {
  it('RESTART: stopping, then starting again once the process exited', () => {
    const h = harness();
    h.run(makeConfig(), 4242);
    h.send({ type: 'RESTART' });
    expect(h.state()).toBe('stopping.signalled');
    expect(h.signals).toEqual([{ pid: 4242, signal: 'SIGTERM' }]);
    h.exited(4242, null, 'SIGTERM');
    expect(h.leftovers).toEqual([4242]);
    expect(h.state()).toBe('starting.spawning');
    expect(h.launches).toHaveLength(2);
    h.spawned(4243);
    expect(h.state()).toBe('running');
    expect(h.messages()).toEqual([
      'started pid 4242', 'running pid 4242', 'stopping pid 4242 with SIGTERM', 'stopped pid 4242',
      'started pid 4243', 'running pid 4243',
    ]);
  });

  it('RESTART of a stopped service starts it; STOP during a restart cancels the start', () => {
    const h = harness();
    h.run(makeConfig(), 4242);
    h.send({ type: 'STOP' });
    h.exited(4242, 0);
    h.send({ type: 'RESTART' });
    expect(h.state()).toBe('starting.spawning');
    h.spawned(4243);
    h.send({ type: 'RESTART' });
    h.send({ type: 'STOP' });
    h.exited(4243, 0);
    expect(h.state()).toBe('stopped.idle');
    expect(h.launches).toHaveLength(2);
  });

  // Regression (was a bug): the restart after `stopping` is raised only if autostart(context),
  // which is false for a `down` profile: restarting a `down` profile that was
  // started by hand just stops it.
  it('RESTART of a running `down` profile starts it again', () => {
    const h = harness();
    h.configure(makeConfig({ down: true }));
    h.send({ type: 'START' });
    h.spawned(4242);
    h.send({ type: 'RESTART' });
    h.exited(4242, null, 'SIGTERM');
    expect(h.state()).toBe('starting.spawning');
  });

  it('an edit of a running `down` profile restarts it', () => {
    const h = harness();
    h.configure(makeConfig({ down: true }));
    h.send({ type: 'START' });
    h.spawned(4242);
    h.configure(makeConfig({ down: true, fp: { launch: 'launch-2' } }));
    h.exited(4242, null, 'SIGTERM');
    expect(h.state()).toBe('starting.spawning');
  });

  it('RELOAD sends the reload signal (SIGHUP by default) and stays running', () => {
    const h = harness();
    h.run(makeConfig(), 4242);
    h.send({ type: 'RELOAD' });
    expect(h.signals).toEqual([{ pid: 4242, signal: 'SIGHUP' }]);
    expect(h.messages().at(-1)).toBe('reloading pid 4242 with SIGHUP');
    expect(h.state()).toBe('running');
  });

  it('SIGNAL sends any signal to the service', () => {
    const h = harness();
    h.run(makeConfig(), 4242);
    h.send({ type: 'SIGNAL', signal: 'SIGUSR2' });
    expect(h.signals).toEqual([{ pid: 4242, signal: 'SIGUSR2' }]);
    expect(h.messages().at(-1)).toBe('sending SIGUSR2 to pid 4242');
    expect(h.state()).toBe('running');
  });

  it('SIGNAL without a process does nothing', () => {
    const h = harness();
    h.configure(makeConfig({ down: true }));
    h.send({ type: 'SIGNAL', signal: 'SIGUSR2' });
    expect(h.signals).toEqual([]);
  });
});

// ---------------------------------------------------------------- removal

describe('removal', () => {
  it('REMOVE while running: stopping → stopped.idle, config null', () => {
    const h = harness();
    h.run(makeConfig({ restart: 'always' }), 4242);
    h.send({ type: 'REMOVE' });
    expect(h.state()).toBe('stopping.signalled');
    expect(h.signals).toEqual([{ pid: 4242, signal: 'SIGTERM' }]);
    h.exited(4242, null, 'SIGTERM');
    expect(h.state()).toBe('stopped.idle');
    expect(h.ctx()).toMatchObject({ config: null, want: 'removed' });
    expect(h.leftovers).toEqual([4242]);
    expect(h.messages().at(-1)).toBe('stopped pid 4242');
    h.send({ type: 'START' });
    expect(h.state()).toBe('stopped.idle');
  });

  it('re-added (CONFIGURE after REMOVE): starts again, even with the same config', () => {
    const h = harness();
    h.run(makeConfig(), 4242);
    h.send({ type: 'REMOVE' });
    h.exited(4242, 0);
    h.configure(makeConfig());
    expect(h.state()).toBe('starting.spawning');
    expect(h.ctx().want).toBe('run');
    expect(h.launches).toHaveLength(2);
  });

  it('REMOVE while stopped: config null, START does nothing', () => {
    const h = harness();
    h.configure(makeConfig({ down: true }));
    h.send({ type: 'REMOVE' });
    expect(h.state()).toBe('stopped.idle');
    expect(h.ctx().config).toBeNull();
    h.send({ type: 'START' });
    expect(h.state()).toBe('stopped.idle');
    expect(h.launches).toEqual([]);
  });

  it('REMOVE while in backoff: no restart', () => {
    const h = harness();
    h.run(makeConfig({ restart: 'always' }), 4242);
    h.die(4242, 10);
    h.send({ type: 'REMOVE' });
    h.advance(60_000);
    expect(h.state()).toBe('stopped.idle');
    expect(h.launches).toHaveLength(1);
  });

  // Regression (was a bug): the kill-grace way out of `stopping` goes to stopped.idle without the
  // `config: removed ? null : config` that the EXITED way does, so a removed
  // profile keeps its config and START launches the deleted `run` again.
  it('REMOVE of a process that never dies: config null after the kill grace; START does not launch', () => {
    const h = harness();
    h.run(makeConfig(), 4242);
    h.send({ type: 'REMOVE' });
    h.advance(10_000); // SIGKILL
    h.advance(KILL_GRACE_MS); // given up
    expect(h.state()).toBe('stopped.idle');
    h.send({ type: 'START' });
    expect(h.launches).toHaveLength(1);
    expect(h.ctx().config).toBeNull();
  });

  // Regression (was a bug): REMOVE clears startAfterStop; a CONFIGURE that arrives while still
  // stopping clears `removed` but does not ask for a start, so a directory
  // removed and put back within the stop timeout stays stopped for good.
  it('removed and re-added while still stopping: starts once the old process is gone', () => {
    const h = harness();
    h.run(makeConfig(), 4242);
    h.send({ type: 'REMOVE' });
    h.configure(makeConfig());
    h.exited(4242, null, 'SIGTERM');
    expect(h.state()).toBe('starting.spawning');
  });
});

// ---------------------------------------------------------------- edits

describe('configuration changes', () => {
  it('a new launch fingerprint while running: restart with the new config', () => {
    const h = harness();
    h.run(makeConfig(), 4242);
    const edited = makeConfig({ fp: { launch: 'launch-2' } });
    h.configure(edited);
    expect(h.state()).toBe('stopping.signalled');
    expect(h.signals).toEqual([{ pid: 4242, signal: 'SIGTERM' }]);
    h.exited(4242, null, 'SIGTERM');
    expect(h.state()).toBe('starting.spawning');
    expect(h.launches).toEqual([makeConfig(), edited]);
  });

  it('a new watch fingerprint with `reload`: the reload signal, still running', () => {
    const h = harness();
    h.run(makeConfig({ reloadSignal: 'SIGUSR1' }), 4242);
    h.configure(makeConfig({ reloadSignal: 'SIGUSR1', fp: { watch: 'watch-2' } }));
    expect(h.state()).toBe('running');
    expect(h.signals).toEqual([{ pid: 4242, signal: 'SIGUSR1' }]);
    expect(h.messages().at(-1)).toBe('reloading pid 4242 with SIGUSR1');
    expect(h.launches).toHaveLength(1);
    expect(h.ctx().config?.fingerprint.watch).toBe('watch-2');
  });

  it('a new watch fingerprint without `reload`: restart', () => {
    const h = harness();
    h.run(makeConfig(), 4242);
    h.configure(makeConfig({ fp: { watch: 'watch-2' } }));
    expect(h.state()).toBe('stopping.signalled');
    h.exited(4242, 0);
    expect(h.state()).toBe('starting.spawning');
    expect(h.launches).toHaveLength(2);
  });

  it('a policy-only change applies without a restart (a new stop_signal is used)', () => {
    const h = harness();
    h.run(makeConfig(), 4242);
    h.configure(makeConfig({ stopSignal: 'SIGQUIT', fp: { policy: 'policy-2' } }));
    expect(h.state()).toBe('running');
    expect(h.signals).toEqual([]);
    expect(h.launches).toHaveLength(1);
    h.send({ type: 'STOP' });
    expect(h.signals).toEqual([{ pid: 4242, signal: 'SIGQUIT' }]);
  });

  it('an edit while `run` is being spawned: the old process is restarted with the new config once it is there', () => {
    const h = harness();
    h.configure(makeConfig());
    expect(h.state()).toBe('starting.spawning');
    const edited = makeConfig({ fp: { launch: 'launch-2' } });
    h.configure(edited);
    expect(h.state()).toBe('starting.spawning');
    h.spawned(4242);
    expect(h.state()).toBe('stopping.signalled');
    expect(h.signals).toEqual([{ pid: 4242, signal: 'SIGTERM' }]);
    h.exited(4242, null, 'SIGTERM');
    expect(h.state()).toBe('starting.spawning');
    expect(h.launches).toEqual([makeConfig(), edited]);
    h.spawned(4243);
    expect(h.state()).toBe('running');
  });

  it('a policy-only edit while spawning does not restart', () => {
    const h = harness();
    h.configure(makeConfig());
    h.configure(makeConfig({ stopSignal: 'SIGINT', fp: { policy: 'policy-2' } }));
    h.spawned(4242);
    expect(h.state()).toBe('running');
    expect(h.ctx().config?.stopSignal).toBe('SIGINT');
  });

  it('an edit while in backoff is used for the next start', () => {
    const h = harness();
    h.run(makeConfig({ restart: 'always' }), 4242);
    h.die(4242, 10);
    h.configure(makeConfig({ restart: 'always', fp: { launch: 'launch-2' } }));
    expect(h.state()).toBe('stopped.backoff');
    h.advance(100);
    expect(h.launches.at(-1)?.fingerprint.launch).toBe('launch-2');
  });
});

describe('start_delay and restart_delay (PETeR)', () => {
  it('start_delay: the first automatic start waits, with its due time; a command does not', () => {
    const h = harness();
    h.send({ type: 'CONFIGURE', config: makeConfig({ startDelayMs: 10_000 }), at: h.clock.now(), touched: false });
    expect(h.state()).toBe('stopped.delayed');
    expect(h.ctx().startsAt).toBe(h.clock.now() + 10_000);
    expect(h.messages().at(-1)).toBe('starting in 10.0s (start_delay)');
    h.advance(9_999);
    expect(h.launches).toHaveLength(0);
    h.advance(1);
    expect(h.state()).toBe('starting.spawning');
    expect(h.ctx().startsAt).toBeNull();

    const g = harness();
    g.configure(makeConfig({ startDelayMs: 10_000 }));
    g.send({ type: 'START' });
    expect(g.state()).toBe('starting.spawning');
  });

  it('restart_delay: a periodic job (start after 10 s, then every 120 s after each clean exit)', () => {
    const h = harness();
    h.configure(makeConfig({ restart: 'always', startDelayMs: 10_000, restartDelayMs: 120_000 }));
    h.advance(10_000);
    h.spawned(10);
    h.die(10, 5_000, 0);
    expect(h.state()).toBe('stopped.delayed');
    expect(h.messages().at(-1)).toBe('exited pid 10 code 0 after 5.0s; restarting in 2m00s');
    h.advance(119_999);
    expect(h.launches).toHaveLength(1);
    h.advance(1);
    expect(h.launches).toHaveLength(2);
  });

  it('a failure after a long run waits start_delay, not restart_delay; STOP while delayed holds it', () => {
    const h = harness();
    h.configure(makeConfig({ restart: 'always', startDelayMs: 3_000, restartDelayMs: 120_000 }));
    h.advance(3_000);
    h.spawned(10);
    h.die(10, 5_000, 1);
    expect(h.state()).toBe('stopped.delayed');
    expect(h.ctx().delayMs).toBe(3_000);
    h.send({ type: 'STOP' });
    expect(h.state()).toBe('stopped.idle');
    h.advance(200_000);
    expect(h.launches).toHaveLength(1);
  });
});

// ---------------------------------------------------------------- invalid profiles

describe('a run that cannot be executed', () => {
  it('fails, and a reading of its touched files, even an identical one, tries again (the file changed between reading and spawning)', () => {
    const h = harness();
    const config = makeConfig({ restart: 'always' });
    h.configure(config);
    h.send({ type: 'SPAWN_FAILED', reason: 'permission denied' });
    expect(h.state()).toBe('stopped.failed');
    expect(h.fullState()).toBe('stopped.failed.spawnFailed');
    h.configure(config, true);
    expect(h.state()).toBe('starting.spawning');
    expect(h.launches).toHaveLength(2);
  });

  it('a crash loop still needs a change', () => {
    const h = harness();
    const config = makeConfig({ restart: 'always' });
    h.run(config, 10);
    for (let i = 0; i < CRASH_LIMIT; i++) {
      h.die(10 + i, 10);
      if (i < CRASH_LIMIT - 1) {
        h.advance(BACKOFF_MAX_MS);
        h.spawned(11 + i);
      }
    }
    expect(h.state()).toBe('stopped.failed');
    h.configure(config);
    expect(h.state()).toBe('stopped.failed');
  });
});

describe('finish (s6 convention)', () => {
  const withFinish = (overrides: ConfigOverrides = {}) => makeConfig({ finishPath: '/profiles/web/finish', restart: 'always', ...overrides });
  const lastFinish = (h: ReturnType<typeof harness>) => h.invoked.runFinish.at(-1) as FinishInput;

  it('runs after an exit, with the exit, and decides only once it is over', () => {
    const h = harness();
    h.run(withFinish(), 10);
    h.die(10, 5000, 3);
    expect(h.state()).toBe('stopped.finishing');
    expect(lastFinish(h)).toMatchObject({ exit: { pid: 10, code: 3, signal: null }, event: 'crashed' });
    expect(h.messages()).toContain('running finish 3 0');
    expect(h.launches).toHaveLength(1); // not restarted while finish runs
    h.finished(0);
    expect(h.isActive('runFinish')).toBe(false);
    expect(h.state()).toBe('starting.spawning');
    expect(h.launches).toHaveLength(2);
    expect(h.messages()).toContain('finish exited code 0');
  });

  it('passes -1 and the signal number when the service was killed', () => {
    const h = harness();
    h.run(withFinish(), 10);
    h.die(10, 5000, null, 'SIGKILL');
    expect(h.messages()).toContain('running finish -1 9');
  });

  it('exit 125 means do not restart; `start` still works', () => {
    const h = harness();
    h.run(withFinish(), 10);
    h.die(10, 5000, 1);
    h.finished(125);
    expect(h.state()).toBe('stopped.idle');
    expect(h.launches).toHaveLength(1);
    expect(h.messages().at(-1)).toBe('exited pid 10 code 1 after 5.0s; not restarting (finish exited 125)');
    expect(h.logs).toContainEqual({ level: 'INFO', message: 'finish exited code 125' }); // an answer, not a problem
    h.send({ type: 'START' });
    expect(h.state()).toBe('starting.spawning');
  });

  it('keeps counting crashes through finish', () => {
    const h = harness();
    h.run(withFinish(), 10);
    h.die(10, 200, 1);
    h.finished(0);
    expect(h.state()).toBe('stopped.backoff');
    expect(h.ctx().crashes).toBe(1);
  });

  it('a finish still running after stop_timeout is killed and the exit decided', () => {
    const h = harness();
    h.run(withFinish({ stopTimeoutMs: 2000 }), 10);
    h.die(10, 5000, 0);
    expect(h.isActive('runFinish')).toBe(true);
    h.advance(1999);
    expect(h.state()).toBe('stopped.finishing');
    h.advance(1);
    expect(h.isActive('runFinish')).toBe(false);
    expect(h.messages()).toContain('finish killed: still running after 2s');
    expect(h.state()).toBe('starting.spawning');
  });

  it('runs after a stop too (event stopped); the stop holds, a restart starts after finish', () => {
    const h = harness();
    h.run(withFinish(), 10);
    h.send({ type: 'STOP' });
    h.exited(10, null, 'SIGTERM');
    expect(h.state()).toBe('stopped.finishing');
    expect(lastFinish(h).event).toBe('stopped');
    h.finished(0);
    expect(h.state()).toBe('stopped.idle');
    expect(h.launches).toHaveLength(1);

    h.send({ type: 'START' });
    h.spawned(11);
    h.send({ type: 'RESTART' });
    h.exited(11, null, 'SIGTERM');
    expect(h.state()).toBe('stopped.finishing');
    expect(h.launches).toHaveLength(2);
    h.finished(125); // a restart asked for by command is not undone by finish
    expect(h.state()).toBe('starting.spawning');
  });

  it('commands during finish wait for it: stop means no restart, start means start', () => {
    const h = harness();
    h.run(withFinish(), 10);
    h.die(10, 5000, 1);
    h.send({ type: 'STOP' });
    expect(h.state()).toBe('stopped.finishing');
    h.finished(0);
    expect(h.state()).toBe('stopped.idle');
    expect(h.ctx().want).toBe('down');
    expect(h.launches).toHaveLength(1);

    h.send({ type: 'START' });
    h.spawned(11);
    h.die(11, 5000, 1);
    h.send({ type: 'START' });
    h.finished(125);
    expect(h.state()).toBe('starting.spawning');
  });

  it('an edit while finish runs starts the new version once it is over (as an edit of a stopped service does)', () => {
    const h = harness();
    h.run(withFinish({ restart: 'never' }), 10);
    h.die(10, 5000, 0);
    h.configure(withFinish({ restart: 'never', fp: { launch: 'launch-2' } }));
    expect(h.state()).toBe('stopped.finishing');
    h.finished(125);
    expect(h.state()).toBe('starting.spawning');
    expect(h.launches.at(-1)!.fingerprint.launch).toBe('launch-2');
  });

  it('a profile turning invalid while finish runs lets finish end, then fails', () => {
    const h = harness();
    h.run(withFinish(), 10);
    h.die(10, 5000, 1);
    h.send({ type: 'INVALID', reason: 'run is not executable' });
    expect(h.state()).toBe('stopped.finishing');
    expect(h.isActive('runFinish')).toBe(true);
    h.finished(0);
    expect(h.state()).toBe('stopped.failed');
    expect(h.ctx()).toMatchObject({ problem: 'run is not executable', config: null });
    expect(h.launches).toHaveLength(1);
  });

  it('does not run for a removed profile', () => {
    const h = harness();
    h.run(withFinish(), 10);
    h.send({ type: 'REMOVE' });
    h.exited(10, null, 'SIGTERM');
    expect(h.invoked.runFinish).toHaveLength(0);
    expect(h.state()).toBe('stopped.idle');
  });

  it('a profile removed while finish runs is not restarted and forgets its config', () => {
    const h = harness();
    h.run(withFinish(), 10);
    h.die(10, 5000, 1);
    h.send({ type: 'REMOVE' });
    h.finished(0);
    expect(h.state()).toBe('stopped.idle');
    expect(h.ctx().config).toBeNull();
    expect(h.launches).toHaveLength(1);
  });

  it('a finish that could not run is logged and the exit decided as usual', () => {
    const h = harness();
    h.run(withFinish(), 10);
    h.die(10, 5000, 1);
    h.send({ type: 'FINISHED', code: null, signal: null, error: 'permission denied' });
    expect(h.logs).toContainEqual({ level: 'WARN', message: 'finish could not run: permission denied' });
    expect(h.state()).toBe('starting.spawning');
  });
});

describe('invalid profiles', () => {
  it('INVALID while stopped → stopped.failed with the problem; fixed → started', () => {
    const h = harness();
    h.send({ type: 'INVALID', reason: 'run is not executable' });
    expect(h.state()).toBe('stopped.failed');
    expect(h.ctx().problem).toBe('run is not executable');
    h.configure(makeConfig());
    expect(h.state()).toBe('starting.spawning');
    expect(h.ctx().problem).toBeNull();
  });

  it('INVALID while stopped.idle after an exit → stopped.failed; fixed with `down` → stopped.idle', () => {
    const h = harness();
    h.run(makeConfig(), 4242);
    h.die(4242, 5000, 0);
    h.send({ type: 'INVALID', reason: 'unknown signal FOO in stop_signal' });
    expect(h.state()).toBe('stopped.failed');
    h.configure(makeConfig({ down: true }));
    expect(h.state()).toBe('stopped.idle');
    expect(h.ctx().problem).toBeNull();
  });

  it('INVALID while running: stays running on the last good config, with the problem set', () => {
    const h = harness();
    const good = makeConfig({ restart: 'always' });
    h.run(good, 4242);
    h.send({ type: 'INVALID', reason: 'user nobody2 does not exist' });
    expect(h.state()).toBe('running');
    expect(h.ctx()).toMatchObject({ problem: 'user nobody2 does not exist', config: good });
    expect(h.logs.at(-1)).toEqual({ level: 'WARN', message: 'left running pid 4242 with its last good profile' });
    expect(h.signals).toEqual([]);
    // a later exit restarts it with the last good config
    h.die(4242, 5000, 1);
    expect(h.launches).toEqual([good, good]);
  });

  it('INVALID while running, then fixed without a real change: no restart, problem cleared', () => {
    const h = harness();
    h.run(makeConfig(), 4242);
    h.send({ type: 'INVALID', reason: 'bad' });
    h.configure(makeConfig());
    expect(h.state()).toBe('running');
    expect(h.ctx().problem).toBeNull();
    expect(h.signals).toEqual([]);
  });
});

// ---------------------------------------------------------------- pid files

describe('pid-file profiles', () => {
  const daemon = (overrides: ConfigOverrides = {}) => makeConfig({ pidFile: '/run/web.pid', restart: 'always', ...overrides });

  it('probing → PID_MISSING → spawning → SPAWNED → launched → exit 0 → awaitingPidFile → PID_FOUND → running', () => {
    const h = harness();
    const config = daemon();
    h.configure(config);
    expect(h.state()).toBe('starting.probing');
    expect(h.invoked.probePidFile).toEqual([{ config }]);
    expect(h.launches).toEqual([]);

    h.send({ type: 'PID_MISSING' });
    expect(h.state()).toBe('starting.spawning');
    expect(h.isActive('probePidFile')).toBe(false);
    expect(h.launches).toEqual([config]);

    h.spawned(200);
    expect(h.state()).toBe('starting.launched');
    expect(h.messages().at(-1)).toBe('started pid 200; waiting for pid file /run/web.pid');

    h.advance(50);
    h.exited(200, 0);
    expect(h.state()).toBe('starting.awaitingPidFile');
    expect(h.invoked.awaitPidFile).toEqual([{ config }]);

    h.send({ type: 'PID_PROBLEM', reason: 'pid file /run/web.pid does not exist' });
    h.advance(50);
    h.pidFound(300);
    expect(h.state()).toBe('running');
    expect(h.isActive('awaitPidFile')).toBe(false);
    expect(h.ctx()).toMatchObject({ proc: proc(300, false), problem: null, runningSince: h.clock.now() });
    expect(h.invoked.watchPid).toEqual([{ proc: proc(300, false) }]);
    expect(h.messages().at(-1)).toBe('running pid 300');
    // the start timeout is gone
    h.advance(3_600_000);
    expect(h.state()).toBe('running');
  });

  it('the daemon dying (reported by watchPid) restarts through the pid-file flow', () => {
    const h = harness();
    h.configure(daemon());
    h.send({ type: 'PID_MISSING' });
    h.spawned(200);
    h.exited(200, 0);
    h.pidFound(300);
    h.die(300, 5000, null);
    expect(h.state()).toBe('starting.probing');
    expect(h.messages()).toContain('exited pid 300 status unknown after 5.0s; restarting now');
  });

  it('run exits non-zero before writing its pid file: a crash, back off, probe again', () => {
    const h = harness();
    h.configure(daemon());
    h.send({ type: 'PID_MISSING' });
    h.spawned(200);
    h.exited(200, 1);
    expect(h.state()).toBe('stopped.backoff');
    expect(h.ctx().crashes).toBe(1);
    expect(h.logs.at(-1)).toEqual({
      level: 'WARN',
      message: 'run exited pid 200 code 1 after 0ms before writing its pid file; restarting in 100ms (crash 1 of 10)',
    });
    h.advance(100);
    expect(h.state()).toBe('starting.probing');
  });

  it('run exits non-zero with no restart file → stopped.failed', () => {
    const h = harness();
    h.configure(daemon({ restart: 'never' }));
    h.send({ type: 'PID_MISSING' });
    h.spawned(200);
    h.exited(200, 2);
    expect(h.state()).toBe('stopped.failed');
    expect(h.ctx().problem).toBe('run exited pid 200 code 2 after 0ms before writing its pid file');
    expect(h.messages().at(-1)).toBe('failed: run exited pid 200 code 2 after 0ms before writing its pid file');
  });

  it('start timeout while waiting for the pid file → stopped.failed with the last PID_PROBLEM', () => {
    const h = harness();
    h.configure(daemon({ startTimeoutMs: 5000 }));
    h.send({ type: 'PID_MISSING' });
    h.spawned(200);
    h.exited(200, 0);
    h.send({ type: 'PID_PROBLEM', reason: 'pid file /run/web.pid does not exist' });
    h.send({ type: 'PID_PROBLEM', reason: 'pid file /run/web.pid names pid 999, which is not running' });
    h.advance(4999);
    expect(h.state()).toBe('starting.awaitingPidFile');
    h.advance(1);
    expect(h.state()).toBe('stopped.failed');
    expect(h.ctx().problem).toBe('not running after start_timeout 5s: pid file /run/web.pid names pid 999, which is not running');
    expect(h.logs.at(-1)).toEqual({ level: 'ERROR', message: `failed: ${h.ctx().problem}` });
    expect(h.isActive('awaitPidFile')).toBe(false);
    expect(h.signals).toEqual([]); // `run` is already gone
  });

  it('a final PID_PROBLEM (this run named a process it may not): stopped.failed at once with that reason; stopped meanwhile: idle', () => {
    const reason = 'pid file /run/web.pid names pid 999, owned by root (uid 0): another user than the profile\'s (nobody), and not from its run; not trusted';
    const h = harness();
    h.configure(daemon({ startTimeoutMs: 5000 }));
    h.send({ type: 'PID_MISSING' });
    h.spawned(200);
    h.exited(200, 0);
    h.send({ type: 'PID_PROBLEM', reason, final: true });
    expect(h.state()).toBe('stopped.failed');
    expect(h.ctx().problem).toBe(reason);
    expect(h.logs.at(-1)).toEqual({ level: 'ERROR', message: `failed: ${reason}` });
    expect(h.isActive('awaitPidFile')).toBe(false);
    const stopped = harness();
    stopped.configure(daemon({ startTimeoutMs: 5000 }));
    stopped.send({ type: 'PID_MISSING' });
    stopped.spawned(200);
    stopped.exited(200, 0);
    stopped.send({ type: 'STOP' });
    stopped.send({ type: 'PID_PROBLEM', reason, final: true });
    expect(stopped.state()).toBe('stopped.idle');
    expect(stopped.messages().at(-1)).toBe(`stopped: ${reason}`);
  });

  it('ADOPT: a process left by the last supervisor is running at once, watched as not ours; an edit restarts it', () => {
    const h = harness();
    const old = makeConfig({ restart: 'always' });
    h.send({ type: 'ADOPT', proc: proc(77, false), config: old, since: 123, ready: true });
    expect(h.state()).toBe('running');
    expect(h.ctx()).toMatchObject({ proc: proc(77, false), runningSince: 123, config: old });
    expect(h.launches).toEqual([]);
    expect(h.invoked.watchPid).toEqual([{ proc: proc(77, false) }]);
    expect(h.messages().at(-1)).toBe('running pid 77 (re-adopted: left running by the last supervisor)');
    h.configure(old); // the profile as it is now: unchanged
    expect(h.state()).toBe('running');
    h.configure(makeConfig({ restart: 'always', fp: { launch: 'launch-2' } }));
    expect(h.state()).toBe('stopping.signalled');
    expect(h.signals).toEqual([{ pid: 77, signal: 'SIGTERM' }]);
  });

  it('STOP while waiting for the pid file: the daemon is stopped once it is known, not left behind', () => {
    const h = harness();
    h.configure(daemon());
    h.send({ type: 'PID_MISSING' });
    h.spawned(200);
    h.exited(200, 0);
    h.send({ type: 'STOP' });
    expect(h.state()).toBe('starting.awaitingPidFile');
    h.pidFound(300);
    expect(h.state()).toBe('stopping.signalled');
    expect(h.signals).toEqual([{ pid: 300, signal: 'SIGTERM' }]);
    h.exited(300, null);
    expect(h.state()).toBe('stopped.idle');
    expect(h.launches).toHaveLength(1);
  });

  it('STOP while waiting for a pid file that never comes: stopped at the start timeout, not failed', () => {
    const h = harness();
    h.configure(daemon({ startTimeoutMs: 5000 }));
    h.send({ type: 'PID_MISSING' });
    h.spawned(200);
    h.exited(200, 0);
    h.send({ type: 'REMOVE' });
    h.advance(5000);
    expect(h.state()).toBe('stopped.idle');
    expect(h.ctx().config).toBeNull();
    expect(h.messages().at(-1)).toBe('stopped (its pid file never named a live process)');
  });

  it('an edit while waiting for the pid file: the daemon is restarted with it once known', () => {
    const h = harness();
    h.configure(daemon());
    h.send({ type: 'PID_MISSING' });
    h.spawned(200);
    h.exited(200, 0);
    const edited = daemon({ fp: { launch: 'launch-2' } });
    h.configure(edited);
    h.pidFound(300);
    expect(h.state()).toBe('stopping.signalled');
    h.exited(300, null);
    expect(h.state()).toBe('starting.probing');
    expect(h.invoked.probePidFile.at(-1)).toEqual({ config: edited });
  });

  it('an edit while probing: probe again with the new profile', () => {
    const h = harness();
    h.configure(daemon());
    const edited = daemon({ pidFile: '/run/other.pid', fp: { launch: 'launch-2' } });
    h.configure(edited);
    expect(h.state()).toBe('starting.probing');
    expect(h.invoked.probePidFile).toEqual([{ config: daemon() }, { config: edited }]);
    expect(h.isActive('probePidFile')).toBe(true);
  });

  it('start timeout while `run` is still running: SIGKILL to it, stopped.failed', () => {
    const h = harness();
    h.configure(daemon());
    h.send({ type: 'PID_MISSING' });
    h.spawned(200);
    h.advance(10_000);
    expect(h.state()).toBe('stopped.failed');
    expect(h.signals).toEqual([{ pid: 200, signal: 'SIGKILL' }]);
    expect(h.ctx().problem).toBe('not running after start_timeout 10s: run did not exit');
    // its late exit is ignored
    h.exited(200, null, 'SIGKILL');
    expect(h.state()).toBe('stopped.failed');
  });

  it('adoption: probing → PID_FOUND (adopted) → running, nothing launched', () => {
    const h = harness();
    h.configure(daemon());
    h.pidFound(300, true);
    expect(h.state()).toBe('running');
    expect(h.launches).toEqual([]);
    expect(h.ctx().proc).toEqual(proc(300, false));
    expect(h.messages()).toEqual(['running pid 300 (adopted: its pid file named a live process)']);
  });

  it('ignores EXITED for another pid while `run` is launched', () => {
    const h = harness();
    h.configure(daemon());
    h.send({ type: 'PID_MISSING' });
    h.spawned(200);
    h.exited(999, 1);
    expect(h.state()).toBe('starting.launched');
    expect(h.ctx().crashes).toBe(0);
  });

  it('STOP while `run` is launched: stops `run`', () => {
    const h = harness();
    h.configure(daemon());
    h.send({ type: 'PID_MISSING' });
    h.spawned(200);
    h.send({ type: 'STOP' });
    expect(h.state()).toBe('stopping.signalled');
    expect(h.signals).toEqual([{ pid: 200, signal: 'SIGTERM' }]);
    h.exited(200, null, 'SIGTERM');
    expect(h.state()).toBe('stopped.idle');
  });

  it('a new launch fingerprint while `run` is launched: stop it and start again', () => {
    const h = harness();
    h.configure(daemon());
    h.send({ type: 'PID_MISSING' });
    h.spawned(200);
    h.configure(daemon({ fp: { launch: 'launch-2' } }));
    expect(h.state()).toBe('stopping.signalled');
    h.exited(200, null, 'SIGTERM');
    expect(h.state()).toBe('starting.probing');
  });
});

// ---------------------------------------------------------------- log lines

describe('log lines', () => {
  it('write every pid as `pid N`', () => {
    const h = harness();
    h.run(makeConfig({ restart: 'always', stopTimeoutMs: 1000 }), 4242);
    h.die(4242, 10, 1); // crash
    h.advance(100);
    h.spawned(4343);
    h.send({ type: 'RELOAD' });
    h.send({ type: 'SIGNAL', signal: 'SIGUSR1' });
    h.send({ type: 'INVALID', reason: 'bad' });
    h.send({ type: 'STOP' });
    h.advance(1000); // killed
    h.advance(KILL_GRACE_MS); // given up
    expect(h.state()).toBe('stopped.idle');
    h.configure(makeConfig({ pidFile: '/run/web.pid', fp: { launch: 'launch-2' } }));
    h.send({ type: 'START' });
    h.pidFound(4444, true);
    expect(h.state()).toBe('running');

    const messages = h.messages();
    expect(messages.length).toBeGreaterThan(8);
    for (const message of messages) {
      for (const match of message.matchAll(/\b(4242|4343|4444)\b/g)) {
        expect(message.slice(0, match.index), message).toMatch(/pid $/);
      }
    }
    expect(messages.filter((m) => /\b(4242|4343|4444)\b/.test(m)).length).toBe(messages.length);
  });

  it("uses the SPEC's phrases", () => {
    const h = harness();
    h.run(makeConfig({ restart: 'always' }), 4242);
    h.die(4242, 300, 1);
    h.advance(100);
    h.spawned(4243);
    h.send({ type: 'STOP' });
    h.exited(4243, null, 'SIGTERM');
    expect(h.logs).toContainEqual({ level: 'INFO', message: 'running pid 4242' });
    expect(h.logs).toContainEqual({ level: 'WARN', message: 'exited pid 4242 code 1 after 300ms; restarting in 100ms (crash 1 of 10)' });
    expect(h.logs).toContainEqual({ level: 'INFO', message: 'stopped pid 4243' });
  });
});
