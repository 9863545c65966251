/**
 * Exit codes of every command (SPEC). unknownService: a name or glob that
 * matches no profile (LSB's "program or service status is unknown", as
 * `systemctl status nosuch`): status, start, stop, restart, reload, signal,
 * logs, events and ps; check keeps to the Nagios codes (UNKNOWN, 3).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, noSupervisor: 3, unknownService: 4 } as const;

export class UsageError extends Error {}

/** node:util parseArgs explains at length; the first sentence is the error. */
export const firstSentence = (message: string): string => message.replace(/(\.)\s.*$/s, '$1');
