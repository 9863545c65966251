// The readiness effects as the machine will use them (src/process/readiness-effects.ts):
// prepareReadiness before spawnService, then the callback actors, with real services.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createActor, createMachine } from 'xstate';
import { notifyIdPath, notifySupport } from '../src/process/notify.js';
import { awaitReadyFd, holdReadiness, listenNotify, prepareReadiness, probeHealth, readinessActors, releaseReadiness, type ReadinessEvent, type ReadinessFiles } from '../src/process/readiness-effects.js';
import { readyFdPath } from '../src/process/ready-fd.js';
import { spawnService } from '../src/process/spawn.js';
import { serviceConfig } from './support/service-config.js';
import { waitFor } from './support/wait.js';

const root = mkdtempSync(join(tmpdir(), 'proclaunch-readiness-'));
const support = notifySupport();
const notifySkip = support ? ` (SKIPPED: ${support})` : '';
const SEND = `import socket, os, sys, time
a = os.environ['NOTIFY_SOCKET']; a = '\\0' + a[1:] if a.startswith('@') else a
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for m in sys.argv[1:]:
    s.sendto(m.encode(), a) if m != 'PAUSE' else time.sleep(0.3)
time.sleep(30)
`;
writeFileSync(join(root, 'send.py'), SEND);

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).reverse().forEach((cleanup) => cleanup()));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let count = 0;
/** Spawn `sh -c SCRIPT` as a fresh run of a profile with these readiness files; its events collect in `events`. */
function run(script: string, files: Partial<ReadinessFiles>) {
  const dir = join(root, `p${++count}`);
  mkdirSync(dir);
  const stateDir = join(dir, 'state');
  const tag = `svc${count}`;
  const config = serviceConfig(dir, tag, { runPath: '/bin/sh' });
  const setup = prepareReadiness(stateDir, tag, { notificationFd: null, notify: false, watchdogMs: null, ...files });
  let child: ChildProcess;
  try {
    child = spawnService({ ...config, env: { ...config.env, ...setup.env } }, stateDir, ['-c', script], setup.extraFds);
  } finally {
    setup.close();
  }
  cleanups.push(() => releaseReadiness(stateDir, tag));
  cleanups.push(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  });
  const events: ReadinessEvent[] = [];
  return { child, config, dir, stateDir, tag, events, send: (e: ReadinessEvent) => events.push(e) };
}

describe('readiness effects', () => {
  it('notification-fd: prepareReadiness gives fd N; awaitReadyFd sends READY; a service without notify has no NOTIFY_SOCKET', async () => {
    const { child, stateDir, tag, events, send, dir } = run('echo "${NOTIFY_SOCKET-unset}" > env; echo >&5; exec sleep 30', { notificationFd: 5 });
    cleanups.push(awaitReadyFd({ stateDir, tag }, send));
    await waitFor('READY', () => events.length > 0);
    expect(events).toEqual([{ type: 'READY', via: 'notification-fd' }]);
    expect(spawnSync('cat', [join(dir, 'env')], { encoding: 'utf8' }).stdout).toBe('unset\n');
    expect(child.pid).toBeGreaterThan(1);
  });

  it.skipIf(support)(`holdReadiness (while it waits for its needs): the notify socket bound and the readiness file there before the launch; a failure is the launch's to report${notifySkip}`, () => {
    const stateDir = join(root, 'held-state');
    holdReadiness(stateDir, 'early', { notificationFd: null, notify: true, watchdogMs: null });
    holdReadiness(stateDir, 'early-fd', { notificationFd: 4, notify: false, watchdogMs: null });
    cleanups.push(() => (releaseReadiness(stateDir, 'early'), releaseReadiness(stateDir, 'early-fd')));
    expect(existsSync(notifyIdPath(stateDir, 'early'))).toBe(true);
    expect(existsSync(readyFdPath(stateDir, 'early-fd'))).toBe(true);
    // STATE_DIR is a file: nothing can be made, and nothing is thrown (prepareReadiness will say why at the launch).
    const blocked = join(root, 'not-a-dir');
    writeFileSync(blocked, '');
    expect(() => holdReadiness(blocked, 'x', { notificationFd: 4, notify: true, watchdogMs: null })).not.toThrow();
    expect(() => prepareReadiness(blocked, 'x', { notificationFd: 4, notify: true, watchdogMs: null })).toThrow();
  });

  it.skipIf(support)(`notify: READY, STATUS, RELOADING, STOPPING as events; WATCHDOG=1 keeps the watchdog quiet, silence trips it${notifySkip}`, async () => {
    const script = `echo "$WATCHDOG_USEC" > usec; exec python3 ${join(root, 'send.py')} STATUS=up READY=1 WATCHDOG=1 PAUSE PAUSE PAUSE PAUSE WATCHDOG=1 PAUSE PAUSE PAUSE PAUSE WATCHDOG=1 RELOADING=1 READY=1 STOPPING=1`;
    // Pings 1.2 s apart for 2.4 s against a 2 s watchdog (slack for a loaded machine): each ping re-arms it; then silence trips it.
    const { child, stateDir, tag, events, send, dir } = run(script, { notify: true, watchdogMs: 2000 });
    cleanups.push(listenNotify({ stateDir, tag, pid: child.pid!, uid: null, watchdogMs: 2000 }, send));
    const started = Date.now();
    await waitFor('UNHEALTHY', () => events.some((e) => e.type === 'UNHEALTHY'), { timeoutMs: 15_000 });
    expect(Date.now() - started).toBeGreaterThan(4000); // 2.4 s of pings, then 2 s of silence
    expect(events).toEqual([
      { type: 'NOTIFY_STATUS', text: 'up' },
      { type: 'READY', via: 'notify' },
      { type: 'NOTIFY_RELOADING' },
      { type: 'READY', via: 'notify' },
      { type: 'NOTIFY_STOPPING' },
      { type: 'UNHEALTHY', reason: 'no WATCHDOG=1 for watchdog_timeout 2.0s' },
    ]);
    expect(spawnSync('cat', [join(dir, 'usec')], { encoding: 'utf8' }).stdout).toBe('2000000\n');
  });

  it.skipIf(support)(`notify: ignored datagrams are reported at most 10 times a run${notifySkip}`, async () => {
    const { child, stateDir, tag, events, send } = run(`exec python3 ${join(root, 'send.py')} ${Array.from({ length: 30 }, (_, i) => `junk${i}`).join(' ')} READY=1`, { notify: true });
    cleanups.push(listenNotify({ stateDir, tag, pid: child.pid!, uid: null, watchdogMs: null }, send));
    await waitFor('READY', () => events.some((e) => e.type === 'READY'));
    const ignored = events.filter((e) => e.type === 'NOTIFY_IGNORED');
    expect(ignored).toHaveLength(10);
    expect(ignored[0]).toEqual({ type: 'NOTIFY_IGNORED', reason: 'the line "junk0" is not KEY=VALUE' });
    expect(ignored[9]).toEqual({ type: 'NOTIFY_IGNORED', reason: 'the line "junk9" is not KEY=VALUE (further ignored datagrams of this run are not reported)' });
  });

  it('health: PROBE_FAILED each failure, UNHEALTHY after retries in a row (as an actor of a machine)', async () => {
    const { config, stateDir, dir } = run('exec sleep 30', {});
    const probePath = join(dir, 'health');
    writeFileSync(probePath, '#!/bin/sh\necho "down" >&2; exit 3\n');
    chmodSync(probePath, 0o755);
    const events: ReadinessEvent[] = [];
    const machine = createMachine({
      types: {} as { events: ReadinessEvent },
      invoke: { src: 'probeHealth', input: { config, stateDir, probePath, intervalMs: 20, timeoutMs: 2000, retries: 2 } },
      on: { '*': { actions: ({ event }) => events.push(event) } },
    }).provide({ actors: { probeHealth: readinessActors.probeHealth } });
    const actor = createActor(machine).start();
    cleanups.push(() => actor.stop());
    await waitFor('UNHEALTHY', () => events.some((e) => e.type === 'UNHEALTHY'));
    expect(events).toEqual([
      { type: 'PROBE_FAILED', probe: 'health', reason: 'exited 3', output: 'down\n', inARow: 1 },
      { type: 'PROBE_FAILED', probe: 'health', reason: 'exited 3', output: 'down\n', inARow: 2 },
      { type: 'UNHEALTHY', reason: 'health failed 2 times in a row, last: exited 3' },
    ]);
    expect(probeHealth).toBeTypeOf('function');
  });
});
