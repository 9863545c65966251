// The shipped init examples, run for real where this machine allows: the
// sysvinit script (start idempotent, LSB status, stop waits) and the cron line.
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI, Sandbox, alive, sh } from '../support/sandbox.js';

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(async () => {
  spawnSync(process.execPath, [CLI, 'quit', '--state', box.stateDir]);
  await box.cleanup();
});

describe('examples/init/proclaunch.sysv', () => {
  it('start (twice: idempotent), status Running./Not running., stop waits for every service', () => {
    box.profile('web', { run: sh('exec sleep 1000'), restart: '' });
    const wrapper = join(box.root, 'proclaunch');
    writeFileSync(wrapper, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`);
    chmodSync(wrapper, 0o755);
    const env = { ...process.env, STATE_DIR: box.stateDir, PROFILES_DIR: box.profilesDir, PROCLAUNCH: wrapper };
    const init = (action: string) => spawnSync('sh', [resolve('examples/init/proclaunch.sysv'), action], { env, encoding: 'utf8', timeout: 20_000 });

    expect(init('status')).toMatchObject({ status: 3, stdout: 'Not running.\n' });
    expect(init('start').status).toBe(0);
    const again = init('start');
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/^proclaunch: already running for .* as pid \d+\n$/);
    expect(init('status')).toMatchObject({ status: 0, stdout: 'Running.\n' });
    const status = spawnSync(process.execPath, [CLI, 'status', '--json', '--state', box.stateDir], { encoding: 'utf8' });
    const pid = JSON.parse(status.stdout)[0].pid as number;
    expect(init('stop').status).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(init('status')).toMatchObject({ status: 3, stdout: 'Not running.\n' });
  });
});
