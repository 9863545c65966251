// A ProcLaunch profile directory exactly as its users write it (the files of
// ProcLaunch 1.2's example_profiles and t/05_log_path.t: pid files named by
// absolute paths without a newline, `restart` holding `1`, `reload` holding
// `SIGHUP`, `stop_signal` holding `SIGINT`, a `run` that daemonizes with
// nohup), started the way its users start it from cron.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { alive, CLI, Sandbox } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

let box: Sandbox;
const logPath = () => join(box.root, 'proclaunch.log');
const cron = () => spawnSync(process.execPath, [CLI, `--log-path=${logPath()}`, box.stateDir, box.profilesDir], { encoding: 'utf8', timeout: 15_000 });
const daemonPid = (file: string) => Number(readFileSync(join(box.root, file), 'utf8').trim());

beforeAll(() => {
  box = new Sandbox();
  const pidFile = (name: string) => join(box.root, `${name}.pid`);
  // t/05_log_path.t's profile, with its `restart` file holding 1 (its `&>` is bash's: with dash as /bin/sh,
  // $! names an empty background job, the pid file a dead process — ProcLaunch waited forever, we fail after start_timeout).
  box.profile('sleeper', {
    run: `#!/bin/bash\n\nnohup bash -c 'while true; do sleep 1; done' </dev/null &> ${box.root}/sleeper.log &\necho $! > ${pidFile('sleeper')}\n`,
    restart: '1',
    pid_file: pidFile('sleeper'),
  });
  // example_profiles/reloader/run, its Util.pm daemonize() inlined (perl-base is essential in Debian): HUP is a reload, INT its stop signal.
  box.profile('reloader', {
    run: `#!/usr/bin/perl
use POSIX qw/ setsid /;
my $pid_file_path = '${pidFile('reloader')}';
sub note { open(my $fh, '>>', '${box.root}/reloader.signals'); print $fh "$_[0]\\n"; close $fh }
defined(my $pid = fork()) or die "Could not fork: $!"; exit if $pid;
setsid() or die "Could not setsid: $!";
defined($pid = fork()) or die "Could not fork: $!"; exit if $pid;
open(STDOUT, '>>', '/dev/null'); open(STDERR, '>>', '/dev/null'); close STDIN;
open(my $fh, '>', $pid_file_path); print $fh $$; close $fh;
$SIG{TERM} = sub { note('TERM'); exit 0 };
$SIG{INT}  = sub { note('INT'); exit 0 };
$SIG{HUP}  = sub { note('HUP') };
sleep(1) while 1;
`,
    pid_file: `${pidFile('reloader')}\n`,
    reload: 'SIGHUP\n',
    restart: '\n',
    stop_signal: 'SIGINT',
  });
});

afterAll(async () => {
  spawnSync(process.execPath, [CLI, 'quit', '--leave-running', '--state', box.stateDir]);
  const pid = existsSync(join(box.stateDir, 'proclaunch.pid')) ? Number(readFileSync(join(box.stateDir, 'proclaunch.pid'), 'utf8')) : 0;
  if (pid > 1 && alive(pid)) process.kill(pid, 'SIGKILL'); // a daemon: not in the sandbox's directory, so not its cleanup's
  await box.cleanup();
});

it('runs unchanged: started from cron with --log-path=FILE, restart "1" restarts, reload and stop_signal as written', async () => {
  const first = cron();
  expect(first).toMatchObject({ status: 0, stderr: '' });
  const sleeper = await box.waitEvent({ profile: 'sleeper', event: 'started' });
  await box.waitEvent({ profile: 'reloader', event: 'started' });
  expect(sleeper.pid).toBe(daemonPid('sleeper.pid'));

  // The log is where --log-path said; the one thing it warns of is the restart file's content.
  const log = () => readFileSync(logPath(), 'utf8');
  expect(log()).toMatch(/ WARN sleeper restart holds "1": restarting always/);
  expect(log().split('\n').filter((l) => / (WARN|ERROR|FATAL) /.test(l))).toHaveLength(1);

  // The cron line again, a minute later: already running, nothing else.
  expect(cron()).toMatchObject({ status: 0, stdout: expect.stringMatching(/^proclaunch: already running for .* as pid \d+\n$/) });

  // restart "1": its daemon killed, it is brought back.
  process.kill(sleeper.pid!, 'SIGKILL');
  const again = await box.waitEvent({ profile: 'sleeper', event: 'started' }, { nth: 2 });
  expect(again.pid).not.toBe(sleeper.pid);

  // reload holds SIGHUP: what `reload` sends.
  const reload = spawnSync(process.execPath, [CLI, 'reload', 'reloader', '--state', box.stateDir], { encoding: 'utf8' });
  expect(reload.stdout).toMatch(/^reloader {2}ok {2}sent SIGHUP to pid \d+\n$/);
  await waitFor('HUP handled', () => existsSync(join(box.root, 'reloader.signals')) && readFileSync(join(box.root, 'reloader.signals'), 'utf8') === 'HUP\n');

  // Removed: stopped with its stop_signal, SIGINT.
  box.remove(join(box.profilesDir, 'reloader'));
  await box.waitEvent({ profile: 'reloader', event: 'stopped' });
  expect(readFileSync(join(box.root, 'reloader.signals'), 'utf8')).toBe('HUP\nINT\n');
});
