// kill -9 of the supervisor in the middle of a start in order: while a
// dependent waits for its need, and while the need itself runs but is not
// ready yet. The next supervisor re-adopts what runs: nothing is started
// twice, and the dependent still starts only once its need is ready.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sh } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';
import { FaultBox, faultsSupported } from './support.js';

let fb: FaultBox;
beforeEach(() => {
  fb = new FaultBox();
});
afterEach(async () => {
  await fb.cleanup();
});

const at = (tag: string, event: string) => fb.box.events().filter((e) => e.profile === tag && e.event === event).map((e) => Date.parse(e.time));

describe.skipIf(!faultsSupported())('kill -9 during a start in order', () => {
  it('while a dependent waits for a need stopped by command: after re-adoption it still waits; `start` then starts each once, in order', async () => {
    fb.box.profile('db', { run: fb.service(1), restart: '' });
    fb.box.profile('web', { run: fb.service(1), restart: '', needs: 'db\n' });
    await fb.startSupervisor();
    await waitFor('both running', () => fb.procsOf('db').length === 1 && fb.procsOf('web').length === 1);
    expect((await fb.box.cli('stop', 'db', 'web')).code).toBe(0);
    expect((await fb.box.cli('restart', 'web', '--no-wait')).code).toBe(0);
    await waitFor('web waiting', async () => (await fb.statusOf('web'))?.substate === 'waiting');

    await fb.killSupervisor();
    await fb.startSupervisor();
    await waitFor('web waiting again, for db (stopped by command)', async () => {
      const web = await fb.statusOf('web');
      return web?.substate === 'waiting' && web.held === false && (web as { waitingFor?: { phase: string } }).waitingFor?.phase === 'stopped by command';
    });
    expect(fb.procsOf('db')).toEqual([]);
    expect(fb.procsOf('web')).toEqual([]);

    const started = await fb.box.cli('start', 'web');
    expect(started.code, started.stdout).toBe(0);
    expect(fb.procsOf('db')).toHaveLength(1);
    expect(fb.procsOf('web')).toHaveLength(1);
    expect(at('web', 'started').at(-1)!).toBeGreaterThanOrEqual(at('db', 'started').at(-1)!);
  });

  it('while the need runs but is not ready (starting.awaitingReady): re-adopted, not started again; the dependent starts once it is ready', async () => {
    // Ready once the test creates the file `go` in its directory (its `ready` probe).
    const db = fb.box.profile('db', { run: fb.service(1), restart: '', ready: { content: sh('[ -e go ]'), mode: 0o755 }, ready_interval: '0.05' });
    fb.box.profile('web', { run: fb.service(1), restart: '', needs: 'db\n' });
    await fb.startSupervisor();
    await waitFor('db awaiting ready, web waiting', async () => {
      const [dbs, webs] = [await fb.statusOf('db'), await fb.statusOf('web')];
      return dbs?.substate === 'awaitingReady' && webs?.substate === 'waiting' && fb.procsOf('db').length === 1;
    });
    const first = fb.procsOf('db')[0]!.pid;

    await fb.killSupervisor();
    await fb.startSupervisor();
    await waitFor('db re-adopted, still awaiting ready', async () => (await fb.statusOf('db'))?.pid === first && (await fb.statusOf('db'))?.substate === 'awaitingReady');
    expect(fb.procsOf('db').map((p) => p.pid)).toEqual([first]);
    expect(fb.procsOf('web')).toEqual([]);

    writeFileSync(join(db, 'go'), '');
    await waitFor('web running', () => fb.procsOf('web').length === 1 && at('web', 'started').length === 1);
    expect(fb.procsOf('db').map((p) => p.pid)).toEqual([first]); // never a second db
    expect(at('web', 'started')[0]!).toBeGreaterThanOrEqual(at('db', 'ready').at(-1)!);
  });
});
