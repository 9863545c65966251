// What a consumer may ask of a service's snapshot (`snapshot.hasTag(UP)`)
// instead of reading its state value: the machine puts these tags on its
// states; the supervisor, the control handlers and the loggers read only them.

/** `running`: the process is up (and ready). */
export const UP = 'up';
/**
 * `starting.awaitingReady`: its process runs (spawned, or named by its pid
 * file, or re-adopted) but has not said it is ready. It has a process to
 * record and to stop; it is not UP.
 */
export const AWAITING_READY = 'awaitingReady';
/** Nothing of the service runs: stopped.idle, delayed, backoff or failed (not while `finish` runs). */
export const DOWN = 'down';
/** On the way somewhere: starting, stopping, or `finish` running. A command waits for it to end. */
export const TRANSITIONAL = 'transitional';
/** `stopping`: its process is still there, being stopped. */
export const STOPPING = 'stopping';
/** `stopped.finishing`: `finish` runs (it writes where the service wrote). */
export const FINISHING = 'finishing';
/**
 * `stopped.failed` (gaveUp, spawnFailed or invalid): not started again until
 * `start` or a change to its files (spawnFailed: or its files touched; invalid:
 * any valid reading).
 */
export const FAILED = 'failed';

export type StateTag = typeof UP | typeof AWAITING_READY | typeof DOWN | typeof TRANSITIONAL | typeof STOPPING | typeof FINISHING | typeof FAILED;
