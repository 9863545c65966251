// The records journal (STATE_DIR/records.jsonl) without processes: what one supervisor writes, the next one reads.
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readRecords, recordsPath, ServiceRecords } from '../src/supervisor/records.js';
import { makeConfig } from './machine/harness.js';

let stateDir: string;
beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'proclaunch-journal-'));
});
afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

const proc = (pid: number) => ({ pid, startTime: 1000 + pid, pgid: pid, child: true });
const lines = () => readFileSync(recordsPath(stateDir), 'utf8').split('\n').filter(Boolean);

describe('the records journal', () => {
  it('the last line of a tag wins; a removal ends it; an unchanged record is not written again', () => {
    const records = new ServiceRecords(stateDir);
    records.load(() => undefined);
    records.save('web', proc(10), 1, makeConfig());
    records.save('web', proc(10), 1, makeConfig());
    records.save('db', proc(11), 2, makeConfig({ tag: 'db' }));
    records.save('web', proc(12), 3, makeConfig());
    records.remove('db');
    expect(lines()).toHaveLength(4);
    const read = readRecords(stateDir);
    expect([...read.keys()]).toEqual(['web']);
    expect(read.get('web')?.proc.pid).toBe(12);
  });

  it('a line cut short by a kill mid-write is skipped with its reason; the next load rewrites the journal without it', () => {
    const records = new ServiceRecords(stateDir);
    records.load(() => undefined);
    records.save('web', proc(10), 1, makeConfig());
    appendFileSync(recordsPath(stateDir), '{"version":1,"tag":"db","pro');
    const bad: string[] = [];
    const next = new ServiceRecords(stateDir);
    expect(next.load((where, reason) => bad.push(`${where}: ${reason}`)).map((r) => r.tag)).toEqual(['web']);
    expect(bad).toEqual(['records.jsonl line 2: cut short (a supervisor killed while writing it)']);
    expect(lines()).toHaveLength(1);
  });

  it('stays bounded: rewritten to what is live once it has grown past it', () => {
    const records = new ServiceRecords(stateDir);
    records.load(() => undefined);
    for (let i = 0; i < 5000; i++) records.save(`svc-${i % 7}`, proc(100 + i), i, makeConfig({ tag: `svc-${i % 7}` }));
    expect(lines().length).toBeLessThan(300);
    expect(readRecords(stateDir).size).toBe(7);
    expect(statSync(recordsPath(stateDir)).size).toBeLessThan(2_000_000);
  });

  it('records of earlier versions (STATE_DIR/services/TAG.json) are read, then folded into the journal and removed', () => {
    mkdirSync(join(stateDir, 'services'));
    const old = { version: 1, tag: 'web', proc: { pid: 10, startTime: 1010, pgid: 10 }, since: 5, config: makeConfig() };
    writeFileSync(join(stateDir, 'services', 'web.json'), JSON.stringify(old));
    writeFileSync(join(stateDir, 'services', 'bad.json'), 'garbage');
    const bad: string[] = [];
    expect(new ServiceRecords(stateDir).load((where) => bad.push(where)).map((r) => r.tag)).toEqual(['web']);
    expect(bad).toEqual(['services/bad.json']);
    expect(existsSync(join(stateDir, 'services'))).toBe(false);
    expect(readRecords(stateDir).get('web')?.since).toBe(5);
  });
});
