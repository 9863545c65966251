// Starting a service without forking Node. child_process.spawn forks the whole
// supervisor (libuv: fork(), then exec in the child): the page tables of a
// ~50 MB process are copied and the parent takes copy-on-write faults until
// the child has exec'd, ~3 ms a spawn here. The native module's spawn is
// glibc's posix_spawn (clone(CLONE_VM | CLONE_VFORK)): nothing is copied.
//
// spawnChild takes Node's spawn() arguments and returns a ChildProcess. It
// starts natively what it can do exactly as Node would (a detached child
// whose stdin, stdout and stderr are fds or 'ignore', and a few fds above:
// what spawnService asks for), and hands anything else, or everything without
// the native module, to Node.
//
// A native child is not libuv's: libuv's SIGCHLD handler waits only for the
// pids of its own process handles (waitpid(pid, WNOHANG) each, never
// waitpid(-1)), so it leaves ours alone. We learn of its death through a pidfd
// and reap that one pid. The orphan reaper (PID 1, --reaper) must leave it
// alone too: spawnService tracks it with trackChild, as a libuv child.
import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';
import { loadNative, type ChildWatch, type ExitStatus, type Native } from './native.js';
import { codeOf, spawnResolved, type Plan } from './execvp.js';

/** The native spawn places at most 8 fds above 2, none above 1023 (native/extra-fds.h). */
const EXTRA_FDS_MAX = 8;
const EXTRA_FDS_TOP = 1023;

/** Node's options, if the native spawn does exactly what Node would with them; otherwise null. */
function planOf(options: SpawnOptions): Plan | null {
  const { cwd, detached, stdio, env, ...rest } = options;
  if (Object.values(rest).some((value) => value !== undefined)) return null; // uid, shell, argv0, signal...
  if (detached !== true) return null;
  if (cwd !== undefined && typeof cwd !== 'string') return null;
  if (!Array.isArray(stdio) || stdio.length < 3 || stdio.length > EXTRA_FDS_TOP + 1) return null;
  const fds = stdio.map((entry) => (entry === 'ignore' ? null : typeof entry === 'number' && Number.isInteger(entry) && entry >= 0 ? entry : undefined));
  if (fds.includes(undefined)) return null; // 'pipe', 'inherit', streams...
  const extraFds = fds.flatMap((fd, n) => (n >= 3 && fd !== null ? [[n, fd] as [number, number]] : []));
  if (extraFds.length > EXTRA_FDS_MAX) return null;
  return { cwd: cwd ?? null, env: env ?? process.env, stdio: fds.slice(0, 3) as Plan['stdio'], extraFds };
}

/**
 * Node's child_process.spawn, natively when the native module can start this
 * child exactly as Node would (see planOf); PROCLAUNCH_NO_NATIVE=1, no native
 * module, no pidfd, or other options: Node's own spawn.
 */
export function spawnChild(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const native = loadNative();
  const plan = native?.canSpawn && native.pidfd ? planOf(options) : null;
  if (!native || !plan) return nodeSpawn(command, args, options);
  return startNative(native, command, args, plan);
}

/**
 * Spawn through the native module (which must have canSpawn and pidfd). As
 * Node's spawn: throws only for invalid arguments; a failure to start is an
 * `error` event, in the next tick, with .code ENOENT, EACCES... and .path.
 */
export function spawnNative(native: Native, command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const plan = planOf(options);
  if (!plan) throw new TypeError("spawnNative: only { detached: true, stdio: [fd or 'ignore' (x3, and up to 8 fds above)], cwd?, env? } is supported");
  return startNative(native, command, args, plan);
}

function startNative(native: Native, command: string, args: readonly string[], plan: Plan): NativeChildProcess {
  if (typeof command !== 'string' || command === '') throw invalidArg('command', 'a non-empty string');
  const argv = [command, ...args];
  const envp: string[] = [];
  for (const [name, value] of Object.entries(plan.env)) if (value !== undefined) envp.push(`${name}=${value}`);
  for (const text of [...argv, ...envp, plan.cwd ?? '']) {
    if (typeof text !== 'string') throw invalidArg('args', 'strings');
    if (text.includes('\u0000')) throw invalidArg('args, env and cwd', 'strings without null bytes');
  }
  const child = new NativeChildProcess(native, command, argv);
  let pid: number;
  try {
    pid = spawnResolved(native, command, argv, envp, plan);
  } catch (error) {
    const { code, errno } = error as NodeJS.ErrnoException;
    if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) throw error; // an errno, not ERR_INVALID_ARG_*
    child.failed(spawnError(command, args, code, errno));
    return child;
  }
  child.started(pid);
  return child;
}

function invalidArg(what: string, expected: string): TypeError {
  return Object.assign(new TypeError(`The argument '${what}' must be ${expected}`), { code: 'ERR_INVALID_ARG_VALUE' });
}

/** As Node's: `spawn CMD ENOENT`, with .errno, .code, .syscall, .path (the command as given) and .spawnargs. */
function spawnError(command: string, args: readonly string[], code: string, errno: number | undefined): NodeJS.ErrnoException {
  return Object.assign(new Error(`spawn ${command} ${code}`), { errno, code, syscall: `spawn ${command}`, path: command, spawnargs: [...args] });
}

/**
 * Native children whose pidfd could not be opened (out of fds): reaped on
 * SIGCHLD instead. Each check returns true once its child is reaped.
 */
const bySigchld = new Set<() => boolean>();
let sigchldListener: (() => void) | null = null;
let sweepScheduled = false;

function sweep(): void {
  sweepScheduled = false;
  for (const check of bySigchld) if (check()) bySigchld.delete(check);
  if (bySigchld.size === 0 && sigchldListener) {
    process.off('SIGCHLD', sigchldListener);
    sigchldListener = null;
  }
}

function scheduleSweep(): void {
  if (sweepScheduled) return;
  sweepScheduled = true;
  setImmediate(sweep);
}

function reapOnSigchld(check: () => boolean): void {
  bySigchld.add(check);
  if (!sigchldListener) {
    sigchldListener = scheduleSweep;
    process.on('SIGCHLD', sigchldListener);
  }
  scheduleSweep(); // it may be dead already
}

/**
 * A child started by posix_spawn, as the ChildProcess of Node's spawn with
 * stdio fds or 'ignore' (no streams, no IPC channel): `pid`, the events
 * `spawn`, `error`, `exit` and `close`, `kill()`, `exitCode`, `signalCode`,
 * `ref()`/`unref()` (it keeps the event loop alive until it exits, unless
 * unref'ed).
 */
class NativeChildProcess extends EventEmitter implements ChildProcess {
  stdin: Writable | null = null;
  stdout = null;
  stderr = null;
  readonly stdio: ChildProcess['stdio'] = [null, null, null, undefined, undefined];
  readonly channel = undefined;
  readonly connected = false;
  pid: number | undefined = undefined;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  killed = false;
  readonly spawnfile: string;
  readonly spawnargs: string[];
  #native: Native;
  #watch: ChildWatch | null = null;
  #retry: NodeJS.Timeout | null = null;
  #referenced = true;
  #exited = false;

  constructor(native: Native, command: string, argv: string[]) {
    super();
    this.#native = native;
    this.spawnfile = command;
    this.spawnargs = argv;
  }

  /** posix_spawn failed: `error` in the next tick, as Node does. */
  failed(error: NodeJS.ErrnoException): void {
    this.#exited = true;
    process.nextTick(() => this.emit('error', error));
  }

  /** posix_spawn succeeded: watch for its death, and `spawn` in the next tick. */
  started(pid: number): void {
    this.pid = pid;
    try {
      this.#watch = this.#native.watchChild(pid, () => {
        this.#watch = null;
        this.#collect(0);
      });
      if (!this.#watch) setImmediate(() => this.#collect(0)); // ESRCH: cannot be, for our own unreaped child
    } catch {
      // EMFILE and the like: no pidfd for this one. Reaped on SIGCHLD, or if even that cannot be had, by polling.
      try {
        reapOnSigchld(() => this.#tryReap() !== null);
      } catch {
        setImmediate(() => this.#collect(0));
      }
    }
    process.nextTick(() => this.emit('spawn'));
  }

  /** Reap it if it has exited: its status (and `exit` emitted), or null while it runs. */
  #tryReap(): ExitStatus | null {
    if (this.#exited) return { code: this.exitCode, signal: this.signalCode };
    const status = this.#native.reapChild(this.pid!);
    if (status === null) return null;
    // false: not our child any more, someone reaped it (a waitpid(-1) somewhere): how it ended is lost.
    const { code, signal } = status === false ? { code: null, signal: null } : status;
    this.#exited = true;
    this.signalCode = signal;
    this.exitCode = signal === null ? code : null;
    this.#retry = null;
    this.emit('exit', this.exitCode, this.signalCode);
    this.emit('close', this.exitCode, this.signalCode);
    return status === false ? { code: null, signal: null } : status;
  }

  /** The pidfd said it exited: reap it. Should it still run (a poll error), look again shortly. */
  #collect(attempt: number): void {
    if (this.#tryReap() !== null) return;
    this.#retry = setTimeout(() => this.#collect(attempt + 1), Math.min(2 ** attempt, 100));
    if (!this.#referenced) this.#retry.unref();
  }

  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    if (this.pid === undefined || this.#exited) return false;
    try {
      process.kill(this.pid, signal);
    } catch (error) {
      const code = codeOf(error);
      if (code === 'ESRCH') return false;
      if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) {
        this.emit('error', error);
        return false;
      }
      throw error; // an unknown signal, as Node
    }
    this.killed = true;
    return true;
  }

  [Symbol.dispose](): void {
    if (!this.killed) this.kill();
  }

  ref(): void {
    this.#referenced = true;
    this.#watch?.ref();
    this.#retry?.ref();
  }

  unref(): void {
    this.#referenced = false;
    this.#watch?.unref();
    this.#retry?.unref();
  }

  /** There is no IPC channel (Node's child has no send() then either). */
  send(): boolean {
    throw new TypeError('subprocess.send is not available: the child was started without an IPC channel');
  }

  disconnect(): void {
    throw new TypeError('subprocess.disconnect is not available: the child was started without an IPC channel');
  }
}
