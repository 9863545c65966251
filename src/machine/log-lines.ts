// Every line a service's machine logs, in one table: a transition names its
// line with the `log` action (`log('stopped')`), and the line is built here
// from the context (as the transition's earlier actions left it) and the
// event. README § "Every message a monitoring rule would match" lists them;
// monitoring rules grep for these words, so they change only on purpose.
import { assertEvent } from 'xstate';
import type { Level } from '../vocabulary/levels.js';
import { formatDuration } from '../vocabulary/durations.js';
import { signalName, signalNumber } from '../profile/signals.js';
import { CRASH_LIMIT, KILL_GRACE_MS, backoffMs, describeExit } from './policy.js';
import { quote } from '../log/escape.js';
import { FINISH_NO_RESTART, exitOf, readinessOf } from './guards.js';
import type { MachineArgs, ServiceContext } from './types.js';

interface Line {
  level: Level;
  message: string;
}

const info = (message: string): Line => ({ level: 'INFO', message });
const warn = (message: string): Line => ({ level: 'WARN', message });
const error = (message: string): Line => ({ level: 'ERROR', message });

const pid = (c: ServiceContext): number => c.proc!.pid;
const exited = (c: ServiceContext): string => describeExit(exitOf(c));
const seconds = (ms: number | undefined): string => `${(ms ?? 0) / 1000}s`;

/** How the service will say it is ready: `notification-fd 3`, `notify`, `ready probe`. */
function readinessText(c: ServiceContext): string {
  const readiness = readinessOf(c.config);
  return readiness.kind === 'fd' ? `notification-fd ${readiness.fd}` : readiness.kind === 'notify' ? 'notify' : 'ready probe';
}
const awaitingReady = (c: ServiceContext): string => `waiting until it is ready (${readinessText(c)})`;

/** The last line or so of a probe's output, for a log line. */
const OUTPUT_IN_LOG = 200;
function outputTail(output: string): string {
  const text = output.trimEnd();
  return text.length > OUTPUT_IN_LOG ? `...${text.slice(-OUTPUT_IN_LOG)}` : text;
}

export const LINES = {
  // ---- starting
  startingIn: ({ context }: MachineArgs) => info(`starting in ${formatDuration(context.config!.startDelayMs)} (start_delay)`),
  started: ({ context }: MachineArgs) => info(`started pid ${pid(context)}`),
  startedAwaitingPidFile: ({ context }: MachineArgs) => info(`started pid ${pid(context)}; waiting for pid file ${context.config!.pidFile}`),
  runCrashed: ({ context }: MachineArgs) =>
    warn(`run ${exited(context)} before writing its pid file; restarting in ${backoffMs(context.crashes)}ms (crash ${context.crashes} of ${CRASH_LIMIT})`),
  startedAwaitingReady: ({ context }: MachineArgs) => info(`started pid ${pid(context)}; ${awaitingReady(context)}`),
  foundAwaitingReady: ({ context }: MachineArgs) => info(`pid ${pid(context)} named by its pid file; ${awaitingReady(context)}`),
  readoptedNotReady: ({ context }: MachineArgs) =>
    info(`starting pid ${pid(context)} (re-adopted before it was ready: left by the last supervisor); ${awaitingReady(context)}`),
  /** The coordinator's text (`waiting for db (stopped by command)`), as `status` shows it. */
  waiting: ({ context }: MachineArgs) => {
    const text = context.waitingFor ?? 'waiting for its needs';
    return info(/^waiting\b/.test(text) ? text : `waiting: ${text}`);
  },
  needsMet: () => info('its needs are running and ready; starting'),
  pidFileNeverNamed: () => info('stopped (its pid file never named a live process)'),
  /** Stopped or removed while its pid file was awaited, and that file named a process not to be trusted. */
  pidFileRefused: ({ context }: MachineArgs) => info(`stopped: ${context.problem}`),
  removedBeforeStart: () => info('removed before it started'),
  failed: ({ context }: MachineArgs) => error(`failed: ${context.problem}`),

  // ---- running
  running: ({ context, event }: MachineArgs) =>
    info(`running pid ${pid(context)}${event.type === 'PID_FOUND' && event.adopted ? ' (adopted: its pid file named a live process)' : ''}`),
  readopted: ({ context }: MachineArgs) => info(`running pid ${pid(context)} (re-adopted: left running by the last supervisor)`),
  reloading: ({ context }: MachineArgs) => info(`reloading pid ${pid(context)} with ${context.config?.reloadSignal ?? 'SIGHUP'}`),
  sendingSignal: ({ context, event }: MachineArgs) => {
    assertEvent(event, 'SIGNAL');
    return info(`sending ${event.signal} to pid ${pid(context)}`);
  },
  leftRunning: ({ context }: MachineArgs) => warn(`left running pid ${pid(context)} with its last good profile`),
  reloadingNotified: ({ context }: MachineArgs) => info(`reloading pid ${pid(context)} (RELOADING=1)`),
  reloaded: ({ context }: MachineArgs) => info(`running pid ${pid(context)} (reloaded: READY=1)`),
  /** Before takeMainPid: the event names the new one, the context the old. */
  mainPid: ({ context, event }: MachineArgs) => {
    assertEvent(event, 'NOTIFY_MAINPID');
    return info(`main process is now pid ${event.proc.pid} (MAINPID=; was pid ${pid(context)})`);
  },
  notifyStopping: ({ context }: MachineArgs) => info(`pid ${context.proc?.pid ?? '?'} says it is stopping (STOPPING=1)`),
  notifyIgnored: ({ event }: MachineArgs) => {
    assertEvent(event, 'NOTIFY_IGNORED');
    return warn(`notify message ignored: ${event.reason}`);
  },
  readinessProblem: ({ event }: MachineArgs) => {
    assertEvent(event, 'READINESS_PROBLEM');
    return warn(`readiness: ${event.reason}`);
  },
  /** After noteUnhealthy; names the output of the health run that made it unhealthy (none for the watchdog). */
  unhealthyRestarting: ({ context }: MachineArgs) => {
    const probe = context.lastProbe;
    const health = context.config?.health;
    const output = probe?.probe === 'health' && health && probe.inARow >= health.retries ? `, output ${quote(outputTail(probe.output))}` : '';
    return warn(`unhealthy: ${context.unhealthy?.reason ?? 'unknown'}${output}; restarting pid ${pid(context)}`);
  },

  // ---- stopping
  stopping: ({ context }: MachineArgs) =>
    info(context.proc ? `stopping pid ${context.proc.pid} with ${context.config?.stopSignal ?? 'SIGTERM'}` : 'stopping (waiting for the process to start)'),
  killed: ({ context }: MachineArgs) =>
    warn(`killed pid ${context.proc?.pid ?? '?'} with SIGKILL: still running ${seconds(context.config?.stopTimeoutMs)} after ${context.config?.stopSignal ?? 'SIGTERM'}`),
  gaveUp: ({ context }: MachineArgs) =>
    error(`gave up on pid ${context.proc?.pid ?? '?'}: still there ${KILL_GRACE_MS / 1000}s after SIGKILL (stuck in the kernel?)`),
  stopped: ({ context }: MachineArgs) => info(`stopped pid ${pid(context)}`),

  // ---- finish
  finishRunning: ({ context }: MachineArgs) => {
    const { code, signal } = exitOf(context);
    return info(`running finish ${code ?? -1} ${signal === null ? 0 : signalNumber(signal)}`);
  },
  finishEnded: ({ context, event }: MachineArgs) => {
    assertEvent(event, 'FINISHED');
    if (event.killed) return warn(`finish killed: still running after ${seconds(context.config?.stopTimeoutMs)}`);
    if (event.error) return warn(`finish could not run: ${event.error}`);
    const message = `finish exited ${event.signal ? `signal ${signalName(event.signal)}` : `code ${event.code}`}`;
    // 125 is finish saying "do not restart": an answer, not a problem.
    return event.code === 0 || event.code === FINISH_NO_RESTART ? info(message) : warn(message);
  },

  // ---- an exit of its own, decided
  notRestartingFinish: ({ context }: MachineArgs) => info(`${exited(context)}; not restarting (finish exited ${FINISH_NO_RESTART})`),
  notRestarting: ({ context }: MachineArgs) =>
    info(`${exited(context)}; not restarting (${context.config?.restart === 'on-failure' ? 'restart is on-failure' : 'no restart file'})`),
  restartingIn: ({ context }: MachineArgs) => info(`${exited(context)}; restarting in ${formatDuration(context.delayMs)}`),
  restartingNow: ({ context }: MachineArgs) => info(`${exited(context)}; restarting now`),
  /** Stopped after an exit the old policy let be; the new reading's `restart` covers it. */
  restartingOnNewPolicy: ({ context }: MachineArgs) => info(`${exited(context)}; restarting now (its restart file now asks for it)`),
  crashRestarting: ({ context }: MachineArgs) =>
    warn(`${exited(context)}; restarting in ${backoffMs(context.crashes)}ms (crash ${context.crashes} of ${CRASH_LIMIT})`),
  failedAfterExit: ({ context }: MachineArgs) => error(`${exited(context)}; failed: ${context.problem}`),
} satisfies Record<string, (args: MachineArgs) => Line>;

export type LineName = keyof typeof LINES;
