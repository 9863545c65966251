// Names that come and go must not cost memory forever: once a removed
// profile is fully stopped, its actor and every entry kept for its name go.
// A name put back later starts afresh.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inProcessPerTest, type InProcess } from '../support/in-process.js';
import { alive, sh } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

const sandbox = inProcessPerTest();

const forever = sh('exec sleep 1000');

/** Every count of debugCounts() is 0: nothing of any name is kept. */
async function nothingLeft(supervisor: InProcess['supervisor']): Promise<void> {
  const empty = (counts: Record<string, number>) => Object.values(counts).every((n) => n === 0);
  await waitFor('nothing left', () => empty(supervisor.debugCounts())).catch(() => undefined); // the expect below says what is left
  const counts = supervisor.debugCounts();
  expect(counts).toEqual(Object.fromEntries(Object.keys(counts).map((key) => [key, 0])));
  expect(supervisor.names()).toEqual([]);
}

describe('a removed profile, once stopped, leaves nothing behind', () => {
  it('plain, instanced with a logger and a watch file, held by command, invalid: every map is empty again', async () => {
    const { box } = sandbox;
    box.profile('plain', { run: forever });
    box.profile('fleet', { run: forever, instances: '2', watch: 'fleet.conf', 'fleet.conf': 'x', 'log/run': sh('exec cat > /dev/null') });
    box.profile('held', { run: forever });
    // Readiness by a notification fd and by sd_notify: their held file and socket go too.
    box.profile('fdready', { run: sh('echo >&3; exec sleep 1000'), 'notification-fd': '3' });
    box.profile('notifier', { run: sh('exec sleep 1000'), notify: '' });
    const run = await sandbox.start({ newProfileGraceMs: 100 });
    const { supervisor } = run;
    const pids = await Promise.all(['plain', 'fleet@1', 'fleet@2', 'fleet:log', 'held', 'fdready'].map((tag) => run.running(tag)));
    await waitFor('the notify socket held', () => supervisor.debugCounts().notifySockets === 1);
    expect(supervisor.debugCounts()).toMatchObject({ readyFds: 1, outputProfiles: 5 });
    expect(supervisor.debugCounts().outputSinks).toBeGreaterThan(0);
    supervisor.command('held', { type: 'STOP' });
    await waitFor('held stopped', () => supervisor.actor('held')!.getSnapshot().hasTag('down'));
    expect(readFileSync(join(box.stateDir, 'held'), 'utf8')).toBe('held\n');
    box.profile('broken', { restart: '' }); // no run: invalid once its grace is over
    await box.waitLog('proclaunch', /^profile invalid: broken: no run file$/);
    expect(supervisor.debugCounts()).toMatchObject({ services: 8, profiles: 6, records: 6, holds: 1 });

    for (const name of ['plain', 'fleet', 'held', 'broken', 'fdready', 'notifier']) rmSync(join(box.profilesDir, name), { recursive: true });
    await nothingLeft(supervisor);
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(readFileSync(join(box.stateDir, 'held'), 'utf8')).toBe('');
    // The logger was stopped after its service let go of the pipe, and the pipe is gone.
    const log = box.logText();
    expect(log.indexOf('INFO fleet:log stopped pid')).toBeGreaterThan(log.lastIndexOf('INFO fleet@2 stopped pid'));
    expect(() => readFileSync(join(box.stateDir, 'pipes', 'fleet'))).toThrow(/ENOENT/);
  });

  it('with needs (met, missing, a cycle): the needs coordinator and the cycle search keep nothing either', async () => {
    const { box } = sandbox;
    box.profile('db', { run: forever });
    box.profile('web', { run: forever, needs: 'db\n' });
    box.profile('waiter', { run: forever, needs: 'ghost\n' });
    box.profile('x', { run: forever, needs: 'y\n' });
    box.profile('y', { run: forever, needs: 'x\n' });
    const run = await sandbox.start();
    const { supervisor } = run;
    await run.running('web');
    await box.waitLog('proclaunch', /^profile invalid: y: needs form a cycle: y → x → y$/);
    expect(supervisor.waitingFor('waiter')).toEqual({ need: 'ghost', phase: 'missing' });
    expect(supervisor.debugCounts()).toMatchObject({ needs: 2, needCycles: 4 });
    for (const name of ['db', 'web', 'waiter', 'x', 'y']) rmSync(join(box.profilesDir, name), { recursive: true });
    await nothingLeft(supervisor);
  });

  it('a name put back later starts afresh: a new actor, restarts from 0, added again', async () => {
    const { box } = sandbox;
    box.profile('web', { run: sh('sleep 0.2; exit 1'), restart: '' });
    const run = await sandbox.start();
    const { supervisor } = run;
    await waitFor('a restart', () => (supervisor.actor('web')?.getSnapshot().context.restarts ?? 0) >= 1);
    const first = supervisor.actor('web');
    rmSync(join(box.profilesDir, 'web'), { recursive: true });
    await nothingLeft(supervisor);
    box.profile('web', { run: forever });
    await run.running('web');
    expect(supervisor.actor('web')).not.toBe(first);
    expect(supervisor.actor('web')!.getSnapshot().context.restarts).toBe(0);
    expect(box.count('proclaunch', /^profile added: web$/)).toBe(2);
  });

  it('put back while its process is still stopping: the actor is kept, nothing is released', async () => {
    const { box } = sandbox;
    const slow = sh('trap "sleep 0.5; exit 0" TERM; touch trapped; while :; do sleep 0.05; done');
    box.profile('slow', { run: slow });
    const run = await sandbox.start();
    const { supervisor } = run;
    const pid = await run.running('slow');
    await waitFor('its trap set', () => existsSync(join(box.profilesDir, 'slow', 'trapped')));
    const actor = supervisor.actor('slow');
    rmSync(join(box.profilesDir, 'slow'), { recursive: true });
    await box.waitLog('slow', /^stopping pid/);
    box.profile('slow', { run: slow });
    expect(supervisor.actor('slow')!.getSnapshot().hasTag('stopping')).toBe(true); // put back before its process was gone
    const next = await waitFor('running again', async () => {
    const { box } = sandbox;
      const now = await run.running('slow');
      return now !== pid ? now : null;
    });
    expect(supervisor.actor('slow')).toBe(actor);
    expect(alive(next)).toBe(true);
    expect(supervisor.debugCounts()).toMatchObject({ services: 1, profiles: 1 });
  });
});
