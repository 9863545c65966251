// Probes run again and again: `ready` every ready_interval until it passes,
// `health` every health_interval, counting failures in a row. Each loop has
// one timer or one running probe at a time (the next run is timed from the
// end of the last, as Docker's HEALTHCHECK does: runs never overlap), and
// nothing global: a service that is not probed costs nothing.
import type { ProbeResult } from './probe.js';

/** Start one probe run; returns its cancel (as runProbe). */
export type ProbeRunner = (onDone: (result: ProbeResult) => void) => () => void;

/** Run `run` every `intervalMs` from `firstDelayMs`; `onResult` after each. Stops when `onResult` returns true, or on cancel. */
function loop(run: ProbeRunner, firstDelayMs: number, intervalMs: number, onResult: (result: ProbeResult) => boolean): () => void {
  let timer: NodeJS.Timeout | null = null;
  let cancelRun: (() => void) | null = null;
  let stopped = false;
  const next = (delay: number): void => {
    timer = setTimeout(() => {
      timer = null;
      cancelRun = run((result) => {
        cancelRun = null;
        if (stopped) return;
        if (onResult(result)) stopped = true;
        else next(intervalMs);
      });
    }, delay);
  };
  next(firstDelayMs);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    cancelRun?.();
    timer = cancelRun = null;
  };
}

export interface UntilReadyOptions {
  run: ProbeRunner;
  intervalMs: number;
  /** The first run's result comes after this (0: at once, the default). */
  firstDelayMs?: number;
  /** Passed: the loop ends. */
  onReady(result: ProbeResult): void;
  /** Each failed run (the loop goes on; ready_timeout is the caller's). */
  onFailure?(result: ProbeResult): void;
}

/** `ready`: run until a run passes. Returns cancel. */
export function probeUntilReady({ run, intervalMs, firstDelayMs = 0, onReady, onFailure }: UntilReadyOptions): () => void {
  return loop(run, firstDelayMs, intervalMs, (result) => {
    if (result.ok) onReady(result);
    else onFailure?.(result);
    return result.ok;
  });
}

export interface HealthOptions {
  run: ProbeRunner;
  intervalMs: number;
  /** Failures in a row that make the service unhealthy (>= 1). */
  retries: number;
  /** The first run comes after this (default: intervalMs, the service having just become ready). */
  firstDelayMs?: number;
  /** Each run, with the failures in a row so far (0 after a pass). */
  onResult?(result: ProbeResult, failuresInARow: number): void;
  /** `retries` failures in a row: the loop ends (the service is to be restarted). */
  onUnhealthy(last: ProbeResult, failuresInARow: number): void;
}

/** `health`: run forever, until `retries` failures in a row. Returns cancel. */
export function healthLoop({ run, intervalMs, retries, firstDelayMs = intervalMs, onResult, onUnhealthy }: HealthOptions): () => void {
  let failures = 0;
  return loop(run, firstDelayMs, intervalMs, (result) => {
    failures = result.ok ? 0 : failures + 1;
    onResult?.(result, failures);
    if (failures < Math.max(1, retries)) return false;
    onUnhealthy(result, failures);
    return true;
  });
}
