// The service machine's test harness: no processes, no timers of the real
// world. Effects are fakes that record what the machine asked for; the test
// plays the world by sending SPAWNED, EXITED, PID_FOUND, ... itself, and moves
// time with xstate's SimulatedClock (every `after` delay runs on it).
import { createActor, fromCallback, SimulatedClock, type StateValue } from 'xstate';
import { expect } from 'vitest';
import {
  serviceMachine, type FinishInput, type NotifyListenInput, type ProbeInput, type ReadyFdInput, type ServiceEmitted, type ServiceEvent, type WatchedProc,
} from '../../src/machine/service-machine.js';
import { CRASH_LIMIT, backoffMs } from '../../src/machine/policy.js';
import { stateText } from '../../src/machine/state-name.js';
import type { Fingerprint, ServiceConfig } from '../../src/profile/types.js';

export type ConfigOverrides = Partial<Omit<ServiceConfig, 'fingerprint'>> & { fp?: Partial<Fingerprint> };

/** A config for `web` whose fingerprints the test controls (`fp`), to simulate edits. */
export function makeConfig(overrides: ConfigOverrides = {}): ServiceConfig {
  const { fp, ...rest } = overrides;
  return {
    name: 'web', tag: 'web', instance: null, dir: '/profiles/web', runPath: '/profiles/web/run',
    finishPath: null, pidFile: null, restart: 'never', down: false,
    stopSignal: 'SIGTERM', stopTimeoutMs: 10_000, startTimeoutMs: 10_000, startDelayMs: 0, restartDelayMs: 0,
    reloadSignal: null, user: null, env: {}, watch: [],
    stdout: '/state/logs/web.log', stderr: '/state/logs/web.log',
    readiness: { kind: 'none' }, readyTimeoutMs: 60_000, needs: [], health: null,
    ...rest,
    fingerprint: { launch: 'launch-1', watch: 'watch-1', policy: 'policy-1', ...fp },
  };
}

export const proc = (pid: number, child = true): WatchedProc => ({ pid, startTime: 5000 + pid, pgid: pid, child });

/** Every active leaf: `{ stopping: { signal: 'killed', next: 'restart' } }` → `stopping.signal.killed+stopping.next.restart`. */
export function leaves(value: StateValue, prefix = ''): string[] {
  if (typeof value === 'string') return [`${prefix}${value}`];
  return Object.entries(value).flatMap(([key, child]) =>
    child === undefined || (typeof child === 'object' && Object.keys(child).length === 0) ? [`${prefix}${key}`] : leaves(child, `${prefix}${key}.`));
}

export type InvokedName = 'probePidFile' | 'awaitPidFile' | 'watchPid' | 'runFinish' | 'awaitReadyFd' | 'probeReady' | 'listenNotify' | 'probeHealth';

/** A started service actor with recording fakes, a simulated clock and shortcuts to play the world. */
export function harness() {
  const clock = new SimulatedClock();
  clock.set(1_000_000); // event `at` values far from 0
  const launches: ServiceConfig[] = [];
  const prepared: ServiceConfig[] = [];
  const signals: Array<{ pid: number | undefined; signal: NodeJS.Signals }> = [];
  const leftovers: number[] = [];
  const released: string[] = [];
  const invoked: Record<InvokedName, unknown[]> = {
    probePidFile: [], awaitPidFile: [], watchPid: [], runFinish: [], awaitReadyFd: [], probeReady: [], listenNotify: [], probeHealth: [],
  };
  const active = new Map<InvokedName, number>();
  const logs: Array<Omit<ServiceEmitted, 'type'>> = [];

  /** A callback actor that records its input and whether it is still running (a null input: nothing to do, not recorded). */
  const fake = <I>(name: InvokedName) =>
    fromCallback<ServiceEvent, I>(({ input }) => {
      if (input === null) return undefined;
      invoked[name].push(input);
      active.set(name, (active.get(name) ?? 0) + 1);
      return () => active.set(name, (active.get(name) ?? 1) - 1);
    });

  const machine = serviceMachine.provide({
    actions: {
      launch: (_args, { config }) => void launches.push(config),
      prepare: (_args, { config }) => void prepared.push(config),
      signal: (_args, { proc: p, signal }) => void signals.push({ pid: p?.pid, signal }),
      killLeftovers: (_args, { proc: p }) => void leftovers.push(p.pid),
      release: (_args, { tag }) => void released.push(tag),
    },
    actors: {
      probePidFile: fake<{ config: ServiceConfig }>('probePidFile'),
      awaitPidFile: fake<{ config: ServiceConfig }>('awaitPidFile'),
      watchPid: fake<{ proc: WatchedProc | null }>('watchPid'),
      runFinish: fake<FinishInput>('runFinish'),
      awaitReadyFd: fake<ReadyFdInput | null>('awaitReadyFd'),
      probeReady: fake<ProbeInput | null>('probeReady'),
      listenNotify: fake<NotifyListenInput | null>('listenNotify'),
      probeHealth: fake<ProbeInput | null>('probeHealth'),
    },
  });

  const actor = createActor(machine, { input: { tag: 'web' }, clock });
  actor.on('log', ({ level, message }) => void logs.push({ level, message }));
  actor.subscribe({ error: () => undefined }); // errors are checked through the snapshot below
  actor.start();

  const snapshot = () => {
    const s = actor.getSnapshot();
    if (s.status === 'error') throw s.error;
    return s;
  };

  const h = {
    actor, clock, launches, prepared, signals, leftovers, released, invoked, logs,
    send: (event: ServiceEvent) => actor.send(event),
    /** As `status` shows it: `stopped.failed`, `stopping.signalled`. */
    state: () => stateText(snapshot()),
    /** The whole state value, for the substates `status` does not show. */
    fullState: () => leaves(snapshot().value).join('+'),
    ctx: () => snapshot().context,
    tags: () => [...snapshot().tags].sort(),
    isActive: (name: InvokedName) => (active.get(name) ?? 0) > 0,
    messages: () => logs.map((l) => l.message),
    advance: (ms: number) => clock.increment(ms),
    configure: (config: ServiceConfig, touched = false) => actor.send({ type: 'CONFIGURE', config, touched }),
    spawned: (pid: number) => actor.send({ type: 'SPAWNED', proc: proc(pid), at: clock.now() }),
    exited: (pid: number, code: number | null = 0, signal: NodeJS.Signals | null = null) =>
      actor.send({ type: 'EXITED', pid, code, signal, at: clock.now() }),
    finished: (code: number | null, signal: NodeJS.Signals | null = null) => actor.send({ type: 'FINISHED', code, signal }),
    pidFound: (pid: number, adopted = false) =>
      actor.send({ type: 'PID_FOUND', proc: proc(pid, false), at: clock.now(), adopted }),
    /** The readiness actor says so. */
    ready: (via: 'notification-fd' | 'notify' | 'ready' = 'notify') => actor.send({ type: 'READY', via, at: clock.now() }),
    needs: (unmet: string | null) => actor.send({ type: 'NEEDS', unmet }),
    unhealthy: (reason: string) => actor.send({ type: 'UNHEALTHY', reason, at: clock.now() }),
    /** The last input an actor was invoked with (null: none yet). */
    lastInput: <T = unknown>(name: InvokedName) => (invoked[name].at(-1) ?? null) as T | null,
    /** CONFIGURE a fresh service and let it reach `running` with `pid`. */
    run: (config: ServiceConfig, pid: number) => {
      h.configure(config);
      h.spawned(pid);
      expect(h.state()).toBe('running');
    },
    /** CONFIGURE a fresh readiness service, spawn `pid`, and let it say it is ready. */
    runReady: (config: ServiceConfig, pid: number) => {
      h.configure(config);
      h.spawned(pid);
      expect(h.state()).toBe('starting.awaitingReady');
      h.ready();
      expect(h.state()).toBe('running');
    },
    /** CONFIGURE a fresh service and crash it CRASH_LIMIT times in a row: stopped.failed. */
    crashLoop: (config: ServiceConfig) => {
      h.run(config, 1);
      for (let pid = 1; pid <= CRASH_LIMIT; pid++) {
        h.die(pid, 10, 1);
        if (pid < CRASH_LIMIT) {
          h.advance(backoffMs(pid));
          h.spawned(pid + 1);
        }
      }
    },
    /** The running process `pid` dies after `uptimeMs` (a crash if < 1 s). */
    die: (pid: number, uptimeMs: number, code: number | null = 1, signal: NodeJS.Signals | null = null) => {
      h.advance(uptimeMs);
      h.exited(pid, code, signal);
    },
  };
  return h;
}

export type Harness = ReturnType<typeof harness>;
