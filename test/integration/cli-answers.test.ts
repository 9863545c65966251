// The CLI's answers against a real supervisor (issue 15): names and globs for
// logs, ps and events; the NAME | prefix and time order of several logs; a
// closed stdout; values it cannot read (without a supervisor: cli-offline.test.ts).
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runningSupervisors } from '../../src/cli/find-supervisors.js';
import { CLI, Sandbox, sh, type CliResult } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

/** A CLI run whose stdout is closed before it writes (`| head` gone already): what it says, and how it ends. */
function withClosedStdout(box: Sandbox, ...args: string[]): Promise<CliResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args, '--state', box.stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ code, stdout: '', stderr }));
  });
}

/** A CLI left running (`-f`); `text()` is what it printed so far. */
function follower(box: Sandbox, ...args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args, '--state', box.stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (d) => (text += d));
  return { text: () => text, stop: () => child.kill() };
}

describe('against a running supervisor', () => {
  const box = new Sandbox();
  beforeAll(async () => {
    const line = (what: string) => sh(`echo "${what} one"; echo "${what} two"\nexec sleep 1000`);
    box.profile('pool', { run: sh('echo "pool $PROCLAUNCH_INSTANCE one"; echo "pool $PROCLAUNCH_INSTANCE two"\nexec sleep 1000'), instances: '3', restart: '' });
    box.profile('worker-a', { run: line('a'), restart: '' });
    box.profile('worker-b', { run: line('b'), restart: '' });
    // clock-a says one, clock-b two once it has, clock-a three once that is said: time order is a, b, a.
    const said = (tag: string, what: string) => `until grep -qs ${what} ${join(box.stateDir, 'logs', `${tag}.log`)}; do sleep 0.01; done`;
    box.profile('clock-a', { run: sh(`echo one\n${said('clock-b', 'two')}\necho three\nexec sleep 1000`), log_timestamps: '' });
    box.profile('clock-b', { run: sh(`${said('clock-a', 'one')}\necho two\nexec sleep 1000`), log_timestamps: '' });
    // A runit-style logger: it keeps the output in log/main/current.
    box.profile('with-logger', { run: sh('echo hello logger\nexec sleep 1000'), 'log/run': sh('mkdir -p main\nexec cat >> main/current') });
    await box.startReady();
    await waitFor('every line', () => box.serviceLog('pool@3').includes('two') && box.serviceLog('clock-a').includes('three') && box.serviceLog('worker-b').includes('two'));
  });
  afterAll(() => box.cleanup());

  it('logs NAME: every instance, prefixed, one after another; a glob; -n of each; --json lines', async () => {
    const pool = await box.cli('logs', 'pool');
    expect(pool).toMatchObject({ code: 0, stderr: '' });
    expect(pool.stdout).toBe(['1', '2', '3'].map((n) => `pool@${n} | pool ${n} one\npool@${n} | pool ${n} two\n`).join(''));
    expect((await box.cli('logs', 'worker*', '-n', '1')).stdout).toBe('worker-a | a two\nworker-b | b two\n');
    const json = (await box.cli('logs', 'pool@2', 'worker-a', '--json')).stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(json).toEqual([{ name: 'pool@2', line: 'pool 2 one' }, { name: 'pool@2', line: 'pool 2 two' }, { name: 'worker-a', line: 'a one' }, { name: 'worker-a', line: 'a two' }]);
    // One service as it is, without a prefix.
    expect((await box.cli('logs', 'worker-a')).stdout).toBe('a one\na two\n');
    // No name: all of them, one after another (with-logger:log, the longest name, has said nothing).
    const all = (await box.cli('logs', '-n', '1')).stdout;
    expect(all).toMatch(/^clock-a {9}\| \S+ three\nclock-b {9}\| \S+ two\npool@1 {10}\| pool 1 two\n(.*\n){2}with-logger {5}\| hello logger\nworker-a {8}\| a two\nworker-b {8}\| b two\n$/);
  });

  it('logs of services whose lines carry log_timestamps: in time order', async () => {
    const lines = (await box.cli('logs', 'clock-*')).stdout.trimEnd().split('\n');
    expect(lines.map((l) => l.replace(/\| \S+ /, '| '))).toEqual(['clock-a | one', 'clock-b | two', 'clock-a | three']);
  });

  it('logs of a profile with log/: says where its logger keeps the output, and shows it', async () => {
    await waitFor('the logger kept it', () => box.cli('logs', 'with-logger').then((r) => r.stdout === 'hello logger\n' && r));
    const r = await box.cli('logs', 'with-logger');
    expect(r).toMatchObject({ code: 0, stdout: 'hello logger\n' });
    expect(r.stderr).toBe(`proclaunch: with-logger: its logger with-logger:log (log/run) keeps its output in ${join(box.profilesDir, 'with-logger', 'log', 'main', 'current')}; showing that\n`);
  });

  it('logs -f follows every service named, prefixed', async () => {
    const f = follower(box, 'logs', 'pool', '-f', '-n', '1');
    const last = 'pool@1 | pool 1 two\npool@2 | pool 2 two\npool@3 | pool 3 two\n';
    try {
      await waitFor(`the last lines: ${f.text()}`, () => f.text() === last); // read up to here: what comes next is followed
      await box.cli('restart', 'pool@2');
      await waitFor(`followed: ${f.text()}`, () => f.text() === `${last}pool@2 | pool 2 one\npool@2 | pool 2 two\n`);
    } finally {
      f.stop();
    }
  });

  it('ps NAME|GLOB and events NAME|GLOB filter; events -n N; an unknown name is 4', async () => {
    const ps = (await box.cli('ps', 'pool@1', '-o', 'profile')).stdout;
    expect(ps).toBe('PROFILE\npool@1\n');
    expect((await box.cli('ps', 'worker*', '-o', 'profile')).stdout).toBe('PROFILE\nworker-a\nworker-b\n');
    const events = (await box.cli('events', 'worker-b')).stdout.trimEnd().split('\n');
    expect(events.map((l) => l.split(' ').slice(1, 3).join(' '))).toEqual(['added worker-b', 'started worker-b']);
    expect((await box.cli('events', 'pool', '--json')).stdout.trimEnd().split('\n').map((l) => JSON.parse(l).profile)).toContain('pool@3');
    expect((await box.cli('events', '-n', '2')).stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(await box.cli('events', 'nope')).toMatchObject({ code: 4, stdout: '', stderr: 'proclaunch: no profile matches "nope"\n' });
  });

  it('events -f: the last 10, then what happens', async () => {
    expect(box.events().length).toBeGreaterThan(10);
    const f = follower(box, 'events', '-f');
    try {
      await waitFor(`10 lines: ${f.text()}`, () => f.text().split('\n').length === 11);
      const last = (await box.cli('events', '-n', '10')).stdout;
      expect(f.text()).toBe(last);
      await box.cli('restart', 'worker-a');
      await waitFor(`streamed: ${f.text()}`, () => /started worker-a pid \d+ by uid \d+\n$/.test(f.text()));
    } finally {
      f.stop();
    }
  });

  it('a closed stdout ends the command quietly, exit 0 (events, events --json, logs, status, logs -f)', async () => {
    const runs = [['events'], ['events', '--json'], ['logs', 'worker*'], ['status'], ['logs', 'pool', '-f']];
    const results = await Promise.all(runs.map((args) => withClosedStdout(box, ...args)));
    results.forEach((result, i) => expect(result, runs[i]!.join(' ')).toEqual({ code: 0, stdout: '', stderr: '' }));
  });

  it('values it cannot read are usage errors that say what is wrong', async () => {
    expect(await box.cli('logs', 'worker-a', '-n', '-3')).toMatchObject({ code: 2, stdout: '', stderr: `proclaunch: logs: -n takes a whole number (0 or more), not "-3"\nTry 'proclaunch --help'.\n` });
    expect((await box.cli('events', '-n', 'lots')).stderr.split('\n')[0]).toBe('proclaunch: events: -n takes a whole number (0 or more), not "lots"');
    const refused = ['10', 'March 7', '2026-02-30', '2026-03-07 10:00'];
    const accepted = ['1d', '2026-03-07T10:15:00.5+01:00'];
    const results = await Promise.all([...refused, ...accepted].map((since) => box.cli('events', '--since', since)));
    refused.forEach((since, i) => {
      expect(results[i]!.code, since).toBe(2);
      expect(results[i]!.stderr.split('\n')[0]).toBe(`proclaunch: events: --since takes an ISO 8601 time (2026-03-07, 2026-03-07T10:15:00, 2026-03-07T10:15:00+01:00) or 30s, 10m, 2h, 1d ago, not ${JSON.stringify(since)}`);
    });
    accepted.forEach((since, i) => expect(results[refused.length + i]!.code, since).toBe(0));
    expect((await box.cli('ps', 'pool[')).code).toBe(2);
  });

  it('PROCLAUNCH_STATE set but empty is unset: ./state', async () => {
    const r = spawnSync(process.execPath, [CLI, 'status', '--json', 'worker-a'], { cwd: box.root, env: { ...process.env, PROCLAUNCH_STATE: '' }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject([{ name: 'worker-a', state: 'running' }]);
  });

  it('finds the supervisor by its control socket (for the hint of "no supervisor")', () => {
    expect(runningSupervisors()).toContain(box.stateDir);
  });
});
