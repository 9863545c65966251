// The hooks of `supervise --hooks DIR` and how they are run: which files of
// DIR are hooks, and the runner's bounds.
import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log/logger.js';

export const HOOK_DEFAULTS = {
  timeoutMs: 10_000,
  concurrency: 4,
  queueLimit: 1000,
  /** DIR is read again at most this often, when an event comes. */
  relistMs: 1000,
  /** At most one "dropped N runs" line this often. */
  reportMs: 1000,
} as const;

export interface HookRunnerOptions {
  dir: string;
  /** Where every hook's stdout and stderr go. */
  outputPath: string;
  /** The FIFO that bounds outputPath as a service's output is (src/output/); without it, outputPath is opened O_APPEND for each run. */
  outputPipe?: string;
  logger: Logger;
  timeoutMs?: number;
  concurrency?: number;
  /** Runs waiting to start, over all hooks. */
  queueLimit?: number;
  relistMs?: number;
  reportMs?: number;
  /** Added to each hook's environment (PROCLAUNCH_STATE). */
  env?: Record<string, string>;
}

/**
 * The hooks in DIR, sorted: executable regular files (or symlinks to one),
 * not hidden. Throws when DIR cannot be read.
 */
export function listHooks(dir: string): string[] {
  const hooks: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    try {
      if (!statSync(path).isFile()) continue;
      accessSync(path, constants.X_OK);
      hooks.push(name);
    } catch {
      // not executable by us, or gone since readdir: not a hook
    }
  }
  return hooks;
}
