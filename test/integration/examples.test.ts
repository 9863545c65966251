// The profiles shipped in profiles/ (what `npm start` runs) do what the README says.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sandbox } from '../support/sandbox.js';
import { REPO, shippedEntries } from '../support/shipped.js';
import { waitFor } from '../support/wait.js';

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
  // As committed: not what a user trying the quick start added or left in the checkout.
  box.shipped();
});
afterEach(async () => {
  await box.cleanup();
});

describe('the example profiles', () => {
  it('run as the README says: the right ones up, the down ones down, the logger logging', async () => {
    await box.startReady();
    const want = {
      ticker: 'running', daemon: 'running', greeter: 'running', 'with-logger': 'running', 'with-logger:log': 'running', kv: 'running', counter: 'running',
      'on-demand': 'stopped', bigprogram: 'stopped', diskspace: 'stopped', diskcleaner: 'stopped',
    };
    await waitFor(() => `every example in its state\n--- log:\n${box.logText()}`, async () => {
      const all = await box.status();
      const states = Object.fromEntries(all.map((s) => [s.name, s.state]));
      return Object.entries(want).every(([name, state]) => states[name] === state) && all.length === Object.keys(want).length;
    }, { timeoutMs: 20_000 });
    expect(box.lines().filter((l) => l.level === 'ERROR')).toEqual([]);
    const current = join(box.profilesDir, 'with-logger', 'log', 'main', 'current');
    await waitFor('the logger wrote line 1', () => existsSync(current) && /^\S+Z line 1$/m.test(readFileSync(current, 'utf8')));
    expect(readFileSync(current, 'utf8')).toMatch(/^\S+Z with-logger starting as pid \d+$/m);
    // counter needs kv: started only once kv was ready (and ready itself once its first visit was counted).
    const at = (profile: string, event: string) => Date.parse(box.events().find((e) => e.profile === profile && e.event === event)!.time);
    await box.waitEvent({ profile: 'counter', event: 'ready' });
    expect(at('counter', 'started')).toBeGreaterThanOrEqual(at('kv', 'ready'));
    expect(box.serviceLog('counter')).toMatch(/^visits: 1$/m);
    expect((await box.status('kv', 'counter')).map((s) => s.ready)).toEqual([true, true]);
  }, 60_000);

  it('leave their directories as committed: nothing added to profiles/, kv/ or counter/ after they ran', async () => {
    await box.startReady();
    await box.waitEvent({ profile: 'counter', event: 'ready' }, { timeoutMs: 20_000 });
    // Against the committed tree, not the checkout's working directory (where the quick start adds profiles/hello).
    expect(readdirSync(box.profilesDir).sort()).toEqual(shippedEntries('profiles'));
    for (const name of ['kv', 'counter']) expect(readdirSync(join(box.profilesDir, name)).sort()).toEqual(shippedEntries(`profiles/${name}`));
  }, 60_000);
});

describe("the quick start's greeting.conf", () => {
  it('written into the greeter, it is reloaded on SIGHUP, and git leaves it alone (untracked, ignored)', async () => {
    await box.startReady();
    await waitFor('the default greeting', () => /^greeting is now: Hello$/m.test(box.serviceLog('greeter')));
    box.replace(join(box.profilesDir, 'greeter', 'greeting.conf'), 'Bonjour\n'); // the README's `echo Bonjour > profiles/greeter/greeting.conf`
    await waitFor('the greeter reloaded', () => /^greeting is now: Bonjour$/m.test(box.serviceLog('greeter')));
    expect(box.events().filter((e) => e.profile === 'greeter' && e.event === 'started')).toHaveLength(1); // a reload, not a restart
    const git = (...args: string[]) => spawnSync('git', ['-C', REPO, ...args], { encoding: 'utf8' });
    expect(git('ls-files', 'profiles/greeter/greeting.conf').stdout).toBe('');
    expect(git('check-ignore', '-q', 'profiles/greeter/greeting.conf').status).toBe(0);
  }, 30_000);
});
