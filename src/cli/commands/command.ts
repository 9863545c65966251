// What every control command is made of, and the few helpers they share.
import { resolve } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { escapeValue } from '../../log/escape.js';
import { patternProblem } from '../../profile/names.js';
import { EXIT, UsageError } from '../usage.js';

export type Values = Record<string, string | boolean | undefined>;

export interface CommandContext {
  stateDir: string;
  /** The positional arguments: names and globs (and `signal`'s SIG first). */
  names: string[];
  values: Values;
  json: boolean;
  colour: boolean;
}

export interface Command {
  options: NonNullable<ParseArgsConfig['options']>;
  /** `proclaunch COMMAND --help`: usage, options, one example. */
  help: string;
  run(context: CommandContext): Promise<number>;
  /** A command with its own way to fail (check: a Nagios UNKNOWN line) instead of stderr and an exit code. */
  unknown?(message: string): number;
}

/** Colour only on a terminal, and never with NO_COLOR. */
export const useColour = (stream: NodeJS.WriteStream): boolean => stream.isTTY === true && !('NO_COLOR' in process.env);

/** --state DIR, else $PROCLAUNCH_STATE (set but empty counts as unset), else ./state. */
export function stateDirOf(value: string | undefined): string {
  return resolve(value ?? (process.env.PROCLAUNCH_STATE || './state'));
}

/** Names and globs as the supervisor will read them: a pattern it cannot read (`'web['`) is a usage error here. */
export function checkPatterns(command: string, patterns: string[]): string[] {
  for (const pattern of patterns) {
    const problem = patternProblem(pattern);
    if (problem) throw new UsageError(`${command}: ${problem}`);
  }
  return patterns;
}

/** `-n LINES`: a whole number, 0 or more; `fallback` when not given. */
export function count(text: string | undefined, what: string, fallback: number | null): number | null {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new UsageError(`${what} takes a whole number (0 or more), not ${JSON.stringify(text)}`);
  return Number(text);
}

export function seconds(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`${what} must be a number of seconds, not ${JSON.stringify(text)}`);
  return value * 1000;
}

/** The last `n` of `items` (all of them for null). */
export const lastOf = <T>(items: T[], n: number | null): T[] => (n === null ? items : items.slice(Math.max(0, items.length - n)));

/** A follow (`-f`) lasts until Ctrl-C or SIGTERM; a closed stdout ends the whole command (main.ts). */
export function untilInterrupted(): Promise<void> {
  return new Promise((done) => {
    process.once('SIGINT', () => done());
    process.once('SIGTERM', () => done());
  });
}

/** Where commands print: stdout and stderr, unless the `--json` envelope collects both (envelope.ts). */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}
const output: Output = { out: (text) => void process.stdout.write(text), err: (text) => void process.stderr.write(text) };
export const redirectOutput = (to: Output): void => void Object.assign(output, to);

export const out = (text: string): void => output.out(text);
export const fail = (message: string): void => output.err(`proclaunch: ${escapeValue(message)}\n`);

/** A reply with ok: false: one line on stderr, and the exit code — unknownService (4) when a name matched no profile; null for a reply that is not refused. */
export function refused(reply: Record<string, unknown>): number | null {
  if (!failed(reply)) return null;
  return Array.isArray(reply.unmatched) && reply.unmatched.length > 0 ? EXIT.unknownService : EXIT.failed;
}

/** A reply with ok: false is a failed command: one line on stderr (the caller exits 1). */
export function failed(reply: Record<string, unknown>): boolean {
  if (reply.ok === false) {
    fail(String(reply.error ?? 'failed'));
    return true;
  }
  return false;
}
