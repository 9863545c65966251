// One failing actor must not end supervision of all: an effect that throws
// (injected through SupervisorOptions.effects) ends that one actor; the
// supervisor logs it, records `failed`, and supervises the tag afresh with a
// new actor that takes its process over, as after a supervisor restart.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MachineEffects } from '../../src/supervisor/supervisor.js';
import { inProcessPerTest } from '../support/in-process.js';
import { alive, sh, type Sandbox } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';
import { recordOf } from '../support/records.js';

const sandbox = inProcessPerTest();

const forever = sh('exec sleep 1000');
type Action = (args: { context: { tag: string } }, params: unknown) => void;

/** The real effects, with one action of one tag replaced by `fake` (which may call the real one). */
function wrapAction(name: 'signal' | 'launch', tag: string, fake: (real: Action, args: { context: { tag: string } }, params: unknown) => void) {
  return (real: MachineEffects): MachineEffects => {
    const original = real.actions![name] as unknown as Action;
    const replaced: Action = (args, params) => (args.context.tag === tag ? fake(original, args, params) : original(args, params));
    return { ...real, actions: { ...real.actions, [name]: replaced } } as MachineEffects;
  };
}

const events = (box: Sandbox) => readFileSync(join(box.stateDir, 'events.log'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; profile: string; reason?: string });

describe('an actor that throws', () => {
  it('is supervised afresh alone: one ERROR, a failed event, its process re-adopted; the others never notice', async () => {
    const { box } = sandbox;
    let thrown = 0;
    const effects = wrapAction('signal', 'victim', (real, args, params) => {
      if ((params as { signal: string }).signal === 'SIGHUP' && thrown++ === 0) throw new Error('injected fault');
      real(args, params);
    });
    box.profile('victim', { run: sh('trap "" HUP; exec sleep 1000') }); // SIG_IGN survives exec: a reload leaves it running
    box.profile('bystander', { run: forever });
    const run = await sandbox.start({ effects });
    const { supervisor } = run;
    const pid = await run.running('victim');
    const other = await run.running('bystander');
    const otherActor = supervisor.actor('bystander');
    const firstActor = supervisor.actor('victim');

    supervisor.command('victim', { type: 'RELOAD' }); // the injected `signal` throws
    await waitFor('a new actor running the same pid', () => supervisor.actor('victim') !== firstActor && supervisor.actor('victim')!.getSnapshot().hasTag('up'));
    expect(supervisor.actor('victim')!.getSnapshot().context.proc?.pid).toBe(pid);
    expect(alive(pid)).toBe(true);
    expect(box.lines().filter((l) => l.level === 'ERROR')).toEqual([{ level: 'ERROR', tag: 'victim', message: 'internal error: "injected fault"; supervising it afresh' }]);
    expect(box.logText()).toMatch(/INFO victim running pid \d+ \(re-adopted: left running by the last supervisor\)/);
    expect(events(box).filter((e) => e.event === 'failed')).toEqual([expect.objectContaining({ profile: 'victim', reason: 'internal error: injected fault' })]);
    // The record stays in place (still the same process).
    expect(recordOf(box.stateDir, 'victim')?.proc.pid).toBe(pid);
    expect(supervisor.actor('bystander')).toBe(otherActor);
    expect(supervisor.actor('bystander')!.getSnapshot().context.proc?.pid).toBe(other);

    // The new actor supervises it for real: a reload now goes through, a stop stops it.
    supervisor.command('victim', { type: 'RELOAD' });
    await box.waitLog('victim', /^reloading pid \d+ with SIGHUP$/);
    expect(alive(pid)).toBe(true);
    supervisor.command('victim', { type: 'STOP' });
    await waitFor('victim stopped', () => supervisor.actor('victim')!.getSnapshot().hasTag('down'));
    await waitFor('its process gone', () => !alive(pid));
    expect(box.count('victim', /^running pid/)).toBe(2); // no duplicate was ever started
  });

  it('throwing again and again backs off instead of spinning, and stops with the others', async () => {
    const { box } = sandbox;
    const effects = wrapAction('launch', 'broken', () => {
      throw new Error('cannot launch');
    });
    box.profile('broken', { run: forever });
    box.profile('fine', { run: forever });
    const run = await sandbox.start({ effects });
    const fine = await run.running('fine');
    // Re-created at once after the first, then after 100, 200 ms (backoffMs): a handful a second, not thousands.
    const failures = await waitFor('four failures of broken', () => {
      const failed = box.eventsOf('broken', 'failed');
      return failed.length >= 4 && failed;
    });
    await waitFor('their four ERRORs', () => box.count('broken', /^internal error/) >= 4);
    expect(box.lines().filter((l) => l.level === 'ERROR' && l.tag === 'broken').slice(0, 4).map((l) => l.message)).toEqual(
      ['', ' in 100ms', ' in 200ms', ' in 400ms'].map((delay) => `internal error: "cannot launch"; supervising it afresh${delay}`),
    );
    // The spacing, from the failed events' times: each gap at least the backoff announced before it (less a
    // little: a timer counts from the event loop's cached clock, a few ms behind Date.now on a busy machine).
    const gaps = failures.slice(1, 4).map((e, i) => Date.parse(e.time) - Date.parse(failures[i]!.time));
    expect(gaps[1]).toBeGreaterThanOrEqual(100 - 20);
    expect(gaps[2]).toBeGreaterThanOrEqual(200 - 20);
    expect(run.supervisor.actor('fine')!.getSnapshot().context.proc?.pid).toBe(fine);
    await run.supervisor.stopAll();
    expect(alive(fine)).toBe(false);
    // Nothing goes on re-creating it once stopped: a re-creation is pending only while the tag's actor is the
    // one that threw (status 'error'); stopAll re-created it at once, and the new one is stopped, not failed.
    const last = run.supervisor.actor('broken')!.getSnapshot();
    expect(last.status).toBe('active');
    expect(last.hasTag('down')).toBe(true);
    expect(box.count('broken', /^internal error/)).toBe(box.eventsOf('broken', 'failed').length);
  });
});
