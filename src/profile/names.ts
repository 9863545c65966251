/** The SPEC's rule for a profile directory name. */
export const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Why a directory with another name is not a profile (its WARN, its row in `status`). */
export const BAD_NAME_REASON = "not a profile name: a profile name is letters, digits, '.', '_' and '-', starting with a letter or digit";

export type NameVerdict = 'profile' | 'ignore' | 'invalid';

/** Hidden entries are ignored silently; anything else that fails the rule gets one WARN. */
export function judgeName(name: string): NameVerdict {
  if (name.startsWith('.')) return 'ignore';
  return PROFILE_NAME.test(name) ? 'profile' : 'invalid';
}

/**
 * Shell-style pattern for selecting profiles (`'worker@*'`): `*` any run of
 * characters, `?` one, `[...]` a class; everything else literal.
 */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[' && pattern.indexOf(']', i + 2) > i) {
      const end = pattern.indexOf(']', i + 2);
      const body = pattern.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
      source += `[${body}]`;
      i = end;
    } else source += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

export const isGlob = (pattern: string): boolean => /[*?[]/.test(pattern);
