// Where a service's captured output is, as `logs` needs it: the supervisor
// answers with this for each service; without a supervisor the CLI works it
// out from the records in STATE_DIR (cli/offline.ts).
import { join } from 'node:path';
import type { ServiceConfig } from '../profile/types.js';
import { loggerTag } from '../vocabulary/tags.js';

export interface LogSource {
  name: string;
  /** The file its stdout is appended to; null when it goes to a logger of its own, or is not known. */
  stdout: string | null;
  stderr: string | null;
  /** With `log/`: its logger (tag `NAME:log`, directory PROFILE/log), which keeps the output where log/run says. */
  logger: { tag: string; dir: string } | null;
  /** Why nothing is known of it (a profile that is invalid). */
  problem: string | null;
}

export function logSourceOf(name: string, config: ServiceConfig | null, problem: string | null): LogSource {
  if (!config) return { name, stdout: null, stderr: null, logger: null, problem: problem ?? 'profile invalid, no log known' };
  if (config.logPipe) return { name, stdout: null, stderr: null, logger: { tag: loggerTag(config.name), dir: join(config.dir, 'log') }, problem: null };
  return { name, stdout: config.stdout, stderr: config.stderr, logger: null, problem: null };
}
