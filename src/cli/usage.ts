/**
 * Exit codes of every command (SPEC). unknownService: a name or glob that
 * matches no profile (LSB's "program or service status is unknown", as
 * `systemctl status nosuch`): status, start, stop, restart, reload, signal,
 * logs, events and ps; check keeps to the Nagios codes (UNKNOWN, 3).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, noSupervisor: 3, unknownService: 4 } as const;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** By name, not instanceof: the supervisor's bundle (dist/cli/supervise.bundle.js) has a class of its own. */
export const isUsageError = (error: unknown): error is UsageError => error instanceof Error && error.name === 'UsageError';

/** node:util parseArgs explains at length; the first sentence is the error. */
export const firstSentence = (message: string): string => message.replace(/(\.)\s.*$/s, '$1');
