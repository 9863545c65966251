// The readiness, needs and health files of a profile (SPEC § Readiness, start order and health).
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readProfile } from '../src/profile/read.js';
import type { ProfileReading, ServiceConfig } from '../src/profile/types.js';

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'proclaunch-readiness-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** Profile `web` with these files; `run`, `ready` and `health` are executable unless named `-x`. */
function profile(files: Record<string, string>): string {
  const dir = join(root, 'web');
  mkdirSync(dir);
  for (const [file, content] of Object.entries({ run: '#!/bin/sh\nexec sleep 1000\n', ...files })) {
    const name = file.replace(/-x$/, '');
    writeFileSync(join(dir, name), content);
    if (['run', 'ready', 'health'].includes(file)) chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

const read = (files: Record<string, string>, notifyUnsupported: string | null = null): Promise<ProfileReading> =>
  readProfile(profile(files), 'web', { stateDir: join(root, 'state'), notifyUnsupported });

async function config(files: Record<string, string>): Promise<ServiceConfig> {
  const reading = await read(files);
  if (reading.kind !== 'valid') throw new Error(`expected valid, got ${JSON.stringify(reading)}`);
  return reading.configs[0]!;
}

async function reason(files: Record<string, string>, notifyUnsupported: string | null = null): Promise<string> {
  const reading = await read(files, notifyUnsupported);
  if (reading.kind !== 'invalid') throw new Error(`expected invalid, got ${JSON.stringify(reading)}`);
  return reading.reason;
}

describe('readiness', () => {
  it('is none without a readiness file, with the SPEC defaults', async () => {
    const c = await config({});
    expect(c.readiness).toEqual({ kind: 'none' });
    expect(c.readyTimeoutMs).toBe(60_000);
    expect(c.needs).toEqual([]);
    expect(c.health).toBeNull();
  });

  it.each([
    [{ 'notification-fd': '3\n' }, { kind: 'fd', fd: 3 }],
    [{ notify: '' }, { kind: 'notify', watchdogMs: null }],
    [{ notify: '', watchdog_timeout: '2.5' }, { kind: 'notify', watchdogMs: 2500 }],
    [{ ready: '#!/bin/sh\nexit 0\n' }, { kind: 'probe', path: expect.stringMatching(/\/web\/ready$/), intervalMs: 100 }],
    [{ ready: '#!/bin/sh\nexit 0\n', ready_interval: '0.5' }, { kind: 'probe', path: expect.stringMatching(/\/ready$/), intervalMs: 500 }],
  ])('%o → %o', async (files, readiness) => {
    expect((await config(files)).readiness).toEqual(readiness);
  });

  it.each([
    [{ 'notification-fd': '0' }, 'notification-fd must be a file descriptor number from 3 to 1023, not "0"'],
    [{ 'notification-fd': '1' }, 'notification-fd must be a file descriptor number from 3 to 1023, not "1"'],
    [{ 'notification-fd': '2' }, 'notification-fd must be a file descriptor number from 3 to 1023, not "2"'],
    [{ 'notification-fd': 'three' }, 'notification-fd must be a file descriptor number from 3 to 1023, not "three"'],
    [{ 'notification-fd': '3', notify: '' }, 'notification-fd and notify: choose one way to know the service is ready'],
    [{ notify: '', ready: '#!/bin/sh\n' }, 'notify and ready: choose one way to know the service is ready'],
    [{ watchdog_timeout: '5' }, 'watchdog_timeout needs notify (the service sends WATCHDOG=1)'],
    [{ 'ready-x': '#!/bin/sh\n' }, 'ready is not executable (chmod +x ready)'],
    [{ 'health-x': '#!/bin/sh\n' }, 'health is not executable (chmod +x health)'],
    [{ ready: '#!/bin/sh\n', ready_timeout: '0' }, 'ready_timeout must be a number of seconds above 0, not "0"'],
    [{ health: '#!/bin/sh\n', health_retries: '0' }, 'health_retries must be a whole number from 1 to 1000, not "0"'],
  ])('%o is invalid: %s', async (files, expected) => {
    expect(await reason(files)).toBe(expected);
  });

  it('notify without the native module is invalid, saying why', async () => {
    expect(await reason({ notify: '' }, 'the native module is not built')).toBe('notify cannot be served: the native module is not built');
  });

  it('how readiness is told is part of the launch; a probe is not', async () => {
    const plain = await config({});
    rmSync(join(root, 'web'), { recursive: true });
    const probed = await config({ ready: '#!/bin/sh\n' });
    rmSync(join(root, 'web'), { recursive: true });
    const fd = await config({ 'notification-fd': '3' });
    expect(probed.fingerprint.launch).toBe(plain.fingerprint.launch);
    expect(probed.fingerprint.policy).not.toBe(plain.fingerprint.policy);
    expect(fd.fingerprint.launch).not.toBe(plain.fingerprint.launch);
  });
});

describe('needs', () => {
  it('reads names and NAME@N, one a line, skipping blanks, comments and repeats', async () => {
    const c = await config({ needs: 'db\n\n# the cache\ncache@2\ndb\n' });
    expect(c.needs).toEqual([{ name: 'db', instance: null }, { name: 'cache', instance: 2 }]);
  });

  it.each([
    ['web\n', 'needs: "web" is this profile itself'],
    ['my db\n', 'needs: "my db" is not a profile name (or NAME@N)'],
    ['db@0\n', 'needs: "db@0" is not a profile name (or NAME@N)'],
    ['db@x\n', 'needs: "db@x" is not a profile name (or NAME@N)'],
  ])('%j is invalid', async (needs, expected) => {
    expect(await reason({ needs })).toBe(expected);
  });
});

describe('health', () => {
  it('has the SPEC defaults', async () => {
    expect((await config({ health: '#!/bin/sh\nexit 0\n' })).health).toEqual({
      path: expect.stringMatching(/\/web\/health$/), intervalMs: 10_000, timeoutMs: 5000, retries: 3,
    });
  });

  it('takes its interval, timeout and retries', async () => {
    const c = await config({ health: '#!/bin/sh\n', health_interval: '2', health_timeout: '0.5', health_retries: '5' });
    expect(c.health).toMatchObject({ intervalMs: 2000, timeoutMs: 500, retries: 5 });
  });
});
