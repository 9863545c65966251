// The commands that drive a running supervisor through its control socket: find the command,
// parse its options, run it. Each command lives in commands/ and is loaded only when it runs.
import { parseArgs } from 'node:util';
import { NoSupervisorError } from '../control/client.js';
import { CONTROL_COMMANDS, type ControlCommand } from './command-names.js';
import { fail, stateDirOf, useColour, type Command } from './commands/command.js';
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
  completion: async () => (await import('./commands/completion.js')).completion,
} satisfies Record<ControlCommand, () => Promise<Command>>;

const COMMON = { state: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

/** A command's options (the common ones included): `proclaunch fleet` checks arguments here before sending them to every host. */
export const commandOptions = async (name: ControlCommand) => ({ ...COMMON, ...(await LOADERS[name]()).options });

export const CONTROL_USAGE = `Control commands (talk to the supervisor of --state DIR, else $PROCLAUNCH_STATE, else ./state):
  proclaunch status [NAME|GLOB ...] [--json]        exit 0 if every named profile runs, 3 if not, 4 unknown
  proclaunch start|stop|restart NAME|GLOB ... | --all [--no-wait] [--timeout S]
                                                     start/restart: until ready
  proclaunch restart --rolling NAME|GLOB ...         one at a time, each ready first
  proclaunch reload NAME|GLOB ... | --all            send the profile's reload signal (default SIGHUP)
  proclaunch signal SIG NAME|GLOB ... | --all
  proclaunch logs [NAME|GLOB ...] [-f] [-n LINES] [--json]
  proclaunch events [NAME|GLOB ...] [-f] [-n N] [--since TIME] [--json]
                                                     TIME: ISO 8601, or 30s, 10m, 2h, 1d ago
  proclaunch ps [NAME|GLOB ...] [-o pid,user,rss,pcpu,elapsed,args] [--json]
  proclaunch check [-w N|N%] [-c N|N%] [NAME|GLOB ...]   Nagios plugin; thresholds on services down
  proclaunch rescan
  proclaunch quit [--leave-running]
  proclaunch completion bash|zsh                    a completion script: eval "$(proclaunch completion bash)"
Exit codes: 0 done, 1 failed, 2 usage error, 3 no supervisor (status: not running),
4 a name or glob matches no profile.
'proclaunch COMMAND --help' shows a command's options and an example.
`;

/**
 * `-n -3`: node's parseArgs refuses a value that starts with '-' as
 * "ambiguous". A negative number is a value: given as `--lines=-3`, the
 * command itself then says what is wrong with it.
 */
function joinNegativeValues(argv: string[], options: Command['options']): string[] {
  const takesValue = new Map<string, string>();
  for (const [long, option] of Object.entries(options)) {
    if (option.type !== 'string') continue;
    takesValue.set(`--${long}`, long);
    if (option.short) takesValue.set(`-${option.short}`, long);
  }
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const long = takesValue.get(argv[i]!);
    if (argv[i] === '--') return [...args, ...argv.slice(i)];
    if (long !== undefined && /^-\d/.test(argv[i + 1] ?? '')) args.push(`--${long}=${argv[++i]}`);
    else args.push(argv[i]!);
  }
  return args;
}

export async function control(name: ControlCommand, argv: string[]): Promise<number> {
  // For `proclaunch fleet` on the other end of ssh: one JSON line with the versions (envelope.ts).
  if (process.env.PROCLAUNCH_JSON_ENVELOPE === '1') return (await import('./envelope.js')).enveloped(() => runControl(name, argv));
  return runControl(name, argv);
}

async function runControl(name: ControlCommand, argv: string[]): Promise<number> {
  const command = await LOADERS[name]();
  const options = { ...COMMON, ...command.options };
  let parsed;
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv, options), allowPositionals: true, options });
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
      // Only on this path: how to point at a supervisor, and the one running here, if there is one.
      const { pointAtSupervisor } = await import('./find-supervisors.js');
      fail(`${error.message}; ${pointAtSupervisor(context.stateDir)}`);
      return EXIT.noSupervisor;
    }
    throw error;
  }
}

/** For `completion`: every command with every option it takes (each command module is loaded). */
export async function completionTable(): Promise<import('./commands/completion.js').CompletionTable> {
  const spelled = (options: NonNullable<Command['options']>) =>
    Object.entries({ ...COMMON, ...options } as NonNullable<Command['options']>).flatMap(([name, spec]) => [`--${name}`, ...(spec.short ? [`-${spec.short}`] : [])]);
  const { SUPERVISE_OPTIONS } = await import('./supervise-options.js');
  const supervise = Object.entries(SUPERVISE_OPTIONS).filter(([, spec]) => !('hidden' in spec)).flatMap(([name, spec]) => [`--${name}`, ...('short' in spec ? [`-${spec.short}`] : [])]);
  const commands = [{ name: 'supervise', options: [...supervise, '--help'] }];
  for (const name of CONTROL_COMMANDS) commands.push({ name, options: spelled((await LOADERS[name]()).options) });
  commands.push({ name: 'fleet', options: (await import('../fleet/cli.js')).FLEET_OPTIONS });
  return { commands };
}
