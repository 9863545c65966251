// A real Supervisor in the test's own process, on a Sandbox's directories:
// real profiles, real processes, but its internals (actors, debugCounts, an
// injected effect) within reach.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../src/log/logger.js';
import { outputDir } from '../../src/output/paths.js';
import { releaseSink } from '../../src/output/sinks.js';
import { EventLog } from '../../src/supervisor/event-log.js';
import { HeldProfiles } from '../../src/supervisor/holds.js';
import { ServiceRecords } from '../../src/supervisor/records.js';
import { prepareStateDir } from '../../src/supervisor/state-dir.js';
import { Supervisor, type SupervisorOptions } from '../../src/supervisor/supervisor.js';
import { afterEach, beforeEach } from 'vitest';
import { Sandbox } from './sandbox.js';
import { waitFor } from './wait.js';

export interface InProcess {
  supervisor: Supervisor;
  eventLog: EventLog;
  /** Wait until `tag` runs (UP) and return its pid. */
  running(tag: string, timeoutMs?: number): Promise<number>;
}

export async function startInProcess(box: Sandbox, extra: Partial<SupervisorOptions> = {}): Promise<InProcess> {
  prepareStateDir(box.stateDir);
  const eventLog = new EventLog(join(box.stateDir, 'events.log'));
  const supervisor = new Supervisor({
    stateDir: box.stateDir,
    profilesDir: box.profilesDir,
    logger: createLogger({ path: box.logPath, level: 'DEBUG' }),
    eventLog,
    holds: new HeldProfiles(join(box.stateDir, 'held')),
    records: new ServiceRecords(box.stateDir),
    ...extra,
  });
  await supervisor.start();
  const running = (tag: string, timeoutMs = 10_000) =>
    waitFor(`${tag} running\n${box.logText()}`, () => {
      const snapshot = supervisor.actor(tag)?.getSnapshot();
      return snapshot?.hasTag('up') ? snapshot.context.proc!.pid : null;
    }, { timeoutMs });
  return { supervisor, eventLog, running };
}

function releaseSinksIn(box: Sandbox): void {
  const out = outputDir(box.stateDir);
  let names: string[] = [];
  try {
    names = readdirSync(out);
  } catch {
    return; // no bounded output
  }
  for (const name of names) if (!name.endsWith('.path')) releaseSink(join(out, name));
}

/** A new Sandbox for each test, and the in-process supervisor started in it: stopped and cleaned up after each test. */
export function inProcessPerTest(): { readonly box: Sandbox; start(extra?: Partial<SupervisorOptions>): Promise<InProcess> } {
  let box: Sandbox | null = null;
  let run: InProcess | null = null;
  beforeEach(() => {
    box = new Sandbox();
  });
  afterEach(async () => {
    await run?.supervisor.stopAll();
    run = null;
    // A supervisor keeps its drains across its own exit (the next one takes over); this process outlives it,
    // and a drain left running would recreate the removed logs/ (ENOTEMPTY, seen in CI) with what a pipe still held.
    if (box) releaseSinksIn(box);
    await box?.cleanup();
  });
  return {
    get box() {
      return box!;
    },
    async start(extra = {}) {
      run = await startInProcess(box!, extra);
      return run;
    },
  };
}
