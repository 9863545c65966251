// The optional native module (native/*.c, built by node-gyp at install into
// build/Release/): pidfd exit watching, subreaping, reaping one pid,
// posix_spawn, mkfifo, and the drain thread of bounded output. Everything that
// uses it has a pure-TypeScript fallback, so a missing compiler costs only
// precision (pid watching polls /proc), orphan reaping, start-up speed
// (services are forked by libuv instead) and the cost of service output
// (copied through JavaScript instead).
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import type { OutputBounds } from '../vocabulary/output.js';

/** How a reaped process ended, as in a ChildProcess `exit` event. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Native {
  /** pidfd_open(2) works here (Linux >= 5.3, not refused by a seccomp filter). */
  readonly pidfd: boolean;
  /** Why pidfd_open does not work (one line), or null when it does. */
  readonly pidfdProblem: string | null;
  /**
   * Call `onExit` once when process `pid` (any process, not only a child)
   * exits: a pidfd watched by the event loop, no timer, no thread. It does not
   * keep the event loop alive. `onExit` gets an Error only if polling the pidfd
   * failed, which means "unknown", not "exited".
   *
   * Returns the function that cancels the watch (and closes its fd at once),
   * or null when no such pid exists (ESRCH): it is already gone. Throws an
   * ErrnoException (code ENOSYS, EPERM, EMFILE...) when it cannot watch.
   */
  watchExit(pid: number, onExit: (error?: Error) => void): (() => void) | null;
  /** prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants get reparented to us. */
  setChildSubreaper(): void;
  isChildSubreaper(): boolean;
  /**
   * waitpid(pid, WNOHANG) for this one pid (never "any child": that would steal
   * libuv's children). null while it runs, or when it is not our child.
   */
  reap(pid: number): ExitStatus | null;
  /** reap() that tells "still running" (null) from "not our child" (false: reaped by someone else). */
  reapChild(pid: number): ExitStatus | null | false;
  /** spawn() exists: the module was built against glibc >= 2.29. */
  readonly canSpawn: boolean;
  /**
   * posix_spawn(3) (clone(CLONE_VM | CLONE_VFORK): nothing of this process is
   * copied): `file` in a new session, with an empty signal mask and every
   * signal at its default, stdin, stdout and stderr dup'ed from the given fds
   * (left open here; null: /dev/null), in `cwd`, with no other fd. `file` is run
   * as given: no PATH search, no /bin/sh for ENOEXEC. Returns the pid once it
   * has exec'd; throws an ErrnoException (code ENOENT, EACCES, ENOEXEC...) when
   * it could not. The child is ours alone to reap (libuv does not know it):
   * watch it with watchChild and reap it with reapChild.
   */
  spawn(request: SpawnRequest): number;
  /**
   * watchExit for a child of ours: `onExit` once it has exited (it is then a
   * zombie until reaped). The watch keeps the event loop alive, as a
   * ChildProcess does, until it fires or unref(). null if there is no such pid.
   */
  watchChild(pid: number, onExit: (error?: Error) => void): ChildWatch | null;
  /** mkfifo(3) in libuv's thread pool (an inode can take a millisecond): no `mkfifo` process per profile. Rejects with an ErrnoException (EEXIST...). */
  mkfifo(path: string, mode: number): Promise<void>;
  /** dup2(2). */
  dup2(from: number, to: number): void;
  /**
   * pipe2(2): [read end, write end], both close-on-exec, the read end
   * non-blocking (for the event loop), for a child spawn() starts; null when
   * the module was built before it had one.
   */
  readonly pipe: (() => [number, number]) | null;
  /** The drain thread of bounded output (native/output.c). */
  readonly output: OutputDrain;
  /** The sd_notify socket (native/notify.c; src/process/notify.ts), or null when the module was built without it. */
  readonly notify: NotifyBinding | null;
  /**
   * getsockopt(SO_PEERCRED) on a connected Unix socket's fd (native/peercred.c):
   * who connected, as the kernel saw it. null when the module was built
   * without it. Throws an ErrnoException (ENOTSOCK, EBADF...).
   */
  readonly peerCred: ((fd: number) => PeerCred) | null;
}

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

/** native/notify.c's functions, as they are. */
export interface NotifyBinding {
  notifyOpen(name: string, onDatagram: (data: Buffer | null, pid: number, uid: number, gid: number, size: number, truncated: boolean) => void): object;
  notifyClose(handle: object): boolean;
}

/** A thread that moves what FIFOs hold into rotated files with tee(2) and splice(2). */
export interface OutputDrain {
  /** Drain `fifoFd` (ours from now on) into `path`; returns its id. */
  add(fifoFd: number, path: string, bounds: OutputBounds): number;
  set(id: number, bounds: OutputBounds): void;
  /** Drain what is left, then close. */
  release(id: number): void;
  /** Wait (blocking) until every FIFO has been drained; false on timeout. */
  flush(timeoutMs: number): boolean;
  /** The one listener: `failing` (a write failed: output is dropped) or `writing` again, with the bytes dropped. */
  onEvent(listener: (id: number, event: 'failing' | 'writing', errno: number, dropped: number) => void): void;
}

export interface SpawnRequest {
  file: string;
  /** argv[0] included. */
  argv: readonly string[];
  /** NAME=value strings. */
  envp: readonly string[];
  /** null: ours. */
  cwd: string | null;
  /** fds; null: /dev/null. */
  stdin: number | null;
  stdout: number | null;
  stderr: number | null;
  /** [N, fd]: the child's fd N (3..1023, at most 8) dup'ed from our fd (notification-fd). */
  extraFds?: readonly (readonly [number, number])[];
}

export interface ChildWatch {
  cancel(): void;
  ref(): void;
  unref(): void;
}

/** What build/Release/proclaunch_native.node exports. */
interface Binding {
  watchExit(pid: number, onExit: (error?: Error) => void, keepAlive?: boolean): object | null;
  cancel(handle: object): boolean;
  setRef(handle: object, keepAlive: boolean): void;
  setChildSubreaper(): void;
  isChildSubreaper(): boolean;
  reap(pid: number, strict?: boolean): RawStatus | null | false;
  notifyOpen?: NotifyBinding['notifyOpen'];
  notifyClose?: NotifyBinding['notifyClose'];
  peerCred?(fd: number): PeerCred;
  /** Only when built against glibc >= 2.29. */
  spawn?(file: string, argv: readonly string[], envp: readonly string[], cwd: string | null, stdin: number, stdout: number, stderr: number, extraFds?: number[]): number;
  mkfifo(path: string, mode: number): Promise<void>;
  dup2(from: number, to: number): void;
  pipe?(): [number, number];
  outputAdd(fd: number, path: string, maxBytes: number, keep: number, timestamps: boolean): number;
  outputSet(id: number, maxBytes: number, keep: number, timestamps: boolean): void;
  outputRelease(id: number): void;
  outputFlush(timeoutMs: number): boolean;
  outputEvents(callback: (id: number, kind: number, errno: number, dropped: number) => void): void;
}

interface RawStatus {
  code: number | null;
  signal: number | null;
}

/** Relative to this file, which is in src/process/ or dist/process/. */
const BINDING_PATH = '../../build/Release/proclaunch_native.node';

const signalNames = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]),
);
/** errno → its name (the first, where two share a number: EAGAIN, not EWOULDBLOCK). */
const errnoNames = new Map<number, string>();
for (const [name, number] of Object.entries(constants.errno)) if (!errnoNames.has(number)) errnoNames.set(number, name);

function wrap(binding: Binding): Native {
  const watchExit: Native['watchExit'] = (pid, onExit) => {
    const handle = binding.watchExit(pid, onExit);
    return handle === null ? null : () => void binding.cancel(handle);
  };
  let pidfdProblem: string | null = null;
  try {
    watchExit(process.pid, () => {})?.();
  } catch (error) {
    pidfdProblem = `pidfd_open does not work here (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
  return {
    pidfd: pidfdProblem === null,
    pidfdProblem,
    watchExit,
    setChildSubreaper: () => binding.setChildSubreaper(),
    isChildSubreaper: () => binding.isChildSubreaper(),
    reap(pid) {
      const status = binding.reap(pid);
      return status ? exitStatus(status) : null;
    },
    reapChild(pid) {
      const status = binding.reap(pid, true);
      return status ? exitStatus(status) : status;
    },
    canSpawn: typeof binding.spawn === 'function',
    spawn({ file, argv, envp, cwd, stdin, stdout, stderr, extraFds }) {
      if (!binding.spawn) throw Object.assign(new Error('spawn: the native module was built without posix_spawn (glibc < 2.29)'), { code: 'ENOSYS' });
      try {
        return binding.spawn(file, argv, envp, cwd, stdin ?? -1, stdout ?? -1, stderr ?? -1, extraFds?.flat());
      } catch (error) {
        // libuv's names (the module's .code) lack some errnos: ENOEXEC is "Unknown system error -8".
        const e = error as NodeJS.ErrnoException;
        if (typeof e.errno === 'number' && !/^E[A-Z0-9]+$/.test(e.code ?? '')) e.code = errnoNames.get(-e.errno) ?? e.code;
        throw e;
      }
    },
    notify: binding.notifyOpen && binding.notifyClose ? { notifyOpen: binding.notifyOpen, notifyClose: binding.notifyClose } : null,
    peerCred: binding.peerCred ? (fd) => binding.peerCred!(fd) : null,
    watchChild(pid, onExit) {
      const handle = binding.watchExit(pid, onExit, true);
      if (handle === null) return null;
      return {
        cancel: () => void binding.cancel(handle),
        ref: () => binding.setRef(handle, true),
        unref: () => binding.setRef(handle, false),
      };
    },
    mkfifo: (path, mode) => binding.mkfifo(path, mode),
    dup2: (from, to) => binding.dup2(from, to),
    pipe: binding.pipe ? () => binding.pipe!() : null,
    output: {
      add: (fd, path, { maxBytes, keep, timestamps }) => binding.outputAdd(fd, path, maxBytes, keep, timestamps),
      set: (id, { maxBytes, keep, timestamps }) => binding.outputSet(id, maxBytes, keep, timestamps),
      release: (id) => binding.outputRelease(id),
      flush: (timeoutMs) => binding.outputFlush(timeoutMs),
      onEvent: (listener) => binding.outputEvents((id, kind, errno, dropped) => listener(id, kind === 1 ? 'failing' : 'writing', errno, dropped)),
    },
  };
}

function exitStatus(status: RawStatus): ExitStatus {
  return { code: status.code, signal: status.signal === null ? null : (signalNames.get(status.signal) ?? null) };
}

let loaded: { native: Native | null; reason: string | null } | null = null;

function load(): { native: Native | null; reason: string | null } {
  if (process.env.PROCLAUNCH_NO_NATIVE === '1') return { native: null, reason: 'PROCLAUNCH_NO_NATIVE=1 is set' };
  if (process.platform !== 'linux') return { native: null, reason: `${process.platform} is not Linux` };
  try {
    return { native: wrap(createRequire(import.meta.url)(BINDING_PATH) as Binding), reason: null };
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === 'MODULE_NOT_FOUND') return { native: null, reason: 'the native module is not built (npm install needs a C compiler, make and python3)' };
    return { native: null, reason: `the native module does not load: ${message.split('\n')[0]}` };
  }
}

/** The native module, or null when it is not built, does not load, or PROCLAUNCH_NO_NATIVE=1. Loaded once. */
export function loadNative(): Native | null {
  loaded ??= load();
  return loaded.native;
}

/** Why loadNative() returns null (one line, for a single WARN), or null when it does not. */
export function nativeUnavailableReason(): string | null {
  loaded ??= load();
  return loaded.reason;
}
