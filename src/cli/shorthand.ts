// ProcLaunch's command line, `proclaunch [options] STATE_DIR PROFILES_DIR`, as
// its users run it from cron — and the typos it must not be mistaken for.
// ProcLaunch parsed its options with Perl's Getopt::Long, defaults on: options
// before or after the directories, `--opt value` or `--opt=value`, one dash
// or two, any case, unique abbreviations (`--fore`). Ours are read the same
// way here, then handed to `supervise` in its own spelling.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { quote } from '../log/escape.js';
import { nearest } from '../vocabulary/nearest.js';
import { SUPERVISE_OPTIONS, SUPERVISE_PARSE, takesValue } from './supervise-options.js';
import { UsageError, firstSentence } from './usage.js';

const LONG_NAMES = Object.keys(SUPERVISE_OPTIONS).filter((name) => name !== 'daemon-child');
/** Getopt::Long ignores case, so ProcLaunch took `-F` for `-f` and `-d` for `-D`. */
const SHORT_ALIASES: Record<string, string> = { '-F': '-f', '-d': '-D' };

/** `--Log-Level=info`, `-foreground`, `--fore` → `--log-level=info`, `--foreground`, `--foreground`. */
function longOption(word: string): string {
  const [name = '', ...value] = word.replace(/^--?/, '').split('=');
  const lower = name.toLowerCase();
  const prefixed = LONG_NAMES.filter((known) => known.startsWith(lower));
  const known = LONG_NAMES.includes(lower) ? lower : prefixed.length === 1 ? prefixed[0]! : name; // unknown or ambiguous: as written
  return `--${[known, ...value].join('=')}`;
}

/** The words of a ProcLaunch command line in supervise's spelling. */
export function procLaunchArgs(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const spelled = !word.startsWith('-') || word === '-' ? word : (SHORT_ALIASES[word] ?? (/^-[A-Za-z]$/.test(word) ? word : longOption(word)));
    out.push(spelled);
    // The value of an option is never an option name to rewrite (`--log-path -weird-file`).
    if (spelled.startsWith('-') && !spelled.includes('=') && takesValue(spelled) && i + 1 < argv.length) out.push(argv[++i]!);
  }
  return out;
}

/** What is missing or mistyped in a shorthand command line, checked before anything is created or started. */
export function checkShorthand(args: string[], commands: readonly string[]): void {
  // A first word, not a path, that is no directory here: a command — mistyped, or unknown.
  const [word] = args;
  const commandLike = word !== undefined && !word.startsWith('-') && !word.includes('/') && !isDirectory(word);
  const guess = commandLike ? nearest(word, commands) : null;
  if (guess) throw new UsageError(`unknown command ${quote(word!)}; did you mean ${guess}?`);
  let positionals: string[];
  try {
    positionals = parseArgs({ args, allowPositionals: true, options: SUPERVISE_PARSE }).positionals;
  } catch (error) {
    if (commandLike) throw new UsageError(`unknown command ${quote(word!)}`);
    throw new UsageError(firstSentence((error as Error).message));
  }
  if (positionals.length === 0) throw new UsageError('give STATE_DIR and PROFILES_DIR (or a command)');
  if (positionals.length === 1 && commandLike) throw new UsageError(`unknown command ${quote(word!)}`);
  if (positionals.length !== 2) throw new UsageError('the ProcLaunch shorthand takes two directories, STATE_DIR and PROFILES_DIR');
  // `supervise` waits for a missing PROFILES_DIR (it may be mounted later); the shorthand is also what a typo looks like.
  const profilesDir = positionals[1]!;
  if (!isDirectory(profilesDir)) {
    throw new UsageError(`PROFILES_DIR ${quote(resolve(profilesDir))} is not a directory; nothing started (\`proclaunch supervise\` waits for a missing one)`);
  }
}

function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
}
