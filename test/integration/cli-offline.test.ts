// The CLI without a supervisor (issue 15): events and logs read STATE_DIR's
// files; a STATE_DIR that cannot be created; "no supervisor" names the one
// that runs here.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, Sandbox, sh } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

describe('without a supervisor', () => {
  const box = new Sandbox();
  afterAll(() => box.cleanup());

  it('events and logs read STATE_DIR\'s files, say so in one line, exit 0; a STATE_DIR with nothing is 3, with how to point at one', async () => {
    box.profile('web', { run: sh('echo hello\nexec sleep 1000'), restart: '' });
    await box.startReady();
    await waitFor('hello', () => box.serviceLog('web') === 'hello\n');
    expect(await box.stopSupervisor()).toBe(0);
    const events = await box.cli('events', 'web');
    expect(events).toMatchObject({ code: 0, stderr: `proclaunch: no supervisor is running for ${box.stateDir}; reading its events.log\n` });
    expect(events.stdout).toMatch(/^\S+ added web\n\S+ started web pid \d+\n\S+ stopped web pid \d+ signal SIGTERM\n$/);
    expect(JSON.parse((await box.cli('events', '-n', '1', '--json')).stdout)).toMatchObject({ profile: 'web', event: 'stopped' });
    expect(await box.cli('logs', 'web')).toEqual({ code: 0, stdout: 'hello\n', stderr: `proclaunch: no supervisor is running for ${box.stateDir}; reading its logs\n` });
    expect((await box.cli('logs', 'nope')).code).toBe(4);

    const elsewhere = spawnSync(process.execPath, [CLI, 'events', '--state', join(box.root, 'nowhere')], { encoding: 'utf8' });
    expect(elsewhere.status).toBe(3);
    expect(elsewhere.stderr).toMatch(/^proclaunch: no supervisor is running for \S+nowhere \(nothing answers on \S+\); point at one with --state DIR or PROCLAUNCH_STATE=DIR/);
    expect(elsewhere.stderr.split('\n')).toHaveLength(2);
  });

  it('supervise on a STATE_DIR that cannot be created: one line, exit 1, no loop (it was 100% CPU for ever under /proc)', () => {
    for (const dir of ['/proc/nope', '/proc/self/nope/deeper', join(box.root, 'file', 'state')]) {
      writeFileSync(join(box.root, 'file'), '');
      const r = spawnSync(process.execPath, [CLI, 'supervise', '--foreground', dir, box.profilesDir], { encoding: 'utf8', timeout: 20_000 });
      expect(r.signal, dir).toBeNull();
      expect(r.status, dir).toBe(1);
      expect(r.stderr, dir).toMatch(new RegExp(`^proclaunch: state directory ${dir} is not usable: [^\\n]+\\n$`));
    }
  });
});

const canIsolate = process.getuid?.() === 0 && spawnSync('unshare', ['-n', 'true']).status === 0;

describe.skipIf(!canIsolate)('"no supervisor" names the one running here (network namespace of its own: no other supervisor in sight)', () => {
  const box = new Sandbox();
  afterAll(() => box.cleanup());

  it('names its STATE_DIR when exactly one runs as this user', async () => {
    box.supervisor = spawn('unshare', ['-n', process.execPath, CLI, 'supervise', '--foreground', '--log-path', box.logPath, box.stateDir, box.profilesDir], { stdio: 'ignore' });
    await box.waitLog('proclaunch', /^control socket /);
    const nowhere = join(box.root, 'nowhere');
    const r = spawnSync('nsenter', [`--net=/proc/${box.supervisor.pid}/ns/net`, process.execPath, CLI, 'status', '--state', nowhere], { encoding: 'utf8' });
    expect(r.status).toBe(3);
    expect(r.stderr).toBe(
      `proclaunch: no supervisor is running for ${nowhere} (nothing answers on ${nowhere}/control.sock); point at one with --state DIR or PROCLAUNCH_STATE=DIR (one is running for ${box.stateDir}: --state ${box.stateDir})\n`,
    );
  });
});
