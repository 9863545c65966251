// Property-based churn: random sequences of profile additions, removals,
// edits, renames and chmods against one running supervisor. After each
// sequence, what runs is exactly what the profiles directory says.
import * as fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FaultBox, churnOpsArbitrary, churnRun, faultsSupported, newChurnSummary, report, seedFrom } from './support.js';

const RUNS = Number(process.env.FAULTS_CHURN_RUNS ?? 30);
const OPS = Number(process.env.FAULTS_CHURN_OPS ?? 100);

let fb: FaultBox;
beforeAll(async () => {
  fb = new FaultBox();
  if (faultsSupported()) await fb.startSupervisor();
});
afterAll(async () => {
  await fb.cleanup();
});

it.skipIf(!faultsSupported())(`${RUNS} runs x ${OPS} random profile operations: running services = valid profiles, one process each`, async () => {
  const seed = seedFrom(424242);
  const summary = newChurnSummary();
  let version = 0;
  const began = Date.now();
  console.log(`churn: seed ${seed} (replay with FAULTS_SEED=${seed}; FAULTS_SHRINK=1 to shrink a failure)`);
  try {
    await fc.assert(
      fc.asyncProperty(churnOpsArbitrary(fc, OPS), (ops) => churnRun(fb, ops, summary, () => ++version)),
      // Each run is real processes: no shrinking unless asked (it would replay dozens of runs).
      { seed, numRuns: RUNS, endOnFailure: !process.env.FAULTS_SHRINK },
    );
  } finally {
    report('churn', { seed, ...summary, seconds: Math.round((Date.now() - began) / 100) / 10 });
  }
  expect(summary.runs).toBe(RUNS);
}, 600_000);
