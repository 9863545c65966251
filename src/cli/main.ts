#!/usr/bin/env node
import { escapeValue, quote } from '../log/escape.js';
import { CONTROL_COMMANDS, CONTROL_USAGE, control, type ControlCommand } from './control.js';
import { EXIT, USAGE, UsageError } from './usage.js';
import { VERSION } from '../vocabulary/version.js';

/** Names that are commands, never the STATE_DIR of the ProcLaunch shorthand. */
const isControlCommand = (word: string): word is ControlCommand => (CONTROL_COMMANDS as readonly string[]).includes(word);

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n${CONTROL_USAGE}`);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command === '--version' || command === '-V') {
    process.stdout.write(`proclaunch ${VERSION}\n`);
    return EXIT.ok;
  }
  // Loaded only to supervise: a control command never loads xstate, chokidar or date-fns.
  const supervise = async (args: string[]) => (await import('./supervise.js')).supervise(args);
  if (command === 'supervise') return supervise(rest);
  if (command === 'fleet') return (await import('../fleet/cli.js')).fleet(rest);
  if (isControlCommand(command)) return control(command, rest);
  // ProcLaunch compatibility: `proclaunch STATE_DIR PROFILES_DIR [options]`.
  // Two directories in a row (or a path) read as the shorthand; one stray word is a typo.
  const shorthand = command.includes('/') || (rest[0] !== undefined && !rest[0].startsWith('-'));
  if (!command.startsWith('-') && shorthand) return supervise(argv);
  if (!command.startsWith('-')) throw new UsageError(`unknown command ${quote(command)}`);
  throw new UsageError(`unknown option ${quote(command)}`);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== -1) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`proclaunch: ${escapeValue(error.message)}\nTry 'proclaunch --help'.\n`);
      process.exitCode = EXIT.usage;
    } else {
      process.stderr.write(`proclaunch: ${escapeValue((error as Error).message)}\n`);
      process.exitCode = EXIT.failed;
    }
  },
);
