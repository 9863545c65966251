// Who asked: the control socket's peer (SO_PEERCRED) is the `by` of the
// events its commands cause, in the history, in `events`, and for hooks
// (PROCLAUNCH_BY); what the service does on its own is no one's command.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadNative } from '../../src/process/native.js';
import { Sandbox, sh } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(async () => {
  await box.cleanup();
});

it('stop, start and restart over the control socket say `by uid N`; the crash and policy restart after do not; quit too', async () => {
  // Without the native module (PROCLAUNCH_NO_NATIVE=1) Node cannot read the peer's credentials.
  const uid = loadNative()?.peerCred ? `uid ${process.getuid!()}` : 'control socket';
  const hooks = join(box.root, 'hooks');
  const seen = join(box.root, 'seen');
  mkdirSync(hooks);
  box.write(join(hooks, 'record'), { content: sh(`echo "$PROCLAUNCH_EVENT|$PROCLAUNCH_TAG|$PROCLAUNCH_BY" >> ${seen}`), mode: 0o755 });
  box.profile('web', { run: sh('exec sleep 1000'), restart: '' });
  await box.startReady(['--hooks', hooks]);
  const first = await box.runningPid('web');
  expect((await box.cli('restart', 'web')).code).toBe(0);
  const second = await box.runningPid('web', 2);
  process.kill(second, 'SIGKILL');
  await box.runningPid('web', 3);
  expect((await box.cli('stop', 'web')).code).toBe(0);
  expect((await box.cli('start', 'web')).code).toBe(0);
  await box.runningPid('web', 4);

  const web = box.events().filter((e) => e.profile === 'web').map((e) => `${e.event}${e.by ? ` by ${e.by}` : ''}`);
  expect(web).toEqual(['added', 'started', `stopped by ${uid}`, `started by ${uid}`, 'crashed', 'started', `stopped by ${uid}`, `started by ${uid}`]);
  expect((await box.cli('events')).stdout).toContain(`stopped web pid ${first} signal SIGTERM by ${uid}\n`);
  await waitFor('the hook saw the last start', () => readFileSync(seen, 'utf8').trim().split('\n').length >= 8);
  expect(readFileSync(seen, 'utf8')).toBe(web.map((line) => `${line.replace(/ by .*/, '')}|web|${line.includes(' by ') ? uid : ''}\n`).join(''));

  expect((await box.cli('quit')).code).toBe(0);
  await waitFor('quit stopped web', () => box.events().filter((e) => e.event === 'stopped').length === 3);
  expect(box.events().at(-1)).toMatchObject({ event: 'stopped', profile: 'web', by: uid });
});
