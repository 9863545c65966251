// `proclaunch status`: the table (or JSON) of every profile, or of the named
// ones; one service named alone gets the detail view (status-detail.ts).
import { ask } from '../../control/client.js';
import type { ServiceStatus } from '../../control/protocol.js';
import { isGlob, noProfileMatches } from '../../profile/names.js';
import { formatStatus, terminalWidth } from '../format.js';
import { EXIT } from '../usage.js';
import { checkPatterns, fail, failed, out, type Command } from './command.js';

export const status: Command = {
  options: { wide: { type: 'boolean' } },
  help: `Usage: proclaunch status [NAME|GLOB ...] [--wide] [--json] [--state DIR]
Every profile (or the named ones): state, pid, uptime, CPU%, memory, restarts,
last exit, note. One NAME (not a glob, no --wide) that is one service: its detail — state and
since when, process tree, CPU and memory, restarts, last exit, profile directory
and files, where its output goes and its last 10 lines.
Exit 0 if every named profile runs, 3 if not, 4 if a name matches no profile (LSB).
  --wide       the table with every column, nothing cut (else it fits the terminal, 80 columns in a pipe)
  --json       the services as a JSON array (rssBytes, cpuSeconds; with one NAME, its detail too)
Example: proclaunch status 'web*'
`,
  async run({ stateDir, names, values, json, colour }) {
    const one = names.length === 1 && !isGlob(names[0]!) && values.wide !== true; // --wide: the table, even for one
    const reply = await ask(stateDir, { command: 'status', names: checkPatterns('status', names), detail: one });
    if (failed(reply)) return EXIT.failed;
    const services = reply.services as ServiceStatus[];
    const unmatched = reply.unmatched as string[];
    // `status nosuch`: nothing on stdout (not "no profiles"), one line on stderr.
    if (json) {
      if (names.length === 0 || services.length > 0) out(`${JSON.stringify(services)}\n`);
    } else if (one && services.length === 1) out(await (await import('../status-detail.js')).formatDetail(services[0]!, colour));
    else if (names.length === 0 || services.length > 0) out(formatStatus(services, colour, { width: terminalWidth(process.stdout), wide: values.wide === true }));
    if (unmatched.length > 0) fail(noProfileMatches(unmatched));
    // LSB: `status web || alert` — 4 for a service it does not know, 3 when anything named is not running.
    if (unmatched.length > 0) return EXIT.unknownService;
    if (names.length > 0 && services.some((s) => s.state !== 'running')) return EXIT.noSupervisor;
    return EXIT.ok;
  },
};
