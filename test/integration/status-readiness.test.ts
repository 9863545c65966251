// What `status` shows of readiness: starting.awaitingReady with the last
// failed probe run, the service's own STATUS= text, and the JSON fields.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Sandbox, sh } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

const noNotify = spawnSync('sh', ['-c', 'command -v systemd-notify']).status !== 0;
if (noNotify) console.warn('STATUS= test skipped: systemd-notify is not installed (scripts/ensure-test-tools.sh installs it)');

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(async () => {
  await box.cleanup();
});

const row = async (tag: string) => (await box.cli('status', '--wide', tag)).stdout.split('\n')[1] ?? '';

it('awaiting readiness: starting.awaitingReady, not ready, the failing probe in NOTE and JSON; then running and ready', async () => {
  const dir = box.profile('db', { run: sh('exec sleep 1000'), ready: { content: sh('echo "not yet"; [ -e go ]'), mode: 0o755 }, ready_interval: '0.05' });
  await box.startReady();
  await waitFor('a failed ready run or three', async () => ((await box.status('db'))[0]?.probe?.inARow ?? 0) >= 3);
  const [db] = await box.status('db');
  expect(db).toMatchObject({ state: 'starting', substate: 'awaitingReady', ready: false, waitingFor: null, probe: { kind: 'ready', reason: 'exited 1', output: 'not yet\n' } });
  expect(db!.pid).toBeGreaterThan(0);
  expect(await row('db')).toMatch(/^db\s+starting\.awaitingReady\s+\d+ .* ready failed \d+ times in a row: exited 1$/);
  writeFileSync(join(dir, 'go'), '');
  await box.waitEvent({ profile: 'db', event: 'ready' });
  expect((await box.status('db'))[0]).toMatchObject({ state: 'running', substate: null, ready: true, probe: null });
});

it.skipIf(noNotify)('the service\'s own STATUS= text (sd_notify) is in NOTE and in JSON `status`', async () => {
  box.profile('web', { run: sh('systemd-notify --ready --status="serving 3 clients"\nexec sleep 1000'), notify: '' });
  await box.startReady();
  await box.waitEvent({ profile: 'web', event: 'ready' });
  await waitFor('STATUS= seen', async () => (await box.status('web'))[0]?.status === 'serving 3 clients');
  expect(await row('web')).toMatch(/^web\s+running\s+\d+ .* serving 3 clients$/);
});

it.skipIf(noNotify)('STOPPING=1 shows in NOTE and as JSON `notifyStopping`', async () => {
  box.profile('web', { run: sh('systemd-notify --ready --status="draining"\nsystemd-notify STOPPING=1\nexec sleep 1000'), notify: '' });
  await box.startReady();
  await waitFor('STOPPING=1 seen', async () => (await box.status('web'))[0]?.notifyStopping === true);
  expect(await row('web')).toMatch(/ draining \(STOPPING=1\)$/);
});
