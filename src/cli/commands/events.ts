// `proclaunch events`: the event history (STATE_DIR/events.log, through the
// supervisor — or read from the file when none runs), and -f to follow it.
import { converse, NoSupervisorError } from '../../control/client.js';
import type { EventRecord } from '../../supervisor/events.js';
import { formatEvent } from '../format.js';
import { parseSince, SINCE_FORMS } from '../../vocabulary/since.js';
import { EXIT, UsageError } from '../usage.js';
import { checkPatterns, count, lastOf, out, refused, type Command } from './command.js';

/** `events -f`: like `tail -f`, the last 10 first (unless -n or --since says otherwise). */
const FOLLOW_FROM_LAST = 10;

export interface EventsQuery {
  names: string[];
  since: string | null;
  last: number | null;
  follow: boolean;
  print(event: EventRecord): void;
}

export const events: Command = {
  options: { follow: { type: 'boolean', short: 'f' }, since: { type: 'string' }, lines: { type: 'string', short: 'n' } },
  help: `Usage: proclaunch events [NAME|GLOB ...] [-f] [-n N] [--since TIME] [--json]
What happened to which service, and when (started, exited, crashed, ready, ...); with
names, only theirs. Without a supervisor, read from STATE_DIR/events.log.
  --since TIME ${SINCE_FORMS}
  -n N         only the last N events
  -f           the last 10 (or -n N, or all since TIME), then follow new events as they happen
  --json       one JSON object per line
Example: proclaunch events web -n 20
`,
  async run({ stateDir, names, values, json }) {
    const sinceText = values.since as string | undefined;
    const sinceMs = sinceText === undefined ? null : parseSince(sinceText);
    if (sinceText !== undefined && sinceMs === null) throw new UsageError(`events: --since takes ${SINCE_FORMS}, not ${JSON.stringify(sinceText)}`);
    const follow = values.follow === true;
    const query: EventsQuery = {
      names: checkPatterns('events', names),
      since: sinceMs === null ? null : new Date(sinceMs).toISOString(),
      last: count(values.lines as string | undefined, 'events: -n', follow && sinceMs === null ? FOLLOW_FROM_LAST : null),
      follow,
      print: (e) => out(json ? `${JSON.stringify(e)}\n` : formatEvent(e)),
    };
    try {
      return await fromSupervisor(stateDir, query);
    } catch (error) {
      if (!(error instanceof NoSupervisorError)) throw error;
      return (await import('../offline.js')).eventsFromFiles(stateDir, query, error);
    }
  },
};

async function fromSupervisor(stateDir: string, { names, since, last, follow, print }: EventsQuery): Promise<number> {
  let status: number = EXIT.ok;
  let answered = false;
  await converse(stateDir, { command: 'events', since, follow, names, last }, (message) => {
    const refusal = refused(message);
    if (refusal !== null) return (status = refusal), true;
    answered = true;
    // (A supervisor before `last` sends the whole history.)
    if (Array.isArray(message.events)) lastOf(message.events as EventRecord[], last).forEach(print);
    if (message.event) print(message.event as EventRecord);
    return !follow;
  }).catch((error: Error) => {
    if (answered && follow) return; // the supervisor went away while we followed it
    throw error;
  });
  return status;
}
