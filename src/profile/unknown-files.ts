// A mistyped profile file (`stop_sigal`, `restrat`) would be ignored without a
// word: the profile runs, just not as meant. One WARN names the nearest known
// file — but only where a typo is likely. The service's own files are none of
// our business: names with a dot (`greeting.conf`), with capitals (`README`),
// executables, directories, and whatever `watch`, `pid_file`, `stdout` or
// `stderr` names.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { quote } from '../log/escape.js';
import { nearest } from '../vocabulary/nearest.js';

const TYPO_SHAPED = /^[a-z0-9_-]+$/;

/** A name that may be a typo of one of `known` (its file is not looked at here). */
export const looksMistyped = (name: string, known: readonly string[]): boolean => !known.includes(name) && TYPO_SHAPED.test(name) && nearest(name, known) !== null;

/** The WARN lines for files of `dir` that look like mistyped `known` names. */
export function mistypedFiles(dir: string, present: Iterable<string>, known: readonly string[], ownPaths: ReadonlySet<string>): string[] {
  const warnings: string[] = [];
  for (const name of [...present].sort()) {
    if (!looksMistyped(name, known) || ownPaths.has(join(dir, name))) continue;
    const guess = nearest(name, known);
    const info = statSync(join(dir, name), { throwIfNoEntry: false });
    if (!info || !info.isFile() || (info.mode & 0o111) !== 0) continue;
    warnings.push(`unknown file ${quote(name)} ignored; did you mean ${guess!}?`);
  }
  return warnings;
}
