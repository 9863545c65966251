// The profiles shipped in profiles/ (what `npm start` runs) do what the README says.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sandbox } from '../support/sandbox.js';
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
    const want = { ticker: 'running', daemon: 'running', greeter: 'running', 'with-logger': 'running', 'with-logger:log': 'running', 'on-demand': 'stopped', bigprogram: 'stopped', diskspace: 'stopped', diskcleaner: 'stopped' };
    await waitFor(() => `every example in its state\n--- log:\n${box.logText()}`, async () => {
      const all = await box.status();
      const states = Object.fromEntries(all.map((s) => [s.name, s.state]));
      return Object.entries(want).every(([name, state]) => states[name] === state) && all.length === Object.keys(want).length;
    }, { timeoutMs: 20_000 });
    expect(box.lines().filter((l) => l.level === 'ERROR')).toEqual([]);
    const current = join(box.profilesDir, 'with-logger', 'log', 'main', 'current');
    await waitFor('the logger wrote line 1', () => existsSync(current) && /^\S+Z line 1$/m.test(readFileSync(current, 'utf8')));
    expect(readFileSync(current, 'utf8')).toMatch(/^\S+Z with-logger starting as pid \d+$/m);
  }, 60_000);
});
