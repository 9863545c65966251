// proclaunch as PID 1 (a container's entrypoint), for real: in a new pid
// namespace. A service that leaves 1,000 orphans behind leaves no zombie.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadNative } from '../../src/process/native.js';
import { CLI, Sandbox, sh } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

const canUnshare = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(async () => {
  await box.cleanup();
});

const childrenOf = (pid: number): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
};
const isZombie = (pid: number): boolean => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.startsWith('Z');
  } catch {
    return false;
  }
};

describe.skipIf(!canUnshare || !loadNative())('as PID 1', () => {
  it('reaps every orphan a service leaves behind, and stops everything on SIGTERM', async () => {
    box.profile('messy', { run: sh('(for i in $(seq 1000); do sleep 0.5 & done); echo spawned; exec sleep 1000'), restart: '' });
    const unshare = spawn('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, CLI, 'supervise', '--foreground', '--log-path', box.logPath, box.stateDir, box.profilesDir], { stdio: 'ignore' });
    box.supervisor = unshare;
    await box.waitLog('proclaunch', /^reaping orphans \(running as PID 1\)$/);
    const supervisor = await waitFor('the supervisor (PID 1 inside)', () => childrenOf(unshare.pid!)[0]);
    await waitFor('the orphans spawned', () => box.serviceLog('messy').includes('spawned'));
    // Every orphan was reparented to the supervisor; once they exit, none may stay a zombie.
    await waitFor('only the service left, no zombie', () => {
      const children = childrenOf(supervisor);
      return children.length === 1 && !children.some(isZombie);
    });
    expect(box.lines().filter((l) => l.level === 'ERROR' || l.level === 'WARN')).toEqual([]);
    // PID 1 ignores signals it has no handler for: ours has one.
    process.kill(supervisor, 'SIGTERM');
    await waitFor('supervisor exit', () => unshare.exitCode !== null);
    expect(unshare.exitCode).toBe(0);
    await box.waitLog('messy', /^stopped pid \d+$/);
  });
});
