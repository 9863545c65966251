import { spawn } from 'node:child_process';
import { escapeValue, quote } from '../log/escape.js';
import { openSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger, type Logger } from '../log/logger.js';
import { parseLevel } from '../vocabulary/levels.js';
import { controlSocketPath } from '../control/protocol.js';
import { HOOK_DEFAULTS, listHooks } from '../hooks/list.js';
import type { HookRunner } from '../hooks/runner.js';
import { loadNative, nativeUnavailableReason } from '../process/native.js';
import { startReaper, trackedChildren } from '../process/reaper.js';
import { outputPipePath } from '../output/paths.js';
import { reportOutputTo } from '../output/sinks.js';
import { EventLog } from '../supervisor/event-log.js';
import { HeldProfiles } from '../supervisor/holds.js';
import { ServiceRecords } from '../supervisor/records.js';
import { acquireStateDir, liveSupervisorPid, prepareStateDir, writeCliShim } from '../supervisor/state-dir.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { SUPERVISE_PARSE } from './supervise-options.js';
import { EXIT, UsageError, firstSentence } from './usage.js';
import { tuneV8ForIdle } from './v8-tuning.js';
import { exitOnUncaught, installSignals, installTestThrow, shutdownOn } from './supervise-exit.js';

interface SuperviseArgs {
  stateDir: string;
  profilesDir: string;
  foreground: boolean;
  daemonChild: boolean;
  logLevel: ReturnType<typeof parseLevel>;
  logPath: string | undefined;
  rescanIntervalMs: number;
  /** Reap orphans (implied as PID 1). */
  reaper: boolean;
  /** --hooks DIR: run every executable in it on each event. */
  hooksDir: string | undefined;
  hookTimeoutMs: number;
  /** --http ADDR, as given: parsed by src/http (loaded only then). */
  http: string | undefined;
  raw: string[];
}

function parse(argv: string[]): SuperviseArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: SUPERVISE_PARSE });
  } catch (error) {
    throw new UsageError(firstSentence((error as Error).message));
  }
  const { positionals } = parsed;
  const values = parsed.values as Record<string, string | boolean | undefined> & { 'log-level'?: string; 'log-path'?: string; 'rescan-interval'?: string; hooks?: string; 'hook-timeout'?: string };
  if (positionals.length !== 2) throw new UsageError('supervise takes STATE_DIR and PROFILES_DIR');
  const logLevel = parseLevel(values['log-level'] ?? (values.debug === true ? 'DEBUG' : 'INFO'));
  if (!logLevel) throw new UsageError(`--log-level must be DEBUG, INFO, WARN, ERROR or FATAL, not ${quote(values['log-level'] ?? '')}`);
  const rescan = Number(values['rescan-interval'] ?? 300);
  if (!(rescan > 0)) throw new UsageError('--rescan-interval takes a number of seconds above 0');
  const hookTimeout = Number(values['hook-timeout'] ?? HOOK_DEFAULTS.timeoutMs / 1000);
  if (!(hookTimeout > 0)) throw new UsageError('--hook-timeout takes a number of seconds above 0');
  const hooksDir = values.hooks === undefined ? undefined : resolve(values.hooks);
  if (hooksDir !== undefined) {
    // Fail fast, on the terminal, before daemonizing: a mistyped DIR would silently mean no crash mail.
    try {
      listHooks(hooksDir);
    } catch (error) {
      throw new UsageError(`--hooks ${quote(hooksDir)}: ${(error as Error).message}`);
    }
  }
  return {
    stateDir: resolve(positionals[0]!),
    profilesDir: resolve(positionals[1]!),
    foreground: values.foreground === true || values['daemon-child'] === true,
    daemonChild: values['daemon-child'] === true,
    logLevel,
    logPath: values['log-path'] ? resolve(values['log-path']) : undefined,
    rescanIntervalMs: rescan * 1000,
    reaper: values.reaper === true || process.pid === 1,
    hooksDir,
    hookTimeoutMs: hookTimeout * 1000,
    http: values.http as string | undefined,
    raw: argv,
  };
}

const alreadyRunning = (stateDir: string, pid: number | null): string =>
  `proclaunch: already running for ${stateDir}${pid ? ` as pid ${pid}` : ' (its pid file is not written yet)'}\n`;

/**
 * Detach: start ourselves again in a new session with --daemon-child and wait
 * for it to say whether it owns STATE_DIR, so that the exit status and the
 * "already running" line are right.
 */
async function daemonize(args: SuperviseArgs): Promise<number> {
  const owner = liveSupervisorPid(args.stateDir);
  if (owner) {
    process.stdout.write(alreadyRunning(args.stateDir, owner));
    return EXIT.ok;
  }
  const logPath = args.logPath ?? join(args.stateDir, 'proclaunch.log');
  const script = fileURLToPath(new URL('./main.js', import.meta.url));
  const childArgs = [script, 'supervise', '--daemon-child', '--log-path', logPath, ...args.raw.filter((a) => a !== '--foreground' && a !== '-f')];
  const stderr = openSync(logPath, 'a', 0o640);
  const child = spawn(process.execPath, childArgs, { detached: true, stdio: ['ignore', 'ignore', stderr, 'ipc'] });
  const reply = await new Promise<{ type: string; pid?: number | null; message?: string }>((done) => {
    child.once('message', (message) => done(message as { type: string }));
    child.once('exit', (code) => done({ type: 'error', message: `the daemon exited with code ${code} before it was ready; see ${logPath}` }));
  });
  child.disconnect?.();
  child.unref();
  if (reply.type === 'ready') return EXIT.ok;
  if (reply.type === 'owned') {
    process.stdout.write(alreadyRunning(args.stateDir, reply.pid ?? null));
    return EXIT.ok;
  }
  process.stderr.write(`proclaunch: ${reply.message}\n`);
  return EXIT.failed;
}

/**
 * PID 1 (a container) or --reaper: orphans reparented to us are reaped, so a
 * service that leaves grandchildren behind leaves no zombies.
 */
function startReaping(logger: Logger): void {
  const reaper = startReaper({
    native: loadNative(),
    ourChildren: () => trackedChildren,
    onReaped: (pid, status) => logger.log('DEBUG', 'proclaunch', `reaped orphan pid ${pid} (${status.signal ?? `code ${status.code}`})`),
  });
  if (reaper) logger.log('INFO', 'proclaunch', `reaping orphans${process.pid === 1 ? ' (running as PID 1)' : ' (subreaper)'}`);
  else logger.log('WARN', 'proclaunch', `cannot reap orphans, they will stay zombies: ${nativeUnavailableReason()}`);
}

/** --hooks DIR: hook output goes to STATE_DIR/hooks.log (logs/hooks.log would be the log of a profile named `hooks`). */
async function startHooks(args: SuperviseArgs, logger: Logger, eventLog: EventLog): Promise<HookRunner> {
  const { HookRunner } = await import('../hooks/runner.js');
  const runner = new HookRunner({
    dir: args.hooksDir!,
    outputPath: join(args.stateDir, 'hooks.log'),
    outputPipe: outputPipePath(args.stateDir, join(args.stateDir, 'hooks.log'), 'proclaunch'),
    logger,
    timeoutMs: args.hookTimeoutMs,
    env: { PROCLAUNCH_STATE: args.stateDir },
  });
  eventLog.subscribe((record) => runner.handle(record));
  return runner;
}

type HttpModule = typeof import('../http/index.js');

/** The HTTP side, or null once the reason is told (on stderr, or to the waiting parent; and in the log file, if there is one). */
async function startHttpOrFail(http: HttpModule, options: Parameters<HttpModule['startHttp']>[0], args: SuperviseArgs): Promise<Awaited<ReturnType<HttpModule['startHttp']>> | null> {
  try {
    return await http.startHttp(options);
  } catch (error) {
    const message = (error as Error).message;
    if (args.logPath !== undefined) options.logger.log('ERROR', 'proclaunch', message);
    if (args.daemonChild) {
      process.send?.({ type: 'error', message });
      process.disconnect?.();
    } else process.stderr.write(`proclaunch: ${escapeValue(message)}\n`);
    return null;
  }
}

export async function supervise(argv: string[]): Promise<number> {
  tuneV8ForIdle();
  const args = parse(argv);
  // Nothing of src/http is loaded without --http (not even its address parser).
  const http = args.http === undefined ? null : await import('../http/index.js');
  const httpAddress = http?.parseHttpAddress(args.http!) ?? null;
  if (httpAddress instanceof Error) throw new UsageError(httpAddress.message);
  prepareStateDir(args.stateDir);
  if (!args.foreground) return daemonize(args);

  const tell = (message: object) => process.send?.(message);
  const ownership = await acquireStateDir(args.stateDir);
  if (!ownership.owned) {
    if (args.daemonChild) tell({ type: 'owned', pid: ownership.ownerPid });
    else process.stdout.write(alreadyRunning(args.stateDir, ownership.ownerPid));
    return EXIT.ok;
  }
  if (args.daemonChild) process.chdir('/'); // do not hold a mount busy
  // A daemon's stderr is its log (Node's own fatal messages): it follows the log's rotation.
  const onRotate = args.daemonChild ? (fd: number) => loadNative()?.dup2(fd, 2) : undefined;
  const logger = createLogger({ path: args.logPath, level: args.logLevel ?? 'INFO', onRotate });
  reportOutputTo((level, message) => logger.log(level, 'proclaunch', message));
  const eventLog = new EventLog(join(args.stateDir, 'events.log'));
  const holds = new HeldProfiles(join(args.stateDir, 'held'));
  const records = new ServiceRecords(args.stateDir);
  process.env.PROCLAUNCH_BIN = writeCliShim(args.stateDir, fileURLToPath(new URL('./main.js', import.meta.url)));
  const supervisor = new Supervisor({ stateDir: args.stateDir, profilesDir: args.profilesDir, logger, eventLog, holds, records, rescanIntervalMs: args.rescanIntervalMs });
  // Subscribed before start: the `added` and `started` events of start-up run hooks too.
  const hooks = args.hooksDir === undefined ? null : await startHooks(args, logger, eventLog);
  const socketPath = controlSocketPath(args.stateDir);
  let closeControl = () => {};
  let closeHttp = () => {};
  const release = () => {
    hooks?.kill(); // detached: a hook still running would outlive us
    closeHttp();
    closeControl();
    ownership.release();
  };
  exitOnUncaught(logger, release);
  installTestThrow();
  const shutdown = shutdownOn(supervisor, logger, release, async () => hooks?.close());
  installSignals(supervisor, logger, eventLog, shutdown);
  if (args.reaper) startReaping(logger);
  // The control side is loaded after the services are started (it is not on the way to the first spawn), unless --http needs it first.
  const loadHandler = async () =>
    (await import('../control/handlers.js')).controlHandler({ supervisor, eventLog, quit: (leave, by) => shutdown('quit', leave, by), dirs: { stateDir: args.stateDir, profilesDir: args.profilesDir } });
  let handle = http ? await loadHandler() : null;
  // Bound before any service starts: an address that cannot be bound is one line and exit 1, with nothing started.
  const httpSide = http && httpAddress && handle ? await startHttpOrFail(http, { address: httpAddress, stateDir: args.stateDir, supervisor, eventLog, handle, logger }, args) : null;
  if (http && !httpSide) {
    release();
    return EXIT.failed;
  }
  if (httpSide) closeHttp = () => httpSide.close();
  await supervisor.start();
  httpSide?.started();
  handle ??= await loadHandler();
  const { startControlServer } = await import('../control/server.js');
  const control = await startControlServer(socketPath, handle, {
    onError: (message) => logger.log('WARN', 'proclaunch', message),
  });
  closeControl = () => {
    control.close();
    rmSync(socketPath, { force: true });
  };
  logger.log('INFO', 'proclaunch', `control socket ${socketPath}`);
  if (args.daemonChild) {
    tell({ type: 'ready' });
    process.disconnect?.();
  }
  return -1;
}
