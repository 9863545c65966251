import type { OutputBounds } from '../vocabulary/output.js';
import type { ReadinessConfig } from './readiness.js';
import type { ServiceUser } from './users.js';

export type RestartPolicy = 'never' | 'always' | 'on-failure';

/** Everything proclaunch needs to run one service, read from its profile directory. */
export interface ServiceConfig extends ReadinessConfig {
  name: string;
  /** `NAME`, or `NAME@N` for an instance. */
  tag: string;
  /** N of `NAME@N` (the child sees PROCLAUNCH_INSTANCE), or null without an `instances` file. */
  instance: number | null;
  dir: string;
  runPath: string;
  /** `finish`: run after every exit with `EXITCODE SIGNAL`; exit 125 = do not restart. */
  finishPath: string | null;
  /** Absolute path of the pid file of a self-daemonizing `run`, or null. */
  pidFile: string | null;
  restart: RestartPolicy;
  down: boolean;
  stopSignal: NodeJS.Signals;
  stopTimeoutMs: number;
  startTimeoutMs: number;
  /** start_delay: wait before each automatic start. */
  startDelayMs: number;
  /** restart_delay: wait before restarting after a clean exit (a periodic job). */
  restartDelayMs: number;
  /** Signal to send on a change instead of restarting (the `reload` file), or null. */
  reloadSignal: NodeJS.Signals | null;
  /** Honoured only when the supervisor runs as root. */
  user: ServiceUser | null;
  /** Overrides from `env/`: a value, or null to unset. */
  env: Record<string, string | null>;
  /** Absolute paths named in `watch`. */
  watch: string[];
  stdout: string;
  stderr: string;
  /** With `log/`: stdout and stderr both go to this FIFO (STATE_DIR/pipes/NAME), which its logger reads. */
  logPipe?: string | null;
  /** A logger (`log/run`, tagged `NAME:log`): its stdin is this FIFO. */
  stdinPipe?: string | null;
  /** Bounded output: stdout and/or stderr go into FIFOs (STATE_DIR/out/…) the supervisor drains into the `stdout`/`stderr` files. */
  output?: ServiceOutput | null;
  fingerprint: Fingerprint;
}

/** Which of stdout and stderr go through a drained FIFO (null: straight into the file, O_APPEND), and its bounds. */
export interface ServiceOutput extends OutputBounds {
  stdoutPipe: string | null;
  stderrPipe: string | null;
}

/**
 * What changed decides what happens: a new launch fingerprint needs a restart
 * (a signal cannot apply a new `run`, env or user); a new watch fingerprint
 * needs a reload (or a restart without `reload`); policy changes just apply.
 */
export interface Fingerprint {
  launch: string;
  watch: string;
  policy: string;
}

export type ProfileReading =
  | { kind: 'missing' }
  /** `reason`: every problem at once. */
  | { kind: 'invalid'; reason: string; warnings?: string[] }
  /** One config per instance (`NAME@1` … `NAME@N`), or one tagged `NAME`. `warnings`: worth one WARN each (a mistyped file name). */
  | { kind: 'valid'; configs: ServiceConfig[]; warnings?: string[] };
