// The machine's effects on the real world: this is where processes are
// spawned, signalled and watched. Everything here reports back with events.
import { fromCallback } from 'xstate';
import { hookEnv } from '../hooks/env.js';
import { timestamp } from '../log/logger.js';
import type {
  FinishInput, NotifyListenInput, ProbeInput, ReadyFdInput, ServiceEvent, WatchedProc, serviceMachine,
} from '../machine/service-machine.js';
import { signalName, signalNumber } from '../profile/signals.js';
import { execFailure } from './exec-failure.js';
import type { ServiceConfig } from '../profile/types.js';
import { readPidFile, refusedPid, startedAfterWritten, untrustedPid, type LastRun, type PidTrust } from './pidfile.js';
import type { PidWatcher } from './pid-watch.js';
import { killGroupLeftovers, readStat, signalService } from './proc.js';
import {
  awaitReadyFd, holdReadiness, listenNotify, prepareReadiness, probeHealth, probeReady, releaseReadiness, type ReadinessEvent, type ReadinessFiles, type ReadinessSetup,
} from './readiness-effects.js';
import { spawnService } from './spawn.js';

export interface EffectsOptions {
  pidWatcher: PidWatcher;
  /** Told to services as PROCLAUNCH_STATE. */
  stateDir: string;
  /** How often to look at a pid file while a daemon starts (only during `start_timeout`). */
  pidFilePollMs?: number;
  warn(tag: string, message: string): void;
  /** The last `run` of each tag (given, so that the supervisor can drop a tag it lets go of). */
  lastRun?: Map<string, LastRun>;
}

type Send = (event: ServiceEvent) => void;

/** What the profile's readiness files ask of a fresh run (prepareReadiness's terms). */
function readinessFiles(config: ServiceConfig): ReadinessFiles {
  const readiness = config.readiness ?? { kind: 'none' };
  return {
    notificationFd: readiness.kind === 'fd' ? readiness.fd : null,
    notify: readiness.kind === 'notify',
    watchdogMs: readiness.kind === 'notify' ? readiness.watchdogMs : null,
  };
}

export interface LaunchHooks {
  /** The run's pid, once spawned; `at`: taken just before the spawn (so never after anything the run did). */
  onSpawn?(pid: number, at: number): void;
  warn?(message: string): void;
  /** The service named another main pid (MAINPID=): the run's exit must not take its process group with it. */
  mainMoved?(runPid: number): boolean;
}

export function launch(config: ServiceConfig, stateDir: string, send: Send, hooks: LaunchHooks = {}): void {
  let readiness: ReadinessSetup;
  try {
    // Also for a profile without readiness: NOTIFY_SOCKET from our own environment is not the service's.
    readiness = prepareReadiness(stateDir, config.tag, readinessFiles(config));
  } catch (error) {
    send({ type: 'SPAWN_FAILED', reason: `cannot prepare readiness: ${(error as Error).message}` });
    return;
  }
  if (readiness.warning) hooks.warn?.(readiness.warning);
  let child;
  const spawnedAt = Date.now(); // the 'spawn' event may come after the run has written its pid file
  try {
    child = spawnService({ ...config, env: { ...config.env, ...readiness.env } }, stateDir, [], readiness.extraFds);
  } catch (error) {
    send({ type: 'SPAWN_FAILED', reason: `cannot open output: ${(error as Error).message}` });
    return;
  } finally {
    readiness.close();
  }
  // The same tick as the spawn: what it sends on its notify socket before SPAWNED reaches the machine is kept.
  if (child.pid !== undefined) readiness.spawned({ pid: child.pid, uid: config.user?.uid ?? null });
  child.once('error', (error: NodeJS.ErrnoException) => {
    const { reason, missing } = execFailure(config.runPath, error);
    send(missing ? { type: 'SPAWN_FAILED', reason, runMissing: true } : { type: 'SPAWN_FAILED', reason });
  });
  child.once('spawn', () => {
    const pid = child.pid!;
    hooks.onSpawn?.(pid, spawnedAt);
    const stat = readStat(pid);
    send({ type: 'SPAWNED', proc: { pid, startTime: stat?.startTime ?? null, pgid: pid, child: true }, at: Date.now() });
  });
  // `exit`, not `close`: a grandchild holding stdout would delay `close`.
  child.once('exit', (code, signal) => {
    if (!config.pidFile && !hooks.mainMoved?.(child.pid!)) killGroupLeftovers(child.pid!);
    send({ type: 'EXITED', pid: child.pid!, code, signal, at: Date.now() });
  });
}

/** A readiness actor's report, as the machine's event (with the time where the machine keeps one). */
const reported = (sendBack: Send) => (event: ReadinessEvent): void =>
  sendBack(event.type === 'READY' || event.type === 'UNHEALTHY' ? { ...event, at: Date.now() } : event);

/**
 * Run `finish EXITCODE SIGNAL` (s6: exit code or -1, signal number or 0) in
 * the profile directory, with the service's environment plus an event hook's,
 * its output where the service's goes. Returns the cleanup: kill it if it is
 * still running (the machine gave up on it, or the profile went away).
 */
export function runFinish({ config, exit, event }: FinishInput, stateDir: string, send: Send): () => void {
  const record = { time: timestamp(), event, profile: config.tag, pid: exit.pid, code: exit.code, signal: exit.signal === null ? null : signalName(exit.signal) };
  const finishConfig = { ...config, runPath: config.finishPath!, env: { ...config.env, ...hookEnv(record) } };
  const args = [String(exit.code ?? -1), String(exit.signal === null ? 0 : signalNumber(exit.signal))];
  let done = false;
  let child;
  try {
    child = spawnService(finishConfig, stateDir, args);
  } catch (error) {
    send({ type: 'FINISHED', code: null, signal: null, error: `cannot open output: ${(error as Error).message}` });
    return () => undefined;
  }
  child.once('error', (error: NodeJS.ErrnoException) => {
    done = true;
    send({ type: 'FINISHED', code: null, signal: null, error: execFailure(finishConfig.runPath, error).reason });
  });
  child.once('exit', (code, signal) => {
    done = true;
    killGroupLeftovers(child.pid!);
    send({ type: 'FINISHED', code, signal });
  });
  return () => {
    if (done || child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL'); // its own session: the whole group
    } catch {
      // already gone
    }
  };
}

/** The implementations the supervisor gives the machine. */
export function processEffects(options: EffectsOptions): Parameters<typeof serviceMachine.provide>[0] {
  const pollMs = options.pidFilePollMs ?? 20;
  // The last `run` of each tag: a daemon it forked may be named by a pid file we cannot trust otherwise.
  const lastRun = options.lastRun ?? new Map<string, LastRun>();
  const trustOf = (config: ServiceConfig): PidTrust => ({ uid: config.user?.uid ?? null, runPid: lastRun.get(config.tag)?.pid ?? null, user: config.user?.name });
  // Runs (by pid) whose service named another main pid: their exit leaves the group alone. Forgotten at that exit.
  const mainMoved = new Set<number>();
  const { stateDir } = options;
  return {
    actions: {
      launch: ({ self }, { config }) =>
        launch(config, stateDir, (e) => self.send(e), {
          onSpawn: (pid, at) => lastRun.set(config.tag, { pid, at }),
          warn: (message) => options.warn(config.tag, message),
          mainMoved: (pid) => mainMoved.delete(pid),
        }),
      prepare: (_args, { config }) => holdReadiness(stateDir, config.tag, readinessFiles(config)),
      release: (_args, { tag }) => releaseReadiness(stateDir, tag),
      signal: ({ self, context }, { proc, signal }) => {
        if (!proc) return;
        const result = signalService(proc, signal);
        if (!result.ok) {
          options.warn(context.tag, `did not send ${signal} to pid ${proc.pid}: ${result.reason}`);
          // Gone or reused: the service is dead for us, whatever else holds the pid now.
          if (!proc.child) self.send({ type: 'EXITED', pid: proc.pid, code: null, signal: null, at: Date.now() });
        }
      },
      killLeftovers: (_args, { proc }) => {
        if (proc) killGroupLeftovers(proc.pgid);
      },
    },
    actors: {
      probePidFile: fromCallback<ServiceEvent, { config: ServiceConfig }>(({ sendBack, input }) => {
        const reading = readPidFile(input.config.pidFile!);
        const distrust = reading.ok ? untrustedPid(input.config.pidFile!, reading.proc, { uid: input.config.user?.uid ?? null, runPid: null }) : null;
        if (distrust) options.warn(input.config.tag, `not adopted: ${distrust}`);
        if (reading.ok && !distrust && !startedAfterWritten(input.config.pidFile!, reading.proc)) {
          sendBack({ type: 'PID_FOUND', proc: { ...reading.proc, child: false }, at: Date.now(), adopted: true });
        } else {
          sendBack({ type: 'PID_MISSING' });
        }
      }),
      awaitPidFile: fromCallback<ServiceEvent, { config: ServiceConfig }>(({ sendBack, input }) => {
        let lastProblem = '';
        const look = (): boolean => {
          const path = input.config.pidFile!;
          const reading = readPidFile(path);
          const trust = trustOf(input.config);
          const problem = reading.ok ? untrustedPid(path, reading.proc, trust) : reading.reason;
          if (reading.ok && problem === null) {
            sendBack({ type: 'PID_FOUND', proc: { ...reading.proc, child: false }, at: Date.now(), adopted: false });
            return true;
          }
          // Written by this run and naming a process it may not: its answer, not a file still to come. The start fails now.
          const refused = reading.ok && problem !== null ? refusedPid(path, reading.proc, trust, lastRun.get(input.config.tag)?.at ?? null) : null;
          if (refused !== null) {
            sendBack({ type: 'PID_PROBLEM', reason: refused, final: true });
            return true;
          }
          if (problem !== null && problem !== lastProblem) sendBack({ type: 'PID_PROBLEM', reason: (lastProblem = problem) });
          return false;
        };
        if (look()) return undefined;
        // Only while a daemon starts, bounded by start_timeout: the machine stops this actor.
        const timer = setInterval(() => {
          if (look()) clearInterval(timer);
        }, pollMs);
        return () => clearInterval(timer);
      }),
      runFinish: fromCallback<ServiceEvent, FinishInput>(({ sendBack, input }) => runFinish(input, options.stateDir, sendBack)),
      // Invoked only for a process that is not our child (ours: its `exit` event tells us).
      watchPid: fromCallback<ServiceEvent, { proc: WatchedProc }>(({ sendBack, input }) => {
        const { proc } = input;
        return options.pidWatcher.watch(proc, () => sendBack({ type: 'EXITED', pid: proc.pid, code: null, signal: null, at: Date.now() }));
      }),
      // The readiness and health actors: invoked only where the profile has one of that kind.
      awaitReadyFd: fromCallback<ServiceEvent, ReadyFdInput>(({ sendBack, input }) => awaitReadyFd({ stateDir, tag: input.tag }, reported(sendBack))),
      probeReady: fromCallback<ServiceEvent, ProbeInput>(({ sendBack, input }) => {
        const readiness = input.config.readiness;
        if (readiness?.kind !== 'probe') return undefined;
        // Each run is bounded by ready_timeout, by which the start fails anyway.
        const probe = { config: input.config, stateDir, probePath: readiness.path, intervalMs: readiness.intervalMs, timeoutMs: input.config.readyTimeoutMs };
        return probeReady(probe, reported(sendBack));
      }),
      listenNotify: fromCallback<ServiceEvent, NotifyListenInput>(({ sendBack, input }) => {
        const send = reported(sendBack);
        return listenNotify({ stateDir, ...input }, (event) => {
          if (event.type === 'NOTIFY_MAINPID' && lastRun.get(input.tag)?.pid === input.pid) mainMoved.add(input.pid);
          send(event);
        });
      }),
      probeHealth: fromCallback<ServiceEvent, ProbeInput>(({ sendBack, input }) => {
        const health = input.config.health;
        if (!health) return undefined;
        const probe = { config: input.config, stateDir, probePath: health.path, intervalMs: health.intervalMs, timeoutMs: health.timeoutMs, retries: health.retries };
        return probeHealth(probe, reported(sendBack));
      }),
    },
  };
}
