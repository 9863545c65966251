// A real sd_notify service as a need: `redis-server --supervised systemd`
// says READY=1 once it accepts connections; a profile that `needs redis`
// must not start before `redis-cli ping` answers.
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Sandbox, sh } from '../support/sandbox.js';
import { freePort } from '../support/free-port.js';
import { waitFor } from '../support/wait.js';

const missing = ['redis-server', 'redis-cli'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
if (missing.length) console.warn(`redis readiness test skipped: ${missing.join(' and ')} not installed (scripts/ensure-test-tools.sh installs them)`);

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(async () => {
  await box.cleanup();
});

it.skipIf(missing.length > 0)('a `needs redis` dependent starts only once redis answers PING (READY=1 through notify)', async () => {
  const port = await freePort();
  // No persistence: nothing written into the profile directory.
  box.profile('redis', { run: sh(`exec redis-server --port ${port} --bind 127.0.0.1 --supervised systemd --save '' --appendonly no`), notify: '', restart: '' });
  // Its first act is a ping: what it prints is what redis answered when it was started.
  box.profile('app', { run: sh(`redis-cli -p ${port} ping 2>&1\nexec sleep 1000`), needs: 'redis\n', restart: '' });
  await box.startReady();
  const ready = await box.waitEvent({ profile: 'redis', event: 'ready' });
  const started = await box.waitEvent({ profile: 'app', event: 'started' });
  expect(Date.parse(started.time)).toBeGreaterThanOrEqual(Date.parse(ready.time));
  await waitFor(() => `app's ping\n${box.serviceLog('app')}`, () => box.serviceLog('app').includes('\n'));
  expect(box.serviceLog('app')).toBe('PONG\n');
  expect((await box.status()).map((s) => [s.name, s.state, s.ready])).toEqual([['app', 'running', true], ['redis', 'running', true]]);
});
