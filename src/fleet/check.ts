// `fleet check`: one Nagios plugin over every host (lancelot: alert when half the workers
// are down). Each host answers `check --json` with its counts; the thresholds apply to the
// sums. A host that cannot be read makes it UNKNOWN (CRITICAL with --unreachable critical):
// it may hide a whole outage, so it outranks a WARNING.
import { parseArgs } from 'node:util';
import { CHECK_EXIT, downText, judge, parseThreshold, perfData, type CheckCounts, type CheckStatus } from '../cli/check.js';
import { escapeValue } from '../log/escape.js';
import { callProclaunch, deadlineOf, eachHost, failure, jsonOf, jsonRows, success, type FleetContext, type HostResult } from './context.js';

interface RemoteCheck extends CheckCounts {
  status: CheckStatus;
  line: string;
  unmatched?: string[];
}

export class CheckUsage extends Error {}

function parse(args: string[]) {
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { warning: { type: 'string', short: 'w' }, critical: { type: 'string', short: 'c' }, unreachable: { type: 'string' }, json: { type: 'boolean' } },
    });
    const warning = values.warning === undefined ? { value: 0, percent: false } : parseThreshold(values.warning);
    const critical = values.critical === undefined ? null : parseThreshold(values.critical);
    if (!warning || (values.critical !== undefined && !critical)) throw new CheckUsage('-w and -c take N or N% (services down)');
    if (values.unreachable !== undefined && values.unreachable !== 'unknown' && values.unreachable !== 'critical') throw new CheckUsage('--unreachable takes unknown or critical');
    return { warning, critical, unreachableCritical: values.unreachable === 'critical', names: positionals, json: values.json === true };
  } catch (error) {
    throw error instanceof CheckUsage ? error : new CheckUsage((error as Error).message.replace(/(\.)\s.*$/s, '$1'));
  }
}

export const checkUnknown = (message: string): number => {
  process.stdout.write(`PROCLAUNCH UNKNOWN - ${escapeValue(message)}\n`);
  return CHECK_EXIT.UNKNOWN;
};

export async function fleetCheck(context: FleetContext, args: string[]): Promise<number> {
  let options;
  try {
    options = parse(args);
  } catch (error) {
    return checkUnknown(`usage: ${(error as Error).message}`);
  }
  const results = await eachHost(context, async (host) => {
    const outcome = await callProclaunch(context, host, 'check', [...options.names, '--json'], deadlineOf(context));
    if (outcome.kind !== 'answered') return failure(host, outcome);
    const value = jsonOf(outcome.envelope?.stdout ?? outcome.text) as RemoteCheck | null;
    if (!value || typeof value.total !== 'number') return failure(host, outcome, `unreadable check reply: ${(value as RemoteCheck | null)?.line ?? outcome.text.slice(0, 80)}`);
    return success(host, outcome, value);
  });
  const { status, line } = verdict(results, options);
  if (context.json || options.json) process.stdout.write(jsonRows(results));
  else process.stdout.write(`${line}\n`);
  return CHECK_EXIT[status];
}

export function verdict(results: HostResult[], options: ReturnType<typeof parse>): { status: CheckStatus; line: string } {
  const read = results.filter((r) => r.ok).map((r) => ({ host: r.host.label, check: r.result as RemoteCheck }));
  const unread = results.filter((r) => !r.ok);
  const sum: CheckCounts = { running: 0, total: 0, down: [] };
  for (const { host, check } of read) {
    sum.running += check.running;
    sum.total += check.total;
    sum.down.push(...check.down.map((name) => `${host}:${name}`));
  }
  // A host with none of the named profiles adds nothing; none anywhere is UNKNOWN.
  const matchedSomewhere = options.names.length === 0 || read.some(({ check }) => (check.unmatched?.length ?? 0) < options.names.length);
  const { status: judged, warnAt, critAt } = judge(sum, options.warning, options.critical);
  let status: CheckStatus = judged;
  if (unread.length > 0 && judged !== 'CRITICAL') status = options.unreachableCritical ? 'CRITICAL' : 'UNKNOWN';
  if (read.length > 0 && !matchedSomewhere && status !== 'CRITICAL') status = 'UNKNOWN';
  const hosts = `${read.length}/${results.length} hosts`;
  const unreadText = unread.length === 0 ? '' : `, not read: ${unread.slice(0, 10).map((r) => `${escapeValue(r.host.label)} (${r.kind === 'answered' ? 'failed' : r.kind})`).join(', ')}${unread.length > 10 ? `, and ${unread.length - 10} more` : ''}`;
  const nothing = read.length > 0 && !matchedSomewhere ? `, no profile matches ${options.names.map((n) => JSON.stringify(n)).join(', ')} on any host` : '';
  const perf = `${perfData(sum, warnAt, critAt)} hosts=${read.length};;;0;${results.length}`;
  return { status, line: `PROCLAUNCH ${status} - ${sum.running}/${sum.total} running on ${hosts}${downText(sum.down)}${unreadText}${nothing} | ${perf}` };
}
