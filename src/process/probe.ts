// One run of a profile's probe (`ready`, `health`: s6-notifyoncheck and
// Docker HEALTHCHECK style): an executable run in the profile directory with
// the service's environment and user, in its own process group, bounded by a
// timeout at which its whole group gets SIGKILL. Its output (stdout and
// stderr together) is read as it comes and only the last 4 KiB kept, so a
// probe that prints megabytes, or forever, costs nothing more.
//
// The output comes through a pipe of the native module's, so that the probe is
// started by its posix_spawn, which takes fds only: Node's spawn, which makes
// its own pipes, forks the whole supervisor. Without the native module: Node's.
import type { ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, statSync } from 'node:fs';
import { execFailure } from './exec-failure.js';
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { ServiceConfig } from '../profile/types.js';
import { formatDuration } from '../vocabulary/durations.js';
import { loadNative } from './native.js';
import { spawnChild } from './native-spawn.js';
import { killGroupLeftovers, readStat, signalService } from './proc.js';
import { trackChild } from './reaper.js';
import { isRoot, serviceArgv, serviceEnv } from './spawn.js';

/** How much of a probe's output is kept: its last bytes, where the reason usually is. */
export const PROBE_OUTPUT_CAP = 4096;

export interface ProbeResult {
  ok: boolean;
  /** Exit code, or null (killed, or never started). */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last PROBE_OUTPUT_CAP bytes of stdout and stderr, as text (raw: escape it where it is written). */
  output: string;
  /** Why it failed, one line; null when ok. */
  reason: string | null;
  timedOut: boolean;
  durationMs: number;
}

/** The last `cap` bytes of a stream of chunks, holding little more than that. */
class Tail {
  #chunks: Buffer[] = [];
  #size = 0;
  constructor(private readonly cap: number) {}

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    while (this.#chunks.length > 1 && this.#size - this.#chunks[0]!.length >= this.cap) this.#size -= this.#chunks.shift()!.length;
  }

  text(): string {
    return Buffer.concat(this.#chunks).subarray(-this.cap).toString('utf8');
  }
}

/** Why `path` cannot be run as a probe, or null. */
function unrunnable(path: string): string | null {
  let stat;
  try {
    stat = statSync(path);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? `${path} does not exist` : `cannot look at ${path}: ${(error as Error).message}`;
  }
  if (!stat.isFile()) return `${path} is not a file`;
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return `${path} is not executable`;
  }
  return (stat.mode & 0o111) === 0 ? `${path} is not executable` : null; // root passes access(X_OK) for any x bit only
}

/** A pipe for the probe's output ({ read, write } fds), or null: Node's spawn then makes its own. */
function outputPipe(): { read: number; write: number } | null {
  const native = loadNative();
  if (!native?.canSpawn || !native.pidfd || !native.pipe) return null;
  try {
    const [read, write] = native.pipe();
    return { read, write };
  } catch {
    return null; // EMFILE and the like: Node's spawn says it better
  }
}

const failed = (reason: string, started: number): ProbeResult => ({ ok: false, code: null, signal: null, output: '', reason, timedOut: false, durationMs: Date.now() - started });

/**
 * Run `probePath` once. `onDone` is called exactly once, never synchronously,
 * unless the returned cancel() comes first (it kills the probe's group and
 * nothing is reported). Never throws for a probe that cannot run: that is a
 * failed result with its reason.
 */
export function runProbe(config: ServiceConfig, stateDir: string, probePath: string, timeoutMs: number, onDone: (result: ProbeResult) => void): () => void {
  const started = Date.now();
  let finished = false;
  const finish = (result: ProbeResult): void => {
    if (finished) return;
    finished = true;
    onDone(result);
  };
  const problem = unrunnable(probePath);
  if (problem) {
    const immediate = setImmediate(() => finish(failed(problem, started)));
    return () => ((finished = true), clearImmediate(immediate));
  }
  const asUser = isRoot() && config.user !== null;
  const [command, args] = serviceArgv({ ...config, runPath: probePath }, asUser);
  const pipe = outputPipe();
  let child: ChildProcess;
  try {
    // detached: its own group, to kill whole. With our pipe's fds, the native spawn; with 'pipe', Node's.
    const stdio: ['ignore', number | 'pipe', number | 'pipe'] = pipe ? ['ignore', pipe.write, pipe.write] : ['ignore', 'pipe', 'pipe'];
    child = spawnChild(command, args, { cwd: config.dir, detached: true, stdio, env: serviceEnv(config, asUser, stateDir) });
  } catch (error) {
    if (pipe) closeSync(pipe.read);
    const immediate = setImmediate(() => finish(failed(execFailure(probePath, error as NodeJS.ErrnoException).reason, started)));
    return () => ((finished = true), clearImmediate(immediate));
  } finally {
    if (pipe) closeSync(pipe.write); // the probe has its own copy: at its end (and its group's), the read end sees EOF
  }
  trackChild(child); // the reaper (PID 1, --reaper) must leave it to us
  const tail = new Tail(PROBE_OUTPUT_CAP);
  const streams: Readable[] = pipe ? [new Socket({ fd: pipe.read, readable: true, writable: false })] : [child.stdout!, child.stderr!];
  // Output done: every writer closed it (the probe, and whatever it left holding it).
  let open = streams.length;
  for (const stream of streams) {
    stream.on('data', (chunk: Buffer) => tail.push(chunk));
    stream.on('error', () => undefined); // EIO and the like: as the end of its output
    stream.once('close', () => {
      open -= 1;
      if (open === 0 && exit) report();
    });
  }
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let timedOut = false;
  const startTime = child.pid === undefined ? null : (readStat(child.pid)?.startTime ?? null);

  const kill = (): void => {
    if (child.pid === undefined || exit) return;
    signalService({ pid: child.pid, startTime, pgid: child.pid }, 'SIGKILL'); // its group: what it started too
  };
  const report = (): void => {
    clearTimeout(timer);
    for (const stream of streams) stream.destroy();
    const { code, signal } = exit ?? { code: null, signal: null };
    const ok = !timedOut && code === 0;
    let reason: string | null = null;
    if (timedOut) reason = `did not finish within ${formatDuration(timeoutMs)}: killed, with its process group (SIGKILL)`;
    else if (code !== null && code !== 0) reason = `exited ${code}`;
    else if (signal !== null) reason = `killed by ${signal}`;
    finish({ ok, code, signal, output: tail.text(), reason, timedOut, durationMs: Date.now() - started });
  };
  // One timer: the bound on the run, and on waiting for its output once it has exited.
  const timer = setTimeout(() => {
    if (exit) return report(); // exited, but something it left (out of its group) holds the pipes
    timedOut = true;
    kill();
  }, timeoutMs);

  child.once('error', (error: NodeJS.ErrnoException) => {
    clearTimeout(timer);
    for (const stream of streams) stream.destroy();
    finish(failed(execFailure(probePath, error).reason, started));
  });
  child.once('exit', (code, signal) => {
    exit = { code, signal };
    killGroupLeftovers(child.pid!); // what it left running in its group
    if (timedOut || open === 0) report();
  });
  return () => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    kill();
    for (const stream of streams) stream.destroy();
  };
}
