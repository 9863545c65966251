// s6 (skarnet): s6-svscan on a scan directory, one s6-supervise per service.
// A new service is a service directory renamed into the scan directory, then
// `s6-svscanctl -a` (s6-svscan does not rescan by itself unless given -t).
// `makeS6({ readiness: true })` is the same with a notification-fd (s6-ready.mjs).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { daemonScript, plainScript, run, waitExit, which } from '../lib.mjs';

export function makeS6({ readiness = false } = {}) {
  const fd = readiness ? 3 : null;
  return {
    name: readiness ? 's6+readiness' : 's6',
    unavailable: () => (which('s6-svscan') ? null : 's6-svscan not found (scripts/install-peers.sh installs Debian\'s s6)'),
    version: () => execFileSync('dpkg-query', ['-W', '-f=${Version}', 's6'], { encoding: 'utf8' }),
    addHow: 'service directory renamed into the scan directory + `s6-svscanctl -a`',
    daemonHow: '`run` = `s6-fghack ./launch` (s6\'s anti-backgrounding tool: it holds pipe ends the daemon inherits and exits when they close, i.e. when the daemon dies)',
    notes: readiness
      ? [
          'Each service has a `notification-fd` file (3) and `run` writes a newline to it once it has written its pid (s6 readiness notification).',
          'With readiness, s6-supervise respawns a service that was up (ready) for more than 1 s at once.',
          's6-svscan rescans only when told (`s6-svscanctl -a`) or every `-t` ms (not set here).',
        ]
      : [
          'Plain service directories (no readiness notification). This s6-supervise then waits 1 s after a death before it respawns (seen with strace: a 1 s poll timeout after `finish`), whatever the uptime: see s6+readiness for the fast path.',
          's6-svscan rescans only when told (`s6-svscanctl -a`) or every `-t` ms (not set here): a bare service directory is not picked up.',
          'One s6-supervise process per service, all counted in the footprint.',
        ],
    create(dir) {
      const scan = join(dir, 'scan');
      mkdirSync(scan);
      let child = null;
      const write = (service) => {
        const tmp = join(dir, `.new-${service.name}`);
        mkdirSync(tmp);
        if (service.kind === 'daemon') {
          writeFileSync(join(tmp, 'launch'), daemonScript(service.pidFile, null), { mode: 0o755 });
          const notify = readiness ? `echo >&${fd}\nexec ${fd}>&-\n` : '';
          writeFileSync(join(tmp, 'run'), `#!/bin/sh\n${notify}exec s6-fghack ./launch\n`, { mode: 0o755 });
        } else {
          writeFileSync(join(tmp, 'run'), plainScript(service.pidFile, fd), { mode: 0o755 });
        }
        if (readiness) writeFileSync(join(tmp, 'notification-fd'), `${fd}\n`);
        renameSync(tmp, join(scan, service.name));
      };
      return {
        prepare(services) {
          services.forEach(write);
        },
        async start() {
          // -c: room for more than the default 500 services.
          child = spawn('s6-svscan', ['-c', '4096', scan], { stdio: 'ignore' });
        },
        async add(services) {
          services.forEach(write);
          await run('s6-svscanctl', ['-a', scan]);
        },
        rootPids: () => (child?.exitCode === null ? [child.pid] : []),
        async stopAll() {
          // -t: SIGTERM to every s6-supervise (each brings its service down and exits), then s6-svscan exits.
          await run('s6-svscanctl', ['-t', scan]);
        },
        close: () => waitExit(child),
      };
    },
  };
}

export default makeS6();
