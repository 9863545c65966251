// Which services should be running, and which of those are down: what
// `check` counts and what /readyz answers — one rule for both.
import type { ServiceStatus } from './protocol.js';

/**
 * Held back by the operator: stopped by command, a `down` file, or waiting
 * for a need that is one of those (`stop db` keeps `web` in starting.waiting:
 * a choice, not an outage). A need that is missing, failed or still starting
 * is not a choice: its dependents count as down.
 */
export function heldBack(s: ServiceStatus): boolean {
  const phase = s.waitingFor?.phase;
  return s.held || s.down || phase === 'stopped by command' || phase === 'down';
}

/**
 * Down: should be running (not held back) and is not — failed, backing off,
 * stopped, waiting — unless it finished cleanly and its profile does not ask
 * for a restart.
 */
export function isDown(s: ServiceStatus): boolean {
  if (heldBack(s) || s.state === 'running') return false;
  const finished = s.state === 'stopped' && s.substate === 'idle' && s.lastExit !== null && s.lastExit.code === 0 && !s.lastExit.signal;
  return !finished;
}
