// `status NAME` in depth, usage figures in the status reply, and what a
// profiles directory holds that is not quite a profile.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServiceStatus } from '../../src/control/protocol.js';
import { Sandbox, sh } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(() => box.cleanup());

describe('status NAME', () => {
  it('shows state and since when, the process tree, CPU and memory, restarts, profile files, output and its last lines', async () => {
    box.profile('web', {
      run: sh('for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo "line $i"; done\nsleep 600 &\nexec sleep 601'),
      restart: '',
      'greeting.conf': 'hi',
    });
    await box.startReady();
    const pid = await box.runningPid('web');
    await waitFor('12 lines out', () => box.serviceLog('web').includes('line 12\n'));
    const [status] = (await box.ask({ command: 'status', names: ['web'] })).services as ServiceStatus[];
    expect(status!.rssBytes).toBeGreaterThan(0); // both processes' resident memory
    expect(status!.cpuSeconds).toBeGreaterThanOrEqual(0);
    expect((await box.status('web'))[0]).toMatchObject({ rssBytes: null, cpuSeconds: null }); // "usage": false: no /proc read

    const r = await box.cli('status', 'web');
    expect(r.code).toBe(0);
    const log = join(box.stateDir, 'logs', 'web.log');
    expect(r.stdout).toMatch(new RegExp([
      '^● web',
      ' {5}State: running since \\S+; [\\d.]+m?s ago',
      ' {7}PID: ' + pid,
      ' Processes: ' + pid + ' sleep 601',
      ' {12}└─\\d+ sleep 600',
      ' {7}CPU: \\d+\\.\\d\\ds \\(\\d+\\.\\d% of a core since it started\\)',
      ' {4}Memory: [\\d.]+[KMG]',
      ' {2}Restarts: 0',
      ' Last exit: -',
      ' {3}Profile: ' + box.profilesDir + '/web',
      ' {5}Files: greeting.conf restart run',
      ' {4}Output: ' + log,
      '',
      `Last 10 lines of ${log}:`,
      'line 3',
    ].join('\n')));
    expect(r.stdout).toMatch(/line 12\n$/);
    expect(r.stdout).not.toContain('line 2\n');

    // --json with one name carries the same depth.
    const [json] = JSON.parse((await box.cli('status', '--json', 'web')).stdout);
    expect(json.detail).toMatchObject({ dir: join(box.profilesDir, 'web'), stdout: log, logger: null });
    expect(json.detail.processes.map((p: { pid: number }) => p.pid)).toContain(pid);
    // A glob, or --wide, is the table.
    expect((await box.cli('status', 'we*')).stdout).toMatch(/^NAME\s+STATE/);
  });
});

describe('what is not quite a profile', () => {
  it('a directory with a bad name is in status as invalid, with the reason', async () => {
    mkdirSync(join(box.profilesDir, 'my service'));
    writeFileSync(join(box.profilesDir, 'notes about it'), 'a plain file: ignored');
    await box.startReady();
    const skipped = (await box.status()).find((s) => s.name === 'my service');
    expect(skipped).toMatchObject({ state: 'stopped', substate: 'failed', pid: null });
    expect(skipped!.reason).toMatch(/^not a profile name: /);
    expect((await box.status()).map((s) => s.name)).not.toContain('notes about it');
    expect((await box.cli('status')).stdout).toMatch(/\nmy service\s+stopped\.failed\s.*not a profile nam/);
  });

  it('a mistyped file gets one WARN, said again only when it changes', async () => {
    box.profile('web', { run: sh('exec sleep 600'), stop_sigal: 'INT', restart: '1' });
    await box.startReady();
    await box.waitLog('web', /^unknown file "stop_sigal" ignored; did you mean stop_signal\?$/);
    await box.waitLog('web', /^restart holds "1": restarting always/);
    await box.rescan();
    box.replace(join(box.profilesDir, 'web', 'restrat'), '');
    await box.waitLog('web', /^unknown file "restrat" ignored; did you mean restart\?$/);
    await box.rescan();
    expect(box.count('web', /^unknown file "stop_sigal"/)).toBe(1);
    expect(box.count('web', /^restart holds/)).toBe(1);
  });
});
