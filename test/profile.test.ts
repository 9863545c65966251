import { chmodSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { judgeName } from '../src/profile/names.js';
import { readProfile } from '../src/profile/read.js';
import { parseSignal } from '../src/profile/signals.js';
import type { ProfileReading, ServiceConfig } from '../src/profile/types.js';

let root: string;
let stateDir: string;
let profilesDir: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'proclaunch-profile-'));
  stateDir = join(root, 'state');
  profilesDir = join(root, 'profiles');
  mkdirSync(profilesDir);
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Create profile NAME with the given files (`env/X` paths create the env dir); `run` is executable unless given. */
function makeProfile(name: string, files: Record<string, string> = {}): string {
  const dir = join(profilesDir, name);
  mkdirSync(dir);
  const all = { run: '#!/bin/sh\nexec sleep 1000\n', ...files };
  for (const [file, content] of Object.entries(all)) {
    const path = join(dir, file);
    if (file.includes('/')) mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, content);
  }
  if ('run' in all) chmodSync(join(dir, 'run'), 0o755);
  return dir;
}

const read = (dir: string, name = 'web'): Promise<ProfileReading> => readProfile(dir, name, { stateDir });

async function valid(dir: string, name = 'web'): Promise<ServiceConfig> {
  const reading = await read(dir, name);
  if (reading.kind !== 'valid') throw new Error(`expected a valid profile, got ${JSON.stringify(reading)}`);
  expect(reading.configs).toHaveLength(1);
  return reading.configs[0]!;
}

async function invalidReason(dir: string): Promise<string> {
  const reading = await read(dir);
  if (reading.kind !== 'invalid') throw new Error(`expected an invalid profile, got ${reading.kind}`);
  return reading.reason;
}

describe('readProfile', () => {
  it('a FIFO named like a profile file makes the profile invalid at once; reading it never blocks', async () => {
    const dir = makeProfile('web');
    execFileSync('mkfifo', [join(dir, 'stop_signal')]);
    expect(await invalidReason(dir)).toMatch(/stop_signal is not a regular file/);
  });

  it('reads a minimal profile with the SPEC defaults', async () => {
    const dir = makeProfile('web');
    const config = await valid(dir);
    expect(config).toMatchObject({
      name: 'web',
      tag: 'web',
      dir,
      runPath: join(dir, 'run'),
      pidFile: null,
      restart: 'never',
      down: false,
      stopSignal: 'SIGTERM',
      stopTimeoutMs: 10_000,
      startTimeoutMs: 10_000,
      reloadSignal: null,
      user: null,
      env: {},
      watch: [],
      stdout: join(stateDir, 'logs', 'web.log'),
      stderr: join(stateDir, 'logs', 'web.log'),
    });
  });

  it('reports a missing directory as missing', async () => {
    expect(await read(join(profilesDir, 'nope'))).toEqual({ kind: 'missing' });
  });

  it('reports a plain file as missing', async () => {
    const path = join(profilesDir, 'web');
    writeFileSync(path, 'not a dir');
    expect(await read(path)).toEqual({ kind: 'missing' });
  });

  it('rejects a profile without run', async () => {
    const dir = join(profilesDir, 'web');
    mkdirSync(dir);
    writeFileSync(join(dir, 'restart'), '');
    expect(await invalidReason(dir)).toBe('no run file');
  });

  it('rejects a finish that is not an executable file', async () => {
    expect(await invalidReason(makeProfile('web', { finish: 'exit 0' }))).toBe('finish is not executable (chmod +x finish)');
    const dir = makeProfile('other');
    mkdirSync(join(dir, 'finish'));
    expect(await invalidReason(dir)).toBe('finish is not a file');
  });

  it('rejects a run that is not executable', async () => {
    const dir = makeProfile('web');
    chmodSync(join(dir, 'run'), 0o644);
    expect(await invalidReason(dir)).toContain('chmod +x');
  });

  it('marks down when the down file is present', async () => {
    expect((await valid(makeProfile('web', { down: '' }))).down).toBe(true);
  });

  describe('restart', () => {
    it.each([
      ['', 'always'],
      ['always\n', 'always'],
      [' on-failure \n', 'on-failure'],
    ])('%j → %s', async (content, policy) => {
      expect((await valid(makeProfile('web', { restart: content }))).restart).toBe(policy);
    });

    // Any other content (ProcLaunch's `1`): test/profile-warnings.test.ts.
  });

  describe('stop_signal', () => {
    it.each([
      ['TERM', 'SIGTERM'],
      ['SIGINT\n', 'SIGINT'],
      ['9', 'SIGKILL'],
      ['', 'SIGTERM'],
    ])('%j → %s', async (content, signal) => {
      expect((await valid(makeProfile('web', { stop_signal: content }))).stopSignal).toBe(signal);
    });

    it('rejects an unknown signal, naming it', async () => {
      const reason = await invalidReason(makeProfile('web', { stop_signal: 'BOGUS\n' }));
      expect(reason).toContain('stop_signal');
      expect(reason).toContain('BOGUS');
    });
  });

  describe('timeouts', () => {
    it('accepts fractional seconds', async () => {
      expect((await valid(makeProfile('web', { stop_timeout: '2.5\n' }))).stopTimeoutMs).toBe(2500);
    });

    it('accepts stop_timeout 0', async () => {
      expect((await valid(makeProfile('web', { stop_timeout: '0' }))).stopTimeoutMs).toBe(0);
    });

    it('rejects a stop_timeout that is not a number', async () => {
      expect(await invalidReason(makeProfile('web', { stop_timeout: 'abc' }))).toContain('stop_timeout');
    });

    it('rejects start_timeout 0', async () => {
      expect(await invalidReason(makeProfile('web', { start_timeout: '0' }))).toContain('start_timeout');
    });

    it('reads start_timeout', async () => {
      expect((await valid(makeProfile('web', { start_timeout: '3' }))).startTimeoutMs).toBe(3000);
    });
  });

  describe('reload', () => {
    it('an empty reload file means SIGHUP', async () => {
      expect((await valid(makeProfile('web', { reload: '' }))).reloadSignal).toBe('SIGHUP');
    });

    it('a reload file names the signal', async () => {
      expect((await valid(makeProfile('web', { reload: 'USR1\n' }))).reloadSignal).toBe('SIGUSR1');
    });

    it('rejects an unknown reload signal', async () => {
      expect(await invalidReason(makeProfile('web', { reload: 'NOPE' }))).toContain('NOPE');
    });
  });

  it('makes a relative pid_file absolute inside the profile directory', async () => {
    const dir = makeProfile('web', { pid_file: ' run/web.pid \n' });
    expect((await valid(dir)).pidFile).toBe(join(dir, 'run', 'web.pid'));
  });

  it('keeps an absolute pid_file', async () => {
    expect((await valid(makeProfile('web', { pid_file: '/var/run/web.pid' }))).pidFile).toBe('/var/run/web.pid');
  });

  it('reads stdout and stderr paths relative to the profile directory', async () => {
    const dir = makeProfile('web', { stdout: 'out.log\n', stderr: '/tmp/err.log' });
    const config = await valid(dir);
    expect(config.stdout).toBe(join(dir, 'out.log'));
    expect(config.stderr).toBe('/tmp/err.log');
  });

  it('reads env/ like envdir', async () => {
    const dir = makeProfile('web', {
      'env/PORT': '8080\nignored second line\n',
      'env/GONE': '',
      'env/PADDED': 'value \t \n',
      'env/EMPTY_LINE': '\n',
      'env/.hidden': 'x',
    });
    expect((await valid(dir)).env).toEqual({ PORT: '8080', GONE: null, PADDED: 'value', EMPTY_LINE: '' });
  });

  it('resolves user root to uid 0', async () => {
    const config = await valid(makeProfile('web', { user: 'root\n' }));
    expect(config.user).toMatchObject({ name: 'root', uid: 0, gid: 0 });
  });

  it('rejects an unknown user', async () => {
    expect(await invalidReason(makeProfile('web', { user: 'nosuchuser' }))).toContain('unknown user');
  });

  it('makes watch paths absolute, skipping blanks and comments', async () => {
    const dir = makeProfile('web', { watch: 'app.conf\n\n# a comment\n  /etc/hosts  \n' });
    expect((await valid(dir)).watch).toEqual([join(dir, 'app.conf'), '/etc/hosts']);
  });
});

describe('instances', () => {
  const configs = async (dir: string) => {
    const reading = await read(dir, 'worker');
    if (reading.kind !== 'valid') throw new Error(JSON.stringify(reading));
    return reading.configs;
  };
  it('N copies NAME@1 … NAME@N with {} expanded in pid_file, stdout and stderr', async () => {
    const dir = makeProfile('worker', { instances: '3\n', pid_file: 'pids/w{}.pid', stdout: 'out-{}.log' });
    const all = await configs(dir);
    expect(all.map((c) => [c.tag, c.instance, c.pidFile, c.stdout, c.stderr])).toEqual([
      ['worker@1', 1, join(dir, 'pids/w1.pid'), join(dir, 'out-1.log'), join(stateDir, 'logs', 'worker@1.log')],
      ['worker@2', 2, join(dir, 'pids/w2.pid'), join(dir, 'out-2.log'), join(stateDir, 'logs', 'worker@2.log')],
      ['worker@3', 3, join(dir, 'pids/w3.pid'), join(dir, 'out-3.log'), join(stateDir, 'logs', 'worker@3.log')],
    ]);
  });
  it("an instance's fingerprint does not depend on how many there are", async () => {
    const dir = makeProfile('worker', { instances: '3' });
    const three = await configs(dir);
    writeFileSync(join(dir, 'instances'), '5');
    const five = await configs(dir);
    expect(five.slice(0, 3).map((c) => c.fingerprint)).toEqual(three.map((c) => c.fingerprint));
    expect(new Set(five.map((c) => c.fingerprint.launch)).size).toBe(5);
  });
  it('without the file: one copy named NAME, no instance number', async () => {
    expect((await configs(makeProfile('worker'))).map((c) => [c.tag, c.instance])).toEqual([['worker', null]]);
  });
  it.each([['0'], ['-1'], ['two'], ['1.5'], ['10001']])('rejects instances %j', async (n) => {
    const reading = await read(makeProfile('worker', { instances: n }), 'worker');
    expect(reading).toMatchObject({ kind: 'invalid', reason: expect.stringMatching(/^instances must be a whole number from 1 to 10000/) });
  });
  it('rejects a shared pid file for several instances', async () => {
    const reading = await read(makeProfile('worker', { instances: '2', pid_file: 'w.pid' }), 'worker');
    expect(reading).toMatchObject({ kind: 'invalid', reason: expect.stringMatching(/has no \{\} for the instance number/) });
  });
});

describe('fingerprints', () => {
  let dir: string;
  beforeEach(() => {
    dir = makeProfile('web', { stop_timeout: '5', watch: 'app.conf', 'app.conf': 'port=1\n', 'env/PORT': '1' });
  });

  const fingerprint = async () => (await valid(dir)).fingerprint;

  it('is stable when files are only touched', async () => {
    const before = await fingerprint();
    const later = new Date(Date.now() + 60_000);
    for (const file of ['run', 'stop_timeout', 'watch', 'app.conf', 'env/PORT']) utimesSync(join(dir, file), later, later);
    expect(await fingerprint()).toEqual(before);
  });

  it('changes launch when run changes', async () => {
    const before = await fingerprint();
    writeFileSync(join(dir, 'run'), '#!/bin/sh\nexec sleep 2000\n');
    const after = await fingerprint();
    expect(after.launch).not.toBe(before.launch);
  });

  it('changes launch when run changes mode', async () => {
    const before = await fingerprint();
    chmodSync(join(dir, 'run'), 0o700);
    const after = await fingerprint();
    expect(after.launch).not.toBe(before.launch);
  });

  it('changes launch when env changes', async () => {
    const before = await fingerprint();
    writeFileSync(join(dir, 'env', 'PORT'), '2');
    expect((await fingerprint()).launch).not.toBe(before.launch);
  });

  it('changes only watch when a watched file changes', async () => {
    const before = await fingerprint();
    writeFileSync(join(dir, 'app.conf'), 'port=2\n');
    const after = await fingerprint();
    expect(after.watch).not.toBe(before.watch);
    expect(after.launch).toBe(before.launch);
    expect(after.policy).toBe(before.policy);
  });

  it('changes only policy when stop_timeout changes', async () => {
    const before = await fingerprint();
    writeFileSync(join(dir, 'stop_timeout'), '6');
    const after = await fingerprint();
    expect(after.policy).not.toBe(before.policy);
    expect(after.launch).toBe(before.launch);
    expect(after.watch).toBe(before.watch);
  });

  it('changes only policy when finish is added or edited (it applies at the next exit)', async () => {
    const before = await fingerprint();
    writeFileSync(join(dir, 'finish'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(dir, 'finish'), 0o755);
    const added = await fingerprint();
    expect(added).toEqual({ ...before, policy: added.policy });
    expect(added.policy).not.toBe(before.policy);
    writeFileSync(join(dir, 'finish'), '#!/bin/sh\nexit 125\n');
    const edited = await fingerprint();
    expect(edited.policy).not.toBe(added.policy);
    expect((await valid(dir)).finishPath).toBe(join(dir, 'finish'));
  });

  it('ignores files the service writes into its directory', async () => {
    const before = await fingerprint();
    writeFileSync(join(dir, 'service.log'), 'hello\n');
    writeFileSync(join(dir, 'cache.db'), 'x');
    expect(await fingerprint()).toEqual(before);
  });
});

describe('parseSignal', () => {
  it.each([
    ['TERM', 'SIGTERM'],
    ['SIGINT', 'SIGINT'],
    ['term', 'SIGTERM'],
    [' HUP \n', 'SIGHUP'],
    ['9', 'SIGKILL'],
    ['15', 'SIGTERM'],
  ])('%j → %s', (text, signal) => {
    expect(parseSignal(text)).toBe(signal);
  });

  it.each(['BOGUS', '', 'SIG', '999', '-9', '9.0'])('%j → null', (text) => {
    expect(parseSignal(text)).toBeNull();
  });
});

describe('judgeName', () => {
  it.each([
    ['web', 'profile'],
    ['web-2.worker_a', 'profile'],
    ['9lives', 'profile'],
    ['.hidden', 'ignore'],
    ['a b', 'invalid'],
    ['a\nb', 'invalid'],
    ['web\n', 'invalid'],
    ['é', 'invalid'],
    ['-x', 'invalid'],
    ['_x', 'invalid'],
    ['', 'invalid'],
  ])('%j → %s', (name, verdict) => {
    expect(judgeName(name)).toBe(verdict);
  });
});
