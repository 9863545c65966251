// The everyday life of foreground services, with a real supervisor and real processes.
// Behaviour is asserted on events.log and `status` over the control socket; the log's wording is pinned by
// the last describe only (as the real supervisor writes it), as the machine tests pin it on a simulated clock.
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
    await box.waitEvent({ profile: 'web', event: 'crashed', pid: first, signal: 'SIGKILL' });
  });

  // The limit of 10 takes 51 s of backoff for real; the machine tests cover it on a simulated clock.
  it('backs off after quick crashes, doubling the delay', async () => {
    box.profile('crashy', { run: sh('exit 3'), restart: 'always' });
    box.start();
    await box.waitEvent({ profile: 'crashy', event: 'started' }, { nth: 4 });
    const times = (event: 'crashed' | 'started') => box.eventsOf('crashy', event).map((e) => Date.parse(e.time));
    const [crashed, started] = [times('crashed'), times('started')];
    expect(box.eventsOf('crashy', 'crashed').slice(0, 3).map((e) => e.code)).toEqual([3, 3, 3]);
    // Each crash's next start comes 100, 200, 400 ms later (less a little: a timer counts from the event loop's cached clock).
    const waited = [0, 1, 2].map((i) => started[i + 1]! - crashed[i]!);
    [100, 200, 400].forEach((delay, i) => expect(waited[i]).toBeGreaterThanOrEqual(delay - 20));
  });

  it('stays stopped after exiting when there is no restart file (ProcLaunch)', async () => {
    box.profile('once', { run: sh('echo done') });
    await box.startReady();
    await box.waitEvent({ profile: 'once', event: 'exited', code: 0 });
    expect(await box.status('once')).toMatchObject([{ state: 'stopped', substate: 'idle', restarts: 0 }]); // not in backoff: not restarting
  });

  it('a restart file that comes after that exit brings it back (`chmod +x run; touch restart`, read in between)', async () => {
    const dir = box.profile('armed', { run: sh('[ -e restart ] || exit 0\nexec sleep 1000') });
    await box.startReady();
    await box.waitEvent({ profile: 'armed', event: 'exited', code: 0 });
    expect(await box.status('armed')).toMatchObject([{ state: 'stopped', substate: 'idle' }]);
    writeFileSync(join(dir, 'restart'), '');
    await box.runningPid('armed', 2);
  });

  it('on-failure: a clean exit stays stopped, a failure restarts', async () => {
    box.profile('job', { run: sh('if [ -f ran ]; then exit 0; fi; touch ran; sleep 1.2; exit 1'), restart: 'on-failure' });
    await box.startReady();
    const failed = await box.waitEvent({ profile: 'job', event: 'crashed', code: 1 });
    await box.runningPid('job', 2);
    const clean = await box.waitEvent({ profile: 'job', event: 'exited', code: 0 });
    expect(clean.pid).not.toBe(failed.pid);
    expect(await box.status('job')).toMatchObject([{ state: 'stopped', substate: 'idle', restarts: 1 }]);
  });
});

describe('the profiles directory drives services', () => {
  it('starts a profile dropped in, stops it when deleted (its stopped event names its pid), and leaves others alone', async () => {
    box.profile('steady', { run: forever });
    box.start();
    const steady = await box.runningPid('steady');
    box.profile('web', { run: forever });
    const pid = await box.runningPid('web');
    await box.waitEvent({ profile: 'web', event: 'added' });
    // Removed before its sh has read `run`, it would exit on its own (code 2), never `stopped` (seen under load).
    await waitFor('web up', () => box.serviceLog('web').includes(`up ${pid}`));
    rmSync(join(box.profilesDir, 'web'), { recursive: true });
    await box.waitEvent({ profile: 'web', event: 'removed' });
    await box.waitEvent({ profile: 'web', event: 'stopped', pid });
    await waitFor('web gone', () => !alive(pid));
    expect(alive(steady)).toBe(true);
    expect(box.eventsOf('steady', 'started')).toHaveLength(1);
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
    expect(box.eventsOf('web', 'changed')).toEqual([]);
    box.replace(join(dir, 'run'), sh('echo "v2"; exec sleep 1000')); // renamed in whole: never read empty
    const second = await box.runningPid('web', 2);
    expect(second).not.toBe(first);
    expect(alive(first)).toBe(false);
    await box.waitEvent({ profile: 'web', event: 'changed' });
  });

  it('sends the reload signal when a watched file changes, without restarting', async () => {
    const dir = box.profile('web', {
      run: sh(`trap 'echo reloaded $(cat app.conf)' HUP; echo started; while :; do sleep 0.05; done`),
      'app.conf': 'v1',
      watch: 'app.conf',
      reload: '',
    });
    await box.startReady();
    const pid = await box.runningPid('web');
    await waitFor('started', () => box.serviceLog('web').includes('started'));
    box.replace(join(dir, 'app.conf'), 'v2');
    await waitFor('reloaded', () => box.serviceLog('web').includes('reloaded v2')); // its HUP trap ran: SIGHUP, the default
    expect(box.eventsOf('web', 'started')).toHaveLength(1);
    expect(await box.status('web')).toMatchObject([{ state: 'running', pid, restarts: 0 }]);
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
    await box.startReady();
    await box.runningPid('marker');
    await box.waitEvent({ profile: 'lazy', event: 'added' });
    expect(box.eventsOf('lazy', 'started')).toEqual([]);
    expect(await box.status('lazy')).toMatchObject([{ state: 'stopped', down: true, pid: null }]);
    rmSync(join(dir, 'down'));
    await box.runningPid('lazy');
  });

  it('picks up a renamed profile as a removal and an addition', async () => {
    box.profile('old', { run: forever });
    box.start();
    const pid = await box.runningPid('old');
    renameSync(join(box.profilesDir, 'old'), join(box.profilesDir, 'new'));
    await box.runningPid('new');
    await box.waitEvent({ profile: 'old', event: 'stopped', pid });
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
    const asked = Date.now();
    expect(await box.stopSupervisor('SIGTERM')).toBe(0);
    expect(box.serviceLog('polite')).toContain('got-int');
    expect(box.eventsOf('polite', 'stopped')[0]).toMatchObject({ code: 0, signal: null });
    // SIGKILLed, not before its stop_timeout of 0.5 s (the log's words: faults-fast.test.ts and the machine tests).
    const killed = box.eventsOf('stubborn', 'stopped')[0];
    expect(killed).toMatchObject({ pid: stubborn, signal: 'SIGKILL' });
    expect(Date.parse(killed!.time) - asked).toBeGreaterThanOrEqual(500 - 10); // a timer may fire a few ms early by the wall clock
    await waitFor('no process left', () => box.processes().length === 0);
  });
});

describe('the supervisor log: its words, pinned (the tests above assert on events)', () => {
  it('one line per step, LEVEL TAG message: added, started, running, why it restarts or not, reloading, changed, removed, stopped', async () => {
    const said = (level: string, tag: string, message: RegExp) =>
      waitFor(() => `${level} ${tag} ${message}\n--- log:\n${box.logText()}`, () => box.lines().some((l) => l.level === level && l.tag === tag && message.test(l.message)));
    box.profile('crashy', { run: sh('kill -9 $$'), restart: '' });
    box.profile('once', { run: sh('echo done') });
    box.profile('job', { run: sh('if [ -f ran ]; then exit 0; fi; touch ran; sleep 1.2; exit 1'), restart: 'on-failure' });
    const armed = box.profile('armed', { run: sh('[ -e restart ] || exit 0\nexec sleep 1000') });
    const web = box.profile('web', { run: sh(`trap 'echo reloaded' HUP; echo up; while :; do sleep 0.05; done`), 'app.conf': 'v1', watch: 'app.conf', reload: '' });
    const edited = box.profile('edited', { run: forever });
    box.start();
    const webPid = await box.runningPid('web');
    await said('INFO', 'proclaunch', /^profile added: web$/);
    await said('INFO', 'web', new RegExp(`^started pid ${webPid}$`));
    await said('INFO', 'web', new RegExp(`^running pid ${webPid}$`));
    await said('WARN', 'crashy', /^exited pid \d+ signal SIGKILL after \d+ms; restarting in 100ms \(crash 1 of 10\)$/);
    await said('INFO', 'once', /^exited pid \d+ code 0 after \d+ms; not restarting \(no restart file\)$/);
    await box.waitEvent({ profile: 'armed', event: 'exited' });
    writeFileSync(join(armed, 'restart'), '');
    await said('INFO', 'armed', /^exited pid \d+ code 0 after \d+ms; restarting now \(its restart file now asks for it\)$/);
    await waitFor('web traps HUP', () => box.serviceLog('web').includes('up'));
    box.replace(join(web, 'app.conf'), 'v2');
    await said('INFO', 'web', new RegExp(`^reloading pid ${webPid} with SIGHUP$`));
    const first = await box.runningPid('edited');
    await waitFor('edited up', () => box.serviceLog('edited').includes(`up ${first}`));
    box.replace(join(edited, 'run'), sh('echo "v2 $$"; exec sleep 1000'));
    await said('INFO', 'proclaunch', /^profile changed: edited$/);
    const second = await box.runningPid('edited', 2);
    await waitFor('edited v2 up', () => box.serviceLog('edited').includes(`v2 ${second}`));
    box.remove(edited);
    await said('INFO', 'proclaunch', /^profile removed: edited$/);
    await said('INFO', 'edited', new RegExp(`^stopped pid ${second}$`));
    await said('INFO', 'job', /^exited pid \d+ code 1 after [\d.]+s; restarting now$/);
    await said('INFO', 'job', /^exited pid \d+ code 0 after \d+ms; not restarting \(restart is on-failure\)$/);
  });
});
