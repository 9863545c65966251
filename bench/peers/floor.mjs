// The floor of a bulk start (issue 16; programs/spawn-floor.mjs): a bare Node
// loop that reads the directory and starts every `run` with posix_spawn
// through proclaunch's native module. It supervises nothing (no restart, no
// pick-up), so it is measured only in the bulk section.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { plainScript, renameInServiceDir, waitExit } from '../lib.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const PROGRAM = join(HERE, 'programs', 'spawn-floor.mjs');
const BINDING = join(HERE, '..', '..', 'build', 'Release', 'proclaunch_native.node');

/** Why the native module's posix_spawn cannot be used here, or null. */
function unavailable() {
  if (!existsSync(BINDING)) return `the native module is missing (${BINDING}: npm ci, or node scripts/build-native.mjs)`;
  try {
    if (typeof createRequire(import.meta.url)(BINDING).spawn !== 'function') return 'the native module was built without posix_spawn (glibc < 2.29)';
  } catch (error) {
    return `the native module does not load: ${error.message.split('\n')[0]}`;
  }
  return null;
}

export default {
  name: 'floor',
  baseline: true,
  bulkOnly: true, // it does not supervise: no restart, pick-up or idle footprint to measure
  unavailable,
  version: () => `Node ${process.version}`,
  addHow: 'n/a (it reads its directory once, at start)',
  daemonHow: null,
  daemonNA: 'it supervises nothing',
  notes: [
    'Not a supervisor: bench/peers/programs/spawn-floor.mjs reads the directory and posix_spawns each `run` (proclaunch\'s native module, new session, stdio on /dev/null), and does nothing else. Bulk section only.',
    'Stop: SIGTERM to each service, then it exits at once (without waiting for them).',
  ],
  create(dir) {
    const services = join(dir, 'services');
    mkdirSync(services);
    let child = null;
    return {
      prepare(list) {
        for (const service of list) renameInServiceDir(dir, services, service.name, { run: plainScript(service.pidFile) });
      },
      async start() {
        child = spawn(process.execPath, [PROGRAM, services, BINDING], { stdio: 'ignore' });
      },
      async add() {
        throw new Error('the floor supervises nothing: no pick-up');
      },
      rootPids: () => (child?.exitCode === null ? [child.pid] : []),
      async stopAll() {
        child.kill('SIGTERM');
      },
      close: () => waitExit(child),
    };
  },
};
