// `proclaunch fleet [-f HOSTS] [-H HOST,...] [-g GROUP] [-p PARALLEL] [-t TIMEOUT]
// [-F SSH_CONFIG] [--json] COMMAND [ARGS...]`: a command on many hosts over ssh.
// Loaded only for `fleet` (src/cli/main.ts imports this module lazily).
import { useColour } from '../cli/commands/command.js';
import { UsageError } from '../cli/usage.js';
import { escapeValue } from '../log/escape.js';
import { checkUnknown, fleetCheck } from './check.js';
import type { FleetContext } from './context.js';
import { FLEET_CONTROL, fleetControl, type FleetControl } from './control-commands.js';
import { HostsFileError } from './hosts-file.js';
import { selectHosts, SelectionError, type Selection } from './select.js';
import { Ssh } from './ssh.js';

export const FLEET_USAGE = `Usage: proclaunch fleet [-f HOSTS] [-H HOST,...] [-g GROUP,...] [-p PARALLEL] [-t TIMEOUT]
                        [-F SSH_CONFIG] [--json] COMMAND [ARGS...]
Run a command on many hosts at once, through ssh (BatchMode, connections multiplexed).
  -f HOSTS       the hosts file (default $PROCLAUNCH_HOSTS, else ./hosts): one host a line,
                 [USER@]HOST[:PORT] [GROUP ...] [state=DIR] [profiles=DIR] [bin=PATH]
  -H HOST,...    these hosts (with their settings if the hosts file lists them)
  -g GROUP,...   the hosts of these groups
  -p PARALLEL    at most this many hosts at once (default 32)
  -t TIMEOUT     seconds a host may take (default 30)
  -F SSH_CONFIG  ssh's -F; $PROCLAUNCH_SSH, if set, is the ssh command to run
  --json         an array of {host, ok, exit, ms, version, result | error}
Commands: status, start, stop, restart [--rolling N], reload, signal, logs -n N, events,
ps, rescan, quit, check [-w N|N%] [-c N|N%] [--unreachable critical],
deploy PROFILE_DIR [--as NAME] [--rolling N], undeploy NAME,
install [--prefix DIR] [--start STATE_DIR PROFILES_DIR] [--enable].
Exit: 0 every host did it, 1 it failed on one, 255 one was not reached (and none failed),
2 usage; check: the Nagios codes 0-3. More: docs/fleet.md.
Example: proclaunch fleet -g workers check -c 49% 'worker*'
`;

interface FleetArgs extends Selection {
  parallel: number;
  timeoutMs: number;
  sshConfig?: string;
  json: boolean;
  command: string;
  rest: string[];
}

const VALUED: Record<string, keyof FleetArgs> = { '-f': 'file', '-H': 'hosts', '-g': 'groups', '-p': 'parallel', '-t': 'timeoutMs', '-F': 'sshConfig' };
/** For `proclaunch completion`. */
export const FLEET_OPTIONS = [...Object.keys(VALUED), '--json', '--help'];

export function parseFleetArgs(argv: string[]): FleetArgs | 'help' {
  const args: FleetArgs = { parallel: 32, timeoutMs: 30_000, json: false, command: '', rest: [], hosts: [], groups: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--help' || word === '-h') return 'help';
    if (word === '--json') {
      args.json = true;
      continue;
    }
    if (!word.startsWith('-')) break;
    const key = VALUED[word];
    if (!key) throw new UsageError(`unknown option ${JSON.stringify(word)}`);
    const value = argv[++i];
    if (value === undefined) throw new UsageError(`${word} needs a value`);
    if (key === 'hosts' || key === 'groups') args[key]!.push(value);
    else if (key === 'parallel') {
      if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`-p takes a number of hosts (1 or more), not ${JSON.stringify(value)}`);
      args.parallel = Number(value);
    } else if (key === 'timeoutMs') {
      const seconds = Number(value);
      if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`-t takes seconds (more than 0), not ${JSON.stringify(value)}`);
      args.timeoutMs = seconds * 1000;
    } else if (key === 'file') args.file = value;
    else if (key === 'sshConfig') args.sshConfig = value;
  }
  const command = argv[i];
  if (command === undefined) throw new UsageError('give a command (status, start, deploy, check, ...)');
  return { ...args, command, rest: argv.slice(i + 1) };
}

/** The COMMAND word, skipping the fleet's options and their values (for an error before parsing ends). */
function commandWord(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (VALUED[argv[i]!]) i++;
    else if (!argv[i]!.startsWith('-')) return argv[i];
  }
  return undefined;
}

export async function fleet(argv: string[]): Promise<number> {
  // `fleet check` keeps to the Nagios codes even for a usage error: UNKNOWN (3), on stdout.
  const checking = commandWord(argv) === 'check';
  try {
    const args = parseFleetArgs(argv);
    if (args === 'help') {
      process.stdout.write(FLEET_USAGE);
      return 0;
    }
    const context: FleetContext = {
      hosts: selectHosts(args),
      ssh: new Ssh({ config: args.sshConfig, timeoutMs: args.timeoutMs }),
      parallel: args.parallel,
      timeoutMs: args.timeoutMs,
      json: args.json,
      colour: useColour(process.stdout),
    };
    return await dispatch(context, args.command, args.rest);
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof SelectionError || error instanceof HostsFileError)) throw error;
    if (checking) return checkUnknown(error.message.split('\n')[0]!);
    const lines = error instanceof HostsFileError ? error.problems : [error.message];
    process.stderr.write(lines.map((line) => `proclaunch fleet: ${escapeValue(line)}\n`).join(''));
    if (error instanceof UsageError) process.stderr.write(`Try 'proclaunch fleet --help'.\n`);
    return 2;
  }
}

async function dispatch(context: FleetContext, command: string, rest: string[]): Promise<number> {
  if ((FLEET_CONTROL as readonly string[]).includes(command)) return fleetControl(context, command as FleetControl, rest);
  switch (command) {
    case 'check':
      return fleetCheck(context, rest);
    case 'deploy':
      return (await import('./deploy.js')).deploy(context, rest);
    case 'undeploy':
      return (await import('./deploy.js')).undeploy(context, rest);
    case 'install':
      return (await import('./install.js')).install(context, rest);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}
