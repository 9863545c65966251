// Readiness with real processes and a real supervisor: notification-fd,
// the `ready` probe, notify (systemd-notify, redis-server), ready_timeout,
// and a supervisor killed -9 while a service is not ready yet. Health and
// the watchdog are in health.test.ts.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { notifySupport } from '../../src/process/notify.js';
import { freePort } from '../support/free-port.js';
import { alive, Sandbox, sh } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';
import { recordOf } from '../support/records.js';

const onPath = (name: string): boolean => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
const noNotify = notifySupport();
const noSystemdNotify = noNotify ?? (onPath('systemd-notify') ? null : 'systemd-notify (Debian package systemd) is not installed');
const noRedis = noNotify ?? (onPath('redis-server') && onPath('redis-cli') ? null : 'redis-server and redis-cli (Debian package redis-server) are not installed');
const skipped = (why: string | null) => (why ? ` (SKIPPED: ${why})` : '');

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(async () => {
  await box.cleanup();
});

/** Wait in `run` until the test creates the file `go` in the profile directory. */
const untilGo = 'while [ ! -e go ]; do sleep 0.02; done';
const go = (name: string) => writeFileSync(join(box.profilesDir, name, 'go'), '');
const stateOf = async (name: string) => {
  const [status] = await box.status(name);
  return [status!.state, status!.substate].filter(Boolean).join('.');
};

describe('readiness', () => {
  it('notification-fd: starting.awaitingReady until the service writes its newline to fd 3, then running; events started, then ready', async () => {
    box.profile('web', { run: sh(`${untilGo}; echo >&3; exec sleep 1000`), 'notification-fd': '3' });
    await box.startReady();
    const pid = await box.runningPid('web'); // `started`: the process is up
    await box.waitLog('web', new RegExp(`^started pid ${pid}; waiting until it is ready \\(notification-fd 3\\)$`));
    expect(await stateOf('web')).toBe('starting.awaitingReady');
    const record = recordOf(box.stateDir, 'web')!;
    expect(record).toMatchObject({ proc: { pid }, ready: false, since: null });
    go('web');
    expect((await box.waitEvent({ profile: 'web', event: 'ready' })).pid).toBe(pid);
    expect(await stateOf('web')).toBe('running');
    await box.waitLog('web', new RegExp(`^running pid ${pid}$`));
    await waitFor('the record says ready', () => recordOf(box.stateDir, 'web')?.ready === true);
    expect(box.events().filter((e) => e.profile === 'web').map((e) => e.event)).toEqual(['added', 'started', 'ready']);
  });

  it('ready: the probe runs every ready_interval until it passes (a failing run is not logged)', async () => {
    box.profile('web', { run: sh(`${untilGo}; touch up; exec sleep 1000`), ready: { content: sh('test -e up'), mode: 0o755 }, ready_interval: '0.05' });
    await box.startReady();
    const pid = await box.runningPid('web');
    await box.waitLog('web', /waiting until it is ready \(ready probe\)$/);
    expect(await stateOf('web')).toBe('starting.awaitingReady');
    go('web');
    expect((await box.waitEvent({ profile: 'web', event: 'ready' })).pid).toBe(pid);
    expect(box.lines().filter((l) => l.tag === 'web' && l.level !== 'INFO')).toEqual([]);
  });

  it('ready_timeout: a service that never gets ready is killed and failed, saying why', async () => {
    box.profile('web', { run: sh('exec sleep 1000'), 'notification-fd': '4', ready_timeout: '0.5', restart: '' });
    await box.startReady();
    const pid = await box.runningPid('web');
    const failed = await box.waitEvent({ profile: 'web', event: 'failed' });
    expect(failed.reason).toBe('not ready after ready_timeout 0.5s');
    await waitFor('killed', () => !alive(pid));
    expect(await stateOf('web')).toBe('stopped.failed');
    await box.waitLog('web', /^failed: not ready after ready_timeout 0\.5s$/);
    expect(box.count('web', /^started pid/)).toBe(1); // not restarted
  });

  it.skipIf(noSystemdNotify !== null)(`notify: systemd-notify --ready and --status= run by the service${skipped(noSystemdNotify)}`, async () => {
    box.profile('web', { run: sh(`systemd-notify --status="warming up"; ${untilGo}; systemd-notify --ready --status=serving; exec sleep 1000`), notify: '' });
    await box.startReady();
    const pid = await box.runningPid('web');
    await box.waitLog('web', /waiting until it is ready \(notify\)$/);
    expect(await stateOf('web')).toBe('starting.awaitingReady');
    go('web');
    expect((await box.waitEvent({ profile: 'web', event: 'ready' })).pid).toBe(pid);
    expect(box.lines().filter((l) => l.tag === 'web' && l.level === 'WARN')).toEqual([]);
    expect(box.serviceLog('web')).not.toMatch(/systemd-notify|Failed/); // its barrier answered: no complaint from it
  });

  it.skipIf(noSystemdNotify !== null)(`notify: MAINPID= from a run that then exits 0 — the named process is the service; stop stops it${skipped(noSystemdNotify)}`, async () => {
    box.profile('web', { run: sh('sleep 1000 & systemd-notify --ready --pid=$!; exit 0'), notify: '' });
    await box.startReady();
    const run = await box.runningPid('web');
    const ready = await box.waitEvent({ profile: 'web', event: 'ready' });
    expect(ready.pid).not.toBe(run);
    await box.waitLog('web', new RegExp(`^main process is now pid ${ready.pid} \\(MAINPID=; was pid ${run}\\)$`));
    await waitFor('run gone', () => !alive(run));
    expect(alive(ready.pid!)).toBe(true); // the run's exit did not take its group along
    expect(await stateOf('web')).toBe('running');
    expect((await box.status('web'))[0]!.pid).toBe(ready.pid);
    expect((await box.cli('stop', 'web')).code).toBe(0);
    expect(alive(ready.pid!)).toBe(false);
  });

  it.skipIf(noRedis !== null)(`notify: redis-server --supervised systemd is running once it says so, and answers then${skipped(noRedis)}`, async () => {
    const port = await freePort();
    box.profile('redis', {
      run: sh(`exec redis-server --port ${port} --bind 127.0.0.1 --save '' --appendonly no --dir . --supervised systemd --daemonize no`),
      notify: '',
    });
    await box.startReady();
    const pid = await box.runningPid('redis');
    await box.waitLog('redis', new RegExp(`^started pid ${pid}; waiting until it is ready \\(notify\\)$`));
    await box.waitEvent({ profile: 'redis', event: 'ready' });
    expect(spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim()).toBe('PONG');
    expect(await stateOf('redis')).toBe('running');
  });

  it('kill -9 of the supervisor while a service awaits readiness: the next one re-adopts it (no duplicate) and it is ready at once if it wrote its line meanwhile', async () => {
    box.profile('web', { run: sh(`${untilGo}; echo >&3; exec sleep 1000`), 'notification-fd': '3' });
    await box.startReady();
    const pid = await box.runningPid('web');
    await waitFor('its record (not ready)', () => {
      try {
        return recordOf(box.stateDir, 'web')?.ready === false;
      } catch {
        return false;
      }
    });
    const first = box.supervisor!;
    first.kill('SIGKILL');
    await waitFor('supervisor gone', () => first.exitCode !== null || first.signalCode !== null);
    go('web'); // it writes its newline while no supervisor runs
    await waitFor('the newline in STATE_DIR/ready/web', () => readFileSync(join(box.stateDir, 'ready', 'web'), 'utf8').includes('\n'));
    box.start();
    await waitFor('the second supervisor\'s control socket', () => box.lines().filter((l) => l.message.startsWith('control socket ')).length === 2);
    await box.waitLog('web', new RegExp(`^starting pid ${pid} \\(re-adopted before it was ready: left by the last supervisor\\); waiting until it is ready \\(notification-fd 3\\)$`));
    expect((await box.waitEvent({ profile: 'web', event: 'ready' })).pid).toBe(pid);
    expect(await stateOf('web')).toBe('running');
    expect(box.count('web', /^started pid/)).toBe(1);
    expect(box.processes().filter((p) => readFileSync(`/proc/${p}/cmdline`, 'latin1') === 'sleep\u00001000\u0000')).toEqual([pid]);
  });
});
