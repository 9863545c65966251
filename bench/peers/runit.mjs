// runit: runsvdir on a service directory, one runsv per service. A new
// service is a directory renamed into it: runsvdir notices on its own
// (it checks the directory's mtime), with no command.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { plainScript, renameInServiceDir, waitExit, which } from '../lib.mjs';

export default {
  name: 'runit',
  unavailable: () => (which('runsvdir') ? null : 'runsvdir not found (scripts/install-peers.sh installs Debian\'s runit)'),
  version: () => execFileSync('dpkg-query', ['-W', '-f=${Version}', 'runit'], { encoding: 'utf8' }),
  addHow: 'service directory renamed into runsvdir\'s directory (no command; runsvdir polls)',
  daemonHow: null,
  daemonNA: 'runsv supervises only its own child; runit has no pid-file mode (its docs: run services in the foreground)',
  maxServices: 1000, // runsvdir: "too many services" past 1,000 (checked: the 1,001st gets no runsv)
  notes: [
    'runsvdir looks at its directory\'s mtime once a second, and rescans at least every 5 s (runsvdir(8)): a new service waits for that.',
    'runsv restarts a service that died at once, but sleeps 1 s first if it ran less than 1 s.',
    'One runsv process per service, all counted in the footprint. runsvdir starts at most 1,000 of them.',
  ],
  create(dir) {
    const svdir = join(dir, 'service');
    mkdirSync(svdir);
    let child = null;
    const write = (service) => {
      if (service.kind === 'daemon') throw new Error('runit: no pid-file daemons');
      renameInServiceDir(dir, svdir, service.name, { run: plainScript(service.pidFile) });
    };
    return {
      prepare(services) {
        services.forEach(write);
      },
      async start() {
        child = spawn('runsvdir', [svdir], { stdio: 'ignore' });
      },
      async add(services) {
        services.forEach(write);
      },
      rootPids: () => (child?.exitCode === null ? [child.pid] : []),
      async stopAll() {
        // SIGHUP: runsvdir sends TERM to every runsv (each stops its service and exits), then exits.
        child.kill('SIGHUP');
      },
      close: () => waitExit(child),
    };
  },
};
