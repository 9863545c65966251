// The supervisor process itself: ownership of STATE_DIR, daemonizing, signals, its log. Services'
// behaviour is read from events.log and `status`; the log's words are checked where the log is the point
// (where it goes, what a signal or FATAL says, escaping, one ERROR per bad input) or no event says it
// (how many supervisors ran, when each stop began, the filesystem events DEBUG logs).
import { execFile, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alive, CLI, Sandbox, sh, type ProfileFiles } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';
import { recordOf } from '../support/records.js';

const run = promisify(execFile);
let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(async () => {
  const pidFile = join(box.stateDir, 'proclaunch.pid');
  if (existsSync(pidFile)) {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    } catch {
      // not running
    }
  }
  await box.cleanup();
});

const forever = sh('exec sleep 1000');
/** The pids of the tag's `started` events, in order (a re-adoption repeats the one running). */
const startedPids = (tag: string) => box.eventsOf(tag, 'started').map((e) => e.pid);

describe('STATE_DIR ownership', () => {
  it('creates STATE_DIR with mode 0700 and writes proclaunch.pid', async () => {
    box.profile('web', { run: forever });
    const child = box.start();
    await box.runningPid('web');
    expect(statSync(box.stateDir).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(box.stateDir, 'proclaunch.pid'), 'utf8').trim()).toBe(String(child.pid));
  });

  it('a second supervisor on the same STATE_DIR prints one line with the live pid and exits 0 (cron-idempotent)', async () => {
    box.profile('web', { run: forever });
    const first = box.start();
    await box.runningPid('web');
    const second = await run(process.execPath, [CLI, box.stateDir, box.profilesDir]);
    expect(second.stdout).toBe(`proclaunch: already running for ${box.stateDir} as pid ${first.pid}\n`);
    expect(startedPids('web')).toHaveLength(1);
  });

  it('of five supervisors started at the same instant, exactly one wins', async () => {
    box.profile('web', { run: forever });
    const racers = Array.from({ length: 5 }, () =>
      spawn(process.execPath, [CLI, 'supervise', '--foreground', '--log-path', box.logPath, box.stateDir, box.profilesDir], { stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    const outputs = racers.map((r) => {
      let text = '';
      r.stdout!.on('data', (d) => (text += d));
      return () => text;
    });
    await box.runningPid('web');
    const losers = await waitFor('four losers exit', () => (racers.filter((r) => r.exitCode === 0).length === 4 ? racers.filter((r) => r.exitCode === 0) : null));
    expect(losers).toHaveLength(4);
    for (const [i, r] of racers.entries()) if (r.exitCode === 0) expect(outputs[i]!()).toMatch(/^proclaunch: already running for /);
    const winner = racers.find((r) => r.exitCode === null)!;
    expect(box.count('proclaunch', /^supervising /)).toBe(1);
    winner.kill('SIGKILL');
  });

  it('refuses to start when STATE_DIR is not usable, with a clear message', async () => {
    const blocker = join(box.root, 'a-file');
    writeFileSync(blocker, '');
    const result = spawnSync(process.execPath, [CLI, 'supervise', '--foreground', join(blocker, 'state'), box.profilesDir], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^proclaunch: state directory .*a-file\/state is not usable: /);
  });
});

describe('daemonizing', () => {
  it('without --foreground it detaches, writes proclaunch.pid and logs to STATE_DIR/proclaunch.log', async () => {
    box.profile('web', { run: forever });
    const result = await run(process.execPath, [CLI, box.stateDir, box.profilesDir]);
    expect(result.stdout).toBe('');
    const pid = Number(readFileSync(join(box.stateDir, 'proclaunch.pid'), 'utf8'));
    expect(alive(pid)).toBe(true);
    const log = join(box.stateDir, 'proclaunch.log');
    await waitFor('service running in the daemon log', () => existsSync(log) && / INFO web running pid \d+/.test(readFileSync(log, 'utf8')));
    const again = await run(process.execPath, [CLI, box.stateDir, box.profilesDir]);
    expect(again.stdout).toBe(`proclaunch: already running for ${box.stateDir} as pid ${pid}\n`);
    process.kill(pid, 'SIGTERM');
    await waitFor('daemon exits', () => !alive(pid));
    expect(readFileSync(log, 'utf8')).toMatch(/INFO web stopped pid \d+/);
  });
});

describe('signals to the supervisor', () => {
  it('SIGTERM stops every service in parallel and exits 0 (ProcLaunch: stop all on signal)', async () => {
    for (const name of ['a', 'b', 'c']) box.profile(name, { run: sh('trap "sleep 0.3; exit 0" TERM; while :; do sleep 0.05; done') });
    box.start();
    const pids = await Promise.all(['a', 'b', 'c'].map((n) => box.runningPid(n)));
    expect(await box.stopSupervisor('SIGTERM')).toBe(0);
    // In parallel, not in a row: every stop began before any ended (whatever the machine's speed).
    const lines = box.lines();
    const lastStopping = lines.findLastIndex((l) => /^stopping pid /.test(l.message));
    const firstStopped = lines.findIndex((l) => /^stopped pid /.test(l.message));
    expect(lines.filter((l) => /^stopping pid /.test(l.message))).toHaveLength(3);
    expect(lastStopping).toBeLessThan(firstStopped);
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(box.processes()).toEqual([]);
  });

  it('a second SIGTERM exits at once and leaves services running', async () => {
    box.profile('slow', { run: sh('trap "" TERM; while :; do sleep 0.05; done'), stop_timeout: '30' });
    const child = await box.startReady();
    const pid = await box.runningPid('slow');
    child.kill('SIGTERM');
    await waitFor('slow stopping', async () => (await box.status('slow'))[0]?.state === 'stopping');
    const code = await box.stopSupervisor('SIGTERM');
    expect(code).toBe(0);
    expect(alive(pid)).toBe(true);
    expect(box.logText()).toMatch(/WARN proclaunch SIGTERM again: exiting now, leaving services running/);
  });

  it('SIGHUP reopens the log (logrotate) and rescans', async () => {
    box.profile('web', { run: forever });
    const child = box.start();
    await box.runningPid('web');
    renameSync(box.logPath, `${box.logPath}.1`);
    const events = join(box.stateDir, 'events.log');
    renameSync(events, `${events}.moved`);
    child.kill('SIGHUP');
    await waitFor('new log file', () => existsSync(box.logPath) && box.logText().includes('SIGHUP: log reopened; rescanning'));
    // events.log is reopened too: the next event goes to a new file, not the moved one.
    box.profile('later', { run: forever });
    await waitFor('events.log again', () => existsSync(events) && readFileSync(events, 'utf8').includes('"profile":"later"'));
  });
});

describe('an exception nobody caught (test hook PROCLAUNCH_TEST_THROW, thrown on SIGUSR2)', () => {
  for (const [how, what] of [['exception', 'uncaught exception'], ['rejection', 'unhandled promise rejection']] as const) {
    it(`${what}: one FATAL line, exit 70, services left running; the next supervisor re-adopts them`, async () => {
      box.profile('web', { run: forever });
      const child = box.start([], { env: { PROCLAUNCH_TEST_THROW: how } });
      const pid = await box.runningPid('web');
      const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
      child.kill('SIGUSR2');
      expect(await exited).toBe(70);
      const fatal = box.lines().filter((l) => l.level === 'FATAL');
      expect(fatal).toHaveLength(1);
      expect(fatal[0]!.message).toMatch(new RegExp(`^${what}: Error: PROCLAUNCH_TEST_THROW=${how}\\\\n.*; exiting with code 70, leaving services running for the next supervisor to re-adopt$`));
      expect(alive(pid)).toBe(true);
      expect(recordOf(box.stateDir, 'web')).toBeDefined();
      expect(readFileSync(`/proc/${pid}/environ`, 'latin1')).not.toContain('PROCLAUNCH_TEST_THROW'); // the hook is not handed down
      box.start();
      await box.waitEvent({ profile: 'web', event: 'started', pid }, { nth: 2 }); // re-adopted
      expect(startedPids('web')).toEqual([pid, pid]); // never started again
    });
  }
});

describe('bad input: one clear ERROR, nothing else disturbed', () => {
  it.each<[string, ProfileFiles, RegExp]>([
    ['no run', { restart: '' }, /^profile invalid: bad: no run file$/],
    ['run not executable', { run: { content: sh('exit 0'), mode: 0o644 } }, /^profile invalid: bad: run is not executable \(chmod \+x run\)$/],
    ['an unknown stop_signal', { run: forever, stop_signal: 'BOGUS' }, /^profile invalid: bad: stop_signal: unknown signal "BOGUS"$/],
    ['a non-numeric stop_timeout', { run: forever, stop_timeout: 'soon' }, /^profile invalid: bad: stop_timeout must be a number of seconds, not "soon"$/],
    ['an unknown user', { run: forever, user: 'no-such-user-here' }, /^profile invalid: bad: unknown user "no-such-user-here"$/],
  ])('%s: logged once, shown failed, picked up once fixed', async (_what, files, message) => {
    const dir = box.profile('bad', files);
    box.profile('good', { run: forever });
    box.start(['--log-level', 'DEBUG']);
    const invalid = await box.waitEvent({ profile: 'bad', event: 'invalid' });
    expect(`profile invalid: bad: ${invalid.reason}`).toMatch(message);
    const good = await box.runningPid('good');
    // The one clear ERROR line (its words: what the user reads).
    expect(box.lines().filter((l) => l.level === 'ERROR')).toMatchObject([{ tag: 'proclaunch', message: expect.stringMatching(message) }]);
    expect(await box.status('bad')).toMatchObject([{ state: 'stopped', substate: 'failed' }]);
    // Fix it: a good profile in its place (run renamed in whole, executable, never seen half-written).
    for (const f of ['stop_signal', 'stop_timeout', 'user']) spawnSync('rm', ['-f', join(dir, f)]);
    box.replace(join(dir, 'run'), forever);
    await box.runningPid('bad');
    expect(startedPids('good')).toEqual([good]);
    expect(alive(good)).toBe(true);
  });

  it('a run whose interpreter is missing: failed with the reason', async () => {
    box.profile('bad', { run: '#!/no/such/interpreter\necho hi\n' });
    await box.startReady();
    const failed = await box.waitEvent({ profile: 'bad', event: 'failed' });
    expect(failed.reason).toMatch(/^cannot execute .*\/run: its interpreter \(the #! line\) was not found \(#!\/no\/such\/interpreter\)$/);
    const failures = () => box.eventsOf('bad', 'failed').length;
    // Said once: a reading of the same files again (a rescan, answered once every profile is read) does not try again.
    await box.rescan();
    expect(failures()).toBe(1);
    // Touched (chmod -x, then +x: the same files again), it is tried again, once.
    chmodSync(join(box.profilesDir, 'bad', 'run'), 0o644);
    chmodSync(join(box.profilesDir, 'bad', 'run'), 0o755);
    await box.waitEvent({ profile: 'bad', event: 'failed' }, { nth: 2 });
    await box.rescan();
    expect(failures()).toBe(2);
    expect(box.count('bad', /^failed: /)).toBe(2); // one ERROR line each
  });

  it('names with spaces, newlines or non-ASCII bytes are skipped with one WARN each, and never break a log line', async () => {
    box.profile('good', { run: forever });
    for (const name of ['with space', 'new\nline', 'caf\u00e9']) {
      mkdirSync(join(box.profilesDir, name));
      writeFileSync(join(box.profilesDir, name, 'run'), forever, { mode: 0o755 });
    }
    box.start();
    await box.runningPid('good');
    // (Without the native module, one more WARN says pids are polled: not about names.)
    await waitFor('three WARN lines', () => box.lines().filter((l) => l.level === 'WARN' && l.message.startsWith('skipped ')).length === 3);
    const text = box.logText();
    expect(text).toContain('skipped "with space"');
    expect(text).toContain('skipped "new\\nline"');
    for (const line of text.split('\n').filter(Boolean)) expect(line).toMatch(/^\S+ (DEBUG|INFO|WARN|ERROR|FATAL) \S+ /);
  });

  it('a profile directory replaced by a file stops the service', async () => {
    box.profile('web', { run: forever });
    box.start();
    const pid = await box.runningPid('web');
    spawnSync('rm', ['-rf', join(box.profilesDir, 'web')]);
    writeFileSync(join(box.profilesDir, 'web'), 'not a directory');
    await box.waitEvent({ profile: 'web', event: 'stopped', pid });
  });

  it('PROFILES_DIR deleted and recreated: services stop, then come back', async () => {
    box.profile('web', { run: forever });
    box.start();
    const pid = await box.runningPid('web');
    spawnSync('rm', ['-rf', box.profilesDir]);
    await box.waitEvent({ profile: 'web', event: 'stopped', pid });
    mkdirSync(box.profilesDir);
    box.profile('web', { run: forever });
    await box.runningPid('web', 2);
  });

  it('a value with control characters never breaks a log line', async () => {
    box.profile('bad', { run: forever, stop_signal: 'TERM\nINFO proclaunch forged line' });
    box.start();
    await box.waitLog('proclaunch', /^profile invalid: bad: stop_signal: unknown signal "TERM\\nINFO proclaunch forged line"$/);
    expect(box.logText()).not.toMatch(/^INFO proclaunch forged line/m);
  });
});

describe('profiles that are symlinks', () => {
  it('re-pointed to another directory (ln -sfn): the new one runs, and its edits are seen as they happen', async () => {
    const v1 = join(box.root, 'v1');
    const v2 = join(box.root, 'v2');
    box.write(join(v1, 'run'), sh('exec sleep 1001'));
    box.write(join(v2, 'run'), sh('exec sleep 1002'));
    symlinkSync(v1, join(box.profilesDir, 'web'));
    box.profile('marker', { run: forever });
    // No rescan for an hour: only filesystem events can tell. DEBUG logs each one (`filesystem event for "NAME"`).
    box.start(['--rescan-interval', '3600', '--log-level', 'DEBUG']);
    await box.runningPid('web');
    await box.runningPid('marker');
    const eventsFor = (name: string) => box.count('proclaunch', new RegExp(`^filesystem event for "${name}"$`));
    symlinkSync(v2, join(box.root, 'web.new'));
    renameSync(join(box.root, 'web.new'), join(box.profilesDir, 'web')); // atomic, as ln -sfn + mv -T does
    await box.runningPid('web', 2);
    // chokidar watches v2 now (set up asynchronously): proven by an event from v2 itself, its run put back unchanged.
    const before = eventsFor('web');
    await waitFor('an event from v2', () => {
      if (eventsFor('web') > before) return true;
      box.replace(join(v2, 'run'), sh('exec sleep 1002'));
      return false;
    }, { intervalMs: 100 });
    expect(startedPids('web')).toHaveLength(2); // the same content: no restart
    box.replace(join(v2, 'run'), sh('exec sleep 1003'));
    await box.runningPid('web', 3);
    // The old target is nobody's business any more: its edit gives no event. Witness: marker's run put back
    // unchanged, and its event logged (one inotify queue, read in order: what came before is handled by then).
    const markerRound = async () => {
      const seen = eventsFor('marker');
      box.replace(join(box.profilesDir, 'marker', 'run'), forever);
      await waitFor('the marker event', () => eventsFor('marker') > seen);
    };
    await waitFor('the events of the last edit all in', async () => {
      const seen = eventsFor('web');
      await markerRound();
      return eventsFor('web') === seen;
    });
    const webEvents = eventsFor('web');
    box.replace(join(v1, 'run'), sh('exec sleep 1004'));
    await markerRound();
    expect(eventsFor('web')).toBe(webEvents);
    expect(startedPids('web')).toHaveLength(3);
  });
});
