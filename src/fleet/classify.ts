// What became of one host, from ssh's exit, its stderr and what the remote printed: one
// kind and one line of reason — never a stack trace. Not reached (255, as ssh's own code)
// is told apart from reached-but-failed (1): auth refused, no supervisor, not installed.
import type { Envelope } from '../cli/envelope.js';
import { escapeValue } from '../log/escape.js';
import type { Host } from './hosts-file.js';
import { parseOutput } from './remote.js';
import type { Ran } from './run.js';

export type Kind = 'answered' | 'unreachable' | 'auth refused' | 'host key refused' | 'no supervisor' | 'not installed' | 'timed out' | 'failed';

export interface Outcome {
  kind: Kind;
  /** The remote command's exit code; 255 not reached (ssh's), 124 no reply within -t (timeout(1)'s). */
  exit: number;
  /** Why, when it is not `answered`: one line. */
  reason: string | null;
  envelope: Envelope | null;
  /** What the remote printed besides the envelope. */
  text: string;
  ms: number;
}

const AUTH = /Permission denied|Too many authentication failures|No more authentication methods|Authentication failed/i;
const HOST_KEY = /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No (?:ED25519|RSA|ECDSA)? ?host key is known/i;
const NOT_FOUND = /(?:not found|No such file or directory)/;

/** The last meaningful line of stderr (ssh's warnings about known_hosts come first). */
export function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !/^Warning: Permanently added/.test(l));
  return escapeValue(lines[lines.length - 1] ?? '');
}

export const seconds = (ms: number): string => `${Math.round(ms / 100) / 10}s`;

export function classify(host: Host, ran: Ran, timeoutMs: number): Outcome {
  const parsed = parseOutput(ran.stdout);
  const base = { envelope: parsed.envelope, text: parsed.text, ms: ran.ms };
  const said = lastLine(ran.stderr);
  if (ran.spawnError) return { ...base, kind: 'failed', exit: 1, reason: `cannot run ssh here: ${escapeValue(ran.spawnError)}` };
  if (!parsed.connected) {
    if (ran.timedOut) return { ...base, kind: 'unreachable', exit: 255, reason: `no answer within ${seconds(timeoutMs)}` };
    if (AUTH.test(ran.stderr)) return { ...base, kind: 'auth refused', exit: ran.code ?? 255, reason: said };
    if (HOST_KEY.test(ran.stderr)) return { ...base, kind: 'host key refused', exit: ran.code ?? 255, reason: said };
    if (ran.code === 255 || ran.code === null) return { ...base, kind: 'unreachable', exit: 255, reason: said || `ssh ended by ${ran.signal ?? 'an unknown cause'}` };
    return { ...base, kind: 'failed', exit: ran.code, reason: said || `the remote shell exited with code ${ran.code}` };
  }
  if (ran.timedOut) return { ...base, kind: 'timed out', exit: 124, reason: `no reply within ${seconds(timeoutMs)}` };
  const envelope = parsed.envelope;
  if (envelope) {
    if (envelope.exit === 3 && envelope.supervisor === null) return { ...base, kind: 'no supervisor', exit: 3, reason: lastLine(envelope.stderr).replace(/^proclaunch: /, '') || 'no supervisor is running there' };
    return { ...base, kind: 'answered', exit: envelope.exit, reason: null };
  }
  if (ran.code === 127 || (ran.code !== 0 && NOT_FOUND.test(said) && /proclaunch|env:/.test(said))) {
    return { ...base, kind: 'not installed', exit: ran.code ?? 127, reason: `${host.bin ?? 'proclaunch'} is not installed there (${said}); see \`proclaunch fleet install\`` };
  }
  if (ran.code === 0) return { ...base, kind: 'answered', exit: 0, reason: null };
  return { ...base, kind: 'failed', exit: ran.code ?? 1, reason: said || `exited with code ${ran.code}` };
}

/** The fleet's exit code over every host: 0 all did it, 1 one failed, 255 one not reached (and none failed). */
export function fleetExit(kinds: { ok: boolean; kind: Kind }[]): number {
  if (kinds.some((k) => !k.ok && k.kind !== 'unreachable')) return 1;
  if (kinds.some((k) => k.kind === 'unreachable')) return 255;
  return 0;
}
