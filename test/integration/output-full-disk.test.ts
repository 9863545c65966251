// A full disk under STATE_DIR/logs (a 64 KiB tmpfs): services keep running,
// their output is dropped with one WARN, and once a stopped service's log is
// removed the others' output resumes — the drain lets go of the removed file
// it still held (a stopped service writes no byte that would make it look).
// Also in `npm run test:fallback` (the JS drain).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sandbox, sh } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

let box: Sandbox;
let mounted: string | null = null;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(async () => {
  // The supervisor first: it holds the files on the tmpfs (the services write into FIFOs elsewhere).
  await box.stopSupervisor('SIGKILL');
  if (mounted && spawnSync('umount', [mounted]).status !== 0) spawnSync('umount', ['-l', mounted]);
  mounted = null;
  await box.cleanup();
});

const ENOSPC_WARN = /^output to ".*" cannot be written \(ENOSPC\)/;

describe('a full disk', () => {
  it('one WARN; a stopped service’s log removed: the others’ output resumes, marked with what was dropped', async ({ skip }) => {
    if (process.getuid?.() !== 0) skip('needs root to mount a tmpfs on STATE_DIR/logs');
    const logs = join(box.stateDir, 'logs');
    mkdirSync(logs, { recursive: true, mode: 0o750 });
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', logs], { encoding: 'utf8' });
    if (mount.status !== 0) skip(`cannot mount a tmpfs here (no CAP_SYS_ADMIN?): ${(mount.stderr || mount.error?.message || '').trim()}`);
    mounted = logs;
    // 1 MiB into 64 KiB: it must not block on what cannot be written (it reaches its sleep), then it is quiet.
    box.profile('fill', { run: sh('yes filling | head -c 1048576\nexec sleep 1000') });
    await box.startReady();
    const warnings = () => box.lines().filter((l) => l.level === 'WARN');
    await waitFor(() => `the ENOSPC WARN\n${box.logText()}`, () => warnings().some((l) => ENOSPC_WARN.test(l.message)));
    // Started on the full disk (so not one block of its log is there yet): every line it writes is dropped.
    const beat = box.profile('beat', { run: sh('n=0; while :; do n=$((n+1)); echo "beat $n"; echo $n > n.tmp; mv n.tmp n; sleep 0.05; done') });
    const counted = () => (existsSync(join(beat, 'n')) ? Number(readFileSync(join(beat, 'n'), 'utf8')) : 0);
    await waitFor('10 beats written, none on disk', () => counted() >= 10);
    expect(box.serviceLog('beat')).toBe('');
    expect((await box.cli('stop', 'fill')).code).toBe(0);
    rmSync(join(logs, 'fill.log'));
    const resumed = () => /\[proclaunch: (\d+) bytes of output dropped: No space left on device\]\n((?:beat \d+\n){3,})/.exec(box.serviceLog('beat'));
    const [, dropped, after] = await waitFor(() => `beat's output written again\n${box.serviceLog('beat').slice(0, 300)}\n--- log:\n${box.logText()}`, resumed);
    expect(Number(dropped)).toBeGreaterThan(0);
    // After the mark, beat's lines follow on, one by one.
    const ns = [...after!.matchAll(/^beat (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ns.every((n, i) => i === 0 || n === ns[i - 1]! + 1)).toBe(true);
    await box.waitLog('proclaunch', /^output to ".*beat\.log" written again; \d+ bytes were dropped/);
    // (Without the native module there is one more WARN, about pid watching, at start-up.)
    expect(warnings().filter((l) => l.message.startsWith('output to ')).map((l) => l.message)).toEqual([expect.stringMatching(ENOSPC_WARN)]);
    expect(box.lines().filter((l) => l.level === 'ERROR' || l.level === 'FATAL')).toEqual([]);
  });
});
