// The native module (native/proclaunch.c): pidfd exit watching and reaping one pid.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNative, nativeUnavailableReason } from '../src/process/native.js';
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
    await waitFor('the pidfd callback', () => calls.length > 0, { timeoutMs: 3000 });
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
    await waitFor('the pidfd callback', () => fired > 0, { timeoutMs: 3000 });
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
    await waitFor('the callback and what it queued', () => order.length === 4, { timeoutMs: 3000 });
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
    await waitFor('the sentinel watch', () => sentinel > 0, { timeoutMs: 3000 });
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
