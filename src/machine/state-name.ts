// How a service's state reads in `status` and in command replies: the
// top-level state and the substate that matters, whatever nests below it.
import type { StateValue } from 'xstate';
import { serviceMachine, type ServiceSnapshot } from './service-machine.js';

/** Substates that are the plain state: `running.serving` prints as `running` (`running.reloading` as itself). */
const PLAIN: Record<string, string> = { running: 'serving' };

/**
 * `stopped.failed.invalid` → ['stopped', 'failed']; `running.serving` → ['running', null];
 * the parallel `stopping` by its first region, the signal: ['stopping', 'signalled'].
 */
export function stateName(snapshot: Pick<ServiceSnapshot, 'value'>): [string, string | null] {
  const value: StateValue = snapshot.value;
  if (typeof value === 'string') return [value, null];
  const [state, below] = Object.entries(value)[0]!;
  let sub: StateValue | undefined = below;
  if (serviceMachine.root.states[state]?.type === 'parallel' && typeof sub === 'object') sub = Object.values(sub)[0];
  if (sub === undefined) return [state, null];
  const name = typeof sub === 'string' ? sub : (Object.keys(sub)[0] ?? null);
  return [state, name === PLAIN[state] ? null : name];
}

/** `stopped.failed`, `running`: what `status` prints as STATE. */
export const stateText = (snapshot: Pick<ServiceSnapshot, 'value'>): string => stateName(snapshot).filter(Boolean).join('.');
