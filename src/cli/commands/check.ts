// `proclaunch check`: a Nagios plugin; every failure is an UNKNOWN line, never stderr.
// `--json`: the same verdict as an object, with the counts (what `proclaunch fleet check` adds up).
import { ask } from '../../control/client.js';
import type { ServiceStatus } from '../../control/protocol.js';
import { escapeValue } from '../../log/escape.js';
import { VERSION } from '../../vocabulary/version.js';
import { CHECK_EXIT, evaluateCheck, parseThreshold, type CheckStatus } from '../check.js';
import { out, type Command } from './command.js';

let json = false; // set by run, read by unknown (which control.ts may call for a usage error, before run)

function verdict(status: CheckStatus, line: string, extra: Record<string, unknown> = {}): number {
  out(json ? `${JSON.stringify({ status, line, ...extra, version: VERSION })}\n` : `${line}\n`);
  return CHECK_EXIT[status];
}

function unknown(message: string, extra: Record<string, unknown> = {}): number {
  return verdict('UNKNOWN', `PROCLAUNCH UNKNOWN - ${escapeValue(message)}`, extra);
}

export const check: Command = {
  options: { warning: { type: 'string', short: 'w' }, critical: { type: 'string', short: 'c' } },
  help: `Usage: proclaunch check [-w N|N%] [-c N|N%] [--json] [NAME|GLOB ...]
A Nagios/Icinga plugin: one status line with perfdata; exit 0 OK, 1 WARNING, 2 CRITICAL,
3 UNKNOWN. Thresholds are on services down, a count or a share of those that should run.
  -w N|N%      WARNING above N down (default 0)
  -c N|N%      CRITICAL above N down
  --json       {status, line, running, total, down: [names]} (and unmatched patterns)
Example: proclaunch check -w 0 -c 49% 'worker*'
`,
  unknown: (message) => unknown(message),
  async run({ stateDir, names, values, json: asJson }) {
    json = asJson;
    const warning = values.warning === undefined ? { value: 0, percent: false } : parseThreshold(values.warning as string);
    const critical = values.critical === undefined ? null : parseThreshold(values.critical as string);
    if (!warning || (values.critical !== undefined && !critical)) return unknown('usage: -w and -c take N or N% (services down)');
    const reply = await ask(stateDir, { command: 'status', names, usage: false }); // no /proc scan: it runs every minute
    if (reply.ok !== true) return unknown(String(reply.error));
    const unmatched = reply.unmatched as string[];
    const { status, line, running, total, down } = evaluateCheck(reply.services as ServiceStatus[], warning, critical);
    const counts = { running, total, down, unmatched };
    if (unmatched.length > 0) return unknown(`no profile matches ${unmatched.map((p) => JSON.stringify(p)).join(', ')}`, counts);
    return verdict(status, line, counts);
  },
};
