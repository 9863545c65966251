// What a service is meant to be doing, whatever state it is in: run it, keep
// it down (stopped by command), or let it go (its profile was removed).
import type { ServiceSnapshot } from '../machine/service-machine.js';

export type Want = 'run' | 'down' | 'removed';

/**
 * The one place that reads it. The machine's `held` and `removed` become one
 * `want` in its context; then this is `snapshot.context.want`.
 */
export const wantOf = ({ context }: Pick<ServiceSnapshot, 'context'>): Want => (context.removed ? 'removed' : context.held ? 'down' : 'run');
