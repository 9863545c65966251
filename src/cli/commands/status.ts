// `proclaunch status`: the table (or JSON) of every profile, or of the named ones.
import { ask } from '../../control/client.js';
import type { ServiceStatus } from '../../control/protocol.js';
import { noProfileMatches } from '../../profile/names.js';
import { formatStatus } from '../format.js';
import { EXIT } from '../usage.js';
import { checkPatterns, fail, failed, out, type Command } from './command.js';

export const status: Command = {
  options: {},
  help: `Usage: proclaunch status [NAME|GLOB ...] [--json] [--state DIR]
Every profile (or the named ones): state, pid, uptime, restarts, last exit, note.
Exit 0 if every named profile runs, 3 if not, 4 if a name matches no profile (LSB).
  --json       the services as a JSON array
Example: proclaunch status 'web*'
`,
  async run({ stateDir, names, json, colour }) {
    const reply = await ask(stateDir, { command: 'status', names: checkPatterns('status', names) });
    if (failed(reply)) return EXIT.failed;
    const services = reply.services as ServiceStatus[];
    const unmatched = reply.unmatched as string[];
    // `status nosuch`: nothing on stdout (not "no profiles"), one line on stderr.
    if (names.length === 0 || services.length > 0) out(json ? `${JSON.stringify(services)}\n` : formatStatus(services, colour));
    if (unmatched.length > 0) fail(noProfileMatches(unmatched));
    // LSB: `status web || alert` — 4 for a service it does not know, 3 when anything named is not running.
    if (unmatched.length > 0) return EXIT.unknownService;
    if (names.length > 0 && services.some((s) => s.state !== 'running')) return EXIT.noSupervisor;
    return EXIT.ok;
  },
};
