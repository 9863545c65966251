// "One WARN a minute at most" for output that cannot be written (SPEC §
// Service output), with an injected clock: what the drains' events say in the
// supervisor's log (src/output/sinks.ts, reportDrainEvents).
import { beforeEach, describe, expect, it } from 'vitest';
import { reportDrainEvents, reportOutputTo } from '../src/output/sinks.js';

let said: string[] = [];
let clock = 0;
beforeEach(() => {
  said = [];
  clock = 1_700_000_000_000;
  reportOutputTo((level, message) => said.push(`${level} ${message}`));
});

const warning = (code: string, more = '') => `WARN output to "?" cannot be written (${code}): dropping it until it can be${more}; said once a minute at most`;

describe('what a failing output says', () => {
  it('one WARN a minute at most: a failure within the minute says nothing, one after it says so again, with how many were not said', () => {
    const report = reportDrainEvents(() => clock);
    report(1, 'failing', 'ENOSPC', 0);
    expect(said).toEqual([warning('ENOSPC')]);
    clock += 30_000;
    report(2, 'failing', 'ENOSPC', 0); // another output
    clock += 29_999;
    report(1, 'failing', 'ENOSPC', 0); // the same one again (it wrote, then failed again)
    expect(said).toHaveLength(1);
    clock += 1; // a minute after the WARN
    report(3, 'failing', 'EDQUOT', 0);
    expect(said).toEqual([warning('ENOSPC'), warning('EDQUOT', ' (and 2 more since the last line like this)')]);
    // The minute runs from the last line said, not from the first failure.
    clock += 59_999;
    report(1, 'failing', 'ENOSPC', 0);
    expect(said).toHaveLength(2);
    clock += 1;
    report(1, 'failing', 'ENOSPC', 0);
    expect(said.at(-1)).toBe(warning('ENOSPC', ' (and 1 more since the last line like this)'));
  });

  it('"written again" has its own minute: said even right after a WARN, and once a minute at most', () => {
    const report = reportDrainEvents(() => clock);
    report(1, 'failing', 'ENOSPC', 0);
    report(1, 'writing', '', 4096);
    clock += 1000;
    report(2, 'writing', '', 10);
    clock += 59_000;
    report(2, 'writing', '', 20);
    expect(said).toEqual([
      warning('ENOSPC'),
      'INFO output to "?" written again; 4096 bytes were dropped',
      'INFO output to "?" written again; 20 bytes were dropped (and 1 more since the last line like this)',
    ]);
  });
});
