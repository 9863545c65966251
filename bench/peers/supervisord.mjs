// supervisord: one Python daemon; services are [program:x] sections. A new
// service is a conf file in the include directory + `supervisorctl update`.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { plainScript, run, waitExit, which } from '../lib.mjs';

export default {
  name: 'supervisord',
  unavailable: () => (which('supervisord') ? null : 'supervisord not found (scripts/install-peers.sh installs Debian\'s supervisor)'),
  version: () => execFileSync('supervisord', ['--version'], { encoding: 'utf8' }).trim(),
  addHow: 'conf file in the [include] directory + `supervisorctl update` (by command)',
  daemonHow: null,
  daemonNA: 'programs must not daemonize; `pidproxy` only relays signals to a pid file\'s process and exits with its own child, so a daemon\'s death goes unnoticed',
  notes: [
    'Services are added by command (`supervisorctl update`, a Python client talking XML-RPC), not by directory.',
    'Its main loop polls with a 1 s timeout; a child\'s death (SIGCHLD) is handled on the next turn of that loop.',
    'Defaults otherwise (startsecs=1, output captured to AUTO log files).',
  ],
  create(dir) {
    const conf = join(dir, 'supervisord.conf');
    const confd = join(dir, 'conf.d');
    const scripts = join(dir, 'services');
    mkdirSync(confd);
    mkdirSync(scripts);
    mkdirSync(join(dir, 'logs'));
    writeFileSync(
      conf,
      `[unix_http_server]
file=${join(dir, 'supervisor.sock')}

[supervisord]
logfile=${join(dir, 'supervisord.log')}
pidfile=${join(dir, 'supervisord.pid')}
childlogdir=${join(dir, 'logs')}
nodaemon=true
user=root
minfds=16384

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://${join(dir, 'supervisor.sock')}

[include]
files = ${confd}/*.conf
`,
    );
    let child = null;
    const write = (service) => {
      if (service.kind === 'daemon') throw new Error('supervisord: no pid-file daemons');
      const script = join(scripts, service.name);
      writeFileSync(script, plainScript(service.pidFile), { mode: 0o755 });
      const tmp = join(confd, `${service.name}.tmp`);
      writeFileSync(tmp, `[program:${service.name}]\ncommand=${script}\nautorestart=true\n`);
      renameSync(tmp, join(confd, `${service.name}.conf`));
    };
    return {
      prepare(services) {
        services.forEach(write);
      },
      async start() {
        child = spawn('supervisord', ['-n', '-c', conf], { stdio: 'ignore' });
      },
      async add(services) {
        services.forEach(write);
        await run('supervisorctl', ['-c', conf, 'update']);
      },
      rootPids: () => (child?.exitCode === null ? [child.pid] : []),
      async stopAll() {
        child.kill('SIGTERM'); // stops every program, then exits
      },
      close: () => waitExit(child, 60_000),
    };
  },
};
