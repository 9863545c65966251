// Never lose or duplicate a service across supervisor deaths and upgrades:
// the next supervisor takes over what the last one left running. A re-adoption
// is a `started` event naming the pid already running (a spawn names a new one);
// the log's words are checked only for a discarded record, which has no event.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sandbox, alive, sh } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';
import { recordOf, writeRecord } from '../support/records.js';

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(async () => {
  await box.cleanup();
});

const sleeper = { run: sh('echo "up $$"; exec sleep 1000'), restart: '' };
const recordText = (tag: string) => JSON.stringify(recordOf(box.stateDir, tag) ?? null);
/** The pids of the tag's `started` events, in order: a re-adoption repeats the one running. */
const startedPids = (tag: string) => box.eventsOf(tag, 'started').map((e) => e.pid);
/** Wait until the next supervisor has taken over `pid` (its second `started` event for that pid). */
const readopted = (tag: string, pid: number) => box.waitEvent({ profile: tag, event: 'started', pid }, { nth: 2 });

/** Kill the supervisor with SIGKILL (services stay) and wait until it is gone. */
async function killSupervisor(): Promise<void> {
  const child = box.supervisor!;
  child.kill('SIGKILL');
  await waitFor('supervisor gone', () => child.exitCode !== null || child.signalCode !== null);
}

/** Start the n-th supervisor on the same directories (the last one is gone) and wait until its control socket answers. */
async function startAgain(n: number): Promise<void> {
  box.start();
  await waitFor(`supervisor ${n} answering`, () => box.status().then(() => true, () => false));
}

describe('re-adoption', () => {
  it('writes a record per running process and removes it when the process stops', async () => {
    box.profile('web', sleeper);
    await box.startReady();
    const pid = await box.runningPid('web');
    await waitFor('record', () => recordOf(box.stateDir, 'web')?.proc.pid === pid);
    const record = recordOf(box.stateDir, 'web');
    const startTime = Number(readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ')[19]);
    expect(record).toMatchObject({ version: 1, tag: 'web', proc: { pid, startTime, pgid: pid }, config: { tag: 'web' } });
    await box.cli('stop', 'web');
    await waitFor('record removed', () => recordOf(box.stateDir, 'web') === undefined);
  });

  it('after kill -9 of the supervisor, the next one takes every service over: no duplicate, output still logged, stop works', async () => {
    box.profile('web', sleeper);
    box.profile('daemon', { run: sh('setsid sh -c \'echo "daemon $$"; exec sleep 1000\' >>daemon.out 2>&1 &\necho $! > daemon.pid'), pid_file: 'daemon.pid', restart: '' });
    await box.startReady();
    const web = await box.runningPid('web');
    const daemon = await box.runningPid('daemon');
    await waitFor('records', () => ['web', 'daemon'].every((t) => recordText(t).includes('"pid"')));
    await killSupervisor();
    await startAgain(2);
    await readopted('web', web);
    await readopted('daemon', daemon);
    expect(startedPids('web')).toEqual([web, web]); // never started twice
    expect(startedPids('daemon')).toEqual([daemon, daemon]);
    expect(box.processes().filter((p) => readFileSync(`/proc/${p}/cmdline`, 'latin1').startsWith('sleep\0'))).toHaveLength(2);
    const status = JSON.parse((await box.cli('status', '--json')).stdout);
    expect(status.map((s: { name: string; pid: number }) => [s.name, s.pid])).toEqual([['daemon', daemon], ['web', web]]);
    // Stop works as for an own child, and its death is noticed although it is not our child.
    const stop = await box.cli('stop', 'web', 'daemon');
    expect(stop.code).toBe(0);
    expect(alive(web)).toBe(false);
    expect(alive(daemon)).toBe(false);
  });

  it('a re-adopted service that dies is restarted', async () => {
    box.profile('web', sleeper);
    await box.startReady();
    const pid = await box.runningPid('web');
    await waitFor('record', () => recordText('web').includes(`"pid":${pid}`));
    await killSupervisor();
    await startAgain(2);
    await readopted('web', pid);
    process.kill(pid, 'SIGKILL');
    const next = await box.runningPid('web', 3);
    expect(next).not.toBe(pid);
  });

  it('a re-adopted service keeps its RESTARTS and LAST EXIT (kept in its record)', async () => {
    box.profile('web', { run: sh('[ -e ran ] || { touch ran; exit 3; }\nexec sleep 1000'), restart: '' });
    await box.startReady();
    const pid = await box.runningPid('web', 2); // its first run exited 3
    await waitFor('record', () => recordText('web').includes(`"pid":${pid}`));
    const [before] = await box.status('web');
    expect(before).toMatchObject({ restarts: 1, lastExit: { code: 3, signal: null } });
    await killSupervisor();
    await startAgain(2);
    await readopted('web', pid);
    const [after] = await box.status('web');
    expect(after).toMatchObject({ state: 'running', pid, restarts: 1, lastExit: before!.lastExit });
  });

  it('quit --leave-running, then a new supervisor: every service handed over with zero restarts', async () => {
    for (const n of ['a', 'b', 'c']) box.profile(n, sleeper);
    await box.startReady();
    const pids = await Promise.all(['a', 'b', 'c'].map((n) => box.runningPid(n)));
    const first = box.supervisor!;
    const exited = new Promise((done) => first.once('exit', done));
    await box.cli('quit', '--leave-running');
    await exited;
    await startAgain(2);
    for (const [i, n] of ['a', 'b', 'c'].entries()) await readopted(n, pids[i]!);
    for (const [i, n] of ['a', 'b', 'c'].entries()) expect(startedPids(n)).toEqual([pids[i], pids[i]]); // none started again
    expect(pids.every(alive)).toBe(true);
  });

  it('a profile edited while the supervisor was down is restarted once adopted; one removed is stopped', async () => {
    box.profile('edited', sleeper);
    box.profile('gone', sleeper);
    box.profile('same', sleeper);
    await box.startReady();
    const edited = await box.runningPid('edited');
    const gone = await box.runningPid('gone');
    const same = await box.runningPid('same');
    await waitFor('records', () => ['edited', 'gone', 'same'].every((t) => recordText(t).includes('"pid"')));
    await killSupervisor();
    writeFileSync(join(box.profilesDir, 'edited', 'run'), sh('echo "v2 $$"; exec sleep 1000'));
    rmSync(join(box.profilesDir, 'gone'), { recursive: true });
    await startAgain(2);
    await box.waitEvent({ profile: 'gone', event: 'removed' });
    await box.waitEvent({ profile: 'gone', event: 'stopped', pid: gone });
    const next = await box.runningPid('edited', 3);
    expect(next).not.toBe(edited);
    expect(alive(edited)).toBe(false);
    expect(alive(gone)).toBe(false);
    await waitFor('v2 output', () => box.serviceLog('edited').includes(`v2 ${next}`));
    expect(alive(same)).toBe(true);
    expect(startedPids('same')).toEqual([same, same]);
  });

  it('a record whose pid is dead or now belongs to another process is discarded and never signalled', async () => {
    box.profile('web', sleeper);
    await box.startReady();
    const pid = await box.runningPid('web');
    await waitFor('record', () => recordText('web').includes(`"pid":${pid}`));
    await killSupervisor();
    // Point the record at an unrelated live process (as if the pid had been reused).
    const stranger = spawn('sleep', ['1000'], { stdio: 'ignore' });
    const record = recordOf(box.stateDir, 'web')!;
    record.proc = { pid: stranger.pid, startTime: record.proc.startTime, pgid: stranger.pid };
    writeRecord(box.stateDir, record);
    process.kill(pid, 'SIGKILL');
    try {
      await startAgain(2);
      await box.waitLog('proclaunch', new RegExp(`^record of web pid ${stranger.pid} discarded: that process is gone \\(or its pid was reused\\)$`));
      const fresh = await box.runningPid('web', 2);
      expect(fresh).not.toBe(stranger.pid);
      expect(alive(stranger.pid!)).toBe(true);
      await box.cli('stop', 'web');
      expect(alive(stranger.pid!)).toBe(true);
    } finally {
      stranger.kill('SIGKILL');
    }
  });
});
