// What every control command is made of, and the few helpers they share.
import { resolve } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { escapeValue } from '../../log/escape.js';
import { UsageError } from '../usage.js';

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

export function stateDirOf(value: string | undefined): string {
  return resolve(value ?? process.env.PROCLAUNCH_STATE ?? './state');
}

export function seconds(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`${what} must be a number of seconds, not ${JSON.stringify(text)}`);
  return value * 1000;
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

/** A reply with ok: false is a failed command: one line on stderr (the caller exits 1). */
export function failed(reply: Record<string, unknown>): boolean {
  if (reply.ok === false) {
    fail(String(reply.error ?? 'failed'));
    return true;
  }
  return false;
}
