// How the supervisor's own process ends: a signal or `quit` (stopping the
// services, or leaving them running), and an exception nobody caught.
import { flushSinks } from '../output/sinks.js';
import type { Logger } from '../log/logger.js';
import type { EventLog } from '../supervisor/event-log.js';
import type { Supervisor } from '../supervisor/supervisor.js';

/**
 * How the supervisor ends: by signal or by `quit`, stopping services or
 * leaving them running. `settle` runs after the services have stopped (hooks
 * finishing), unless a second signal comes.
 */
export function shutdownOn(supervisor: Supervisor, logger: Logger, release: () => void, settle: () => Promise<void>): (why: string, leaveRunning: boolean, by?: string) => void {
  let stopping = false;
  const exit = () => {
    logger.log('INFO', 'proclaunch', `exiting pid ${process.pid}`);
    // What the services said last, out of their FIFOs (else it waits there for the next supervisor).
    if (!flushSinks(1000)) logger.log('WARN', 'proclaunch', 'exiting with service output still in its pipes (a service still floods); the next supervisor writes it');
    release();
    process.exit(0);
  };
  return (why, leaveRunning, by) => {
    if (stopping || leaveRunning) {
      logger.log('WARN', 'proclaunch', `${why}${stopping ? ' again' : ''}: exiting now, leaving services running`);
      exit();
      return;
    }
    stopping = true;
    logger.log('INFO', 'proclaunch', `${why}: stopping every service`);
    void supervisor.stopAll(by).then(settle).then(exit);
  };
}

export function installSignals(supervisor: Supervisor, logger: Logger, eventLog: EventLog, shutdown: (why: string, leaveRunning: boolean) => void): void {
  const stop = (signal: NodeJS.Signals) => shutdown(signal, false); // a second one leaves services running
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => {
    logger.reopen();
    eventLog.close(); // reopened at the next event: events.log may have been moved away too
    logger.log('INFO', 'proclaunch', 'SIGHUP: log reopened; rescanning');
    void supervisor.rescan();
  });
}

/** EX_SOFTWARE (sysexits.h): an internal error. */
export const EXIT_INTERNAL_ERROR = 70;

/**
 * An exception nobody caught (an actor that throws is not one: the
 * supervisor supervises that one service afresh). Our state can no longer be
 * trusted, so we do not go on: one FATAL line and exit 70, so that init
 * (Restart=always) or the cron line starts a supervisor again. Services are
 * left running — each leads its own session — and their records stay in
 * STATE_DIR/records.jsonl, so the next supervisor re-adopts them.
 */
export function exitOnUncaught(logger: Logger, release: () => void): void {
  const fatal = (what: string, error: unknown) => {
    try {
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
      logger.log('FATAL', 'proclaunch', `${what}: ${text}; exiting with code ${EXIT_INTERNAL_ERROR}, leaving services running for the next supervisor to re-adopt`);
      release();
    } finally {
      process.exit(EXIT_INTERNAL_ERROR);
    }
  };
  process.on('uncaughtException', (error) => fatal('uncaught exception', error));
  process.on('unhandledRejection', (reason) => fatal('unhandled promise rejection', reason));
}

/**
 * A test hook, the only one: with PROCLAUNCH_TEST_THROW=exception (or
 * =rejection) in its environment, the supervisor throws (or leaves a promise
 * rejected) on SIGUSR2, from nowhere in particular — what exitOnUncaught is for.
 */
export function installTestThrow(): void {
  const how = process.env.PROCLAUNCH_TEST_THROW;
  delete process.env.PROCLAUNCH_TEST_THROW; // not handed down to services
  if (how !== 'exception' && how !== 'rejection') return;
  process.on('SIGUSR2', () => {
    const error = new Error(`PROCLAUNCH_TEST_THROW=${how}`);
    if (how === 'rejection') void Promise.reject(error);
    else throw error;
  });
}
