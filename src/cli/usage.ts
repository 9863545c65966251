/** Exit codes of every command (SPEC). */
export const EXIT = { ok: 0, failed: 1, usage: 2, noSupervisor: 3 } as const;

export class UsageError extends Error {}

/** node:util parseArgs explains at length; the first sentence is the error. */
export const firstSentence = (message: string): string => message.replace(/(\.)\s.*$/s, '$1');
