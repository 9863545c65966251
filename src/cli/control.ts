// The commands that drive a running supervisor through its control socket: find the command,
// parse its options, run it. Each command lives in commands/ and is loaded only when it runs.
import { parseArgs } from 'node:util';
import { NoSupervisorError } from '../control/client.js';
import { useColour } from './format.js';
import { fail, stateDirOf, type Command } from './commands/command.js';
import { EXIT, UsageError, firstSentence } from './usage.js';

const LOADERS = {
  status: async () => (await import('./commands/status.js')).status,
  start: async () => (await import('./commands/actions.js')).start,
  stop: async () => (await import('./commands/actions.js')).stop,
  restart: async () => (await import('./commands/actions.js')).restart,
  reload: async () => (await import('./commands/actions.js')).reload,
  signal: async () => (await import('./commands/actions.js')).signal,
  logs: async () => (await import('./commands/logs.js')).logs,
  events: async () => (await import('./commands/events.js')).events,
  ps: async () => (await import('./commands/ps.js')).ps,
  rescan: async () => (await import('./commands/admin.js')).rescan,
  quit: async () => (await import('./commands/admin.js')).quit,
  check: async () => (await import('./commands/check.js')).check,
} satisfies Record<string, () => Promise<Command>>;

export type ControlCommand = keyof typeof LOADERS;
export const CONTROL_COMMANDS = Object.keys(LOADERS) as ControlCommand[];

const COMMON = { state: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

/** A command's options (the common ones included): `proclaunch fleet` checks arguments here before sending them to every host. */
export const commandOptions = async (name: ControlCommand) => ({ ...COMMON, ...(await LOADERS[name]()).options });

export const CONTROL_USAGE = `Control commands (talk to the supervisor of --state DIR, else $PROCLAUNCH_STATE, else ./state):
  proclaunch status [NAME|GLOB ...] [--json]        exit 0 if every named profile runs, 3 if not
  proclaunch start|stop|restart NAME|GLOB ... | --all [--no-wait] [--timeout S]
                                                     start/restart: until ready
  proclaunch restart --rolling NAME|GLOB ...         one at a time, each ready first
  proclaunch reload NAME|GLOB ... | --all            send the profile's reload signal (default SIGHUP)
  proclaunch signal SIG NAME|GLOB ... | --all
  proclaunch logs NAME [-f] [-n LINES]               the service's captured output
  proclaunch events [-f] [--since TIME] [--json]     TIME: ISO 8601, or 30s, 10m, 2h, 1d ago
  proclaunch ps [-o pid,user,rss,pcpu,elapsed,args] [--json]
  proclaunch check [-w N|N%] [-c N|N%] [NAME|GLOB ...]   Nagios plugin; thresholds on services down
  proclaunch rescan
  proclaunch quit [--leave-running]
Exit codes: 0 done, 1 failed, 2 usage error, 3 no supervisor (status: not running).
'proclaunch COMMAND --help' shows a command's options and an example.
`;

export async function control(name: ControlCommand, argv: string[]): Promise<number> {
  // For `proclaunch fleet` on the other end of ssh: one JSON line with the versions (envelope.ts).
  if (process.env.PROCLAUNCH_JSON_ENVELOPE === '1') return (await import('./envelope.js')).enveloped(() => runControl(name, argv));
  return runControl(name, argv);
}

async function runControl(name: ControlCommand, argv: string[]): Promise<number> {
  const command = await LOADERS[name]();
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { ...COMMON, ...command.options } });
  } catch (error) {
    if (command.unknown) return command.unknown(`usage: ${(error as Error).message}`);
    throw new UsageError(`${name}: ${firstSentence((error as Error).message)}`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) {
    process.stdout.write(command.help);
    return EXIT.ok;
  }
  const context = { stateDir: stateDirOf(values.state as string | undefined), names: parsed.positionals, values, json: values.json === true, colour: useColour(process.stdout) };
  try {
    return await command.run(context);
  } catch (error) {
    if (command.unknown) return command.unknown((error as Error).message);
    if (error instanceof NoSupervisorError) {
      fail(error.message);
      return EXIT.noSupervisor;
    }
    throw error;
  }
}
