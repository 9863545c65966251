// The everyday life of foreground services, with a real supervisor and real processes.
import { renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alive, Sandbox, sh } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(async () => {
  await box.cleanup();
});

const forever = sh('echo "up $$"; exec sleep 1000');

describe('a foreground service', () => {
  it('runs with the profile directory as working directory and its output in STATE_DIR/logs/NAME.log', async () => {
    box.profile('web', { run: sh('echo "cwd=$(pwd) profile=$PROCLAUNCH_PROFILE"; echo oops >&2; exec sleep 1000') });
    box.start();
    const pid = await box.runningPid('web');
    expect(alive(pid)).toBe(true);
    await waitFor('service output', () => box.serviceLog('web').includes('oops'));
    expect(box.serviceLog('web')).toContain(`cwd=${join(box.profilesDir, 'web')} profile=web`);
    expect(box.lines().find((l) => l.tag === 'web' && l.message === `started pid ${pid}`)).toBeTruthy();
  });

  it('is relaunched at once when killed after running a while (restart file)', async () => {
    box.profile('web', { run: forever, restart: '' });
    box.start();
    const first = await box.runningPid('web');
    await waitFor('1 s of uptime', () => Date.now() - box.startedAt('web') > 1100);
    process.kill(first, 'SIGKILL');
    const second = await box.runningPid('web', 2);
    expect(second).not.toBe(first);
    expect(alive(second)).toBe(true);
    await box.waitLog('web', new RegExp(`^exited pid ${first} signal SIGKILL after [\\d.]+s; restarting now$`));
  });

  // The limit of 10 takes 51 s of backoff for real; the machine tests cover it on a simulated clock.
  it('backs off after quick crashes, doubling the delay', async () => {
    box.profile('crashy', { run: sh('exit 3'), restart: 'always' });
    box.start();
    await box.waitLog('crashy', /^exited pid \d+ code 3 after \d+ms; restarting in 100ms \(crash 1 of 10\)$/);
    await box.waitLog('crashy', /restarting in 200ms \(crash 2 of 10\)$/);
    await box.waitLog('crashy', /restarting in 400ms \(crash 3 of 10\)$/);
  });

  it('stays stopped after exiting when there is no restart file (ProcLaunch)', async () => {
    box.profile('once', { run: sh('echo done') });
    box.start();
    await box.waitLog('once', /^exited pid \d+ code 0 after \d+ms; not restarting \(no restart file\)$/);
  });

  it('a restart file that comes after that exit brings it back (`chmod +x run; touch restart`, read in between)', async () => {
    const dir = box.profile('armed', { run: sh('[ -e restart ] || exit 0\nexec sleep 1000') });
    box.start();
    await box.waitLog('armed', /; not restarting \(no restart file\)$/);
    writeFileSync(join(dir, 'restart'), '');
    await box.waitLog('armed', /^exited pid \d+ code 0 after \d+ms; restarting now \(its restart file now asks for it\)$/);
    await box.runningPid('armed', 2);
  });

  it('on-failure: a clean exit stays stopped, a failure restarts', async () => {
    box.profile('job', { run: sh('if [ -f ran ]; then exit 0; fi; touch ran; sleep 1.2; exit 1'), restart: 'on-failure' });
    box.start();
    await box.waitLog('job', /code 1 after [\d.]+s; restarting now$/);
    await box.waitLog('job', /code 0 after \d+ms; not restarting \(restart is on-failure\)$/);
  });
});

describe('the profiles directory drives services', () => {
  it('starts a profile dropped in, stops it when deleted (logged stopped pid N), and leaves others alone', async () => {
    box.profile('steady', { run: forever });
    box.start();
    const steady = await box.runningPid('steady');
    box.profile('web', { run: forever });
    const pid = await box.runningPid('web');
    await box.waitLog('proclaunch', /^profile added: web$/);
    // Removed before its sh has read `run`, it would exit on its own (code 2), never `stopped` (seen under load).
    await waitFor('web up', () => box.serviceLog('web').includes(`up ${pid}`));
    rmSync(join(box.profilesDir, 'web'), { recursive: true });
    await box.waitLog('proclaunch', /^profile removed: web$/);
    await box.waitLog('web', new RegExp(`^stopped pid ${pid}$`));
    await waitFor('web gone', () => !alive(pid));
    expect(alive(steady)).toBe(true);
    expect(box.count('steady', /^running pid/)).toBe(1);
  });

  it('restarts a service whose run changes; a touch or a file the service writes changes nothing', async () => {
    const dir = box.profile('web', { run: forever });
    box.start(['--log-level', 'DEBUG']);
    const first = await box.runningPid('web');
    const now = new Date();
    utimesSync(join(dir, 'run'), now, now);
    writeFileSync(join(dir, 'service-data.txt'), 'written by the service');
    box.profile('marker', { run: forever });
    await box.runningPid('marker'); // events after the touch have been handled by now
    expect(box.count('proclaunch', /^profile changed: web/)).toBe(0);
    box.replace(join(dir, 'run'), sh('echo "v2"; exec sleep 1000')); // renamed in whole: never read empty
    const second = await box.runningPid('web', 2);
    expect(second).not.toBe(first);
    expect(alive(first)).toBe(false);
    await box.waitLog('proclaunch', /^profile changed: web$/);
  });

  it('sends the reload signal when a watched file changes, without restarting', async () => {
    const dir = box.profile('web', {
      run: sh(`trap 'echo reloaded $(cat app.conf)' HUP; echo started; while :; do sleep 0.05; done`),
      'app.conf': 'v1',
      watch: 'app.conf',
      reload: '',
    });
    box.start();
    const pid = await box.runningPid('web');
    await waitFor('started', () => box.serviceLog('web').includes('started'));
    box.replace(join(dir, 'app.conf'), 'v2');
    await waitFor('reloaded', () => box.serviceLog('web').includes('reloaded v2'));
    await box.waitLog('web', new RegExp(`^reloading pid ${pid} with SIGHUP$`));
    expect(box.count('web', /^running pid/)).toBe(1);
  });

  it('passes env/ to the service and restarts it when env/ changes', async () => {
    const dir = box.profile('web', { run: sh('echo "GREETING=$GREETING HOME_SET=${UNSETME-unset}"; exec sleep 1000'), 'env/GREETING': 'hello\nignored', 'env/UNSETME': '' });
    box.start();
    await box.runningPid('web');
    await waitFor('env', () => box.serviceLog('web').includes('GREETING=hello HOME_SET=unset'));
    box.replace(join(dir, 'env/GREETING'), 'bye');
    await box.runningPid('web', 2);
    await waitFor('new env', () => box.serviceLog('web').includes('GREETING=bye'));
  });

  it('writes stdout and stderr where the profile says', async () => {
    box.profile('web', { run: sh('echo to-out; echo to-err >&2; exec sleep 1000'), stdout: 'out.txt', stderr: join(box.root, 'err.txt') });
    box.start();
    await box.runningPid('web');
    const { readFileSync, existsSync } = await import('node:fs');
    await waitFor('out', () => existsSync(join(box.profilesDir, 'web/out.txt')) && readFileSync(join(box.profilesDir, 'web/out.txt'), 'utf8') === 'to-out\n');
    await waitFor('err', () => existsSync(join(box.root, 'err.txt')) && readFileSync(join(box.root, 'err.txt'), 'utf8') === 'to-err\n');
  });

  it('does not start a `down` profile until the down file is removed', async () => {
    const dir = box.profile('lazy', { run: forever, down: '' });
    box.profile('marker', { run: forever });
    box.start();
    await box.runningPid('marker');
    await box.waitLog('proclaunch', /^profile added: lazy$/);
    expect(box.count('lazy', /^started/)).toBe(0);
    rmSync(join(dir, 'down'));
    await box.runningPid('lazy');
  });

  it('picks up a renamed profile as a removal and an addition', async () => {
    box.profile('old', { run: forever });
    box.start();
    const pid = await box.runningPid('old');
    renameSync(join(box.profilesDir, 'old'), join(box.profilesDir, 'new'));
    await box.runningPid('new');
    await box.waitLog('old', new RegExp(`^stopped pid ${pid}$`));
  });
});

describe('stopping', () => {
  it('uses stop_signal, and SIGKILLs the whole group after stop_timeout', async () => {
    box.profile('stubborn', { run: sh('trap "echo got-term" TERM; sleep 1000 & echo trapped; while :; do wait; done'), stop_timeout: '0.5' });
    box.profile('polite', { run: sh('trap "echo got-int; exit 0" INT; echo trapped; while :; do sleep 0.05; done'), stop_signal: 'INT' });
    box.start();
    const stubborn = await box.runningPid('stubborn');
    await box.runningPid('polite');
    // Started is not yet trapping: under load, a signal before the trap would end it silently.
    await waitFor('stubborn traps TERM, its grandchild there', () => box.serviceLog('stubborn').includes('trapped'));
    await waitFor('polite traps INT', () => box.serviceLog('polite').includes('trapped'));
    expect(await box.stopSupervisor('SIGTERM')).toBe(0);
    expect(box.serviceLog('polite')).toContain('got-int');
    expect(box.logText()).toMatch(new RegExp(`WARN stubborn killed pid ${stubborn} with SIGKILL: still running 0.5s after SIGTERM`));
    await waitFor('no process left', () => box.processes().length === 0);
  });
});
