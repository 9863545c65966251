// `start`, `stop`, `restart`, `reload`, `signal`: one request naming services, a row per service back.
import { ask } from '../../control/client.js';
import type { ActionResult } from '../../control/protocol.js';
import { parseSignal } from '../../profile/signals.js';
import { formatResults } from '../format.js';
import { EXIT, UsageError } from '../usage.js';
import { checkPatterns, out, refused, seconds, type Command, type CommandContext } from './command.js';

type ActionName = 'start' | 'stop' | 'restart' | 'reload' | 'signal';

async function act(command: ActionName, { stateDir, names, values, json, colour }: CommandContext): Promise<number> {
  const all = values.all === true;
  let signal: string | undefined;
  if (command === 'signal') {
    signal = names.shift();
    if (!signal) throw new UsageError('signal: give a signal, then profile names (or --all)');
    if (!parseSignal(signal)) throw new UsageError(`signal: unknown signal ${JSON.stringify(signal)}`);
  }
  if (names.length === 0 && !all) throw new UsageError(`${command}: give profile names or globs, or --all`);
  if (all && names.length > 0) throw new UsageError(`${command}: give profile names or --all, not both`);
  checkPatterns(command, names);
  const request: Record<string, unknown> = { command, names, all };
  if (signal !== undefined) request.signal = signal;
  if (command === 'start' || command === 'stop' || command === 'restart') {
    request.wait = values['no-wait'] !== true;
    if (values.rolling === true) {
      if (!request.wait) throw new UsageError('restart: --rolling waits for each instance to be ready: not with --no-wait');
      request.rolling = true;
    }
    const timeoutMs = seconds(values.timeout as string | undefined, '--timeout');
    if (timeoutMs !== undefined) request.timeoutMs = timeoutMs;
  }
  const reply = await ask(stateDir, request);
  if (!Array.isArray(reply.results)) return refused(reply) ?? EXIT.ok;
  const results = reply.results as ActionResult[];
  out(json ? `${JSON.stringify(results)}\n` : formatResults(results, colour));
  return results.every((r) => r.ok) ? EXIT.ok : EXIT.failed;
}

const WAIT_OPTIONS = { all: { type: 'boolean' }, 'no-wait': { type: 'boolean' }, timeout: { type: 'string' } } as const;
const WAIT_HELP = `  --all        every profile
  --no-wait    return once the request is taken, without waiting for the outcome
  --timeout S  wait at most S seconds
  --json       a JSON row per service`;

export const start: Command = {
  options: WAIT_OPTIONS,
  help: `Usage: proclaunch start NAME|GLOB ... | --all [--no-wait] [--timeout S] [--json]
Start the services (and their needs stopped by command); wait until each is ready, or
for a profile without readiness, up 1 s. A service that dies first is FAILED (exit 1).
${WAIT_HELP}
Example: proclaunch start web 'worker@*'
`,
  run: (context) => act('start', context),
};

export const stop: Command = {
  options: WAIT_OPTIONS,
  help: `Usage: proclaunch stop NAME|GLOB ... | --all [--no-wait] [--timeout S] [--json]
Stop the services and keep them down until \`start\` (dependents keep running; --all stops
dependents first). Waits until their processes are gone.
${WAIT_HELP}
Example: proclaunch stop --all
`,
  run: (context) => act('stop', context),
};

export const restart: Command = {
  options: { ...WAIT_OPTIONS, rolling: { type: 'boolean' } },
  help: `Usage: proclaunch restart NAME|GLOB ... | --all [--rolling] [--no-wait] [--timeout S] [--json]
Stop and start the services; wait until each is ready again.
${WAIT_HELP}
  --rolling    one at a time, each ready before the next (a pool without downtime)
Example: proclaunch restart --rolling pool
`,
  run: (context) => act('restart', context),
};

export const reload: Command = {
  options: { all: { type: 'boolean' } },
  help: `Usage: proclaunch reload NAME|GLOB ... | --all [--json]
Send each service its profile's reload signal (the signal in its reload file; SIGHUP without one).
  --all        every profile
Example: proclaunch reload nginx
`,
  run: (context) => act('reload', context),
};

export const signal: Command = {
  options: { all: { type: 'boolean' } },
  help: `Usage: proclaunch signal SIG NAME|GLOB ... | --all [--json]
Send SIG (a name like TERM or SIGUSR1, or a number) to each service.
  --all        every profile
Example: proclaunch signal USR1 worker@2
`,
  run: (context) => act('signal', context),
};
