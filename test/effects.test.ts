// The effects with real spawns: what `launch` and `runFinish` report when the
// file they were to execute is gone, or cannot be executed. A profile whose
// `run` is removed between its reading and its spawn (4,100 profiles added
// and removed at once) must not be told apart by luck of timing: here the
// reading is taken, then the file is removed, then `launch` runs.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServiceEvent } from '../src/machine/service-machine.js';
import { launch, runFinish } from '../src/process/effects.js';
import { readProfile } from '../src/profile/read.js';
import type { ServiceConfig } from '../src/profile/types.js';
import { waitFor } from './support/wait.js';

let root: string;
let stateDir: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'proclaunch-effects-'));
  stateDir = join(root, 'state');
  mkdirSync(join(root, 'profiles'));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A valid reading of profile `web` whose `run` is `script`. */
async function reading(script: string, files: Record<string, string> = {}): Promise<ServiceConfig> {
  const dir = join(root, 'profiles', 'web');
  mkdirSync(dir);
  for (const [file, content] of Object.entries({ run: script, ...files })) {
    writeFileSync(join(dir, file), content);
    chmodSync(join(dir, file), 0o755);
  }
  const result = await readProfile(dir, 'web', { stateDir });
  if (result.kind !== 'valid') throw new Error(`not valid: ${JSON.stringify(result)}`);
  return result.configs[0]!;
}

/** Launch it and collect what it reports until the first SPAWNED or SPAWN_FAILED. */
async function launched(config: ServiceConfig): Promise<ServiceEvent> {
  const events: ServiceEvent[] = [];
  launch(config, stateDir, (event) => events.push(event));
  await waitFor('SPAWNED or SPAWN_FAILED', () => events.some((e) => e.type === 'SPAWNED' || e.type === 'SPAWN_FAILED'));
  const first = events.find((e) => e.type === 'SPAWNED' || e.type === 'SPAWN_FAILED')!;
  if (first.type === 'SPAWNED') process.kill(-first.proc.pid, 'SIGKILL');
  return first;
}

describe('launch: why `run` could not be executed', () => {
  it.each([
    ['removed', (config: ServiceConfig) => unlinkSync(config.runPath)],
    ['removed with its whole profile directory', (config: ServiceConfig) => rmSync(config.dir, { recursive: true })],
  ])('`run` %s after the reading: SPAWN_FAILED with runMissing, not "its interpreter was not found"', async (_what, remove) => {
    const config = await reading('#!/bin/sh\nexec sleep 1000\n');
    remove(config);
    const event = await launched(config);
    expect(event).toEqual({ type: 'SPAWN_FAILED', reason: `cannot execute ${config.runPath}: it does not exist (any more)`, runMissing: true });
  });

  it('a missing #! interpreter is still said so, with the interpreter, and is not runMissing', async () => {
    const config = await reading('#!/no/such/interpreter\necho hi\n');
    const event = await launched(config);
    expect(event).toEqual({
      type: 'SPAWN_FAILED',
      reason: `cannot execute ${config.runPath}: its interpreter (the #! line) was not found (#!/no/such/interpreter)`,
    });
  });

  it('a `run` made non-executable after the reading: permission denied, not runMissing', async () => {
    const config = await reading('#!/bin/sh\nexec sleep 1000\n');
    chmodSync(config.runPath, 0o644);
    const event = await launched(config);
    expect(event).toMatchObject({ type: 'SPAWN_FAILED', reason: expect.stringMatching(/permission denied/) });
    expect(event).not.toHaveProperty('runMissing');
  });

  it('a `run` that is there starts', async () => {
    const config = await reading('#!/bin/sh\nexec sleep 1000\n');
    expect(await launched(config)).toMatchObject({ type: 'SPAWNED', proc: { child: true } });
  });
});

describe('runFinish: a finish removed after the reading', () => {
  it('reports that it does not exist, not a missing interpreter', async () => {
    const config = await reading('#!/bin/sh\nexec sleep 1000\n', { finish: '#!/bin/sh\nexit 0\n' });
    unlinkSync(config.finishPath!);
    const events: ServiceEvent[] = [];
    runFinish({ config, exit: { pid: 1234, code: 0, signal: null, at: 0, uptimeMs: 0 }, event: 'exited' }, stateDir, (e) => events.push(e));
    await waitFor('FINISHED', () => events.length > 0);
    expect(events).toEqual([{ type: 'FINISHED', code: null, signal: null, error: `cannot execute ${config.finishPath}: it does not exist (any more)` }]);
  });
});
