// `proclaunch check`: a Nagios plugin; every failure is an UNKNOWN line, never stderr.
import { ask } from '../../control/client.js';
import type { ServiceStatus } from '../../control/protocol.js';
import { escapeValue } from '../../log/escape.js';
import { CHECK_EXIT, evaluateCheck, parseThreshold } from '../check.js';
import { out, type Command } from './command.js';

function unknown(message: string): number {
  out(`PROCLAUNCH UNKNOWN - ${escapeValue(message)}\n`);
  return CHECK_EXIT.UNKNOWN;
}

export const check: Command = {
  options: { warning: { type: 'string', short: 'w' }, critical: { type: 'string', short: 'c' } },
  help: `Usage: proclaunch check [-w N|N%] [-c N|N%] [NAME|GLOB ...]
A Nagios/Icinga plugin: one status line with perfdata; exit 0 OK, 1 WARNING, 2 CRITICAL,
3 UNKNOWN. Thresholds are on services down, a count or a share of those that should run.
  -w N|N%      WARNING above N down (default 0)
  -c N|N%      CRITICAL above N down
Example: proclaunch check -w 0 -c 49% 'worker*'
`,
  unknown,
  async run({ stateDir, names, values }) {
    const warning = values.warning === undefined ? { value: 0, percent: false } : parseThreshold(values.warning as string);
    const critical = values.critical === undefined ? null : parseThreshold(values.critical as string);
    if (!warning || (values.critical !== undefined && !critical)) return unknown('usage: -w and -c take N or N% (services down)');
    const reply = await ask(stateDir, { command: 'status', names });
    if (reply.ok !== true) return unknown(String(reply.error));
    if ((reply.unmatched as string[]).length > 0) return unknown(`no profile matches ${(reply.unmatched as string[]).map((p) => JSON.stringify(p)).join(', ')}`);
    const { status, line } = evaluateCheck(reply.services as ServiceStatus[], warning, critical);
    out(`${line}\n`);
    return CHECK_EXIT[status];
  },
};
