// PidWatcher, in both modes: pidfds (the native module) and /proc polling.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNative, nativeUnavailableReason, type Native } from '../src/process/native.js';
import { PidWatcher } from '../src/process/pid-watch.js';
import { isAlive, procRef } from '../src/process/proc.js';
import type { ProcRef } from '../src/vocabulary/proc-ref.js';
import { waitFor } from './support/wait.js';

const native = loadNative();

/** A process that is not our child (a background sleep of a shell that has exited), as a ProcRef. */
function orphan(): ProcRef {
  const pid = Number(execFileSync('sh', ['-c', 'sleep 30 </dev/null >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' }).trim());
  pids.push(pid);
  const ref = procRef(pid);
  expect(ref).not.toBeNull();
  return ref!;
}

const timerOf = (watcher: PidWatcher) => (watcher as unknown as { timer: NodeJS.Timeout | null }).timer;
const openFds = (): number => readdirSync('/proc/self/fd').length;

const pids: number[] = [];
afterEach(() => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

const modes: Array<[mode: 'pidfd' | 'polling', native: Native | null, skip: boolean]> = [
  ['pidfd', native, !native?.pidfd],
  ['polling', null, false],
];

describe('PidWatcher.mode', () => {
  it(`is pidfd by default when the native module is built${native ? '' : ` (it is not: ${nativeUnavailableReason()})`}`, () => {
    const watcher = new PidWatcher();
    expect(watcher.mode).toBe(native?.pidfd ? 'pidfd' : 'polling');
    expect(watcher.pollingReason === null).toBe(watcher.mode === 'pidfd');
  });

  it('polls, and says why, when given no native module', () => {
    const watcher = new PidWatcher(250, null);
    expect(watcher.mode).toBe('polling');
    expect(watcher.pollingReason).toBeTruthy();
  });
});

for (const [mode, given, skip] of modes) {
  describe.skipIf(skip)(`PidWatcher in ${mode} mode${skip ? ' (SKIPPED: the native module is not built or pidfds do not work here)' : ''}`, () => {
    const make = () => {
      const watcher = new PidWatcher(20, given);
      expect(watcher.mode).toBe(mode);
      return watcher;
    };

    it('notices the death of a process that is not our child, once', async () => {
      const watcher = make();
      const ref = orphan();
      let exits = 0;
      watcher.watch(ref, () => exits++);
      expect(watcher.size).toBe(1);
      expect(timerOf(watcher) !== null).toBe(mode === 'polling'); // pidfd mode: no timer at all
      process.kill(ref.pid, 'SIGKILL');
      await waitFor('the death noticed', () => exits > 0);
      expect(watcher.size).toBe(0);
      expect(timerOf(watcher)).toBeNull();
      expect(exits).toBe(1);
    });

    it('fires at once (in a microtask) for a live pid whose start time is not the one recorded: a reused pid', async () => {
      const watcher = make();
      const ref = orphan();
      const fds = openFds();
      let exits = 0;
      watcher.watch({ ...ref, startTime: ref.startTime! - 1 }, () => exits++);
      expect(exits).toBe(0);
      await Promise.resolve();
      expect(exits).toBe(1);
      expect(watcher.size).toBe(0);
      expect(timerOf(watcher)).toBeNull();
      expect(openFds()).toBe(fds);
      expect(isAlive(ref)).toBe(true);
    });

    it('fires at once for a pid that is gone', async () => {
      const watcher = make();
      const pid = spawnSync('true').pid!;
      let exits = 0;
      watcher.watch({ pid, startTime: null, pgid: pid }, () => exits++);
      await Promise.resolve();
      expect(exits).toBe(1);
      expect(watcher.size).toBe(0);
    });

    it('does not call onExit after unwatch, and releases its timer or pidfd', async () => {
      const watcher = make();
      const ref = orphan();
      const other = orphan();
      const fds = openFds();
      let exits = 0;
      let otherExits = 0;
      const unwatch = watcher.watch(ref, () => exits++);
      watcher.watch(other, () => otherExits++);
      expect(openFds()).toBe(fds + (mode === 'pidfd' ? 2 : 0));
      unwatch();
      unwatch(); // twice: harmless
      expect(watcher.size).toBe(1);
      expect(openFds()).toBe(fds + (mode === 'pidfd' ? 1 : 0));
      process.kill(ref.pid, 'SIGKILL');
      process.kill(other.pid, 'SIGKILL');
      // Both died at once: when the other one is noticed, the unwatched one would have been too.
      await waitFor('the other death noticed', () => otherExits > 0);
      await new Promise((done) => setImmediate(done));
      expect(exits).toBe(0);
      expect(watcher.size).toBe(0);
      expect(timerOf(watcher)).toBeNull();
      expect(openFds()).toBe(fds);
    });

    it('tells every watcher of the same pid', async () => {
      const watcher = make();
      const ref = orphan();
      const told: string[] = [];
      watcher.watch(ref, () => told.push('a'));
      watcher.watch(ref, () => told.push('b'));
      expect(watcher.size).toBe(2);
      process.kill(ref.pid, 'SIGKILL');
      await waitFor('both told', () => told.length === 2);
      expect(told.sort()).toEqual(['a', 'b']);
    });

    it('keeps watching the others when one exits', async () => {
      const watcher = make();
      const a = orphan();
      const b = orphan();
      const exited: number[] = [];
      watcher.watch(a, () => exited.push(a.pid));
      const unwatchB = watcher.watch(b, () => exited.push(b.pid));
      process.kill(a.pid, 'SIGKILL');
      await waitFor('the death noticed', () => exited.length > 0);
      expect(exited).toEqual([a.pid]);
      expect(watcher.size).toBe(1);
      expect(timerOf(watcher) !== null).toBe(mode === 'polling');
      unwatchB();
      expect(watcher.size).toBe(0);
      expect(timerOf(watcher)).toBeNull();
    });
  });
}

describe.skipIf(!native?.pidfd)('PidWatcher in pidfd mode, when a pidfd cannot be had', () => {
  it('polls that one pid instead (e.g. EMFILE)', async () => {
    const failing: Native = {
      ...native!,
      watchExit: () => {
        throw Object.assign(new Error('pidfd_open: Too many open files'), { code: 'EMFILE' });
      },
    };
    const watcher = new PidWatcher(20, failing);
    expect(watcher.mode).toBe('pidfd');
    const ref = orphan();
    let exits = 0;
    watcher.watch(ref, () => exits++);
    expect(timerOf(watcher)).not.toBeNull();
    process.kill(ref.pid, 'SIGKILL');
    await waitFor('the death noticed by polling', () => exits > 0);
    expect(timerOf(watcher)).toBeNull();
  });

  it('polls a pid whose pidfd reported an error, rather than call it dead', async () => {
    let report: ((error?: Error) => void) | null = null;
    const erring: Native = {
      ...native!,
      watchExit: (_pid, onExit) => {
        report = onExit;
        return () => {};
      },
    };
    const watcher = new PidWatcher(20, erring);
    const ref = orphan();
    let exits = 0;
    watcher.watch(ref, () => exits++);
    expect(timerOf(watcher)).toBeNull();
    report!(Object.assign(new Error('EBADF'), { code: 'EBADF' }));
    expect(exits).toBe(0);
    expect(timerOf(watcher)).not.toBeNull();
    process.kill(ref.pid, 'SIGKILL');
    await waitFor('the death noticed by polling', () => exits > 0);
  });
});
