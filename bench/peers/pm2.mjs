// PM2: a Node daemon ("God") started by the pm2 CLI, PM2_HOME in the scratch
// directory. Services are added by command (`pm2 start`).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { plainScript, readPid, run, waitGone } from '../lib.mjs';

const PM2 = join(dirname(fileURLToPath(import.meta.url)), '..', '.peers', 'pm2', 'node_modules', 'pm2', 'bin', 'pm2');

export default {
  name: 'PM2',
  unavailable: () => (existsSync(PM2) ? null : 'bench/.peers/pm2 is missing (scripts/install-peers.sh installs it)'),
  version: () => JSON.parse(readFileSync(join(dirname(PM2), '..', 'package.json'), 'utf8')).version,
  addHow: '`pm2 start SCRIPT --name NAME` (by command; the CLI is a Node program)',
  daemonHow: null,
  daemonNA: 'PM2 watches only the processes it forks; it has no pid-file mode for a self-daemonizing program',
  notes: [
    'Services are added by command (`pm2 start`, a Node CLI talking to the daemon over a socket), not by directory.',
    'Restarts at once by default (restart_delay 0); one that ran less than min_uptime (1 s) counts as unstable.',
    'Stop is `pm2 kill`: SIGINT to each app, SIGKILL after kill_timeout (1.6 s), then the daemon exits.',
  ],
  create(dir) {
    const home = join(dir, 'pm2home');
    const scripts = join(dir, 'services');
    mkdirSync(home);
    mkdirSync(scripts);
    const env = { ...process.env, PM2_HOME: home, HOME: dir, PM2_DISABLE_VERSION_CHECK: 'true' };
    const pm2 = (...args) => run(process.execPath, [PM2, ...args], { env, timeoutMs: 600_000 });
    let prepared = [];
    let daemonPid = 0;
    const app = (service) => {
      if (service.kind === 'daemon') throw new Error('PM2: no pid-file daemons');
      const script = join(scripts, service.name);
      writeFileSync(script, plainScript(service.pidFile), { mode: 0o755 });
      return { name: service.name, script, interpreter: 'none', autorestart: true };
    };
    return {
      prepare(services) {
        prepared = services.map(app);
      },
      async start() {
        // One ecosystem file with every app: PM2's way to start a set.
        const file = join(dir, 'ecosystem.json');
        writeFileSync(file, JSON.stringify({ apps: prepared }));
        await pm2('start', file);
        daemonPid = readPid(join(home, 'pm2.pid'));
      },
      async add(services) {
        if (services.length === 1) {
          const a = app(services[0]);
          await pm2('start', a.script, '--name', a.name, '--interpreter', 'none');
        } else {
          const file = join(dir, `add-${services[0].name}.json`);
          writeFileSync(file, JSON.stringify({ apps: services.map(app) }));
          await pm2('start', file);
        }
      },
      rootPids: () => (daemonPid ? [daemonPid] : []),
      async stopAll() {
        await pm2('kill');
      },
      async close() {
        await waitGone(daemonPid);
      },
    };
  },
};
