// Self-daemonizing services (ProcLaunch's pid_file profiles). Behaviour is asserted on events.log and
// `status`; the log's words are checked only where no event says the same: the wait for the pid file, an
// adoption by its pid file, and a run that exits before writing it counted as a crash.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
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

/** A `run` that daemonizes a sleep and writes its pid, like a classic init-script daemon. */
const daemonRun = sh('setsid sh -c "exec sleep 1000" </dev/null >/dev/null 2>&1 &\necho $! > daemon.pid');
const pidOf = (dir: string): number => Number(readFileSync(join(dir, 'daemon.pid'), 'utf8'));

describe('a self-daemonizing service', () => {
  it('is running once run exits 0 and the pid file names a live process', async () => {
    const dir = box.profile('d', { run: daemonRun, pid_file: 'daemon.pid' });
    box.start();
    const pid = await box.runningPid('d');
    expect(pid).toBe(pidOf(dir));
    expect(alive(pid)).toBe(true);
    await box.waitLog('d', /^started pid \d+; waiting for pid file .*daemon\.pid$/);
  });

  it('notices the daemon dying (it is not our child) and restarts it', async () => {
    box.profile('d', { run: daemonRun, pid_file: 'daemon.pid', restart: '' });
    box.start();
    const first = await box.runningPid('d');
    process.kill(first, 'SIGKILL');
    const second = await box.runningPid('d', 2);
    expect(second).not.toBe(first);
    expect(alive(second)).toBe(true);
    // Not our child: its exit status is unknown.
    await box.waitEvent({ profile: 'd', event: 'crashed', pid: first, code: null, signal: null });
  });

  it('stops the daemon by its pid file pid', async () => {
    box.profile('d', { run: daemonRun, pid_file: 'daemon.pid' });
    box.start();
    const pid = await box.runningPid('d');
    expect(await box.stopSupervisor()).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(box.eventsOf('d', 'stopped')).toMatchObject([{ pid }]);
  });

  it('adopts a live process its pid file already names instead of starting a second one', async () => {
    const dir = box.profile('d', { run: sh('echo started-again >> starts.txt; ' + 'setsid sh -c "exec sleep 1000" </dev/null >/dev/null 2>&1 &\necho $! > daemon.pid'), pid_file: 'daemon.pid' });
    const existing = spawn('sleep', ['1000'], { cwd: dir, detached: true, stdio: 'ignore' });
    writeFileSync(join(dir, 'daemon.pid'), `${existing.pid}\n`);
    box.start();
    const pid = await box.runningPid('d');
    expect(pid).toBe(existing.pid);
    await box.waitLog('d', /^running pid \d+ \(adopted: its pid file named a live process\)$/);
    expect(() => readFileSync(join(dir, 'starts.txt'))).toThrow();
  });

  it('does not adopt a pid file written before its pid was given to another process', async () => {
    const dir = box.profile('d', { run: daemonRun, pid_file: 'daemon.pid' });
    const stranger = spawn('sleep', ['1000'], { cwd: dir, detached: true, stdio: 'ignore' });
    writeFileSync(join(dir, 'daemon.pid'), `${stranger.pid}\n`);
    const { utimesSync } = await import('node:fs');
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(dir, 'daemon.pid'), old, old);
    box.start();
    const pid = await box.runningPid('d');
    expect(pid).not.toBe(stranger.pid);
    expect(alive(stranger.pid!)).toBe(true);
  });

  // The reason is the last look at the pid file when start_timeout passes: 2 s, so that `run` has surely
  // written it by then even on a loaded machine (else the reason would be that it did not exist yet).
  it.each([
    ['never appears', sh('exit 0'), /pid file .*daemon\.pid does not exist/],
    ['holds garbage', sh('echo "12ab" > daemon.pid'), /holds "12ab", not a pid/],
    ['holds a negative number', sh('echo "-5" > daemon.pid'), /holds "-5", not a pid/],
    ['names pid 1', sh('echo 1 > daemon.pid'), /names pid 1, which is never a service/],
    ['names a dead pid', sh('echo 999999 > daemon.pid'), /names pid 999999, which is not running/],
  ])('fails with one ERROR when the pid file %s', async (_what, run, reason) => {
    box.profile('d', { run, pid_file: 'daemon.pid', start_timeout: '2' });
    box.profile('other', { run: sh('exec sleep 1000') });
    box.start();
    const failed = await box.waitEvent({ profile: 'd', event: 'failed' });
    expect(failed.reason).toMatch(/^not running after start_timeout 2s: /);
    expect(failed.reason).toMatch(reason);
    const errors = box.lines().filter((l) => l.tag === 'd' && l.level === 'ERROR');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(reason);
    expect(box.eventsOf('other', 'started')).toHaveLength(1);
  });

  it('refuses the supervisor\'s own pid in a pid file', async () => {
    box.profile('d', { run: sh('echo $PPID > daemon.pid'), pid_file: 'daemon.pid', start_timeout: '2' });
    const child = box.start();
    const failed = await box.waitEvent({ profile: 'd', event: 'failed' });
    expect(failed.reason).toMatch(new RegExp(`names the supervisor's own pid ${child.pid}`));
    expect(alive(child.pid!)).toBe(true);
  });

  it('kills a run that never exits after start_timeout', async () => {
    box.profile('d', { run: sh('exec sleep 1000'), pid_file: 'daemon.pid', start_timeout: '0.3' });
    box.start();
    const failed = await box.waitEvent({ profile: 'd', event: 'failed' });
    expect(failed.reason).toBe('not running after start_timeout 0.3s: run did not exit');
    // Its run (exec sleep, in the profile directory) was the sandbox's only process.
    await waitFor('run killed', () => box.processes().length === 0);
  });

  it('counts a run that exits non-zero as a crash and retries', async () => {
    box.profile('d', { run: sh('exit 4'), pid_file: 'daemon.pid', restart: '' });
    box.start();
    const first = await box.waitEvent({ profile: 'd', event: 'crashed', code: 4 });
    const again = await box.waitEvent({ profile: 'd', event: 'crashed', code: 4 }, { nth: 2 });
    expect(again.pid).not.toBe(first.pid);
    expect(Date.parse(again.time) - Date.parse(first.time)).toBeGreaterThanOrEqual(100 - 20); // after the first backoff
    expect(box.count('d', /^run exited pid \d+ code 4 after 0ms before writing its pid file; restarting in 100ms \(crash 1 of 10\)$/)).toBe(1);
  });
});
