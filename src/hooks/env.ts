// The environment an event hook (and a profile's `finish`) sees: one
// PROCLAUNCH_* variable per field of the event, as the SPEC names them.
import type { EventRecord } from '../supervisor/events.js';
import { instanceOf, profileOf } from '../vocabulary/tags.js';

export function hookEnv(record: EventRecord): Record<string, string> {
  const at = record.profile; // the tag: NAME or NAME@N
  const instance = instanceOf(at);
  return {
    PROCLAUNCH_EVENT: record.event,
    PROCLAUNCH_PROFILE: profileOf(at),
    PROCLAUNCH_TAG: at,
    ...(instance ? { PROCLAUNCH_INSTANCE: instance } : {}),
    PROCLAUNCH_PID: record.pid === undefined ? '' : String(record.pid),
    PROCLAUNCH_EXIT_CODE: record.code === undefined || record.code === null ? '' : String(record.code),
    // `TERM`, not `SIGTERM`: what `kill -s` and `stop_signal` accept.
    PROCLAUNCH_SIGNAL: record.signal ? record.signal.replace(/^SIG/, '') : '',
    PROCLAUNCH_TIME: new Date(record.time).toISOString(),
    // Who asked, when a command caused it (`uid 0`, `http full`); empty otherwise.
    PROCLAUNCH_BY: record.by ?? '',
  };
}

/**
 * What a hook run sees: our environment, `extra`, then the event's PROCLAUNCH_*
 * (hookEnv), plus PROCLAUNCH_REASON for `failed`, `invalid` and `unhealthy`.
 */
export function hookRunEnv(record: EventRecord, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  // Not inherited from whoever started us: set only when this event has one.
  delete env.PROCLAUNCH_INSTANCE;
  delete env.PROCLAUNCH_REASON;
  Object.assign(env, hookEnv(record));
  if (record.reason) env.PROCLAUNCH_REASON = record.reason;
  return env;
}
