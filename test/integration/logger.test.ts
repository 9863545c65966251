// log/ (runit/s6): a logger that reads the service's stdout and stderr
// through a pipe the supervisor holds open, with real loggers — svlogd
// (runit), s6-log (s6), logger (util-linux, to a UDP server of ours) — and
// real kills. Tools that are absent (scripts/ensure-test-tools.sh installs
// them) skip their test, saying so in its name.
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sandbox, alive, environOf, sh } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';
import { recordOf } from '../support/records.js';

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(async () => {
  await box.cleanup();
});

const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
/** '' when the tool is there, else why the test is skipped (shown in its name). */
const needs = (tool: string, pkg: string): string => (has(tool) ? '' : ` (skipped: ${tool} not installed; scripts/ensure-test-tools.sh installs ${pkg})`);

const numbersOf = (text: string): number[] => [...text.matchAll(/^line (\d+)$/gm)].map((m) => Number(m[1]));
const oneTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

/**
 * A service that writes `line N` continuously, N going on from where the last
 * run stopped (kept in COUNT, outside the profile). Each line is one write(2),
 * so whole lines reach the pipe. The counter is written after the line and
 * before `sleep`, so while the shell waits for a child it is at rest: no line
 * half-told. Touching STOP ends the stream (the shell then becomes `sleep`).
 */
function counter(): { run: string; countFile: string; stopFile: string } {
  const countFile = join(box.root, 'COUNT');
  const stopFile = join(box.root, 'STOP');
  const run = sh([
    `n=$(cat ${countFile} 2>/dev/null || echo 0)`,
    `while [ ! -e ${stopFile} ]; do n=$((n + 1)); echo "line $n"; echo "$n" > ${countFile}; sleep 0.002; done`,
    'exec sleep 1000',
  ].join('\n'));
  return { run, countFile, stopFile };
}

const count = (file: string): number => (existsSync(file) ? Number(readFileSync(file, 'utf8').trim() || 0) : 0);

/** End the stream and return the last number written. */
async function finishStream(c: { countFile: string; stopFile: string }, pid: number): Promise<number> {
  writeFileSync(c.stopFile, '');
  await waitFor('service out of its loop', () => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep');
  return count(c.countFile);
}

/** svlogd's or s6-log's log directory: archived files (named by TAI64N, so in order), then `current`. */
function logDirText(dir: string): string {
  if (!existsSync(dir)) return '';
  const archived = readdirSync(dir).filter((f) => f.startsWith('@')).sort();
  return [...archived, 'current'].filter((f) => existsSync(join(dir, f))).map((f) => readFileSync(join(dir, f), 'utf8')).join('');
}

function stat(pid: number): { state: string; ppid: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const [state, ppid] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: state!, ppid: Number(ppid) };
  } catch {
    return null;
  }
}

const hasChild = (pid: number): boolean =>
  readdirSync('/proc').some((e) => /^\d+$/.test(e) && stat(Number(e))?.ppid === pid);

/** Syscalls a process sits in while it waits for input (x86_64, arm64), with restart_syscall (a wait resumed after SIGCONT). */
const WAITING: Record<string, number[]> = { x64: [7, 23, 232, 270, 271, 281, 219], arm64: [72, 73, 22, 128] };
const waitingForInput = (pid: number): boolean => {
  const nr = Number(readFileSync(`/proc/${pid}/syscall`, 'latin1').split(' ')[0]);
  return (WAITING[process.arch] ?? []).includes(nr);
};

/**
 * kill -9 `pid` (its group with `group`) while the stream goes on, at a
 * moment when `atRest` says it holds nothing unwritten: stop it, look, kill or
 * let it go on and try again. A real kill -9 at a random instant would also
 * lose what the process itself had read and not yet written — that is the
 * process's business, not the pipe's, and would make the test a lottery.
 */
async function killAtRest(pid: number, atRest: (pid: number) => boolean, group = false): Promise<void> {
  const target = group ? -pid : pid;
  await waitFor(`pid ${pid} at rest`, async () => {
    process.kill(target, 'SIGSTOP');
    // dash starts commands with vfork: a shell whose child is stopped before exec never gets to 'T' itself, but it waits.
    await waitFor(`pid ${pid} stopped`, () => stat(pid)?.state === 'T' || (group && hasChild(pid)), { intervalMs: 1 });
    if (atRest(pid)) {
      process.kill(target, 'SIGKILL');
      return true;
    }
    process.kill(target, 'SIGCONT');
    return false;
  }, { intervalMs: 3 });
}

/** Wait until the stream has gone on by `more` lines and they reached the log. */
async function progress(c: { countFile: string }, text: () => string, more: number): Promise<void> {
  const target = count(c.countFile) + more;
  await waitFor(`line ${target} logged`, () => numbersOf(text()).includes(target), { timeoutMs: 20_000 });
}

/** Profile `num`: the counting service with `log/run` writing into log/main; started, both up, 100 lines logged. */
async function stream(logRun: string) {
  const c = counter();
  const dir = box.profile('num', { run: c.run, restart: '', 'log/run': sh(`mkdir -p main\nexec ${logRun}`) });
  const current = () => logDirText(join(dir, 'log', 'main'));
  await box.startReady();
  const logger = await box.runningPid('num:log');
  const service = await box.runningPid('num');
  await progress(c, current, 100);
  return { c, current, logger, service };
}

/** End the stream; the log must hold line 1 … line N, each once, in order. */
async function expectEveryLine(s: { c: { countFile: string; stopFile: string }; current: () => string }, servicePid: number): Promise<void> {
  const last = await finishStream(s.c, servicePid);
  await waitFor(`line ${last} logged`, () => numbersOf(s.current()).at(-1) === last);
  expect(s.current()).toBe(oneTo(last).map((n) => `line ${n}\n`).join(''));
}

// -b larger than a pipe holds: each read ends on a line boundary, so an svlogd waiting in poll holds nothing unwritten.
const SVLOGD = 'svlogd -b 131072 main';

describe('log/: a logger on a pipe held by the supervisor', () => {
  const svlogd = needs('svlogd', 'runit');
  it.skipIf(svlogd !== '' || !WAITING[process.arch])(`svlogd: kill -9 of the logger, then of the service, mid-stream: every line once, in order${svlogd}`, async () => {
    const s = await stream(SVLOGD);
    const { c, current, logger, service } = s;

    await killAtRest(logger, waitingForInput);
    await box.runningPid('num:log', 2);
    await progress(c, current, 100);
    expect(alive(service)).toBe(true); // the service never noticed

    await killAtRest(service, hasChild, true);
    const service2 = await box.runningPid('num', 2);
    await progress(c, current, 100);
    expect(box.count('num:log', /^running pid/)).toBe(2); // nor the logger
    await expectEveryLine(s, service2);
  });

  it.skipIf(svlogd !== '' || !WAITING[process.arch])(`svlogd: kill -9 of the supervisor, and of the logger while none runs: the next supervisor takes over, nothing lost${svlogd}`, async () => {
    const s = await stream(SVLOGD);
    const { c, current, logger, service } = s;
    await waitFor('records', () => ['num', 'num:log'].every((t) => recordOf(box.stateDir, t) !== undefined));

    const supervisor = box.supervisor!;
    supervisor.kill('SIGKILL');
    await waitFor('supervisor gone', () => supervisor.exitCode !== null || supervisor.signalCode !== null);
    // No supervisor, no logger: the service holds the pipe open for reading too, so it gets no SIGPIPE; its lines wait in the pipe.
    await killAtRest(logger, waitingForInput);
    const before = count(c.countFile);
    await waitFor('the service writes on', () => count(c.countFile) >= before + 50);
    expect(statSync(join(box.stateDir, 'pipes', 'num')).isFIFO()).toBe(true);

    box.start();
    await waitFor('supervisor 2 ready', () => box.lines().filter((l) => l.message.startsWith('control socket ')).length === 2);
    await box.waitLog('num', new RegExp(`^running pid ${service} \\(re-adopted: left running by the last supervisor\\)$`));
    await box.runningPid('num:log', 2); // a new logger: the old one's record is discarded
    await progress(c, current, 100);
    await expectEveryLine(s, service);
    expect(box.count('num', /^started pid/)).toBe(1);
  });

  const s6log = needs('s6-log', 's6');
  it.skipIf(s6log !== '')(`s6-log: restarted twice mid-stream by command: every line once, in order${s6log}`, async () => {
    const s = await stream('s6-log ./main');
    const { c, current, service } = s;
    for (const nth of [2, 3]) {
      const restart = await box.cli('restart', 'num:log');
      expect(restart.code).toBe(0);
      await box.runningPid('num:log', nth);
      await progress(c, current, 100);
    }
    expect(alive(service)).toBe(true);
    await expectEveryLine(s, service);
  });

  const logger = needs('logger', 'bsdutils');
  it.skipIf(logger !== '')(`logger (util-linux) to a local syslog server over UDP: every line once, in order${logger}`, async () => {
    const server = createSocket('udp4');
    const received: string[] = [];
    server.on('message', (message) => received.push(message.toString()));
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    try {
      const port = server.address().port;
      box.profile('num', {
        run: sh('n=0; while [ $n -lt 300 ]; do n=$((n + 1)); echo "line $n"; sleep 0.002; done; exec sleep 1000'),
        restart: '',
        'log/run': sh('exec logger --server 127.0.0.1 --port "$PORT" --udp --tag "$PROCLAUNCH_PROFILE"'),
        'log/env/PORT': String(port),
      });
      await box.startReady();
      const got = () => received.map((m) => Number(m.match(/line (\d+)\s*$/)?.[1]));
      await waitFor('300 lines', () => received.length >= 300, { timeoutMs: 20_000 });
      expect(got()).toEqual(oneTo(300));
      expect(received[0]).toMatch(/\bnum\b.*line 1$/); // tagged with the profile name
    } finally {
      server.close();
    }
  });

  it('lifecycle with any logger: started first, kept by `stop NAME`, restarted alone on a log/ change, stopped after the service, pipe removed', async () => {
    const out = join(box.root, 'logged');
    const dir = box.profile('web', {
      run: sh('echo "hello $PROCLAUNCH_TAG"; echo "oops" >&2; exec sleep 1000'),
      restart: '',
      // cat writes what it reads at once: the logger's file shows what went through the pipe.
      'log/run': sh(`echo "logger $PROCLAUNCH_TAG of $PROCLAUNCH_PROFILE up" >&2; exec cat >> ${out}`),
    });
    await box.startReady();
    const logger = await box.runningPid('web:log');
    const service = await box.runningPid('web');
    expect(box.lines().findIndex((l) => l.tag === 'web:log' && l.message.startsWith('started pid')))
      .toBeLessThan(box.lines().findIndex((l) => l.tag === 'web' && l.message.startsWith('started pid')));
    await waitFor('output through the pipe', () => existsSync(out) && readFileSync(out, 'utf8') === 'hello web\noops\n');
    expect(statSync(join(box.stateDir, 'pipes', 'web')).isFIFO()).toBe(true);
    // The logger's own output goes to its own file; the service has none.
    expect(box.serviceLog('web:log')).toBe('logger web:log of web up\n');
    expect(box.serviceLog('web')).toBe('');

    const status = JSON.parse((await box.cli('status', '--json')).stdout);
    expect(status.map((s: { name: string; state: string; pid: number }) => [s.name, s.state, s.pid])).toEqual([['web', 'running', service], ['web:log', 'running', logger]]);
    const ps = await box.cli('ps', '-o', 'profile,pid');
    expect(ps.stdout).toMatch(new RegExp(`^web:log +${logger}$`, 'm'));
    const logs = await box.cli('logs', 'web');
    expect(logs.code).toBe(1);
    expect(logs.stderr).toContain('its output goes to its logger web:log (log/run)');

    // A change to log/ restarts the logger only (renamed in whole: an empty LEVEL read first would be a restart more).
    box.replace(join(dir, 'log', 'env', 'LEVEL'), 'debug');
    const logger2 = await box.runningPid('web:log', 2);
    expect(alive(service)).toBe(true);
    expect(box.count('web', /^started pid/)).toBe(1);
    expect(environOf(logger2)).toContain('LEVEL=debug');

    // `stop web` keeps its logger (runit: `sv down web` leaves web/log up).
    expect((await box.cli('stop', 'web')).code).toBe(0);
    expect(alive(logger2)).toBe(true);
    expect((await box.cli('start', 'web')).code).toBe(0);
    const service2 = await box.runningPid('web', 2);
    await waitFor('second hello', () => readFileSync(out, 'utf8') === 'hello web\noops\n'.repeat(2));

    // Removed: the service stops first, then its logger, then the pipe goes. At once: rm -r seen half-way
    // (log/ gone, run still there) is another story, "log/ removed", which stops the logger first.
    box.remove(dir);
    await box.waitLog('web:log', new RegExp(`^stopped pid ${logger2}$`));
    const lines = box.lines();
    expect(lines.findIndex((l) => l.tag === 'web' && l.message === `stopped pid ${service2}`))
      .toBeLessThan(lines.findLastIndex((l) => l.tag === 'web:log' && l.message.startsWith('stopping pid')));
    await waitFor('pipe removed', () => !existsSync(join(box.stateDir, 'pipes', 'web')));
    expect(box.processes()).toEqual([]);
  });

  it('instances share one logger; removing log/ sends the output back to files and stops the logger', async () => {
    const out = join(box.root, 'logged');
    const dir = box.profile('worker', {
      run: sh('echo "hello $PROCLAUNCH_TAG"; exec sleep 1000'),
      restart: '',
      instances: '2',
      'log/run': sh(`exec cat >> ${out}`),
    });
    await box.startReady();
    await Promise.all(['worker:log', 'worker@1', 'worker@2'].map((t) => box.runningPid(t)));
    await waitFor('both instances logged', () => existsSync(out) && readFileSync(out, 'utf8').split('\n').sort().join(' ') === ' hello worker@1 hello worker@2');
    expect(JSON.parse((await box.cli('status', '--json')).stdout).map((s: { name: string }) => s.name)).toEqual(['worker:log', 'worker@1', 'worker@2']);

    box.remove(join(dir, 'log')); // at once: log/ seen without its run would make the profile invalid
    await box.waitLog('worker:log', /^stopped pid \d+$/);
    await Promise.all(['worker@1', 'worker@2'].map((t) => box.runningPid(t, 2)));
    await waitFor('back to files', () => box.serviceLog('worker@1') === 'hello worker@1\n' && box.serviceLog('worker@2') === 'hello worker@2\n');
    await waitFor('pipe removed', () => !existsSync(join(box.stateDir, 'pipes', 'worker')));
  });

  it('an unusable log/ makes the profile invalid, with the reason', async () => {
    box.profile('web', { run: sh('exec sleep 1000'), restart: '', 'log/run': { content: sh('exec cat'), mode: 0o644 } });
    box.profile('both', { run: sh('exec sleep 1000'), stdout: 'out.txt', 'log/run': sh('exec cat') });
    await box.startReady();
    await waitFor('invalid', () => box.lines().filter((l) => l.message.startsWith('profile invalid: ')).length === 2, { timeoutMs: 5000 });
    expect(box.logText()).toContain('profile invalid: web: log/: run is not executable (chmod +x run)');
    expect(box.logText()).toContain('profile invalid: both: stdout and log/ both say where the output goes; remove one');
  });
});
