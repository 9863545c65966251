// The status table fits the terminal; the detail view's process tree.
import { describe, expect, it } from 'vitest';
import type { ServiceStatus } from '../src/control/protocol.js';
import { formatBytes, formatStatus } from '../src/cli/format.js';
import { processTree } from '../src/cli/status-detail.js';

const row = (over: Partial<ServiceStatus>): ServiceStatus => ({
  name: 'web', state: 'running', substate: null, pid: 4242, since: null, uptimeMs: 252_000, restarts: 0, lastExit: null,
  reason: null, held: false, down: false, startsInMs: null, ready: true, status: null, notifyStopping: false, probe: null,
  waitingFor: null, rssBytes: 12_900_000, cpuSeconds: 0.76, ...over,
});

const exitedAgo = { pid: 4200, code: null, signal: 'SIGTERM', at: new Date(Date.now() - 252_000).toISOString() };
const widest = (text: string) => Math.max(...text.trimEnd().split('\n').map((l) => l.length));

describe('the status table', () => {
  it('shows CPU% (lifetime average) and MEM when they fit', () => {
    const text = formatStatus([row({}), row({ name: 'lazy', state: 'stopped', pid: null, uptimeMs: null, rssBytes: null, cpuSeconds: null, down: true })], false);
    const [head, web, lazy] = text.trimEnd().split('\n');
    expect(head).toMatch(/^NAME\s+STATE\s+PID\s+UPTIME\s+CPU%\s+MEM\s+RESTARTS\s+LAST EXIT\s+NOTE$/);
    expect(web).toMatch(/^web\s+running\s+4242\s+4m12s\s+0\.3\s+12M\s+0\s+-$/);
    expect(lazy).toMatch(/^lazy\s+stopped\s+-\s+-\s+-\s+-\s+0\s+-\s+down file$/);
  });

  it('fits 80 columns: CPU% and MEM give way to a note, a long note is cut with …', () => {
    const long = 'crashed 10 times in a row; not restarted until `start` or a change to its files';
    const services = [row({}), row({ name: 'worker', state: 'stopped', substate: 'failed', pid: null, uptimeMs: null, restarts: 9, lastExit: exitedAgo, reason: long })];
    const text = formatStatus(services, false);
    expect(widest(text)).toBeLessThanOrEqual(80);
    expect(text).not.toContain('CPU%');
    expect(text).toMatch(/\nworker\s+stopped\.failed\s+-\s+-\s+9\s+SIGTERM 4m1\ds ago\s+crashed 10[^\n]*…\n$/);
    // The row that was 81 wide: stopped by command, after a SIGTERM.
    const held = formatStatus([row({ name: 'greeter', state: 'stopped', pid: null, uptimeMs: null, held: true, lastExit: exitedAgo, rssBytes: null, cpuSeconds: null })], false);
    expect(widest(held)).toBeLessThanOrEqual(80);
    expect(held).toMatch(/stopped by command\n$/);
  });

  it('--wide (and any width asked) shows everything, uncut', () => {
    const long = 'x'.repeat(120);
    const text = formatStatus([row({ reason: long })], false, { wide: true });
    expect(text).toContain(long);
    expect(text).toContain('CPU%');
    expect(widest(formatStatus([row({ reason: long })], false, { width: 200 }))).toBeLessThanOrEqual(200);
    expect(formatStatus([row({ reason: long })], false, { width: 200 })).toContain(long);
  });

  it('memory reads like top', () => {
    expect([900 * 1024, 9.8 * 1024 ** 2, 123 * 1024 ** 2, 1.25 * 1024 ** 3].map(formatBytes)).toEqual(['900K', '9.8M', '123M', '1.3G']);
  });
});

describe('the process tree of status NAME', () => {
  it('draws children under their parent, as systemctl status does', () => {
    const p = (pid: number, ppid: number, args: string) => ({ pid, ppid, user: 'root', rssKiB: 1, pcpu: 0, stat: 'S', args });
    expect(processTree([p(10, 1, 'sh ./run'), p(11, 10, 'sleep 600'), p(12, 10, 'sh -c x'), p(13, 12, 'sleep 700'), p(20, 1, 'orphan\nline')])).toEqual([
      '10 sh ./run',
      '├─11 sleep 600',
      '└─12 sh -c x',
      '  └─13 sleep 700',
      '20 orphan\\nline',
    ]);
  });
});
