// N copies of one worker (lancelot, supervisord numprocs), for real.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sandbox, alive, sh } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(async () => {
  await box.cleanup();
});

const worker = (n: number) => ({ run: sh('echo "instance $PROCLAUNCH_INSTANCE tag $PROCLAUNCH_TAG"; exec sleep 1000'), restart: '', instances: String(n) });
const pids = (tags: string[]) => Promise.all(tags.map((t) => box.runningPid(t)));

describe('instances', () => {
  it('runs NAME@1 … NAME@N, each with its own log and PROCLAUNCH_INSTANCE', async () => {
    box.profile('worker', worker(3));
    await box.startReady();
    await pids(['worker@1', 'worker@2', 'worker@3']);
    for (const i of [1, 2, 3]) {
      await waitFor(`worker@${i} log`, () => box.serviceLog(`worker@${i}`) === `instance ${i} tag worker@${i}\n`);
    }
  });

  it('3 → 5 starts only @4 and @5; 5 → 2 stops the highest; the rest keep their pids', async () => {
    const dir = box.profile('worker', worker(3));
    await box.startReady();
    const [p1, p2, p3] = await pids(['worker@1', 'worker@2', 'worker@3']);
    // Renamed in whole: an empty `instances` read in between would make the profile invalid.
    box.replace(join(dir, 'instances'), '5');
    await pids(['worker@4', 'worker@5']);
    box.replace(join(dir, 'instances'), '2');
    await box.waitLog('worker@3', new RegExp(`^stopped pid ${p3}$`));
    await box.waitLog('worker@5', /^stopped pid \d+$/);
    expect([p1, p2].every((p) => alive(p!))).toBe(true);
    expect(box.count('worker@1', /^started pid/)).toBe(1);
    expect(box.count('worker@2', /^started pid/)).toBe(1);
    const status = JSON.parse((await box.cli('status', '--json')).stdout);
    expect(status.map((s: { name: string }) => s.name)).toEqual(['worker@1', 'worker@2']);
  });

  it('NAME acts on every instance, NAME@2 on one', async () => {
    box.profile('worker', worker(3));
    box.profile('web', { run: sh('exec sleep 1000'), restart: '' });
    await box.startReady();
    const [, p2] = await pids(['worker@1', 'worker@2', 'worker@3']);
    const one = await box.cli('stop', 'worker@2');
    expect(one.stdout).toBe(`worker@2  ok  stopped pid ${p2}\n`);
    const all = await box.cli('restart', 'worker');
    expect(all.stdout.trimEnd().split('\n').map((l) => l.split(' ')[0])).toEqual(['worker@1', 'worker@2', 'worker@3']);
    expect(all.code).toBe(0);
    expect((await box.cli('status', 'worker')).code).toBe(0);
    expect(box.count('web', /^started pid/)).toBe(1);
  });
});
