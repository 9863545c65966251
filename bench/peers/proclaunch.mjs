// proclaunch itself: a profiles directory watched by one Node process.
// Services are added by dropping a profile directory in (by rename); no command.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { daemonScript, plainScript, waitExit } from '../lib.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** proclaunch from the checkout at `root` (`--baseline DIR`: another build of it, side by side). */
export const proclaunchAt = (root, name) => {
  const CLI = join(root, 'dist', 'cli', 'main.js');
  return {
    name,
    unavailable: () => (existsSync(CLI) ? null : `${CLI} is missing: run npm run build`),
    version: () => JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version,
    addHow: 'profile directory renamed into PROFILES_DIR (inotify; no command)',
    daemonHow: '`pid_file` profile (death noticed through a pidfd)',
    notes: [
      'A process that dies within 1 s of starting is a crash: restarts back off (100 ms, doubling); one that ran longer is restarted at once.',
      'New profile directories are noticed through inotify (fs.watch on PROFILES_DIR, chokidar in each profile), events coalesced for 1 ms; a stat-only safety net looks every 300 s.',
    ],
    /** `env`: the supervisor's environment instead of ours (bench/heap-per-service.mjs adds NODE_OPTIONS). */
    create(dir, { env } = {}) {
      const profiles = join(dir, 'profiles');
      mkdirSync(profiles);
      let child = null;
      const write = (service) => {
        const tmp = join(dir, `.new-${service.name}`);
        mkdirSync(tmp);
        if (service.kind === 'daemon') {
          writeFileSync(join(tmp, 'run'), daemonScript(service.pidFile, 'daemon.pid'), { mode: 0o755 });
          writeFileSync(join(tmp, 'pid_file'), 'daemon.pid\n');
        } else {
          writeFileSync(join(tmp, 'run'), plainScript(service.pidFile), { mode: 0o755 });
        }
        writeFileSync(join(tmp, 'restart'), '');
        renameSync(tmp, join(profiles, service.name)); // atomic, as a deploy would
      };
      return {
        prepare(services) {
          services.forEach(write);
        },
        async start() {
          const args = [CLI, 'supervise', '--foreground', '--log-path', join(dir, 'proclaunch.log'), join(dir, 'state'), profiles];
          child = spawn(process.execPath, args, { stdio: 'ignore', env: env ?? process.env });
        },
        async add(services) {
          services.forEach(write);
        },
        rootPids: () => (child?.exitCode === null ? [child.pid] : []),
        async stopAll() {
          child.kill('SIGTERM'); // stops every service, then exits
        },
        close: () => waitExit(child),
      };
    },
  };
};

export default proclaunchAt(ROOT, 'proclaunch');
