// What a profile reading says beyond valid/invalid: ProcLaunch's `restart`
// contents, mistyped file names, and every problem of a profile at once.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readProfile } from '../src/profile/read.js';
import type { ProfileReading } from '../src/profile/types.js';
import { editDistance, nearest } from '../src/vocabulary/nearest.js';

const root = mkdtempSync(join(tmpdir(), 'proclaunch-warnings-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let count = 0;

/** A profile with these files (`run` executable by default); a `{ mode }` entry sets the mode. */
async function reading(files: Record<string, string | { content: string; mode: number } | null>): Promise<ProfileReading> {
  const dir = join(root, `p${++count}`);
  mkdirSync(dir);
  for (const [name, spec] of Object.entries({ run: '#!/bin/sh\nexec sleep 1\n', ...files })) {
    if (spec === null) continue; // left out
    const { content, mode } = typeof spec === 'string' ? { content: spec, mode: name === 'run' ? 0o755 : 0o644 } : spec;
    if (name.endsWith('/')) mkdirSync(join(dir, name));
    else {
      writeFileSync(join(dir, name), content);
      chmodSync(join(dir, name), mode);
    }
  }
  return readProfile(dir, 'web', { stateDir: join(root, 'state') });
}

describe('the nearest known word', () => {
  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('restrat', 'restart')).toBe(1);
    expect(editDistance('stop_sigal', 'stop_signal')).toBe(1);
    expect(editDistance('stauts', 'status')).toBe(1);
    expect(editDistance('', 'run')).toBe(3);
  });

  it('allows two edits, fewer for short words', () => {
    expect(nearest('stauts', ['start', 'status', 'stop'])).toBe('status');
    expect(nearest('stat', ['start', 'status'])).toBe('start');
    expect(nearest('logz', ['logs', 'ps'])).toBe('logs');
    expect(nearest('out', ['run'])).toBeNull(); // two edits from a three-letter word: not a typo of it
    expect(nearest('bogus', ['logs', 'ps'])).toBeNull();
  });
});

describe('restart file content (ProcLaunch: its presence is what counts)', () => {
  it.each([
    ['1', null],
    ['yes', null],
    ['on-failur', 'on-failure'],
    ['allways', 'always'],
  ])('%j restarts always, with a warning naming it', async (content, guess) => {
    const r = await reading({ restart: `${content}\n` });
    expect(r.kind).toBe('valid');
    if (r.kind !== 'valid') return;
    expect(r.configs[0]!.restart).toBe('always');
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings![0]).toContain(`restart holds "${content}": restarting always`);
    if (guess) expect(r.warnings![0]).toMatch(new RegExp(`did you mean ${guess}\\?$`));
    else expect(r.warnings![0]).not.toContain('did you mean');
  });

  it('empty, always and on-failure say nothing', async () => {
    for (const content of ['', 'always', 'on-failure\n']) expect(await reading({ restart: content })).toMatchObject({ kind: 'valid', warnings: [] });
  });
});

describe('a mistyped profile file', () => {
  it('gets one warning with the nearest known name', async () => {
    const r = await reading({ stop_sigal: 'INT', restrat: '', watch: 'conf\n', conf: 'x' });
    expect(r.kind === 'valid' && r.warnings).toEqual([
      'unknown file "restrat" ignored; did you mean restart?',
      'unknown file "stop_sigal" ignored; did you mean stop_signal?',
    ]);
  });

  it("never for the service's own files: a dot, capitals, executables, directories, what watch/pid_file/stdout name", async () => {
    const r = await reading({
      'greeting.conf': 'x', README: 'x', Restart: 'x', 'restart.bak': 'x',
      users: { content: '#!/bin/sh\n', mode: 0o755 }, 'evn/': '',
      watch: 'stdin\n', stdin: 'watched', pid_file: 'pid', pid: '1', stdout: 'stdot', stdot: '',
    });
    expect(r).toMatchObject({ kind: 'valid', warnings: [] });
  });

  it('a missing run names the file that may be it', async () => {
    expect(await reading({ run: null, rnu: { content: '#!/bin/sh\n', mode: 0o755 } })).toMatchObject({ kind: 'invalid', reason: 'no run file (is "rnu" meant to be run?)' });
  });
});

it('a profile with several problems reports all of them at once', async () => {
  const r = await reading({
    run: { content: '#!/bin/sh\n', mode: 0o644 },
    stop_signal: 'SIGNOPE', stop_timeout: 'ten', instances: '0', user: 'no-such-user-here', needs: 'web\n', ready_interval: '-1', ready: '',
  });
  expect(r.kind).toBe('invalid');
  const reasons = r.kind === 'invalid' ? r.reason.split('; ') : [];
  expect(reasons).toEqual(expect.arrayContaining([
    'run is not executable (chmod +x run)',
    'stop_signal: unknown signal "SIGNOPE"',
    expect.stringMatching(/^stop_timeout must be a number of seconds, not "ten"$/),
    expect.stringMatching(/^instances must be a whole number/),
    expect.stringMatching(/no-such-user-here/),
    expect.stringMatching(/^needs: "web" is this profile itself$/),
    expect.stringMatching(/^ready is not executable/),
    expect.stringMatching(/^ready_interval must be a number of seconds above 0/),
  ]));
  expect(reasons).toHaveLength(8);
});
