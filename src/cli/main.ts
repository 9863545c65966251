#!/usr/bin/env node
import { escapeValue } from '../log/escape.js';
import { VERSION } from '../vocabulary/version.js';
import { CONTROL_COMMANDS, isControlCommand } from './command-names.js';
import { EXIT, isUsageError } from './usage.js';

/**
 * `supervise` or the ProcLaunch shorthand: loaded only to supervise (a control command never loads xstate, chokidar or date-fns);
 * as one bundled module when the build made it (scripts/build.mjs: ~50–100 ms sooner to the first service).
 */
const SUPERVISE_BUNDLE = './supervise.bundle.js';
const supervise = async (args: string[]) => {
  const notBuilt = (error: NodeJS.ErrnoException) => (error.code === 'ERR_MODULE_NOT_FOUND' && error.message.includes(SUPERVISE_BUNDLE.slice(2)) ? null : Promise.reject(error));
  const module = ((await import(SUPERVISE_BUNDLE).catch(notBuilt)) ?? (await import('./supervise.js'))) as typeof import('./supervise.js');
  return module.supervise(args);
};
const superviseHelp = async () => (await import('./supervise-options.js')).SUPERVISE_HELP;
const wantsHelp = (args: string[]) => args.some((a) => a === '--help' || a === '-h') && !args.includes('--');

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    const [{ SUPERVISE_USAGE }, { CONTROL_USAGE }] = await Promise.all([import('./supervise-options.js'), import('./control.js')]);
    process.stdout.write(`${SUPERVISE_USAGE}\n${CONTROL_USAGE}`);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command === '--version' || command === '-V') {
    process.stdout.write(`proclaunch ${VERSION}\n`);
    return EXIT.ok;
  }
  if (command === 'supervise') {
    if (!wantsHelp(rest)) return supervise(rest);
    process.stdout.write(await superviseHelp());
    return EXIT.ok;
  }
  if (command === 'fleet') return (await import('../fleet/cli.js')).fleet(rest);
  // Each command loads only what it uses (status, check: start-up within 1.3× of bare Node; bench/cli-startup.mjs).
  if (isControlCommand(command)) return (await import('./control.js')).control(command, rest);
  // ProcLaunch compatibility: `proclaunch [options] STATE_DIR PROFILES_DIR [options]` — unless it is a typo.
  const { checkShorthand, procLaunchArgs } = await import('./shorthand.js');
  const args = procLaunchArgs(argv);
  if (wantsHelp(args)) {
    process.stdout.write(await superviseHelp());
    return EXIT.ok;
  }
  checkShorthand(args, ['supervise', 'fleet', ...CONTROL_COMMANDS]);
  return supervise(args);
}

// `proclaunch events | head -1`: a reader that went away ends the command quietly (exit 0, as `cat`
// ends), whatever the command was writing; any other write error stays an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(EXIT.ok);
  });
}

/** `proclaunch --state DIR status` as `proclaunch status --state DIR`: a global option before the command, as systemctl and git take theirs. */
function stateFirst(argv: string[]): string[] {
  const [first, second, ...rest] = argv;
  if (first === '--state' && second !== undefined && rest.length > 0) return [rest[0]!, '--state', second, ...rest.slice(1)];
  if (first?.startsWith('--state=') && second !== undefined) return [second, first, ...rest];
  return argv;
}

main(stateFirst(process.argv.slice(2))).then(
  (code) => {
    if (code !== -1) process.exitCode = code;
  },
  (error: unknown) => {
    if (isUsageError(error)) {
      process.stderr.write(`proclaunch: ${escapeValue(error.message)}\nTry 'proclaunch --help'.\n`);
      process.exitCode = EXIT.usage;
    } else {
      process.stderr.write(`proclaunch: ${escapeValue((error as Error).message)}\n`);
      process.exitCode = EXIT.failed;
    }
  },
);
