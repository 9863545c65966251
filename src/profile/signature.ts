// A cheap summary of what a profile reading depends on, for the safety-net
// rescan: names and stat() results only, no content read and no hashing, so
// looking at 1,000 unchanged profiles costs a few milliseconds, not a read of
// every file.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PROFILE_FILES } from './read.js';
import { looksMistyped } from './unknown-files.js';

const PROFILE_FILE_SET = new Set<string>(PROFILE_FILES);
/** Profile entries that are directories whose entries are read too. */
const DIRECTORIES = ['env', 'log'];

function describe(path: string): string {
  try {
    const s = statSync(path);
    // ctime moves on every write, chmod and rename, even when mtime is put back.
    return `${s.ino}:${s.mode}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  } catch {
    return '-';
  }
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/**
 * Changes whenever a reading of profile `dir` could: one of its files (or
 * `env/` and `log/` entries, or `extra` paths such as `watch`) appears,
 * disappears, is replaced, written or chmod-ed; or a file that looks like a
 * mistyped profile file (`stop_sigal`) appears or goes, which the reading
 * warns of. A `touch` changes it too; the reading it triggers then finds
 * nothing new.
 */
export function profileSignature(dir: string, extra: readonly string[] = []): string {
  const parts = [describe(dir).split(':')[0]!]; // the inode: a directory renamed over this one
  for (const name of entries(dir)) {
    if (!PROFILE_FILE_SET.has(name)) {
      // The service's own files are not looked at; a name the reading would warn of is (its presence only).
      if (looksMistyped(name, PROFILE_FILES)) parts.push(`${name}?`);
      continue;
    }
    const path = join(dir, name);
    parts.push(`${name}=${describe(path)}`);
    if (DIRECTORIES.includes(name)) for (const inner of entries(path)) parts.push(`${name}/${inner}=${describe(join(path, inner))}`);
  }
  for (const path of extra) parts.push(`${path}=${describe(path)}`);
  return parts.join('|');
}
