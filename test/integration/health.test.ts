// Health and what a notify service says while it runs, with real processes:
// a health probe that starts failing (event `unhealthy`, restart), the
// notify watchdog, probes that hang (bounded), STATUS=, RELOADING=1 and
// STOPPING=1 (read from the actor of an in-process supervisor).
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { notifySupport } from '../../src/process/notify.js';
import { inProcessPerTest } from '../support/in-process.js';
import { alive, sh } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

const onPath = (name: string): boolean => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
const noSystemdNotify = notifySupport() ?? (onPath('systemd-notify') ? null : 'systemd-notify (Debian package systemd) is not installed');
const skipped = (why: string | null) => (why ? ` (SKIPPED: ${why})` : '');

const setup = inProcessPerTest();
const file = (name: string, what: string) => join(setup.box.profilesDir, name, what);
/** Processes of the sandbox whose command line is exactly `argv`. */
const running = (argv: string[]) => setup.box.processes().filter((p) => {
  try {
    return readFileSync(`/proc/${p}/cmdline`, 'latin1') === `${argv.join('\0')}\0`;
  } catch {
    return false;
  }
});

/** `web`: a sleeper whose health probe is `probe`, run every 50 ms. */
const withHealth = (probe: string, files: Record<string, string>) =>
  setup.box.profile('web', { run: sh('exec sleep 1000'), health: { content: sh(probe), mode: 0o755 }, health_interval: '0.05', ...files });

describe('health', () => {
  it('a health probe that starts failing: `unhealthy` after health_retries in a row, naming its output, and the service is restarted', async () => {
    const { box } = setup;
    withHealth('if [ -e sick ]; then echo "db connection refused"; exit 1; fi', { health_retries: '2' });
    const { running: up } = await setup.start();
    const first = await up('web');
    writeFileSync(file('web', 'sick'), '');
    const unhealthy = await box.waitEvent({ profile: 'web', event: 'unhealthy' });
    rmSync(file('web', 'sick'));
    expect(unhealthy).toMatchObject({ pid: first, reason: 'health failed 2 times in a row, last: exited 1' });
    await box.waitLog('web', new RegExp(`^unhealthy: health failed 2 times in a row, last: exited 1, output "db connection refused"; restarting pid ${first}$`));
    const second = (await box.waitEvent({ profile: 'web', event: 'started' }, { nth: 2 })).pid!;
    expect(second).not.toBe(first);
    expect(alive(first)).toBe(false);
    expect(box.events().filter((e) => e.profile === 'web').map((e) => e.event).slice(0, 5)).toEqual(['added', 'started', 'unhealthy', 'stopped', 'started']);
  });

  it('a health probe that hangs is killed at health_timeout (with its group): a failure, not a stuck service', async () => {
    const { box } = setup;
    withHealth('sleep 999 & exec sleep 998', { health_timeout: '0.2', health_retries: '1' });
    const { running: up } = await setup.start();
    const first = await up('web');
    const unhealthy = await box.waitEvent({ profile: 'web', event: 'unhealthy' });
    expect(unhealthy).toMatchObject({ pid: first, reason: 'health failed 1 time in a row, last: did not finish within 200ms: killed, with its process group (SIGKILL)' });
    await waitFor('no probe left', () => running(['sleep', '999']).length + running(['sleep', '998']).length === 0);
  });

  it('a `ready` probe that hangs is ended with the start at ready_timeout: service and probe killed', async () => {
    const { box } = setup;
    box.profile('web', { run: sh('exec sleep 1000'), ready: { content: sh('exec sleep 997'), mode: 0o755 }, ready_timeout: '0.5' });
    await setup.start();
    const failed = await box.waitEvent({ profile: 'web', event: 'failed' });
    expect(failed.reason).toBe('not ready after ready_timeout 0.5s');
    await waitFor('nothing left', () => running(['sleep', '997']).length + running(['sleep', '1000']).length === 0);
  });
});

describe.skipIf(noSystemdNotify !== null)(`notify while running${skipped(noSystemdNotify)}`, () => {
  it('the watchdog: WATCHDOG=1 pings keep it running; silence for watchdog_timeout is `unhealthy` and a restart', async () => {
    const { box } = setup;
    box.profile('web', {
      run: sh('systemd-notify --ready; while [ -e alive ]; do systemd-notify WATCHDOG=1; sleep 0.1; done; exec sleep 1000'),
      notify: '',
      watchdog_timeout: '1',
      alive: '',
    });
    const { running: up } = await setup.start();
    const first = await up('web');
    await box.waitLog('web', /^running pid/);
    const pingedUntil = Date.now() + 1500; // longer than watchdog_timeout: the pings hold it
    await waitFor('pings for 1.5 s', () => Date.now() > pingedUntil);
    expect(box.events().some((e) => e.event === 'unhealthy')).toBe(false);
    rmSync(file('web', 'alive'));
    const unhealthy = await box.waitEvent({ profile: 'web', event: 'unhealthy' });
    expect(unhealthy).toMatchObject({ pid: first, reason: 'no WATCHDOG=1 for watchdog_timeout 1.0s' });
    await box.waitLog('web', new RegExp(`^unhealthy: no WATCHDOG=1 for watchdog_timeout 1\\.0s; restarting pid ${first}$`));
    expect((await box.waitEvent({ profile: 'web', event: 'started' }, { nth: 2 })).pid).not.toBe(first);
  });

  it('STATUS= is kept for status, RELOADING=1 is running.reloading until READY=1, STOPPING=1 is noted', async () => {
    const { box } = setup;
    const step = (n: number) => `while [ ! -e step${n} ]; do sleep 0.02; done`;
    box.profile('web', {
      run: sh(`systemd-notify --ready --status="serving 0 clients"; ${step(1)}; systemd-notify RELOADING=1; ${step(2)}; systemd-notify --ready; ${step(3)}; systemd-notify STOPPING=1; exec sleep 1000`),
      notify: '',
    });
    const { supervisor, running: up } = await setup.start();
    await up('web');
    const context = () => supervisor.actor('web')!.getSnapshot();
    await waitFor('STATUS=', () => context().context.notifyStatus === 'serving 0 clients');
    writeFileSync(file('web', 'step1'), '');
    await waitFor('running.reloading', () => context().matches({ running: 'reloading' }));
    writeFileSync(file('web', 'step2'), '');
    await waitFor('running again', () => context().matches({ running: 'serving' }));
    writeFileSync(file('web', 'step3'), '');
    await waitFor('STOPPING=1', () => context().context.notifyStopping);
    expect(box.lines().filter((l) => l.tag === 'web').map((l) => l.message.replace(/pid \d+/, 'pid N'))).toEqual([
      'started pid N; waiting until it is ready (notify)',
      'running pid N',
      'reloading pid N (RELOADING=1)',
      'running pid N (reloaded: READY=1)',
      'pid N says it is stopping (STOPPING=1)',
    ]);
  });
});
