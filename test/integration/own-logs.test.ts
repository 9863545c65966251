// The supervisor's own output files are bounded as a service's output is:
// STATE_DIR/hooks.log (hook output, through a drained FIFO) and a daemon's
// STATE_DIR/proclaunch.log (its log, and its stderr, which follows the
// rotation). Both use the default bound (10M, 5 kept): no option shrinks it,
// so the tests fill the files up to it, and put old rotations in place.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alive, CLI, Sandbox, sh } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';
import { OUTPUT_DEFAULTS } from '../../src/vocabulary/output.js';

const { maxBytes, keep } = OUTPUT_DEFAULTS;
let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
  mkdirSync(box.stateDir, { mode: 0o700 });
});
afterEach(async () => {
  const pidFile = join(box.stateDir, 'proclaunch.pid');
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0;
  if (pid > 1 && alive(pid)) process.kill(pid, 'SIGKILL'); // a daemon: not the sandbox's child
  await box.cleanup();
});

/** PATH.1 … PATH.keep written as earlier rotations, each saying which it was. */
function oldRotations(path: string): void {
  for (let i = 1; i <= keep; i++) writeFileSync(`${path}.${i}`, `old ${i}\n`);
}
const read = (path: string) => readFileSync(path, 'latin1');

describe('the supervisor’s own output files', () => {
  it('hooks.log: rotated at log_max_size to hooks.log.1 … hooks.log.5, every line of a hook once, in order', async () => {
    const hooksLog = join(box.stateDir, 'hooks.log');
    writeFileSync(hooksLog, 'old 0\n');
    oldRotations(hooksLog);
    const hooks = join(box.root, 'hooks');
    // 3,000,000 numbered lines, 22.9 MB: two rotations at 10 MiB.
    box.write(join(hooks, 'flood'), { content: sh('[ "$PROCLAUNCH_EVENT" = started ] || exit 0\nexec seq 1 3000000'), mode: 0o755 });
    box.profile('web', { run: sh('exec sleep 1000') });
    await box.startReady(['--hooks', hooks]);
    await waitFor('the last line in hooks.log', () => read(hooksLog).endsWith('\n3000000\n'), { timeoutMs: 30_000 });
    for (const i of [1, 2]) expect(statSync(`${hooksLog}.${i}`).size).toBeLessThanOrEqual(maxBytes);
    // What was there rotated on with it; the oldest two went; no file beyond log_keep.
    expect([3, 4, 5].map((i) => read(`${hooksLog}.${i}`))).toEqual(['old 1\n', 'old 2\n', 'old 3\n']);
    expect(existsSync(`${hooksLog}.6`)).toBe(false);
    const text = [`${hooksLog}.2`, `${hooksLog}.1`, hooksLog].map(read).join('');
    expect(text.startsWith('old 0\n1\n')).toBe(true);
    const ns = text.slice('old 0\n'.length).split('\n').slice(0, -1).map(Number);
    expect(ns).toHaveLength(3_000_000);
    expect(ns.findIndex((n, i) => n !== i + 1)).toBe(-1);
  });

  it('a daemon’s proclaunch.log: rotated at log_max_size (5 kept), and the daemon’s stderr follows it into the new file', async () => {
    const log = join(box.stateDir, 'proclaunch.log');
    // Full but for 10 bytes (whole lines): the daemon's first line does not fit.
    const filler = `${'x'.repeat(99)}\n`;
    const full = filler.repeat(Math.floor((maxBytes - 10) / 100)) + 'x'.repeat(((maxBytes - 10) % 100) - 1) + '\n';
    writeFileSync(log, full);
    oldRotations(log);
    box.profile('web', { run: sh('exec sleep 1000') });
    await promisify(execFile)(process.execPath, [CLI, box.stateDir, box.profilesDir]);
    const pid = Number(read(join(box.stateDir, 'proclaunch.pid')));
    await waitFor('web running, in the new proclaunch.log', () => / INFO web running pid \d+\n/.test(read(log)));
    expect(read(log).split('\n')[0]).toMatch(/ INFO proclaunch supervising /);
    expect(read(`${log}.1`)).toBe(full);
    expect([2, 3, 4, 5].map((i) => read(`${log}.${i}`))).toEqual(['old 1\n', 'old 2\n', 'old 3\n', 'old 4\n']);
    expect(existsSync(`${log}.6`)).toBe(false);
    // Its stderr (Node's own last words) was the old file: it was moved onto the new one (dup2).
    expect(readlinkSync(`/proc/${pid}/fd/2`)).toBe(log);
    expect(statSync(`/proc/${pid}/fd/2`).ino).toBe(statSync(log).ino);
    process.kill(pid, 'SIGTERM');
    await waitFor('the daemon gone', () => !alive(pid));
    expect(read(log)).toMatch(/ INFO web stopped pid \d+\n/);
  });
});
