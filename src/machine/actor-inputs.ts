// What the machine's actors are given: the input of each optional actor
// (null where it does not apply: invoked only then, see invokeWhereApplies)
// and of `finish`. Pure: read from the context only.
import { exitOf, readinessOf } from './guards.js';
import { isFailure } from './policy.js';
import type { FinishInput, NotifyListenInput, ProbeInput, ReadyFdInput, ServiceContext } from './types.js';

/**
 * An actor a state invokes only where it applies. No two states active at
 * once invoke the same one, so its name is its id. Its input is taken at
 * entry, as `invoke` takes it; exit stops it (if it was started).
 */
export type Optional =
  | { src: 'watchPid' | 'awaitReadyFd' | 'probeReady' | 'probeHealth' }
  | { src: 'listenNotify'; watchdog: boolean };

export function invokeWhereApplies(...actors: Optional[]) {
  return {
    entry: { type: 'startWhereApplies', params: { actors } },
    exit: { type: 'stopStarted', params: { actors } },
  } as const;
}

/** The input of an optional actor, or null where it does not apply. */
export function optionalInput(context: ServiceContext, actor: Optional): object | null {
  switch (actor.src) {
    case 'watchPid': return context.proc && !context.proc.child ? { proc: context.proc } : null; // our own child: its `exit` event tells
    case 'awaitReadyFd': return readyFdInput(context);
    case 'probeReady': return readyProbeInput(context);
    case 'listenNotify': return notifyInput(context, actor.watchdog);
    case 'probeHealth': return healthInput(context);
  }
}

/** The readiness and health actors' inputs: null when the profile has none of that kind. */
function readyFdInput(context: ServiceContext): ReadyFdInput | null {
  return readinessOf(context.config).kind === 'fd' ? { tag: context.tag } : null;
}
function readyProbeInput(context: ServiceContext): ProbeInput | null {
  return readinessOf(context.config).kind === 'probe' ? { config: context.config! } : null;
}
/** `watchdog`: only once running (systemd arms it when the start is complete). */
function notifyInput(context: ServiceContext, watchdog: boolean): NotifyListenInput | null {
  const readiness = readinessOf(context.config);
  if (readiness.kind !== 'notify' || !context.proc) return null;
  return { tag: context.tag, pid: context.proc.pid, uid: context.config?.user?.uid ?? null, watchdogMs: watchdog ? readiness.watchdogMs : null };
}
function healthInput(context: ServiceContext): ProbeInput | null {
  return context.config?.health ? { config: context.config } : null;
}

/** `finish` is told the exit, and what kind of event it was. */
export function finishInput(context: ServiceContext): FinishInput {
  const exit = exitOf(context);
  return { config: context.config!, exit, event: exit.requested ? 'stopped' : isFailure(exit) ? 'crashed' : 'exited' };
}
