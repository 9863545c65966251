// The optional native module (native/proclaunch.c, built by node-gyp at
// install into build/Release/): pidfd exit watching, subreaping, reaping one
// pid. Everything that uses it has a pure-TypeScript fallback, so a missing
// compiler costs only precision (pid watching polls /proc) and orphan reaping.
import { createRequire } from 'node:module';
import { constants } from 'node:os';

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
}

/** What build/Release/proclaunch_native.node exports. */
interface Binding {
  watchExit(pid: number, onExit: (error?: Error) => void): object | null;
  cancel(handle: object): boolean;
  setChildSubreaper(): void;
  isChildSubreaper(): boolean;
  reap(pid: number): { code: number | null; signal: number | null } | null;
}

/** Relative to this file, which is in src/process/ or dist/process/. */
const BINDING_PATH = '../../build/Release/proclaunch_native.node';

const signalNames = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]),
);

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
      if (!status) return null;
      return { code: status.code, signal: status.signal === null ? null : (signalNames.get(status.signal) ?? null) };
    },
  };
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
