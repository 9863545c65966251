// start and restart wait until the service is ready — without a readiness
// file, until it has been up 1 s (supervisord's startsecs) — and say FAILED
// for one that dies before; `restart --rolling` restarts a pool one by one.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventRecord } from '../../src/supervisor/events.js';
import { Sandbox, sh, type ProfileFiles } from '../support/sandbox.js';

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(async () => {
  await box.cleanup();
});

/** Started by hand only (`down`), dies 1 ms after its spawn. */
const crasher = (extra: ProfileFiles = {}): ProfileFiles => ({ run: sh('exit 1'), down: '', ...extra });

/** Fails while the flag file `fail-N` is in its directory. */
const failsOnFlag = 'if [ -e "fail-$PROCLAUNCH_INSTANCE" ]; then exit 1; fi\n';

const pools: Record<string, ProfileFiles> = {
  'without readiness (up 1 s)': { run: sh(`${failsOnFlag}exec sleep 1000`), restart: '', instances: '3' },
  'with notification-fd': { run: sh(`${failsOnFlag}sleep 0.2\necho >&3\nexec 3>&-\nexec sleep 1000`), 'notification-fd': '3', restart: '', instances: '3' },
};

async function timed<T>(what: () => Promise<T>): Promise<[T, number]> {
  const began = Date.now();
  const value = await what();
  return [value, Date.now() - began];
}

describe('start waits', () => {
  it('`start crasher` reports FAILED within about a second, not `ok running`', async () => {
    box.profile('crasher', crasher());
    await box.startReady();
    const [r, ms] = await timed(() => box.cli('start', 'crasher'));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^crasher  FAILED  died within 1s of starting: exited pid \d+ code 1 after \S+ \(now stopped\.idle\)\n$/);
    // At its exit, not at the command's timeout (a speed figure would belong in a benchmark, not here).
    expect(ms).toBeLessThan(10_000);
  });

  it('a crasher with `restart` fails the same way (at its first exit, in backoff)', async () => {
    box.profile('crasher', crasher({ restart: '' }));
    await box.startReady();
    const r = await box.cli('start', 'crasher');
    expect(r.stdout).toMatch(/^crasher  FAILED  died within 1s of starting: exited pid \d+ code 1 after \S+ \(now stopped\.backoff\)\n$/);
  });

  it('a service up for less than 1 s (just added) is not yet `already running`: start waits, and one that dies is FAILED', async () => {
    await box.startReady();
    box.profile('brief', { run: sh('sleep 0.5\nexit 1') });
    await box.waitEvent({ profile: 'brief', event: 'started' });
    const r = await box.cli('start', 'brief'); // while it is up (or, on a loaded machine, started again): either way it dies in its first second
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^brief  FAILED  died within 1s of starting: exited pid \d+ code 1/);
  });

  it('a service that dies before it is ready: FAILED, saying so', async () => {
    box.profile('never', { run: sh('sleep 0.1\nexit 3'), 'notification-fd': '3', down: '' });
    await box.startReady();
    const r = await box.cli('start', 'never');
    expect(r.stdout).toMatch(/^never  FAILED  died before it was ready: exited pid \d+ code 3 after \S+ \(now stopped\.idle\)\n$/);
  });

  it('a healthy service without readiness: ok once it has been up 1 s', async () => {
    box.profile('web', { run: sh('exec sleep 1000'), down: '' });
    await box.startReady();
    const [r, ms] = await timed(() => box.cli('start', 'web'));
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toMatch(/^web  ok  running pid \d+\n$/);
    expect(ms).toBeGreaterThanOrEqual(1000);
  });
});

describe('restart --rolling', () => {
  it.each(Object.keys(pools))('%s: one instance at a time, each new one ready before the next is restarted', async (kind) => {
    box.profile('pool', pools[kind]!);
    await box.startReady();
    const before = await Promise.all([1, 2, 3].map((i) => box.runningPid(`pool@${i}`)));
    await box.cli('start', 'pool'); // all ready (and, without readiness, up 1 s)
    const from = box.events().length;
    const r = await box.cli('restart', '--rolling', 'pool');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^pool@1  ok  running pid \d+\npool@2  ok  running pid \d+\npool@3  ok  running pid \d+\n$/);
    const seen = box.events().slice(from).filter((e) => e.profile.startsWith('pool@'));
    // Never two down at once: each `stopped` comes after the previous instance is back.
    const back: EventRecord['event'] = kind.includes('notification') ? 'ready' : 'started';
    const sequence = seen.filter((e) => e.event === 'stopped' || e.event === back).map((e) => `${e.event} ${e.profile}`);
    expect(sequence).toEqual(['stopped pool@1', `${back} pool@1`, 'stopped pool@2', `${back} pool@2`, 'stopped pool@3', `${back} pool@3`]);
    const after = (await box.status('pool')).map((s) => s.pid);
    expect(after.every((pid, i) => pid !== before[i])).toBe(true);
    if (back === 'started') {
      // Without readiness, each was up 1 s before the next stopped.
      const at = (event: string, tag: string) => Date.parse(seen.find((e) => e.event === event && e.profile === tag)!.time);
      expect(at('stopped', 'pool@2') - at('started', 'pool@1')).toBeGreaterThanOrEqual(950);
    }
  });

  it('stops at the first failure and reports it; the rest are left as they were', async () => {
    const dir = box.profile('pool', pools['without readiness (up 1 s)']!);
    await box.startReady();
    const pid3 = await box.runningPid('pool@3');
    writeFileSync(join(dir, 'fail-2'), '');
    const r = await box.cli('restart', '--rolling', 'pool');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^pool@1  ok      running pid \d+\npool@2  FAILED  died within 1s of starting: exited pid \d+ code 1 after \S+ \(now stopped\.backoff\)\npool@3  FAILED  not restarted: the rolling restart stopped at pool@2\n$/);
    expect((await box.status('pool@3'))[0]?.pid).toBe(pid3);
  });

  it('is a usage error with --no-wait, and for other commands', async () => {
    expect(await box.cli('restart', '--rolling', '--no-wait', 'pool')).toMatchObject({ code: 2, stderr: 'proclaunch: restart: --rolling waits for each instance to be ready: not with --no-wait\nTry \'proclaunch --help\'.\n' });
    expect((await box.cli('stop', '--rolling', 'pool')).code).toBe(2);
  });
});
