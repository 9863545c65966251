// PROCLAUNCH_JSON_ENVELOPE=1: a control command prints one JSON line instead of its output —
// the CLI's and the supervisor's versions, the exit code, and what it would have printed —
// so that a caller on another host (`proclaunch fleet`, over ssh) gets all of it whole, whatever
// the command's own `--json` shape (`status --json` stays a bare array for the scripts that read it).
import { answered, NoSupervisorError, type SupervisorFacts } from '../control/client.js';
import { escapeValue } from '../log/escape.js';
import { VERSION } from '../vocabulary/version.js';
import { redirectOutput } from './commands/command.js';
import { EXIT, UsageError } from './usage.js';

export const ENVELOPE_ENV = 'PROCLAUNCH_JSON_ENVELOPE';

export interface Envelope {
  envelope: 1;
  /** This CLI's version. */
  version: string;
  /** What the supervisor said of itself; null when none answered (with exit 3: no supervisor there). */
  supervisor: SupervisorFacts | null;
  exit: number;
  stdout: string;
  stderr: string;
}

export async function enveloped(run: () => Promise<number>): Promise<number> {
  let stdout = '';
  let stderr = '';
  redirectOutput({ out: (text) => void (stdout += text), err: (text) => void (stderr += text) });
  let exit: number;
  try {
    exit = await run();
  } catch (error) {
    exit = error instanceof UsageError ? EXIT.usage : error instanceof NoSupervisorError ? EXIT.noSupervisor : EXIT.failed;
    stderr += `proclaunch: ${escapeValue((error as Error).message)}\n`;
  }
  const envelope: Envelope = { envelope: 1, version: VERSION, supervisor: answered.version === undefined ? null : { ...answered }, exit, stdout, stderr };
  process.stdout.write(`${JSON.stringify(envelope)}\n`);
  return exit;
}
