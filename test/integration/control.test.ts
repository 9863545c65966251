// The control side, end to end: the CLI talking to a real supervisor over
// STATE_DIR/control.sock, services as real processes. What the services did is
// read from events.log; the log itself only where it is the point (check_log).
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { CLI, Sandbox, alive, sh } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(async () => {
  await box.cleanup();
});

const sleeper = { run: sh('exec sleep 1000'), restart: '' };
/** Fails at once and for good: its pid file never appears within 0.2 s. */
const failing = { run: sh('exit 0'), pid_file: 'never.pid', start_timeout: '0.2' };
const FAILED = /failed: not running after start_timeout 0\.2s/;
/** Wait for the n-th `failed` event of `tag`: the failing profile's pid file never appeared. */
async function failedFor(tag: string, nth = 1): Promise<void> {
  const failed = await box.waitEvent({ profile: tag, event: 'failed' }, { nth });
  expect(failed.reason).toMatch(/^not running after start_timeout 0\.2s/);
}
/** Wait until a supervisor started after the last one ended answers on the control socket. */
const answering = () => waitFor('a supervisor answering', () => box.status().then(() => true, () => false));
const startedCount = (tag: string) => box.eventsOf(tag, 'started').length;

describe('control socket', () => {
  it('is STATE_DIR/control.sock, mode 0600 in a 0700 STATE_DIR', async () => {
    await box.startReady();
    const sock = statSync(join(box.stateDir, 'control.sock'));
    expect(sock.isSocket()).toBe(true);
    expect(sock.mode & 0o777).toBe(0o600);
    expect(statSync(box.stateDir).mode & 0o777).toBe(0o700);
  });

  it('an unknown command or option is a usage error (2) with one line and a hint', async () => {
    expect(await box.cli('bogus')).toMatchObject({ code: 2, stdout: '', stderr: `proclaunch: unknown command "bogus"\nTry 'proclaunch --help'.\n` });
    expect(await box.cli('status', '--bogus')).toMatchObject({ code: 2, stderr: `proclaunch: status: Unknown option '--bogus'.\nTry 'proclaunch --help'.\n` });
    const help = await box.cli('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/proclaunch check \[-w N\|N%\]/);
  });

  it('without a supervisor, commands exit 3 with one line', async () => {
    const r = await box.cli('status');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^proclaunch: no supervisor is running for .*\n$/);
    // --state also before the command (as systemctl and git take global options).
    for (const args of [['--state', box.stateDir, 'status'], [`--state=${box.stateDir}`, 'status']]) {
      const before = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
      // (The hint may name another test's supervisor, running meanwhile.)
      expect([args, before.status, before.stderr]).toEqual([args, 3, expect.stringMatching(new RegExp(`^proclaunch: no supervisor is running for ${box.stateDir} \\(nothing answers on `))]);
    }
  });

  it('a stale socket left by a killed supervisor is replaced; a live one is not stolen', async () => {
    box.profile('web', sleeper);
    const first = await box.startReady();
    await box.runningPid('web');
    first.kill('SIGKILL');
    await waitFor('first supervisor gone', () => first.exitCode !== null || first.signalCode !== null);
    expect(existsSync(join(box.stateDir, 'control.sock'))).toBe(true); // stale
    expect((await box.cli('status')).code).toBe(3);
    const second = box.start();
    await answering(); // the stale socket replaced
    expect((await box.cli('status')).code).toBe(0);
    // A third on the same STATE_DIR says who owns it and leaves the socket alone.
    const third = spawnSync(process.execPath, [CLI, 'supervise', '--foreground', box.stateDir, box.profilesDir], { encoding: 'utf8' });
    expect(third.stdout).toBe(`proclaunch: already running for ${box.stateDir} as pid ${second.pid}\n`);
    expect(second.exitCode).toBeNull();
    expect((await box.cli('status')).code).toBe(0);
  });
});

describe('status', () => {
  it('shows a table and JSON; `status NAME` exits 0 when running, 3 when not, 4 when unknown (LSB)', async () => {
    box.profile('web', sleeper);
    box.profile('lazy', { ...sleeper, down: '' });
    await box.startReady();
    const pid = await box.runningPid('web');
    const table = await box.cli('status');
    expect(table.code).toBe(0);
    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^NAME\s+STATE\s+PID\s+UPTIME\s+CPU%\s+MEM\s+RESTARTS\s+LAST EXIT\s+NOTE$/);
    expect(rows.find((r) => r.startsWith('web '))).toMatch(new RegExp(`^web\\s+running\\s+${pid}\\s+\\S+\\s+\\d+\\.\\d\\s+[\\d.]+[KMG]\\s+0\\s+-$`));
    expect(rows.find((r) => r.startsWith('lazy '))).toMatch(/^lazy\s+stopped\s+-\s+-\s+-\s+-\s+0\s+-\s+down file$/);
    for (const row of table.stdout.split('\n')) expect(row.length).toBeLessThanOrEqual(80);

    const json = JSON.parse((await box.cli('status', '--json')).stdout);
    expect(json.find((s: { name: string }) => s.name === 'web')).toMatchObject({ state: 'running', pid, restarts: 0, held: false, down: false });

    expect((await box.cli('status', 'web')).code).toBe(0);
    expect((await box.cli('status', 'lazy')).code).toBe(3);
    // LSB's "unknown service": nothing on stdout (not "no profiles"), one line on stderr.
    expect(await box.cli('status', 'nope')).toMatchObject({ code: 4, stdout: '', stderr: 'proclaunch: no profile matches "nope"\n' });
    expect(await box.cli('status', '--json', 'nope', 'nada')).toMatchObject({ code: 4, stdout: '', stderr: 'proclaunch: no profile matches "nope", "nada"\n' });
    const some = await box.cli('status', 'web', 'nope');
    expect(some).toMatchObject({ code: 4, stderr: 'proclaunch: no profile matches "nope"\n' });
    expect(some.stdout).toMatch(/^web\s+running\s/m);
  });

  it('a failed profile shows stopped.failed with the reason', async () => {
    box.profile('broken', failing);
    await box.startReady();
    await failedFor('broken');
    const r = await box.cli('status', '--wide', 'broken');
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/\nbroken\s+stopped\.failed\s+-\s+-\s+-\s+-\s+0\s+-\s+not running after start_timeout 0\.2s/);
  });
});

describe('start, stop, restart, reload, signal', () => {
  it('stop waits for the stop and is remembered through a rescan and a supervisor restart; start undoes it', async () => {
    box.profile('web', sleeper);
    await box.startReady();
    const pid = await box.runningPid('web');
    const stop = await box.cli('stop', 'web');
    expect(stop.code).toBe(0);
    expect(stop.stdout).toBe(`web  ok  stopped pid ${pid}\n`);
    expect(alive(pid)).toBe(false); // it waited
    expect((await box.cli('rescan')).code).toBe(0);
    writeFileSync(join(box.profilesDir, 'web', 'note'), 'a new file'); // an event for the profile
    expect(await box.stopSupervisor()).toBe(0);
    box.start();
    await box.waitEvent({ profile: 'web', event: 'added' }, { nth: 2 });
    await answering();
    const status = JSON.parse((await box.cli('status', '--json', 'web')).stdout);
    expect(status[0]).toMatchObject({ state: 'stopped', held: true, pid: null });
    const start = await box.cli('start', 'web');
    expect(start.code).toBe(0);
    expect(start.stdout).toMatch(/^web {2}ok {2}running pid \d+\n$/);
    expect(readFileSync(join(box.stateDir, 'held'), 'utf8')).toBe('');
  });

  it('restart by glob gives every match a new pid and leaves the rest alone', async () => {
    for (const name of ['worker1', 'worker2', 'web']) box.profile(name, sleeper);
    await box.startReady();
    const before = Object.fromEntries(await Promise.all(['worker1', 'worker2', 'web'].map(async (n) => [n, await box.runningPid(n)])));
    const r = await box.cli('restart', 'worker*');
    expect(r.code).toBe(0);
    const results = r.stdout.trimEnd().split('\n');
    expect(results).toHaveLength(2);
    for (const n of ['worker1', 'worker2']) {
      const pid = await box.runningPid(n, 2);
      expect(pid).not.toBe(before[n]);
      expect(results.find((l) => l.startsWith(n))).toMatch(new RegExp(`ok\\s+running pid ${pid}$`));
      expect(alive(before[n])).toBe(false);
    }
    expect(alive(before.web)).toBe(true);
    expect(startedCount('web')).toBe(1);
  });

  it('an unknown name or a bad option fails with one line and touches nothing', async () => {
    box.profile('web', sleeper);
    await box.startReady();
    const pid = await box.runningPid('web');
    const unknown = await box.cli('stop', 'nope', 'web');
    expect(unknown).toMatchObject({ code: 4, stdout: '', stderr: 'proclaunch: no profile matches "nope"\n' });
    const commands = [['start'], ['restart'], ['reload'], ['signal', 'HUP'], ['ps'], ['logs'], ['events']];
    const answers = await Promise.all(commands.map((command) => box.cli(...command, 'nope')));
    answers.forEach((answer, i) => expect(answer, commands[i]!.join(' ')).toMatchObject({ code: 4, stdout: '', stderr: 'proclaunch: no profile matches "nope"\n' }));
    // A glob it cannot read is a usage error, said as such (it was "internal error", a SyntaxError inside).
    const glob = await box.cli('stop', 'web[');
    expect(glob.code).toBe(2);
    expect(glob.stderr.split('\n')[0]).toBe('proclaunch: stop: bad pattern "web[": its "[" has no closing "]"');
    expect(await box.ask({ command: 'stop', names: ['web['] })).toMatchObject({ ok: false, error: 'bad pattern "web[": its "[" has no closing "]"' });
    const usage = await box.cli('stop');
    expect(usage.code).toBe(2);
    expect(usage.stderr.split('\n')[0]).toBe('proclaunch: stop: give profile names or globs, or --all');
    const badSignal = await box.cli('signal', 'BOGUS', 'web');
    expect(badSignal.code).toBe(2);
    expect(alive(pid)).toBe(true);
  });

  it('signal sends to the whole process group; reload sends the reload signal', async () => {
    box.profile('web', { run: sh(`trap 'echo got-usr1' USR1; trap 'echo got-hup' HUP; while :; do sleep 0.05; done`), reload: 'HUP', restart: '' });
    await box.startReady();
    const pid = await box.runningPid('web');
    const r = await box.cli('signal', 'USR1', 'web');
    expect(r).toMatchObject({ code: 0, stdout: `web  ok  sent SIGUSR1 to pid ${pid}\n` });
    await waitFor('got-usr1', () => box.serviceLog('web').includes('got-usr1'));
    expect((await box.cli('reload', 'web')).stdout).toBe(`web  ok  sent SIGHUP to pid ${pid}\n`);
    await waitFor('got-hup', () => box.serviceLog('web').includes('got-hup'));
    expect(alive(pid)).toBe(true);
  });

  it('start of a failing service reports the failure and exits 1; --no-wait returns at once', async () => {
    box.profile('bad', failing);
    box.profile('web', { ...sleeper, down: '' });
    await box.startReady();
    await failedFor('bad');
    const r = await box.cli('start', 'bad');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^bad {2}FAILED {2}failed: not running after start_timeout 0\.2s/);
    expect(box.eventsOf('bad', 'failed')).toHaveLength(2); // it was really tried again
    expect(box.count('bad', FAILED)).toBe(2); // and said so, once each
    const quick = await box.cli('start', '--no-wait', 'web');
    expect(quick).toMatchObject({ code: 0, stdout: 'web  ok  start requested\n' });
    await box.runningPid('web');
  });
});

describe('logs, events, ps, check', () => {
  it('logs -n shows the last lines; -f follows across a service restart', async () => {
    box.profile('web', { run: sh('for i in 1 2 3 4 5; do echo line$i; done; echo "up $$"; exec sleep 1000'), restart: '' });
    await box.startReady();
    const pid = await box.runningPid('web');
    await waitFor('up line', () => box.serviceLog('web').includes(`up ${pid}`));
    expect((await box.cli('logs', 'web', '-n', '2')).stdout).toBe(`line5\nup ${pid}\n`);

    const follower = spawn(process.execPath, [CLI, 'logs', 'web', '-f', '-n', '1', '--state', box.stateDir]);
    let followed = '';
    follower.stdout.on('data', (d) => (followed += d));
    try {
      await waitFor('the follower to print the last line', () => followed === `up ${pid}\n`); // it is following now
      await box.cli('restart', 'web');
      const second = await box.runningPid('web', 2);
      await waitFor(`followed up ${second}: ${followed}`, () => followed.includes(`up ${second}`));
      expect(followed).toBe(`up ${pid}\nline1\nline2\nline3\nline4\nline5\nup ${second}\n`);
    } finally {
      follower.kill();
    }
  });

  it('events: a history that survives a supervisor restart, as text and JSON', async () => {
    box.profile('web', sleeper);
    box.profile('crashy', { run: sh('exit 2'), restart: '' });
    box.profile('broken', failing);
    await box.startReady();
    await box.waitEvent({ profile: 'crashy', event: 'crashed', code: 2 });
    await failedFor('broken');
    const pid = await box.runningPid('web');
    await box.cli('stop', 'web');
    expect(await box.stopSupervisor()).toBe(0);
    box.start();
    await answering();
    const text = (await box.cli('events')).stdout;
    expect(text).toMatch(new RegExp(`^\\S+ added web$`, 'm'));
    expect(text).toMatch(new RegExp(`^\\S+ started web pid ${pid}$`, 'm'));
    expect(text).toMatch(new RegExp(`^\\S+ stopped web pid ${pid} signal SIGTERM by (uid \\d+|control socket)$`, 'm'));
    expect(text).toMatch(/^\S+ crashed crashy pid \d+ code 2$/m);
    expect(text).toMatch(/^\S+ failed broken not running after start_timeout 0\.2s/m);
    const json = (await box.cli('events', '--json')).stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(json.filter((e) => e.event === 'added' && e.profile === 'web')).toHaveLength(2); // once per supervisor
    const future = await box.cli('events', '--since', new Date(Date.now() + 60_000).toISOString());
    expect(future.stdout).toBe('');
  });

  it('events -f streams live events', async () => {
    await box.startReady();
    const follower = spawn(process.execPath, [CLI, 'events', '-f', '--state', box.stateDir]);
    let followed = '';
    follower.stdout.on('data', (d) => (followed += d));
    try {
      box.profile('late', sleeper);
      const pid = await box.runningPid('late');
      await waitFor(`streamed: ${followed}`, () => followed.includes(`started late pid ${pid}`));
    } finally {
      follower.kill();
    }
  });

  it('ps lists every process of each service group from /proc', async () => {
    box.profile('web', { run: sh('sleep 1000 & sleep 1001 & wait'), restart: '' });
    await box.startReady();
    const pid = await box.runningPid('web');
    await waitFor('two children', () => (readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').length === 2));
    const r = await box.cli('ps');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PROFILE\s+PID\s+PPID\s+USER\s+RSS\s+%CPU\s+ELAPSED\s+ARGS$/);
    expect(lines.filter((l) => l.startsWith('web '))).toHaveLength(3);
    expect(r.stdout).toMatch(/sleep 1001/);
    const custom = await box.cli('ps', '-o', 'pid,args');
    expect(custom.stdout.split('\n')[0]).toMatch(/^\s*PID\s+ARGS$/);
    expect((await box.cli('ps', '-o', 'pid,bogus')).code).toBe(2);
  });

  it('check: a Nagios plugin with count and percent thresholds on services down', async () => {
    for (const n of ['w3', 'w4']) box.profile(n, sleeper);
    await box.startReady();
    for (const n of ['w3', 'w4']) await box.runningPid(n);
    const ok = await box.cli('check');
    expect(ok).toMatchObject({ code: 0, stdout: 'PROCLAUNCH OK - 2/2 running | running=2;;;0;2 down=0;0;;0;2\n' });
    // Two workers that fail for good.
    for (const n of ['w1', 'w2']) box.profile(n, failing);
    await failedFor('w1');
    await failedFor('w2');
    const warn = await box.cli('check', '-w', '1', '-c', '2');
    expect(warn).toMatchObject({ code: 1, stdout: 'PROCLAUNCH WARNING - 2/4 running, down: w1, w2 | running=2;;;0;4 down=2;1;2;0;4\n' });
    const crit = await box.cli('check', '-w', '10%', '-c', '49%');
    expect(crit).toMatchObject({ code: 2, stdout: 'PROCLAUNCH CRITICAL - 2/4 running, down: w1, w2 | running=2;;;0;4 down=2;0.4;1.96;0;4\n' });
    const some = await box.cli('check', 'w3', 'w4');
    expect(some.code).toBe(0);
    const bad = await box.cli('check', '-w', 'lots');
    expect(bad).toMatchObject({ code: 3 });
    expect(bad.stdout).toMatch(/^PROCLAUNCH UNKNOWN - /);
  });

  it('check is UNKNOWN (3) when no supervisor answers', async () => {
    const r = await box.cli('check');
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^PROCLAUNCH UNKNOWN - no supervisor is running for /);
  });
});

describe('quit', () => {
  it('stops every service, then exits 0', async () => {
    box.profile('web', sleeper);
    const supervisor = await box.startReady();
    const pid = await box.runningPid('web');
    const exited = new Promise((done) => supervisor.once('exit', done));
    expect((await box.cli('quit')).code).toBe(0);
    expect(await exited).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(existsSync(join(box.stateDir, 'control.sock'))).toBe(false);
  });

  it('--leave-running exits and leaves services running', async () => {
    box.profile('web', sleeper);
    const supervisor = await box.startReady();
    const pid = await box.runningPid('web');
    const exited = new Promise((done) => supervisor.once('exit', done));
    expect((await box.cli('quit', '--leave-running')).code).toBe(0);
    expect(await exited).toBe(0);
    expect(alive(pid)).toBe(true);
  });
});

describe('hostile clients against a real supervisor', () => {
  it('malformed, unknown, wrong-typed and oversized requests get one error each; no service is touched', async () => {
    box.profile('web', sleeper);
    await box.startReady();
    const pid = await box.runningPid('web');
    const { connect } = await import('node:net');
    const talk = (raw: string) =>
      new Promise<string>((done) => {
        const socket = connect(join(box.stateDir, 'control.sock'));
        let text = '';
        socket.on('data', (d) => {
          text += d;
          if (text.endsWith('\n')) socket.destroy();
        });
        socket.on('close', () => done(text));
        socket.write(raw);
      });
    expect(JSON.parse(await talk('{"command":\n'))).toMatchObject({ ok: false, error: 'malformed request: not JSON' });
    expect(JSON.parse(await talk('{"command":"kill-everything"}\n'))).toMatchObject({ ok: false, error: expect.stringMatching(/^unknown command/) });
    expect(JSON.parse(await talk('{"command":"stop","names":[1]}\n'))).toMatchObject({ ok: false, error: 'stop: "names" must be a list of names' });
    expect(JSON.parse(await talk('{"command":"stop"}\n'))).toMatchObject({ ok: false });
    expect(JSON.parse(await talk(`{"command":"stop","names":["${'w'.repeat(70_000)}"]}\n`))).toMatchObject({ ok: false, error: expect.stringMatching(/^request too long/) });
    expect(JSON.parse(await talk('{"command":"signal","signal":"NOPE","names":["web"]}\n'))).toMatchObject({ ok: false, error: 'unknown signal "NOPE"' });
    // 200 at once, while one client holds a connection open and silent.
    const silent = connect(join(box.stateDir, 'control.sock'));
    const replies = await Promise.all(Array.from({ length: 200 }, () => talk('{"command":"status"}\n')));
    expect(replies.every((r) => JSON.parse(r).ok === true)).toBe(true);
    silent.destroy();
    expect(alive(pid)).toBe(true);
    expect(startedCount('web')).toBe(1);
    expect((await box.cli('status', 'web')).code).toBe(0);
  });
});

const CHECK_LOG = '/usr/lib/nagios/plugins/check_log';

describe.skipIf(!existsSync(CHECK_LOG))('the log is Nagios-parseable', () => {
  it("monitoring-plugins' check_log finds ERROR lines with the pattern of docs/logs.md", async () => {
    box.profile('web', sleeper);
    await box.startReady();
    await box.runningPid('web');
    const old = join(box.root, 'check_log.old');
    const check = () => spawnSync(CHECK_LOG, ['-F', box.logPath, '-O', old, '-q', ' (ERROR|FATAL) ', '-e'], { encoding: 'utf8' });
    expect(check().status).toBe(0); // initialises its copy
    expect(check()).toMatchObject({ status: 0, stdout: 'Log check ok - 0 pattern matches found\n' });
    box.profile('broken', { run: { content: sh('exit 0'), mode: 0o644 } });
    await box.waitLog('proclaunch', /^profile invalid: broken: /);
    const alert = check();
    expect(alert.status).toBe(2);
    expect(alert.stdout).toMatch(/^\(1\) < \S+ ERROR proclaunch profile invalid: broken: .*\n$/);
  });
});
