/** The SPEC's rule for a profile directory name. */
export const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export type NameVerdict = 'profile' | 'ignore' | 'invalid';

/** Hidden entries are ignored silently; anything else that fails the rule gets one WARN. */
export function judgeName(name: string): NameVerdict {
  if (name.startsWith('.')) return 'ignore';
  return PROFILE_NAME.test(name) ? 'profile' : 'invalid';
}
