// start_delay and restart_delay with real processes: a periodic job (PETeR).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sandbox, sh } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(async () => {
  await box.cleanup();
});

describe('delayed and periodic starts', () => {
  it('waits start_delay, then runs again restart_delay after each clean exit; status shows the countdown', async () => {
    // start_delay 5: long enough to ask twice (once through the CLI) while it counts down, even on a loaded machine.
    box.profile('mailer', { run: sh('date +%s%N; exit 0'), restart: '', start_delay: '5', restart_delay: '0.6' });
    await box.startReady();
    const [status] = await box.status('mailer');
    expect(status).toMatchObject({ state: 'stopped', substate: 'delayed' });
    expect(status!.startsInMs).toBeGreaterThan(0);
    expect(status!.startsInMs).toBeLessThanOrEqual(5000);
    expect((await box.cli('status', '--wide', 'mailer')).stdout).toMatch(/mailer\s+stopped\.delayed .* starts in \d/);
    // 5 s, then two restart_delays: the deadline allows for that, and for a slow machine.
    await waitFor('three runs', () => box.serviceLog('mailer').trim().split('\n').filter(Boolean).length >= 3, { timeoutMs: 20_000 });
    // The countdown began after the supervisor said it was supervising: the first start is at least 5 s later.
    const supervising = Date.parse(box.logText().split(' ', 1)[0]!);
    const firstStart = Date.parse(box.events().find((e) => e.profile === 'mailer' && e.event === 'started')!.time);
    expect(firstStart - supervising).toBeGreaterThanOrEqual(5000);
    const runs = box.serviceLog('mailer').trim().split('\n').map((ns) => Number(BigInt(ns) / 1_000_000n));
    expect(runs[1]! - runs[0]!).toBeGreaterThanOrEqual(600);
    expect(runs[2]! - runs[1]!).toBeGreaterThanOrEqual(600);
    expect(box.lines().some((l) => l.tag === 'mailer' && /^exited pid \d+ code 0 after \S+; restarting in 600ms$/.test(l.message))).toBe(true);
  });
});
