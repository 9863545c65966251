// The native module (native/): pidfd exit watching, reaping one
// pid, and posix_spawn (src/process/native-spawn.ts).
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadNative, nativeUnavailableReason } from '../src/process/native.js';
import { spawnChild, spawnNative } from '../src/process/native-spawn.js';
import { isAlive } from '../src/process/proc.js';
import { waitFor } from './support/wait.js';

const native = loadNative();
const skipReason = native ? '' : ` (SKIPPED: ${nativeUnavailableReason()}; build it with npm run install)`;

/** A process that is not our child: a background sleep of a shell that has exited. */
function orphanSleep(seconds = 30): number {
  const pid = Number(execFileSync('sh', ['-c', `sleep ${seconds} </dev/null >/dev/null 2>&1 & echo $!`], { encoding: 'utf8' }).trim());
  expect(pid).toBeGreaterThan(1);
  return pid;
}

const openFds = (): number => readdirSync('/proc/self/fd').length;

const pids: number[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

describe('loadNative', () => {
  it('returns null, with a reason, when PROCLAUNCH_NO_NATIVE=1 (loads from dist/ as the CLI does)', () => {
    const script = `import { loadNative, nativeUnavailableReason } from ${JSON.stringify(resolve('dist/process/native.js'))};
      console.log(JSON.stringify([loadNative() === null, nativeUnavailableReason()]));`;
    const run = (env: NodeJS.ProcessEnv) =>
      JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } })) as [boolean, string | null];
    expect(run({ PROCLAUNCH_NO_NATIVE: '1' })).toEqual([true, 'PROCLAUNCH_NO_NATIVE=1 is set']);
    if (native) expect(run({ PROCLAUNCH_NO_NATIVE: '' })).toEqual([false, null]);
  });
});

describe.skipIf(!native)(`native module${skipReason}`, () => {
  const n = native!;

  it('works here: pidfd_open is available', () => {
    expect(n.pidfdProblem).toBeNull();
    expect(n.pidfd).toBe(true);
  });

  it('watchExit fires once when a process that is not our child dies', async () => {
    const pid = orphanSleep();
    pids.push(pid);
    const calls: unknown[][] = [];
    const cancel = n.watchExit(pid, (...args) => calls.push(args));
    expect(cancel).toBeTypeOf('function');
    expect(calls).toEqual([]);
    process.kill(pid, 'SIGKILL');
    await waitFor('the pidfd callback', () => calls.length > 0);
    expect(calls).toEqual([[]]); // no error argument
    cancel!(); // after firing: harmless
    expect(calls.length).toBe(1);
  });

  it('watchExit fires for a detached child of ours too (Node reaps it; the pidfd still tells)', async () => {
    const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    children.push(child);
    const exited = new Promise((done) => child.once('exit', done));
    let fired = 0;
    n.watchExit(child.pid!, () => fired++);
    child.kill('SIGTERM');
    await exited;
    await waitFor('the pidfd callback', () => fired > 0);
    expect(fired).toBe(1);
  });

  it('runs the callback in a proper callback scope: microtasks and nextTicks run after it', async () => {
    const pid = orphanSleep();
    pids.push(pid);
    const order: string[] = [];
    n.watchExit(pid, () => {
      process.nextTick(() => order.push('tick'));
      void Promise.resolve().then(() => order.push('microtask'));
      order.push('callback');
      setImmediate(() => order.push('immediate'));
    });
    process.kill(pid, 'SIGKILL');
    await waitFor('the callback and what it queued', () => order.length === 4);
    expect(order).toEqual(['callback', 'tick', 'microtask', 'immediate']);
  });

  it('cancel closes the pidfd at once, and the callback never runs', async () => {
    const pid = orphanSleep();
    pids.push(pid);
    const before = openFds();
    let cancelled = 0;
    let sentinel = 0;
    const cancel = n.watchExit(pid, () => cancelled++)!;
    expect(openFds()).toBe(before + 1);
    cancel();
    expect(openFds()).toBe(before);
    cancel(); // twice: harmless
    // A second watch on the same pid: when it fires, the first would have too.
    n.watchExit(pid, () => sentinel++);
    process.kill(pid, 'SIGKILL');
    await waitFor('the sentinel watch', () => sentinel > 0);
    await new Promise((done) => setImmediate(done));
    expect(cancelled).toBe(0);
    expect(openFds()).toBe(before); // the fired watch closed its fd too
  });

  it('does not leak fds over many watches', async () => {
    const pid = orphanSleep();
    pids.push(pid);
    const before = openFds();
    for (let i = 0; i < 500; i++) n.watchExit(pid, () => {})!();
    expect(openFds()).toBe(before);
  });

  it('returns null for a pid that does not exist (ESRCH): already gone', () => {
    const dead = spawnSync('true').pid!;
    expect(n.watchExit(dead, () => {})).toBeNull();
  });

  it('refuses what is not a pid', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 40]) expect(() => n.watchExit(bad, () => {})).toThrow(/pid must be an integer > 0/);
    expect(() => n.watchExit(process.pid, 'nope' as never)).toThrow(TypeError);
  });

  it('reap returns null for a process that is not our child, and for a running child', () => {
    const pid = orphanSleep();
    pids.push(pid);
    expect(n.reap(pid)).toBeNull(); // ECHILD
    expect(n.reap(1)).toBeNull();
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(child);
    expect(n.reap(child.pid!)).toBeNull(); // running: WNOHANG
    expect(isAlive({ pid: child.pid!, startTime: null })).toBe(true);
  });

  it('reap never waits for "any child" or a process group', () => {
    for (const bad of [0, -1, -process.pid]) expect(() => n.reap(bad)).toThrow(/pid must be an integer > 0/);
  });

  it('knows whether we are a subreaper (the test worker is not)', () => {
    expect(n.isChildSubreaper()).toBe(false);
  });
});

/** The fields of /proc/PID/stat after the command name: [state, ppid, pgrp, session, ...]. */
const statOf = (pid: number): string[] => {
  const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
};
const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1');
  } catch {
    return '';
  }
};
const statusField = (pid: number, name: string): string | undefined =>
  new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];

/** A node process running `script` (an ES module) against the built code in dist/, as the CLI does. */
function runScript(script: string, options: { stdio?: ('ignore' | 'pipe' | 'inherit' | number)[]; env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    stdio: options.stdio ?? ['ignore', 'pipe', 'inherit'],
    env: options.env ?? process.env,
    timeout: 20_000,
  });
}
const dist = (path: string): string => JSON.stringify(resolve('dist/process', path));

const spawnSkip = !native ? skipReason : native.canSpawn ? '' : ' (SKIPPED: built without posix_spawn: glibc < 2.29)';

describe.skipIf(!native?.canSpawn)(`native spawn${spawnSkip}`, () => {
  const n = native!;
  let dir: string;
  beforeEach(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'proclaunch-native-spawn-')));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const output = (name: string): number => openSync(join(dir, name), 'a', 0o640);
  /** As spawnService starts a service: detached, stdin ignored, stdout and stderr to O_APPEND files. */
  function start(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; stdio?: ('ignore' | number)[] } = {}): ChildProcess {
    const out = output('out.log');
    const err = output('err.log');
    try {
      const child = spawnNative(n, command, args, { cwd: dir, detached: true, stdio: options.stdio ?? ['ignore', out, err], env: options.env ?? process.env });
      children.push(child);
      return child;
    } finally {
      closeSync(out);
      closeSync(err);
    }
  }
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
  /** The error event, and whether `spawn` or `exit` came too (they must not). */
  async function failure(child: ChildProcess): Promise<{ error: NodeJS.ErrnoException; others: string[] }> {
    const others: string[] = [];
    child.once('spawn', () => others.push('spawn'));
    child.once('exit', () => others.push('exit'));
    const [error] = (await once(child, 'error')) as [NodeJS.ErrnoException];
    // No pid: no process whose exit could come later. What the failed start queued (nextTick, setImmediate) has run by the next turn of the loop.
    expect(child.pid).toBeUndefined();
    await new Promise((done) => setImmediate(done));
    return { error, others };
  }

  it('starts the child as Node\'s detached spawn does: own session, cwd, env, stdio, default signals, no other fd', async () => {
    const child = start('sh', ['-c', 'echo to-out; echo to-err >&2; exec sleep 30'], { env: { PATH: process.env.PATH, MARK: 'native 42' } });
    expect(child).not.toBeInstanceOf(ChildProcess); // really the native one
    await once(child, 'spawn');
    const pid = child.pid!;
    expect(pid).toBeGreaterThan(1);
    await waitFor('sh to exec sleep', () => cmdline(pid) === 'sleep\0' + '30\0');
    const [state, ppid, pgrp, session] = statOf(pid);
    expect(state).not.toBe('Z');
    expect(Number(ppid)).toBe(process.pid);
    expect(Number(pgrp)).toBe(pid); // its own process group...
    expect(Number(session)).toBe(pid); // ...in its own session
    expect(readlinkSync(`/proc/${pid}/cwd`)).toBe(dir);
    // What sh exec'd sleep with: ours, plus the PWD sh exports.
    expect(readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').filter(Boolean).sort()).toEqual(['MARK=native 42', `PATH=${process.env.PATH}`, `PWD=${dir}`]);
    // Node ignores SIGPIPE and SIGXFSZ; the child starts with every signal at its default, none blocked.
    expect(statusField(process.pid, 'SigIgn')).not.toBe('0000000000000000');
    expect(statusField(pid, 'SigIgn')).toBe('0000000000000000');
    expect(statusField(pid, 'SigBlk')).toBe('0000000000000000');
    expect(readdirSync(`/proc/${pid}/fd`).sort()).toEqual(['0', '1', '2']);
    expect(readlinkSync(`/proc/${pid}/fd/0`)).toBe('/dev/null');
    expect(readlinkSync(`/proc/${pid}/fd/1`)).toBe(join(dir, 'out.log'));
    expect(readlinkSync(`/proc/${pid}/fd/2`)).toBe(join(dir, 'err.log'));
    await waitFor('the output', () => read('out.log') === 'to-out\n' && read('err.log') === 'to-err\n');
  });

  it('reports the exit code, and leaves no zombie', async () => {
    const child = start('sh', ['-c', 'exit 7']);
    const events: string[] = [];
    for (const name of ['spawn', 'exit', 'close']) child.once(name, () => events.push(name));
    const [code, signal] = await once(child, 'close');
    expect([code, signal]).toEqual([7, null]);
    expect([child.exitCode, child.signalCode]).toEqual([7, null]);
    expect(events).toEqual(['spawn', 'exit', 'close']);
    expect(existsSync(`/proc/${child.pid}`)).toBe(false); // reaped
    expect(child.kill()).toBe(false); // gone: never signal a pid that may be reused
  });

  it('reports the signal that killed it, by name', async () => {
    const child = start('sleep', ['30']);
    await once(child, 'spawn');
    expect(child.kill('SIGTERM')).toBe(true);
    expect(child.killed).toBe(true);
    expect(await once(child, 'exit')).toEqual([null, 'SIGTERM']);
    expect(child.signalCode).toBe('SIGTERM');
    expect(existsSync(`/proc/${child.pid}`)).toBe(false);
  });

  it('reports what cannot be executed as Node does: an error event with .code and .path, no pid, no spawn or exit', async () => {
    const missing = await failure(start('/no/such/run', ['a']));
    expect(missing.error).toMatchObject({ code: 'ENOENT', errno: -2, path: '/no/such/run', syscall: 'spawn /no/such/run', spawnargs: ['a'] });
    expect(missing.error.message).toBe('spawn /no/such/run ENOENT');
    expect(missing.others).toEqual([]);

    const notInPath = start('proclaunch-no-such-command', []);
    expect(notInPath.pid).toBeUndefined();
    expect((await failure(notInPath)).error).toMatchObject({ code: 'ENOENT', path: 'proclaunch-no-such-command' });

    writeFileSync(join(dir, 'not-executable'), '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    const denied = await failure(start(join(dir, 'not-executable'), []));
    expect(denied.error).toMatchObject({ code: 'EACCES', errno: -13, path: join(dir, 'not-executable') });
    expect(denied.others).toEqual([]);

    writeFileSync(join(dir, 'bad-interpreter'), '#!/no/such/interpreter\nexit 0\n', { mode: 0o755 });
    expect((await failure(start(join(dir, 'bad-interpreter'), []))).error).toMatchObject({ code: 'ENOENT' });

    mkdirSync(join(dir, 'a-directory'));
    expect((await failure(start(join(dir, 'a-directory'), []))).error).toMatchObject({ code: 'EACCES' });
  });

  it('runs a script without #! with /bin/sh, and finds commands in the child\'s PATH, as Node (execvp) does', async () => {
    writeFileSync(join(dir, 'no-shebang'), 'echo "via sh: $0 $1"\n', { mode: 0o755 });
    const script = start(join(dir, 'no-shebang'), ['arg']);
    expect(await once(script, 'exit')).toEqual([0, null]);
    expect(read('out.log')).toBe(`via sh: ${join(dir, 'no-shebang')} arg\n`);

    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin', 'proclaunch-test-cmd'), '#!/bin/sh\necho found\n', { mode: 0o755 });
    const found = start('proclaunch-test-cmd', [], { env: { PATH: `/no/such/dir:${join(dir, 'bin')}` } });
    expect(await once(found, 'exit')).toEqual([0, null]);
    expect(read('out.log')).toContain('found\n');
  });

  it('takes stdin from an fd too, and fds 0-2 of ours as sources', async () => {
    writeFileSync(join(dir, 'in.txt'), 'from stdin\n');
    const input = openSync(join(dir, 'in.txt'), 'r');
    const out = output('cat.log');
    try {
      const child = start('cat', [], { stdio: [input, out, out] });
      expect(await once(child, 'exit')).toEqual([0, null]);
    } finally {
      closeSync(input);
      closeSync(out);
    }
    expect(read('cat.log')).toBe('from stdin\n');
  });

  it('libuv and the native spawn each get their own children\'s exits (neither steals the other\'s)', async () => {
    const viaNode = [...Array(8).keys()].map((i) => spawn('sh', ['-c', `sleep 0.0${i}; exit ${i}`], { stdio: 'ignore' }));
    const viaNative = [...Array(8).keys()].map((i) => start('sh', ['-c', `sleep 0.0${i}; exit ${10 + i}`]));
    children.push(...viaNode);
    const codes = await Promise.all([...viaNode, ...viaNative].map((child) => once(child, 'exit').then(([code]) => code)));
    expect(codes).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17]);
  });

  it('spawnChild starts natively what it can, and leaves the rest to Node', async () => {
    const out = output('out.log');
    try {
      const native = spawnChild('true', [], { cwd: dir, detached: true, stdio: ['ignore', out, out], env: process.env });
      const node = spawnChild('true', [], { stdio: 'ignore' });
      const notDetached = spawnChild('true', [], { stdio: ['ignore', out, out] });
      expect(native).not.toBeInstanceOf(ChildProcess);
      expect(node).toBeInstanceOf(ChildProcess);
      expect(notDetached).toBeInstanceOf(ChildProcess);
      await Promise.all([native, node, notDetached].map((child) => once(child, 'exit')));
    } finally {
      closeSync(out);
    }
  });

  it('closes every other fd in the child, even one we got without FD_CLOEXEC; keeps the event loop alive until exit', () => {
    // fd 3 of the node below is inherited from this test without FD_CLOEXEC; its stdout and stderr (1, 2) are the child's.
    const leak = output('leak.log');
    try {
      const script = `
        import { loadNative } from ${dist('native.js')};
        import { spawnNative } from ${dist('native-spawn.js')};
        const child = spawnNative(loadNative(), 'sh', ['-c', 'ls /proc/$$/fd; sleep 0.2'], { detached: true, stdio: ['ignore', 1, 2], env: process.env });
        child.on('exit', (code, signal) => console.log('exit', code, signal));`;
      // No timer and no listener of ours in that node: only the watch keeps it alive until the exit.
      expect(runScript(script, { stdio: ['ignore', 'pipe', 'inherit', leak] })).toBe('0\n1\n2\nexit 0 null\n');
    } finally {
      closeSync(leak);
    }
  });

  it('unref() lets the event loop end while the child runs', () => {
    const script = `
      import { loadNative } from ${dist('native.js')};
      import { spawnNative } from ${dist('native-spawn.js')};
      const child = spawnNative(loadNative(), 'sleep', ['30'], { detached: true, stdio: ['ignore', 'ignore', 'ignore'], env: process.env });
      child.unref();
      console.log(child.pid);`;
    const started = Date.now();
    const pid = Number(runScript(script).trim());
    pids.push(pid);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(cmdline(pid)).toBe('sleep\0' + '30\0');
  });

  it('the orphan reaper leaves a tracked native child to its pidfd watch, which gets its status', () => {
    // In a node of its own: it becomes a subreaper.
    const script = `
      import { readFileSync } from 'node:fs';
      import { loadNative } from ${dist('native.js')};
      import { spawnNative } from ${dist('native-spawn.js')};
      import { startReaper, trackChild, trackedChildren } from ${dist('reaper.js')};
      const native = loadNative();
      const reaped = [];
      const reaper = startReaper({ native, ourChildren: () => trackedChildren, onReaped: (pid) => reaped.push(pid) });
      const child = spawnNative(native, 'sh', ['-c', 'exit 5'], { detached: true, stdio: ['ignore', 'ignore', 'ignore'], env: process.env });
      trackChild(child);
      const state = () => { try { const s = readFileSync('/proc/' + child.pid + '/stat', 'latin1'); return s.slice(s.lastIndexOf(')') + 2).split(' ')[0]; } catch { return 'gone'; } };
      // Without turning the event loop (so before the pidfd callback can run): until it is a zombie, then a scan.
      const pause = new Int32Array(new SharedArrayBuffer(4));
      for (const deadline = Date.now() + 5000; state() !== 'Z' && Date.now() < deadline; ) Atomics.wait(pause, 0, 0, 1);
      const before = state();
      const scanned = reaper.scan();
      child.on('exit', (code, signal) => {
        reaper.stop();
        console.log(JSON.stringify({ before, scanned, code, signal, reaped, tracked: trackedChildren.size, after: state() }));
      });`;
    expect(JSON.parse(runScript(script))).toEqual({ before: 'Z', scanned: 0, code: 5, signal: null, reaped: [], tracked: 0, after: 'gone' });
  });

  it('out of fds for a pidfd, it still reports the exit (reaped on SIGCHLD instead)', () => {
    // A node limited to 64 fds that uses them all up, then starts a child: pidfd_open fails with EMFILE.
    const script = `
      import { openSync } from 'node:fs';
      import { loadNative } from ${dist('native.js')};
      import { spawnNative } from ${dist('native-spawn.js')};
      const native = loadNative(); // loaded while there are fds
      const held = [];
      try { for (;;) held.push(openSync('/dev/null', 'r')); } catch (error) { if (error.code !== 'EMFILE') throw error; }
      const child = spawnNative(native, 'sh', ['-c', 'sleep 0.1; exit 3'], { detached: true, stdio: ['ignore', 'ignore', 'ignore'], env: process.env });
      child.on('error', (error) => console.log('error', error.code));
      const timer = setTimeout(() => {}, 10_000); // the SIGCHLD fallback does not keep the event loop alive by itself
      child.on('exit', (code, signal) => { console.log('exit', code, signal, held.length > 0); clearTimeout(timer); });`;
    const out = execFileSync('prlimit', ['--nofile=64', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(out).toBe('exit 3 null true\n');
  });

  it('refuses what is not a string, an fd or an array of strings', () => {
    const b = n as unknown as { spawn(request: unknown): number };
    expect(() => b.spawn({ file: 'x', argv: [], envp: [], cwd: null, stdin: null, stdout: null, stderr: null })).toThrow(/argv must not be empty/);
    expect(() => b.spawn({ file: 'x', argv: ['x', 1], envp: [], cwd: null, stdin: null, stdout: null, stderr: null })).toThrow(TypeError);
    expect(() => b.spawn({ file: 'x', argv: ['x'], envp: [], cwd: null, stdin: -2, stdout: null, stderr: null })).toThrow(/fds/);
    expect(() => spawnNative(n, 'true', ['a\0b'], { detached: true, stdio: ['ignore', 'ignore', 'ignore'] })).toThrow(/null bytes/);
    expect(() => spawnNative(n, 'true', [], { stdio: 'pipe' })).toThrow(/only/);
  });

  it('an fd that is not open is EBADF, as an error event', async () => {
    const { error } = await failure(spawnNative(n, 'true', [], { detached: true, stdio: ['ignore', 987_654, 'ignore'] }));
    expect(error).toMatchObject({ code: 'EBADF' });
  });
});
