// The naive Node supervisor (issue 16's baseline; programs/naive-supervisor.mjs):
// ~60 lines of child_process.spawn, a restart on exit, fs.watch on its
// directory. Driven like proclaunch: services are directories renamed in.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { plainScript, renameInServiceDir, waitExit } from '../lib.mjs';

const PROGRAM = join(dirname(fileURLToPath(import.meta.url)), 'programs', 'naive-supervisor.mjs');

export default {
  name: 'node-naive',
  baseline: true, // in the repository: measured in every run, as proclaunch is
  unavailable: () => null,
  version: () => `Node ${process.version}`,
  addHow: 'service directory renamed into its directory (fs.watch, then a rescan of the directory; no command)',
  daemonHow: null,
  daemonNA: 'it watches only the children it spawned',
  notes: [
    'A baseline, not a product: bench/peers/programs/naive-supervisor.mjs, ~60 lines. `child_process.spawn` (libuv: fork + exec) per service, `stdio: ignore`; no state, no record, no log.',
    'Restarts a service at once when it exits, or after 1 s if it ran less than 1 s. Stop: SIGTERM to each service, exit once all have exited.',
  ],
  create(dir) {
    const services = join(dir, 'services');
    mkdirSync(services);
    let child = null;
    const write = (service) => {
      if (service.kind === 'daemon') throw new Error('node-naive: no pid-file daemons');
      renameInServiceDir(dir, services, service.name, { run: plainScript(service.pidFile) });
    };
    return {
      prepare(list) {
        list.forEach(write);
      },
      async start() {
        child = spawn(process.execPath, [PROGRAM, services], { stdio: 'ignore' });
      },
      async add(list) {
        list.forEach(write);
      },
      rootPids: () => (child?.exitCode === null ? [child.pid] : []),
      async stopAll() {
        child.kill('SIGTERM');
      },
      close: () => waitExit(child),
    };
  },
};
