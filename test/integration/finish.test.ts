// `finish` (s6/runit) with real processes, and PETeR's disk-space example as
// shipped in profiles/: a monitor whose exit 1 stops the program and starts a
// cleaner, whose exit 0 starts both again.
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
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

const status = async (name: string) => (await box.status(name))[0]!;

/** A finish that records its arguments and environment in finish.out, then exits with FINISH_EXIT (default 0). */
const recordingFinish = sh('echo "args $* event $PROCLAUNCH_EVENT profile $PROCLAUNCH_PROFILE pid $PROCLAUNCH_PID code $PROCLAUNCH_EXIT_CODE signal $PROCLAUNCH_SIGNAL" >> finish.out; exit ${FINISH_EXIT:-0}');

describe('finish', () => {
  it('runs with EXITCODE SIGNAL and the hook environment; exit 125 means the service is not restarted', async () => {
    const dir = box.profile('job', {
      run: sh('sleep 1.2; exit 3'), restart: '', finish: { content: recordingFinish, mode: 0o755 }, 'env/FINISH_EXIT': '125',
    });
    await box.startReady();
    const pid = await box.runningPid('job');
    await box.waitLog('job', /^exited pid \d+ code 3 after \S+; not restarting \(finish exited 125\)$/);
    expect(readFileSync(join(dir, 'finish.out'), 'utf8')).toBe(`args 3 0 event crashed profile job pid ${pid} code 3 signal \n`);
    expect(box.lines().some((l) => l.tag === 'job' && l.message === 'running finish 3 0')).toBe(true);
    expect(await status('job')).toMatchObject({ state: 'stopped', substate: 'idle', lastExit: { code: 3 } });
    expect(box.count('job', /^started pid/)).toBe(1);
    // `start` still starts it.
    expect((await box.cli('start', 'job')).code).toBe(0);
    await box.runningPid('job', 2);
  });

  it('after kill -9: -1 9, then the restart policy applies once finish is over', async () => {
    const dir = box.profile('web', { run: sh('exec sleep 1000'), restart: '', finish: { content: recordingFinish, mode: 0o755 } });
    await box.startReady();
    const pid = await box.runningPid('web');
    process.kill(pid, 'SIGKILL');
    const next = await box.runningPid('web', 2);
    expect(next).not.toBe(pid);
    expect(readFileSync(join(dir, 'finish.out'), 'utf8')).toBe(`args -1 9 event crashed profile web pid ${pid} code  signal KILL\n`);
    const finishLine = box.lines().findIndex((l) => l.tag === 'web' && l.message === 'finish exited code 0');
    const restartLine = box.lines().findIndex((l) => l.tag === 'web' && /; restarting/.test(l.message));
    expect(finishLine).toBeGreaterThan(-1);
    expect(restartLine).toBeGreaterThan(finishLine); // decided only after finish
  });

  it('runs after `stop` with event stopped', async () => {
    const dir = box.profile('web', { run: sh('exec sleep 1000'), finish: { content: recordingFinish, mode: 0o755 } });
    await box.startReady();
    const pid = await box.runningPid('web');
    expect((await box.cli('stop', 'web')).code).toBe(0);
    await box.waitLog('web', /^finish exited code 0$/);
    expect(readFileSync(join(dir, 'finish.out'), 'utf8')).toBe(`args -1 15 event stopped profile web pid ${pid} code  signal TERM\n`);
  });

  it('the supervisor stopping on SIGTERM waits for the finish of each service', async () => {
    const dir = box.profile('web', { run: sh('exec sleep 1000'), finish: { content: sh('sleep 0.5; echo "done $*" > finish.out'), mode: 0o755 } });
    await box.startReady();
    await box.runningPid('web');
    expect(await box.stopSupervisor('SIGTERM')).toBe(0);
    expect(readFileSync(join(dir, 'finish.out'), 'utf8')).toBe('done -1 15\n');
  });

  it('during shutdown, a finish cannot start another service again (start is refused)', async () => {
    const dir = box.profile('a', { run: sh('exec sleep 1000'), finish: { content: sh('"$PROCLAUNCH_BIN" start b; echo $? > finish.rc'), mode: 0o755 } });
    box.profile('b', { run: sh('exec sleep 1000') });
    await box.startReady();
    await box.runningPid('a');
    const b = await box.runningPid('b');
    expect(await box.stopSupervisor('SIGTERM')).toBe(0);
    expect(readFileSync(join(dir, 'finish.rc'), 'utf8')).toBe('1\n');
    expect(box.count('b', /^running pid/)).toBe(1);
    expect(alive(b)).toBe(false);
    expect(box.processes()).toEqual([]);
  });

  it('a finish that hangs is killed after stop_timeout, with its group, and the service restarted', async () => {
    const dir = box.profile('web', {
      run: sh('sleep 1.2; exit 1'), restart: '', stop_timeout: '1',
      finish: { content: sh('echo $$ > finish.pid; sleep 1000 & wait'), mode: 0o755 },
    });
    await box.startReady();
    await box.runningPid('web');
    await box.waitLog('web', /^finish killed: still running after 1s$/, 15_000);
    const finishPid = Number(readFileSync(join(dir, 'finish.pid'), 'utf8'));
    await waitFor('the finish process gone', () => !alive(finishPid));
    await box.runningPid('web', 2);
    await waitFor('no sleep 1000 left', () => !box.processes().some((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'latin1') === 'sleep\u00001000\u0000';
      } catch {
        return false;
      }
    }));
  });

  it('a finish that is not executable makes the profile invalid, with a reason', async () => {
    box.profile('web', { run: sh('exec sleep 1000'), finish: { content: recordingFinish, mode: 0o644 } });
    await box.startReady();
    await box.waitLog('proclaunch', /^profile invalid: web: finish is not executable \(chmod \+x finish\)$/);
  });
});

describe("PETeR's disk-space example (profiles/bigprogram, diskspace, diskcleaner)", () => {
  it('disk critical: the monitor stops the program and starts the cleaner; the cleaner starts both again', async () => {
    box.shipped(['bigprogram', 'diskspace', 'diskcleaner']);
    const conf = join(box.profilesDir, 'diskspace', 'diskspace.conf');
    // The monitor reads it every 0.1 s: replaced whole, never seen empty (an empty `every` is a 10 s sleep).
    const setCritical = (percent: number) => box.replace(conf, `path=${box.root}\ncritical_percent=${percent}\nevery=0.1\n`);
    setCritical(100);
    const old = join(box.profilesDir, 'diskcleaner', 'spool', 'old.tmp');
    writeFileSync(old, 'stale');
    const tenDaysAgo = Date.now() / 1000 - 10 * 86400;
    utimesSync(old, tenDaysAgo, tenDaysAgo);

    await box.startReady();
    expect((await status('bigprogram')).state).toBe('stopped'); // all three are `down`
    expect((await box.cli('start', 'bigprogram', 'diskspace')).code).toBe(0);
    const program = await box.runningPid('bigprogram');
    await box.runningPid('diskspace');

    setCritical(0); // every disk is at least 0% full
    await box.waitEvent({ profile: 'diskspace', event: 'crashed', code: 1 });
    // Read and acted on: back to normal before the cleaner's finish can start the monitor again.
    setCritical(100);
    await box.waitEvent({ profile: 'bigprogram', event: 'stopped', pid: program });

    // The cleaner ran and cleaned; its finish brought the program and the monitor back.
    await waitFor('old file cleaned', () => !existsSync(old));
    await waitFor('program and monitor running again, cleaner stopped', async () => {
      const [p, m, c] = await Promise.all([status('bigprogram'), status('diskspace'), status('diskcleaner')]);
      return p.state === 'running' && p.pid !== program && m.state === 'running' && c.state === 'stopped' && c.lastExit?.code === 0;
    }, { timeoutMs: 15_000 });
    expect(alive(program)).toBe(false);
    // The monitor was not restarted on its exit (its finish exited 125): only the cleaner's finish started it again.
    const story = box.events().filter((e) => e.profile !== 'bigprogram' && e.event !== 'added').map((e) => `${e.event} ${e.profile}`);
    expect(story).toEqual(['started diskspace', 'crashed diskspace', 'started diskcleaner', 'exited diskcleaner', 'started diskspace']);
  }, 60_000);
});
