// What `proclaunch fleet` reads on the other end of ssh, without ssh: the control commands'
// `--json` forms and PROCLAUNCH_JSON_ENVELOPE=1 (one JSON line: versions, exit, output).
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/cli/envelope.js';
import { VERSION } from '../../src/vocabulary/version.js';
import { CLI, Sandbox, sh } from '../support/sandbox.js';

let box: Sandbox;
beforeAll(async () => {
  box = new Sandbox();
  box.profile('worker', { run: sh('exec sleep 1000'), instances: '2' });
  await box.startReady();
  await box.runningPid('worker@2');
});
afterAll(() => box.cleanup());

function cli(args: string[], env: Record<string, string> = {}) {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}
const enveloped = (...args: string[]) => {
  const run = cli(args, { PROCLAUNCH_JSON_ENVELOPE: '1' });
  expect(run.stderr).toBe('');
  expect(run.stdout.split('\n')).toHaveLength(2); // one line
  return { code: run.code, envelope: JSON.parse(run.stdout) as Envelope };
};

describe('the --json forms and the envelope', () => {
  it('every control reply carries the version; status names PROFILES_DIR and STATE_DIR', async () => {
    const reply = await box.ask({ command: 'status', names: [] });
    expect(reply).toMatchObject({ ok: true, version: VERSION, profilesDir: box.profilesDir, stateDir: box.stateDir });
    expect(await box.ask({ command: 'nope' })).toMatchObject({ ok: false, version: VERSION });
  });

  it('check and rescan --json (quit: the same code) print objects with the version', () => {
    const check = cli(['check', '--json', '-c', '49%', 'worker*', '--state', box.stateDir]);
    expect(check.code).toBe(0);
    expect(JSON.parse(check.stdout)).toEqual({ status: 'OK', line: expect.stringMatching(/^PROCLAUNCH OK - 2\/2 running \|/), running: 2, total: 2, down: [], unmatched: [], version: VERSION });
    const none = JSON.parse(cli(['check', '--json', 'db*', '--state', box.stateDir]).stdout);
    expect(none).toMatchObject({ status: 'UNKNOWN', total: 0, unmatched: ['db*'] });
    expect(JSON.parse(cli(['rescan', '--json', '--state', box.stateDir]).stdout)).toEqual({ ok: true, version: VERSION });
  });

  it('PROCLAUNCH_JSON_ENVELOPE=1: one line with both versions, the exit code and the output, whatever the command', () => {
    const status = enveloped('status', '--json', '--state', box.stateDir);
    expect(status.code).toBe(0);
    expect(status.envelope).toMatchObject({ envelope: 1, version: VERSION, supervisor: { version: VERSION, profilesDir: box.profilesDir, stateDir: box.stateDir }, exit: 0, stderr: '' });
    expect((JSON.parse(status.envelope.stdout) as { name: string }[]).map((s) => s.name)).toEqual(['worker@1', 'worker@2']);
    // A failure inside: its stderr line and its code, still one line.
    const failed = enveloped('stop', 'nosuch', '--state', box.stateDir);
    expect(failed.envelope).toMatchObject({ exit: 4, stdout: '', stderr: 'proclaunch: no profile matches "nosuch"\n' });
    expect(failed.code).toBe(4); // LSB: unknown service
    const usage = enveloped('signal', '--state', box.stateDir);
    expect(usage.envelope).toMatchObject({ exit: 2, stderr: expect.stringMatching(/^proclaunch: signal: give a signal/) });
  });

  it('no supervisor there: exit 3 and no supervisor facts', () => {
    const { envelope } = enveloped('status', '--json', '--state', `${box.root}/elsewhere`);
    expect(envelope).toMatchObject({ exit: 3, supervisor: null, stdout: '', stderr: expect.stringMatching(/no supervisor is running for/) });
  });
});
