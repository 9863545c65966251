// The inotify watch limit, hit at the libc boundary: a tiny LD_PRELOAD shim
// makes inotify_add_watch fail with ENOSPC after a few watches, as the kernel
// does at fs.inotify.max_user_watches. (Lowering the sysctl itself, even in a
// user namespace, changed the limit for the whole machine on one kernel.)
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sandbox, sh } from '../support/sandbox.js';

let box: Sandbox;
let shim = '';
beforeEach(() => {
  box = new Sandbox();
  shim = join(box.root, 'enospc.so');
});
afterEach(async () => {
  await box.cleanup();
});

const compiler = spawnSync('cc', ['--version']).status === 0;

describe.skipIf(!compiler)('inotify watch limit reached', () => {
  it('logs one ERROR naming the sysctl and keeps picking up profiles by rescanning', async () => {
    const built = spawnSync('cc', ['-shared', '-fPIC', '-o', shim, join(import.meta.dirname, '../support/enospc.c'), '-ldl'], { encoding: 'utf8' });
    expect(built.stderr).toBe('');
    for (const name of ['a', 'b', 'c', 'd']) box.profile(name, { run: sh('exec sleep 1000') });
    box.start([], { env: { LD_PRELOAD: shim, ENOSPC_AFTER: '2' } });
    await box.waitLog('proclaunch', /^cannot watch .*: the inotify watch limit is reached \(ENOSPC\); raise it with `sysctl fs\.inotify\.max_user_watches=524288`; until restarted, rescanning every 5s instead$/);
    for (const name of ['a', 'b', 'c', 'd']) await box.runningPid(name);
    box.profile('late', { run: sh('exec sleep 1000') });
    await box.runningPid('late', 1, 15_000); // found by the fallback rescan, every 5 s
    expect(box.lines().filter((l) => l.level === 'ERROR')).toHaveLength(1);
    expect(box.supervisor!.exitCode).toBeNull();
  });
});
