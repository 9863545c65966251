// `proclaunch events`: the event history (STATE_DIR/events.log, through the supervisor), and -f to follow it.
import { converse, NoSupervisorError } from '../../control/client.js';
import type { EventRecord } from '../../supervisor/events.js';
import { formatEvent } from '../format.js';
import { EXIT, UsageError } from '../usage.js';
import { failed, out, type Command } from './command.js';

/** ISO 8601, or a duration ago: 90s, 10m, 2h, 1d. */
export function parseSince(text: string, now = Date.now()): string | null {
  const ago = /^(\d+)([smhd])$/.exec(text.trim());
  if (ago) return new Date(now - Number(ago[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2] as 's' | 'm' | 'h' | 'd']).toISOString();
  return Number.isNaN(Date.parse(text)) ? null : new Date(Date.parse(text)).toISOString();
}

export const events: Command = {
  options: { follow: { type: 'boolean', short: 'f' }, since: { type: 'string' } },
  help: `Usage: proclaunch events [-f] [--since TIME] [--json]
What happened to which service, and when (started, exited, crashed, ready, ...).
  --since TIME an ISO 8601 time, or 30s, 10m, 2h, 1d ago
  -f           then follow new events as they happen
  --json       one JSON object per line
Example: proclaunch events --since 1h
`,
  async run({ stateDir, values, json }) {
    const since = values.since === undefined ? null : parseSince(values.since as string);
    if (since === null && values.since !== undefined) throw new UsageError(`events: --since takes an ISO 8601 time or 30s, 10m, 2h, 1d`);
    const print = (e: EventRecord) => out(json ? `${JSON.stringify(e)}\n` : formatEvent(e));
    let status: number = EXIT.ok;
    await converse(stateDir, { command: 'events', since, follow: values.follow === true }, (message) => {
      if (failed(message)) return (status = EXIT.failed), true;
      if (Array.isArray(message.events)) (message.events as EventRecord[]).forEach(print);
      if (message.event) print(message.event as EventRecord);
      return values.follow !== true;
    }).catch((error: Error) => {
      if (values.follow === true && !(error instanceof NoSupervisorError)) return; // the supervisor went away
      throw error;
    });
    return status;
  },
};
