// Any control command on every host: the remote runs the plain CLI (--json, enveloped), we
// merge — status one table with a HOST column, actions a row per host per service, logs
// and events each line led by its host. `restart --rolling N`: N hosts at a time.
import { parseArgs } from 'node:util';
import type { ControlCommand } from '../cli/command-names.js';
import { commandOptions } from '../cli/control.js';
import { parsePsFormat, DEFAULT_PS_FORMAT } from '../cli/ps-format.js';
import { EXIT, UsageError, firstSentence } from '../cli/usage.js';
import { escapeValue } from '../log/escape.js';
import type { Outcome } from './classify.js';
import { callProclaunch, deadlineOf, eachHost, exitOf, failure, jsonOf, jsonRows, success, type FleetContext, type HostResult } from './context.js';
import type { Host } from './hosts-file.js';
import { inBatches } from './pool.js';
import { eventLines, logLines, psTable, resultTable, statusTable } from './tables.js';

export type FleetControl = Exclude<ControlCommand, 'check' | 'completion'>;
export const FLEET_CONTROL: readonly FleetControl[] = ['status', 'start', 'stop', 'restart', 'reload', 'signal', 'logs', 'events', 'ps', 'rescan', 'quit'];

/** Commands whose `--json` is one object per line (the others print one JSON value). */
const LINES = new Set<FleetControl>(['logs', 'events']);

const out = (text: string): void => void process.stdout.write(text);
export const warn = (message: string): void => void process.stderr.write(`proclaunch fleet: ${escapeValue(message)}\n`);

/** The remote's stderr, one line (several joined by `; `). */
const stderrOf = (outcome: Outcome): string =>
  (outcome.envelope?.stderr ?? '').split('\n').filter(Boolean).map((line) => line.replace(/^proclaunch: /, '')).join('; ');

export function resultOf(command: FleetControl, host: Host, outcome: Outcome): HostResult {
  if (outcome.kind !== 'answered') return failure(host, outcome);
  const text = outcome.envelope ? outcome.envelope.stdout : outcome.text;
  const value = jsonOf(text, LINES.has(command));
  const said = stderrOf(outcome) || undefined;
  if (command === 'status') {
    // 3: a named profile is not running; 4: a pattern matches nothing there — the host answered all the same.
    if (Array.isArray(value) || outcome.exit === EXIT.unknownService) return success(host, outcome, Array.isArray(value) ? value : [], true, said);
    return failure(host, outcome, said ?? `unreadable reply: ${text.slice(0, 80)}`);
  }
  if (outcome.exit === 0) return success(host, outcome, value ?? text);
  if (value !== null && value !== undefined) return success(host, outcome, value, false, said ?? 'failed');
  return failure(host, outcome, said ?? `exited with code ${outcome.exit}`);
}

interface Prepared {
  remoteArgs: string[];
  psColumns: ReturnType<typeof parsePsFormat>;
  rolling: number | null;
}

/** Check the arguments here, with the command's own options, before sending them to every host. */
async function prepare(context: FleetContext, command: FleetControl, args: string[]): Promise<Prepared> {
  let rolling: number | null = null;
  const rest = [...args];
  const at = rest.indexOf('--rolling');
  if (command === 'restart' && at >= 0) {
    const n = rest[at + 1];
    if (n === undefined || !/^\d+$/.test(n) || Number(n) < 1) throw new UsageError(`restart --rolling takes a number of hosts at a time, not ${JSON.stringify(n ?? '')}`);
    rolling = Number(n);
    rest.splice(at, 2);
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: await commandOptions(command), allowPositionals: true });
  } catch (error) {
    throw new UsageError(`${command}: ${firstSentence((error as Error).message)}`);
  }
  const values = parsed.values as Record<string, unknown>;
  if (values.state !== undefined) throw new UsageError(`${command}: --state is per host: state=DIR in the hosts file`);
  if (values.follow) throw new UsageError(`${command}: -f does not follow many hosts; without it, each host's lines are shown`);
  if (values.help) throw new UsageError(`${command}: see 'proclaunch ${command} --help'`);
  if (values.json) context.json = true;
  const psColumns = command === 'ps' && typeof values.format === 'string' ? parsePsFormat(values.format) : DEFAULT_PS_FORMAT;
  if (typeof psColumns === 'string') throw new UsageError(`ps: ${psColumns}`);
  const remoteArgs = [...rest.filter((a) => a !== '--json'), '--json'];
  return { remoteArgs, psColumns, rolling };
}

export async function fleetControl(context: FleetContext, command: FleetControl, args: string[]): Promise<number> {
  const { remoteArgs, psColumns, rolling } = await prepare(context, command, args);
  const onHost = async (host: Host) => resultOf(command, host, await callProclaunch(context, host, command, remoteArgs, deadlineOf(context)));
  let results: HostResult[];
  if (rolling === null) results = await eachHost(context, onHost);
  else {
    const done = await inBatches(context.hosts, rolling, async (batch) => {
      const batchResults = await eachHost(context, onHost, batch);
      return { results: batchResults, goOn: batchResults.every((r) => r.ok) };
    });
    results = done.results;
    if (done.left.length > 0) warn(`the rolling restart stopped at ${failedNames(results)}; not restarted on: ${done.left.map((h) => h.label).join(', ')}`);
  }
  if (context.json) out(jsonRows(results));
  else out(render(command, results, context.colour, psColumns as Exclude<typeof psColumns, string>));
  if (command === 'status') warnVersions(results);
  return exitOf(results);
}

export const failedNames = (results: HostResult[]): string => results.filter((r) => !r.ok).map((r) => r.host.label).join(', ');

function render(command: FleetControl, results: HostResult[], colour: boolean, psColumns: Exclude<ReturnType<typeof parsePsFormat>, string>): string {
  switch (command) {
    case 'status':
      return statusTable(results, colour);
    case 'ps':
      return psTable(results, psColumns);
    case 'events':
      return eventLines(results);
    case 'logs':
      return logLines(results);
    default:
      return resultTable(results, colour);
  }
}

/** One warning when the hosts that answered run different versions. */
export function warnVersions(results: HostResult[]): void {
  const byVersion = new Map<string, string[]>();
  for (const r of results) if (r.version !== null) byVersion.set(r.version, [...(byVersion.get(r.version) ?? []), r.host.label]);
  if (byVersion.size < 2) return;
  warn(`the hosts run different versions: ${[...byVersion].map(([v, hosts]) => `${v} (${hosts.join(', ')})`).join(', ')}`);
}
