// `rescan` and `quit`: requests to the supervisor itself.
import { ask } from '../../control/client.js';
import { escapeValue } from '../../log/escape.js';
import { EXIT } from '../usage.js';
import { failed, out, type Command, type CommandContext } from './command.js';

/** `--json`: the supervisor's reply as it is ({ok, message?, error?, version}), exit 1 when not ok. */
async function request({ stateDir, json }: CommandContext, body: Record<string, unknown>): Promise<number> {
  const reply = await ask(stateDir, body);
  if (json) {
    const { id: _id, ...shown } = reply;
    out(`${JSON.stringify(shown)}\n`);
    return reply.ok === false ? EXIT.failed : EXIT.ok;
  }
  if (failed(reply)) return EXIT.failed;
  if (typeof reply.message === 'string') out(`${escapeValue(reply.message)}\n`);
  return EXIT.ok;
}

export const rescan: Command = {
  options: {},
  help: `Usage: proclaunch rescan [--json]
Look at every profile in PROFILES_DIR now (changes are picked up by themselves; this is the
safety net, at once).
  --json       the supervisor's reply: {"ok":true,"version":...}
Example: proclaunch rescan
`,
  run: (context) => request(context, { command: 'rescan' }),
};

export const quit: Command = {
  options: { 'leave-running': { type: 'boolean' } },
  help: `Usage: proclaunch quit [--leave-running] [--json]
Stop every service (dependents first), then the supervisor.
  --leave-running  stop only the supervisor; the next one takes the services over
  --json           the supervisor's reply: {"ok":true,"message":...,"version":...}
Example: proclaunch quit --leave-running
`,
  run: (context) => request(context, { command: 'quit', leaveRunning: context.values['leave-running'] === true }),
};
