// Without a supervisor, `events` and `logs` read STATE_DIR's files themselves
// (one line on stderr says so; exit 0): events.log and events.log.1, the
// records of processes left running (where their output goes), and
// STATE_DIR/logs/*.log. A STATE_DIR with none of them is the wrong one: the
// usual "no supervisor" error (exit 3), with how to point at the right one.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { NoSupervisorError } from '../control/client.js';
import { logSourceOf, type LogSource } from '../output/log-source.js';
import { noProfileMatches, selectNames } from '../profile/names.js';
import { eventFilter, parseRecord, selectEvents } from '../supervisor/event-log.js';
import type { EventRecord } from '../supervisor/events.js';
import { readRecords } from '../supervisor/records.js';
import { fail, untilInterrupted } from './commands/command.js';
import type { EventsQuery } from './commands/events.js';
import { pointAtSupervisor } from './find-supervisors.js';
import { follow } from '../output/tail.js';
import { EXIT } from './usage.js';

function nothingThere(stateDir: string, error: NoSupervisorError): number {
  fail(`${error.message}; ${pointAtSupervisor(stateDir)}`);
  return EXIT.noSupervisor;
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

export async function eventsFromFiles(stateDir: string, query: EventsQuery, error: NoSupervisorError): Promise<number> {
  const current = join(stateDir, 'events.log');
  if (!existsSync(current) && !existsSync(`${current}.1`)) return nothingThere(stateDir, error);
  fail(`no supervisor is running for ${stateDir}; reading its events.log`);
  const records: EventRecord[] = [];
  let end = 0; // followed from where this read ended: nothing repeated, nothing skipped
  for (const file of [`${current}.1`, current]) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      continue;
    }
    if (file === current) end = bytes.length;
    for (const line of bytes.toString().split('\n')) {
      const record = parseRecord(line);
      if (record) records.push(record);
    }
  }
  const { events, unmatched } = selectEvents(records, { ...query, since: query.since === null ? null : new Date(query.since) }, []);
  if (unmatched.length > 0) {
    fail(noProfileMatches(unmatched));
    return EXIT.unknownService;
  }
  events.forEach(query.print);
  if (!query.follow) return EXIT.ok;
  // Until a supervisor writes to it again, and on: events.log as `tail -F` would follow it.
  const wanted = eventFilter(query.names);
  const decoder = new StringDecoder('utf8');
  let partial = '';
  const following = follow(current, end, (chunk) => {
    const lines = (partial + decoder.write(chunk)).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const record = parseRecord(line);
      if (record && wanted(record)) query.print(record);
    }
  });
  await untilInterrupted();
  following.stop();
  return EXIT.ok;
}

/** Where each service's output is, from STATE_DIR alone; null when STATE_DIR holds nothing of a supervisor. Exit code on a refusal. */
export function logSourcesFromFiles(stateDir: string, patterns: string[], error: NoSupervisorError): LogSource[] | number {
  const logs = join(stateDir, 'logs');
  const records = readRecords(stateDir);
  if (!existsSync(logs) && records.size === 0) return nothingThere(stateDir, error);
  fail(`no supervisor is running for ${stateDir}; reading its logs`);
  const sources = new Map<string, LogSource>();
  for (const file of entries(logs)) {
    const name = file.slice(0, -'.log'.length);
    if (file.endsWith('.log')) sources.set(name, { name, stdout: join(logs, file), stderr: join(logs, file), logger: null, problem: null });
  }
  // A process left running says where its output goes (its own stdout path, its logger).
  for (const record of records.values()) sources.set(record.tag, logSourceOf(record.tag, record.config, null));
  const known = [...sources.keys()].sort();
  const { names, unmatched } = selectNames(known, patterns);
  if (unmatched.length > 0) {
    fail(noProfileMatches(unmatched));
    return EXIT.unknownService;
  }
  return names.map((name) => sources.get(name)!);
}
