// kill -9 the supervisor at random moments, many times over: after each
// restart, every profile that should run runs exactly once, its current
// version, and nothing else is left (no duplicate, no loss, no zombie).
import { afterEach, beforeEach, expect, it } from 'vitest';
import { FaultBox, figures, faultsSupported, killNineRounds, report, seedFrom } from './support.js';

let fb: FaultBox;
beforeEach(() => {
  fb = new FaultBox();
});
afterEach(async () => {
  await fb.cleanup();
});

const ROUNDS = Number(process.env.FAULTS_ROUNDS ?? 100);

it.skipIf(!faultsSupported())(`${ROUNDS} rounds of kill -9 at random moments: no duplicate, no loss, no zombie`, async () => {
  const seed = seedFrom(20261123);
  console.log(`kill -9 rounds: seed ${seed} (replay with FAULTS_SEED=${seed})`);
  const summary = await killNineRounds(fb, { rounds: ROUNDS, seed, log: process.env.FAULTS_VERBOSE ? (l) => console.log(l) : undefined });
  const { failures, actions, ...numbers } = summary;
  report('kill -9 rounds', numbers);
  console.log(`kill -9 rounds, actions: ${figures(actions)}`);
  expect(failures, failures.join('\n\n')).toEqual([]);
  expect(summary.rounds).toBe(ROUNDS);
}, 600_000);
