// The fault-injection suite in small (the whole of it: `npm run test:faults`,
// test/faults/): a few kill -9 rounds, one churn sequence, two nasty
// services. Each test has its own sandbox and supervisor, and they run at once.
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sh } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';
import { FaultBox, churnOpsArbitrary, churnRun, faultsSupported, killNineRounds, newChurnSummary, report, seedFrom } from '../faults/support.js';

async function withBox(body: (fb: FaultBox) => Promise<void>): Promise<void> {
  const fb = new FaultBox();
  try {
    await body(fb);
  } finally {
    await fb.cleanup();
  }
}

describe.skipIf(!faultsSupported()).concurrent('faults, fast subset', () => {
  it('5 rounds of kill -9 at random moments: no duplicate, no loss, no zombie', () =>
    withBox(async (fb) => {
      const seed = seedFrom(7);
      const summary = await killNineRounds(fb, { rounds: 5, seed });
      const { failures, actions: _actions, ...numbers } = summary;
      report('kill -9 rounds (fast)', numbers);
      expect(failures, failures.join('\n\n')).toEqual([]);
    }), 60_000);

  it('100 random profile operations against one supervisor: running services = valid profiles', () =>
    withBox(async (fb) => {
      await fb.startSupervisor();
      const seed = seedFrom(99);
      const summary = newChurnSummary();
      let version = 0;
      await fc.assert(
        fc.asyncProperty(churnOpsArbitrary(fc, 100), (ops) => churnRun(fb, ops, summary, () => ++version)),
        { seed, numRuns: 1, endOnFailure: true },
      );
      report('churn (fast)', { seed, ...summary });
    }), 60_000);

  it('a service ignoring SIGTERM, with children ignoring it too: the group is SIGKILLed after stop_timeout', () =>
    withBox(async (fb) => {
      fb.box.profile('deaf', {
        run: sh(`trap '' TERM\nexport PLV=1\n${fb.markerPath} 100000 &\n${fb.markerPath} 100000 &\nexec ${fb.markerPath} 100000`),
        stop_timeout: '0.3',
      });
      await fb.startSupervisor();
      const procs = () => fb.census().services.get('deaf') ?? [];
      await waitFor('three processes', () => procs().length === 3);
      const stop = await fb.box.cli('stop', 'deaf');
      expect(stop.code, stop.stdout + stop.stderr).toBe(0);
      // SIGKILL went to the whole group; a child still runnable (state R) on a busy CPU dies when it next runs.
      await waitFor(() => `the group gone (left: ${JSON.stringify(procs())})`, () => procs().length === 0, { timeoutMs: 5000 });
      await fb.box.waitLog('deaf', /^killed pid \d+ with SIGKILL: still running 0\.3s after SIGTERM$/);
    }), 30_000);

  it('a service with 100 children in its group: a restart and a stop leave none behind', () =>
    withBox(async (fb) => {
      fb.box.profile('forky', { run: sh(`export PLV=1\nfor i in $(seq 100); do ${fb.markerPath} 100000 & done\nexec ${fb.markerPath} 100000`) });
      await fb.startSupervisor();
      const procs = () => fb.census().services.get('forky') ?? [];
      await waitFor('101 processes', () => procs().length === 101);
      const first = new Set(procs().map((p) => p.pid));
      expect((await fb.box.cli('restart', 'forky')).code).toBe(0);
      await waitFor('101 new processes', () => procs().length === 101 && procs().every((p) => !first.has(p.pid)));
      expect((await fb.box.cli('stop', 'forky')).code).toBe(0);
      await waitFor('none left', () => procs().length === 0);
      expect(fb.census().zombies).toEqual([]);
    }), 30_000);
});
