// `needs`, for real: start order, waiting with its reason, cycles, stop order.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventRecord } from '../../src/supervisor/events.js';
import { Sandbox, sh, type ProfileFiles } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(async () => {
  await box.cleanup();
});

/** Ready a while after its spawn (s6's notification-fd 3), so that an order shows in the start times. */
const slowReady = (needs: string[] = [], extra: ProfileFiles = {}): ProfileFiles => ({
  run: sh('sleep 0.2\necho >&3\nexec 3>&-\nexec sleep 1000'),
  'notification-fd': '3',
  restart: '',
  ...(needs.length ? { needs: `${needs.join('\n')}\n` } : {}),
  ...extra,
});

/** Takes a while to stop: a need stopped at the same time would be stopped first. */
const slowStop = (needs: string[] = []): ProfileFiles => ({
  run: sh("trap 'sleep 0.3; exit 0' TERM\nsleep 1000 &\nwait"),
  restart: '',
  ...(needs.length ? { needs: `${needs.join('\n')}\n` } : {}),
});

const events = (kind: EventRecord['event']) => box.events().filter((e) => e.event === kind);
const order = (kind: EventRecord['event'], tags: string[]) => events(kind).map((e) => e.profile).filter((p) => tags.includes(p));
const noteOf = async (tag: string) => (await box.cli('status', '--wide', tag)).stdout.split('\n')[1] ?? '';

describe('start order', () => {
  it('a chain c → b → a starts in order: each only once its need runs and is ready', async () => {
    box.profile('c', slowReady(['b']));
    box.profile('b', slowReady(['a']));
    box.profile('a', slowReady());
    await box.startReady();
    for (const tag of ['a', 'b', 'c']) await box.waitEvent({ profile: tag, event: 'ready' });
    const at = (tag: string, kind: EventRecord['event']) => Date.parse(box.events().find((e) => e.profile === tag && e.event === kind)!.time);
    // Spawned (started) only after the need was ready.
    expect(at('b', 'started')).toBeGreaterThanOrEqual(at('a', 'ready'));
    expect(at('c', 'started')).toBeGreaterThanOrEqual(at('b', 'ready'));
    expect(order('ready', ['a', 'b', 'c'])).toEqual(['a', 'b', 'c']);
  });

  it('a missing need: waits with the reason, starts once it is added and ready', async () => {
    box.profile('web', slowReady(['db']));
    await box.startReady();
    await waitFor('web waiting', async () => (await box.status('web'))[0]?.substate === 'waiting');
    const [web] = await box.status('web');
    expect(web).toMatchObject({ state: 'starting', substate: 'waiting', pid: null, ready: false, waitingFor: { need: 'db', phase: 'missing' } });
    expect(await noteOf('web')).toMatch(/starting\.waiting .* waiting for db \(missing\)$/);
    box.profile('db', slowReady());
    await box.waitEvent({ profile: 'web', event: 'ready' });
    expect(Date.parse(events('started').find((e) => e.profile === 'web')!.time)).toBeGreaterThanOrEqual(Date.parse(events('ready').find((e) => e.profile === 'db')!.time));
  });

  it('a need stopped by command: a restarted dependent waits, saying why; `start dependent` starts the need too', async () => {
    box.profile('db', slowReady());
    box.profile('web', slowReady(['db']));
    await box.startReady();
    await box.waitEvent({ profile: 'web', event: 'ready' });
    const webPid = (await box.status('web'))[0]!.pid;
    // Restarting a need does not restart what needs it (systemd's Wants=), and says so.
    expect((await box.cli('restart', 'db')).stdout).toMatch(/^db  ok  running pid \d+ \(not restarted with it: web\)\n$/);
    expect((await box.status('web'))[0]!.pid).toBe(webPid);
    expect((await box.cli('stop', 'db')).code).toBe(0);
    // `stop NAME` stops only NAME: web keeps running (systemd's Wants=).
    expect((await box.status('web'))[0]).toMatchObject({ state: 'running', ready: true });
    const late = await box.cli('restart', 'web', '--timeout', '1');
    expect(late).toMatchObject({ code: 1 });
    expect(late.stdout).toMatch(/^web  FAILED  timed out after 1s, still starting\.waiting: waiting for db \(stopped by command\)\n$/);
    expect(await noteOf('web')).toMatch(/waiting for db \(stopped by command\)$/);
    // Nagios: a choice of the operator's, not an outage.
    expect((await box.cli('check')).stdout).toMatch(/^PROCLAUNCH OK - 0\/0 running/);
    const started = await box.cli('start', 'web');
    expect(started.stdout).toMatch(/^db   ok  running pid \d+ \(needed by web\)\nweb  ok  running pid \d+ \(also started db, which it needs\)\n$/);
    expect((await box.status()).map((s) => [s.name, s.state, s.ready])).toEqual([['db', 'running', true], ['web', 'running', true]]);
  });
});

describe('cycles', () => {
  it('a cycle of 3 makes each invalid, naming the cycle; breaking it makes them valid again', async () => {
    box.profile('a', slowReady(['b']));
    box.profile('b', slowReady(['c']));
    const c = box.profile('c', slowReady(['a']));
    box.profile('d', slowReady(['a']));
    await box.startReady();
    const cycle = { a: 'a → b → c → a', b: 'b → c → a → b', c: 'c → a → b → c' };
    for (const [tag, path] of Object.entries(cycle)) {
      await box.waitLog('proclaunch', new RegExp(`^profile invalid: ${tag}: needs form a cycle: ${path}$`));
      await box.waitEvent({ profile: tag, event: 'invalid', reason: `needs form a cycle: ${path}` });
    }
    await waitFor('d waiting for a (failed)', async () => (await box.status('d'))[0]?.waitingFor?.phase === 'failed');
    // Nothing of the cycle runs: each is failed (invalid), also one that was already waiting for its need.
    const status = await box.status();
    expect(status.map((s) => [s.name, s.pid, s.reason])).toEqual([
      ['a', null, `needs form a cycle: ${cycle.a}`], ['b', null, `needs form a cycle: ${cycle.b}`], ['c', null, `needs form a cycle: ${cycle.c}`], ['d', null, null],
    ]);
    expect(status.map((s) => `${s.state}.${s.substate}`)).toEqual(['stopped.failed', 'stopped.failed', 'stopped.failed', 'starting.waiting']);
    expect(box.count('proclaunch', /^profile invalid: /)).toBe(3);
    box.replace(join(c, 'needs'), '# a no more\n');
    for (const tag of ['a', 'b', 'c', 'd']) await box.waitEvent({ profile: tag, event: 'ready' });
    for (const tag of ['a', 'b']) expect(box.count('proclaunch', new RegExp(`^profile changed: ${tag} \\(valid again\\)$`))).toBe(1);
    expect(order('ready', ['a', 'b', 'c', 'd'])).toEqual(['c', 'b', 'a', 'd']);
  });

  it('at start-up nothing with needs starts before every profile is read: a running member of a cycle (re-adopted) starts no other', async () => {
    box.profile('c1', slowReady());
    await box.startReady();
    await box.runningPid('c1');
    const supervisor = box.supervisor!;
    supervisor.kill('SIGKILL');
    await waitFor('supervisor gone', () => supervisor.signalCode !== null);
    // While no supervisor runs, c1 comes to need c2, which needs c3, which needs c1 (and many others to read, so that the
    // reading of c2 may come after c3 is started on its need c1, as it did before every profile was read first).
    for (let i = 0; i < 40; i++) box.profile(`filler${i}`, { run: sh('exec sleep 1000') });
    box.replace(join(box.profilesDir, 'c1', 'needs'), 'c2\n');
    box.profile('c2', slowReady(['c3']));
    box.profile('c3', slowReady(['c1']));
    box.start();
    for (const tag of ['c1', 'c2', 'c3']) await box.waitLog('proclaunch', new RegExp(`^profile invalid: ${tag}: needs form a cycle: `));
    await box.waitLog('proclaunch', /^control socket /);
    expect(box.count('c2', /^started pid /) + box.count('c3', /^started pid /)).toBe(0);
    expect(box.count('c3', /waiting for c1 \(missing\)/)).toBe(0); // it was only not read yet
  });

  it('a profile that needs itself is invalid (when it is read)', async () => {
    box.profile('selfish', slowReady(['selfish']));
    await box.startReady(['--log-level', 'INFO']);
    await box.waitLog('proclaunch', /^profile invalid: selfish: needs: "selfish" is this profile itself$/);
    // Nothing of it runs: stopping it (an init script's `stop --all`) succeeds, saying why it was not running.
    const stopped = await box.cli('stop', '--all');
    expect([stopped.code, stopped.stdout]).toEqual([0, expect.stringMatching(/^selfish\s+ok\s+.*not running \(profile invalid: needs: "selfish" is this profile itself\)/m)]);
  });
});

describe('stop order', () => {
  it('at shutdown a profile stops only after those that need it have stopped', async () => {
    box.profile('a', slowStop());
    box.profile('b', slowStop(['a']));
    box.profile('c', slowStop(['b']));
    box.profile('free', slowStop());
    await box.startReady();
    for (const tag of ['a', 'b', 'c', 'free']) await box.runningPid(tag);
    expect(await box.stopSupervisor('SIGTERM')).toBe(0);
    expect(order('stopped', ['a', 'b', 'c'])).toEqual(['c', 'b', 'a']);
    const at = (tag: string) => Date.parse(events('stopped').find((e) => e.profile === tag)!.time);
    // Each waited for the one before it: 0.3 s each to stop; `free` waited for nobody.
    expect(at('a') - at('c')).toBeGreaterThanOrEqual(550);
    expect(at('free')).toBeLessThan(at('b'));
  });

  it('`stop --all` and `stop` of several names: dependents first, among those named', async () => {
    box.profile('db', slowStop());
    box.profile('api', slowStop(['db']));
    box.profile('web', slowStop(['api']));
    await box.startReady();
    for (const tag of ['db', 'api', 'web']) await box.runningPid(tag);
    const some = await box.cli('stop', 'db', 'api');
    expect(some.stdout).toMatch(/^api  ok  stopped pid \d+\ndb   ok  stopped pid \d+\n$/);
    expect(order('stopped', ['db', 'api'])).toEqual(['api', 'db']);
    expect((await box.status('web'))[0]?.state).toBe('running'); // not named: left running
    await box.cli('start', 'db', 'api');
    const all = await box.cli('stop', '--all');
    expect(all.code).toBe(0);
    expect(order('stopped', ['db', 'api', 'web']).slice(2)).toEqual(['web', 'api', 'db']);
  });
});
