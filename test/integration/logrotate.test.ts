// A `stdout` file of a profile's own (not bounded: no log_* file) is written
// through an O_APPEND descriptor the service holds: real logrotate with
// `copytruncate` (the sample in docs/output.md) rotates it while the service writes,
// with no restart, no sparse hole, and `proclaunch logs` (and `logs -f`)
// still working afterwards. (STATE_DIR/logs/TAG.log rotates itself.)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI, Sandbox, alive, sh } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(async () => {
  await box.cleanup();
});

const logrotate = spawnSync('sh', ['-c', 'command -v logrotate']).status === 0;
const why = logrotate ? '' : ' (skipped: logrotate not installed; scripts/ensure-test-tools.sh installs it)';
const numbersOf = (text: string): number[] => [...text.matchAll(/^line (\d+)$/gm)].map((m) => Number(m[1]));
const contiguous = (ns: number[]): boolean => ns.every((n, i) => i === 0 || n === ns[i - 1]! + 1);

describe('logrotate', () => {
  it.skipIf(!logrotate)(`copytruncate rotates a service's log while it writes${why}`, async () => {
    const dir = box.profile('chatty', { run: sh('n=0; while :; do n=$((n + 1)); echo "line $n"; sleep 0.002; done'), restart: '', stdout: 'logs/chatty.log' });
    await box.startReady();
    const pid = await box.runningPid('chatty');
    const log = join(dir, 'logs', 'chatty.log');
    await waitFor('200 lines', () => existsSync(log) && numbersOf(readFileSync(log, 'utf8')).length >= 200);

    // `logs -f` started before the rotation must follow the file through it.
    const follower = spawn(process.execPath, [CLI, 'logs', 'chatty', '-f', '-n', '0', '--state', box.stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let followed = '';
    follower.stdout.on('data', (d) => (followed += d));
    try {
      await waitFor('follower reading', () => numbersOf(followed).length > 0);
      // The sample in docs/output.md, pointed at this STATE_DIR (logrotate refuses a config others may write).
      const conf = join(box.root, 'logrotate.conf');
      writeFileSync(conf, `${dir}/logs/*.log {\n    copytruncate\n    rotate 7\n    missingok\n    notifempty\n}\n`, { mode: 0o644 });
      const sizeBefore = statSync(log).size;
      const run = spawnSync('logrotate', ['--force', '--state', join(box.root, 'logrotate.state'), conf], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);

      const rotated = readFileSync(`${log}.1`, 'utf8');
      const old = numbersOf(rotated);
      expect(old[0]).toBe(1);
      expect(contiguous(old)).toBe(true);
      expect(old.length).toBeGreaterThanOrEqual(200);
      const lastOld = old.at(-1)!;

      // The live file starts again small: O_APPEND writes go to the new end, no hole of NULs up to the old offset.
      await waitFor('new lines in the live file', () => numbersOf(readFileSync(log, 'utf8')).length >= 50);
      const live = readFileSync(log);
      expect(live.includes(0)).toBe(false);
      expect(live.length).toBeLessThan(sizeBefore);
      const fresh = numbersOf(live.toString());
      // copytruncate may lose what is written between its copy and its truncate; never more, never twice.
      expect(fresh[0]).toBeGreaterThan(lastOld);
      expect(fresh[0]! - lastOld).toBeLessThan(500);
      expect(contiguous(fresh)).toBe(true);

      // No crash, no restart; `logs` shows the live file, `logs -f` followed it.
      expect(alive(pid)).toBe(true);
      expect(box.count('chatty', /^started pid/)).toBe(1);
      const tail = await box.cli('logs', 'chatty', '-n', '3');
      expect(tail.code).toBe(0);
      const shown = numbersOf(tail.stdout);
      expect(shown).toHaveLength(3);
      expect(shown[0]).toBeGreaterThan(lastOld);
      await waitFor('follower past the rotation', () => numbersOf(followed).some((n) => n > fresh[0]!));
      expect(existsSync(`${log}.2`)).toBe(false);
    } finally {
      follower.kill();
    }
  });
});
