// What runs on the other end: a line read by the remote user's shell. It first prints a
// marker — from then on we know ssh got through, so a later failure is the command's, not
// the network's — then runs the plain proclaunch CLI with PROCLAUNCH_JSON_ENVELOPE=1
// (src/cli/envelope.ts): one JSON line with the versions, the exit code and the output.
import type { Envelope } from '../cli/envelope.js';
import type { Host } from './hosts-file.js';

export const MARK = 'proclaunch-fleet:connected';

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One word for a POSIX shell (also fish and csh, for what we send: no newlines). */
export const shq = (word: string): string => (SAFE.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

/** The host's proclaunch command: `bin=` as written (a `~/` in it is the remote home), else `proclaunch`. */
export function binOf(host: Host): string {
  const bin = host.bin ?? 'proclaunch';
  return /^[A-Za-z0-9_@%+=:,./~-]+$/.test(bin) ? bin : shq(bin);
}

/** `proclaunch COMMAND --state DIR ARGS...`, enveloped, behind the marker. */
export function proclaunchLine(host: Host, command: string, args: string[]): string {
  const state = host.state === null ? [] : ['--state', host.state];
  return `echo ${MARK}; exec env PROCLAUNCH_JSON_ENVELOPE=1 ${binOf(host)} ${[command, ...state, ...args].map(shq).join(' ')}`;
}

/** A POSIX sh script (one line: the login shell may be csh), with its arguments as $1, $2, ... */
export function scriptLine(script: string, args: string[]): string {
  return `echo ${MARK}; exec sh -c ${shq(script)} sh ${args.map(shq).join(' ')}`;
}

export interface Parsed {
  connected: boolean;
  envelope: Envelope | null;
  /** stdout after the marker, without the envelope line. */
  text: string;
}

export function parseOutput(stdout: string): Parsed {
  const start = stdout.indexOf(`${MARK}\n`);
  if (start < 0) return { connected: false, envelope: null, text: stdout };
  const lines = stdout.slice(start + MARK.length + 1).split('\n');
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  let envelope: Envelope | null = null;
  const last = lines[lines.length - 1];
  if (last?.startsWith('{"envelope":1')) {
    try {
      envelope = JSON.parse(last) as Envelope;
      lines.pop();
    } catch {
      envelope = null;
    }
  }
  return { connected: true, envelope, text: lines.length ? `${lines.join('\n')}\n` : '' };
}

/** Every envelope in a script's output (a script may run proclaunch several times), in order. */
export function envelopesIn(text: string): Envelope[] {
  return text.split('\n').flatMap((line) => {
    if (!line.startsWith('{"envelope":1')) return [];
    try {
      return [JSON.parse(line) as Envelope];
    } catch {
      return [];
    }
  });
}
