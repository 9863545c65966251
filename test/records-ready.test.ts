// Records of processes not ready yet, and records written before readiness
// existed: what the next supervisor's ADOPT says.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServiceActor, ServiceEvent } from '../src/machine/service-machine.js';
import { readStat } from '../src/process/proc.js';
import { Adoption } from '../src/supervisor/adoption.js';
import { ServiceRecords } from '../src/supervisor/records.js';
import { makeConfig } from './machine/harness.js';
import { recordOf } from './support/records.js';

let stateDir: string;
let child: ChildProcess;
beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'proclaunch-records-'));
  child = spawn('sleep', ['1000'], { stdio: 'ignore' });
});
afterEach(() => {
  child.kill('SIGKILL');
  rmSync(stateDir, { recursive: true, force: true });
});

/** What a new supervisor's adoption sends the actor of `tag`. */
function adopted(tag: string): ServiceEvent[] {
  const sent: ServiceEvent[] = [];
  const adoption = new Adoption({ stateDir, records: new ServiceRecords(stateDir), log: () => undefined });
  adoption.load();
  adoption.handOver(tag, { send: (event: ServiceEvent) => sent.push(event) } as unknown as ServiceActor);
  return sent;
}

describe('records and readiness', () => {
  it('a process not ready yet is recorded ready: false, since null; its ADOPT says so', () => {
    const proc = { pid: child.pid!, startTime: readStat(child.pid!)!.startTime, pgid: child.pid!, child: true };
    new ServiceRecords(stateDir).save('web', proc, 12345, makeConfig(), false);
    expect(recordOf(stateDir, 'web')).toMatchObject({ ready: false, since: null });
    expect(adopted('web')).toEqual([expect.objectContaining({ type: 'ADOPT', ready: false, since: null, proc: { ...proc, child: false } })]);
  });

  it('a record from before readiness (no `ready`), in the one file per record of earlier versions, is of a running process', () => {
    const proc = { pid: child.pid!, startTime: readStat(child.pid!)!.startTime, pgid: child.pid! };
    const record = { version: 1, tag: 'web', proc, since: 777, config: makeConfig() };
    mkdirSync(join(stateDir, 'services'));
    writeFileSync(join(stateDir, 'services', 'web.json'), JSON.stringify(record));
    expect(adopted('web')).toEqual([expect.objectContaining({ type: 'ADOPT', ready: true, since: 777 })]);
  });
});
