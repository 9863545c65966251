// The profiles shipped in profiles/ (what `npm start` runs) do what the README says.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sandbox } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
  // A copy, without what earlier runs left in the checkout (pid files, logger output).
  rmSync(box.profilesDir, { recursive: true });
  execFileSync('cp', ['-r', resolve('profiles'), box.profilesDir]);
  for (const leftover of ['daemon/daemon.pid', 'daemon/daemon.out', 'with-logger/log/main']) rmSync(join(box.profilesDir, leftover), { recursive: true, force: true });
});
afterEach(async () => {
  await box.cleanup();
});

interface Status { name: string; state: string; substate: string | null }

describe('the example profiles', () => {
  it('run as the README says: the right ones up, the down ones down, the logger logging', async () => {
    await box.startReady();
    const want = { ticker: 'running', daemon: 'running', greeter: 'running', 'with-logger': 'running', 'with-logger:log': 'running', 'on-demand': 'stopped', bigprogram: 'stopped', diskspace: 'stopped', diskcleaner: 'stopped' };
    await waitFor('every example in its state', async () => {
      const all = JSON.parse((await box.cli('status', '--json')).stdout) as Status[];
      const states = Object.fromEntries(all.map((s) => [s.name, s.state]));
      return Object.entries(want).every(([name, state]) => states[name] === state) && all.length === Object.keys(want).length;
    }, { timeoutMs: 15_000 });
    expect(box.lines().filter((l) => l.level === 'ERROR')).toEqual([]);
    const current = join(box.profilesDir, 'with-logger', 'log', 'main', 'current');
    await waitFor('the logger wrote line 1', () => existsSync(current) && /^\S+Z line 1$/m.test(readFileSync(current, 'utf8')));
    expect(readFileSync(current, 'utf8')).toMatch(/^\S+Z with-logger starting as pid \d+$/m);
  });
});
