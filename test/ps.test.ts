import { spawn, type ChildProcess } from 'node:child_process';
import { userInfo } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { listServiceProcesses, type PsRow } from '../src/process/ps.js';
import { DEFAULT_PS_FORMAT, formatElapsed, formatPs, parsePsFormat } from '../src/cli/ps-format.js';
import { waitFor } from './support/wait.js';

const children: Array<{ child: ChildProcess; detached: boolean }> = [];

/** A child in a process group of its own (like a service) unless told otherwise. */
function service(command: string, args: string[], options: { detached?: boolean; argv0?: string } = {}): number {
  const detached = options.detached ?? true;
  const child = spawn(command, args, { stdio: 'ignore', detached, argv0: options.argv0 });
  children.push({ child, detached });
  if (child.pid === undefined) throw new Error(`spawn ${command} failed`);
  return child.pid;
}

afterEach(() => {
  for (const { child, detached } of children.splice(0)) {
    try {
      // A detached child leads its group: kill all of it; the others alone.
      process.kill(detached ? -child.pid! : child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

describe('listServiceProcesses', () => {
  it('lists the whole process group of a service', async () => {
    const sh = service('sh', ['-c', 'sleep 1000 & sleep 1000 & wait']);
    const groups = [{ profile: 'web', pgid: sh, leaderPid: sh }];
    // Until both forks have exec'd sleep, they still show the shell's command line.
    const rows = await waitFor('two sleeps', () => {
      const found = listServiceProcesses(groups);
      return found.filter((row) => row.args === 'sleep 1000').length === 2 && found;
    });
    expect(rows).toHaveLength(3);
    expect(rows.map((row) => row.pid)).toEqual([...rows.map((row) => row.pid)].sort((a, b) => a - b));
    const leader = rows.find((row) => row.pid === sh)!;
    expect(leader).toMatchObject({ profile: 'web', ppid: process.pid, pgid: sh, args: 'sh -c sleep 1000 & sleep 1000 & wait', comm: 'sh' });
    for (const row of rows.filter((r) => r.pid !== sh)) {
      expect(row).toMatchObject({ profile: 'web', ppid: sh, pgid: sh, args: 'sleep 1000', comm: 'sleep' });
    }
    for (const row of rows) {
      expect(row.user).toBe(userInfo().username);
      expect(row.rssKiB).toBeGreaterThan(0);
      expect(row.vszKiB).toBeGreaterThanOrEqual(row.rssKiB);
      expect(row.elapsedSec).toBeGreaterThanOrEqual(0);
      expect(row.pcpu).toBeGreaterThanOrEqual(0);
      expect(row.stat).toMatch(/^[RS]$/);
    }
  });

  it('lists a leader outside its recorded group, and not the rest of that group; sorted by profile', async () => {
    const sh = service('sh', ['-c', 'sleep 1000 & wait']);
    // Not detached: it shares our process group, which must not be listed.
    const loner = service('sleep', ['1000'], { detached: false });
    const rows = await waitFor('both services', () => {
      const found = listServiceProcesses([
        { profile: 'zeta', pgid: sh, leaderPid: sh },
        { profile: 'alpha', pgid: loner, leaderPid: loner },
      ]);
      return found.some((row) => row.args === 'sleep 1000' && row.profile === 'zeta') && found;
    });
    expect(rows.map((row) => [row.profile, row.pid])).toEqual([
      ['alpha', loner],
      ['zeta', sh],
      ['zeta', rows[2]!.pid],
    ]);
    expect(rows[0]!.pgid).not.toBe(loner);
    expect(rows.some((row) => row.pid === process.pid)).toBe(false);
  });

  it('keeps a zombie, with stat Z and [comm] as args', async () => {
    // sh execs sleep, which never reaps the exited `true`.
    const sh = service('sh', ['-c', '/bin/true & exec sleep 1000']);
    const zombie = await waitFor('a zombie', () => listServiceProcesses([{ profile: 'z', pgid: sh, leaderPid: sh }]).find((row) => row.stat === 'Z'));
    expect(zombie.ppid).toBe(sh);
    expect(zombie.args).toMatch(/^\[.+\]$/);
    expect(zombie.rssKiB).toBe(0);
  });

  it('never lists the kernel (pgid 0) or init (pgid 1) groups, nor anything for no groups', () => {
    expect(listServiceProcesses([])).toEqual([]);
    expect(listServiceProcesses([{ profile: 'x', pgid: 0, leaderPid: 0 }, { profile: 'y', pgid: 1, leaderPid: 1 }])).toEqual([]);
  });

  it('keeps a hostile command line on one output line', async () => {
    const pid = service('sleep', ['1000'], { argv0: 'evil\nline\x1b[2J' });
    const rows = await waitFor('the sleep', () => {
      const found = listServiceProcesses([{ profile: 'evil', pgid: pid, leaderPid: pid }]);
      return found[0]?.comm === 'sleep' && found;
    });
    expect(rows[0]!.args).toBe('evil\nline\x1b[2J 1000');
    const text = formatPs(rows, DEFAULT_PS_FORMAT);
    expect(text.split('\n')).toHaveLength(3); // header, row, '' after the last newline
    expect(text).toContain('evil\\nline\\x1b[2J 1000');
    expect(text).not.toContain('\x1b');
  });
});

describe('parsePsFormat', () => {
  it('takes commas or spaces', () => {
    expect(parsePsFormat('pid,user,args')).toEqual(['pid', 'user', 'args']);
    expect(parsePsFormat(' pid  user, args ')).toEqual(['pid', 'user', 'args']);
  });

  it("takes ps's names", () => {
    expect(parsePsFormat('%cpu,etime,cmd,command,uid,uname,PID')).toEqual(['pcpu', 'elapsed', 'args', 'args', 'user', 'user', 'pid']);
  });

  it('names a bad column and the valid ones', () => {
    const error = parsePsFormat('pid,bogus');
    expect(error).toMatch(/"bogus"/);
    expect(error).toMatch(/profile, pid, ppid, pgid, user, rss/);
    expect(parsePsFormat(' , ')).toMatch(/empty/);
  });
});

describe('formatElapsed', () => {
  it('is ps etime', () => {
    expect(formatElapsed(0)).toBe('00:00');
    expect(formatElapsed(65.9)).toBe('01:05');
    expect(formatElapsed(3661)).toBe('01:01:01');
    expect(formatElapsed(2 * 86_400 + 3 * 3600 + 4 * 60 + 5)).toBe('2-03:04:05');
  });
});

describe('formatPs', () => {
  const row = (fields: Partial<PsRow>): PsRow => ({
    profile: 'web',
    pid: 7,
    ppid: 1,
    pgid: 7,
    user: 'root',
    rssKiB: 1234,
    vszKiB: 5678,
    pcpu: 0.5,
    elapsedSec: 65,
    stat: 'S',
    comm: 'node',
    args: 'node server.js',
    ...fields,
  });
  const rows = [row({}), row({ profile: 'worker@1', pid: 12345, ppid: 7, user: 'nobody', rssKiB: 56, pcpu: 12.3, elapsedSec: 3661, args: 'sleep 5' })];

  it('aligns like ps: numbers right, text left, the last column unpadded', () => {
    expect(formatPs(rows, DEFAULT_PS_FORMAT)).toBe(
      [
        'PROFILE    PID PPID USER    RSS %CPU  ELAPSED ARGS',
        'web          7    1 root   1234  0.5    01:05 node server.js',
        'worker@1 12345    7 nobody   56 12.3 01:01:01 sleep 5',
        '',
      ].join('\n'),
    );
    expect(formatPs(rows, ['pid', 'user'], { header: false })).toBe('    7 root\n12345 nobody\n');
  });

  it('gives the header alone for no rows, and nothing without it', () => {
    expect(formatPs([], ['pid', 'pcpu', 'stat', 'args'])).toBe('PID %CPU STAT ARGS\n');
    expect(formatPs([], ['pid'], { header: false })).toBe('');
  });

  it('escapes control characters in every text value', () => {
    const text = formatPs([row({ profile: 'a\tb', user: 'x\ny', comm: 'c\rd', args: 'one\ntwo\x1b[31m\u2028' })], ['profile', 'user', 'comm', 'args'], { header: false });
    expect(text).toBe('a\\tb x\\ny c\\rd one\\ntwo\\x1b[31m\\u2028\n');
  });
});
