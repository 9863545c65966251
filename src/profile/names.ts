import { quote } from '../log/escape.js';

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

/** A pattern that cannot be read: the request names no profile, it is refused (a usage error). */
export class PatternError extends Error {}

/**
 * Shell-style pattern for selecting profiles (`'worker@*'`): `*` any run of
 * characters, `?` one, `[...]` a class (`[!...]` or `[^...]` negated, a `]`
 * first in it is literal); everything else literal. Throws PatternError for
 * a `[` that is never closed or a class with a range out of order.
 */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      let first = i + 1;
      const negated = pattern[first] === '!' || pattern[first] === '^';
      if (negated) first++;
      const end = pattern.indexOf(']', pattern[first] === ']' ? first + 1 : first);
      if (end < 0) throw new PatternError(`bad pattern ${quote(pattern)}: its "[" has no closing "]"`);
      // Inside the class only `-` keeps a meaning (a range); every other character is itself.
      source += `[${negated ? '^' : ''}${pattern.slice(first, end).replace(/[\\\][^]/g, '\\$&')}]`;
      i = end;
    } else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  try {
    return new RegExp(`^${source}$`);
  } catch {
    throw new PatternError(`bad pattern ${quote(pattern)}: a range in its [...] is out of order`);
  }
}

export const isGlob = (pattern: string): boolean => /[*?[]/.test(pattern);

/** Why `pattern` cannot select profiles, or null: checked before a request is sent. */
export function patternProblem(pattern: string): string | null {
  try {
    globToRegExp(pattern);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** `no profile matches "a", "b"`: what a request that names nothing known answers. */
export const noProfileMatches = (patterns: readonly string[]): string => `no profile matches ${patterns.map((p) => JSON.stringify(p)).join(', ')}`;

/** A pattern's test: a glob, or a name — which stands for all its instances too (`worker` is worker@1 … worker@N). */
export function nameMatcher(pattern: string): (name: string) => boolean {
  const re = globToRegExp(pattern);
  const plain = !isGlob(pattern);
  return (name) => re.test(name) || (plain && name.startsWith(`${pattern}@`));
}

/** The names of `known` matched by any of `patterns` (all of them for none), in known's order, and the patterns that matched nothing. */
export function selectNames(known: readonly string[], patterns: readonly string[]): { names: string[]; unmatched: string[] } {
  if (patterns.length === 0) return { names: [...known], unmatched: [] };
  const chosen = new Set<string>();
  const unmatched: string[] = [];
  for (const pattern of patterns) {
    const matches = nameMatcher(pattern);
    const hits = known.filter(matches);
    if (hits.length === 0) unmatched.push(pattern);
    for (const hit of hits) chosen.add(hit);
  }
  return { names: known.filter((name) => chosen.has(name)), unmatched };
}
