// Profiles added and removed again at once (a deployment tool, 4,100 of them
// in the report): many are removed while their `run` is being spawned, so the
// spawn finds no `run`. That is not the user's error: no ERROR from the
// service (the machine once said "its interpreter (the #! line) was not
// found"), one INFO `removed before it started` at most, nothing left running.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Sandbox, sh } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(async () => {
  await box.cleanup();
});

const COUNT = 400;

it(`${COUNT} profiles added, then removed while they start: no ERROR, each said once, none left running`, async () => {
  box.start();
  await box.waitLog('proclaunch', /^control socket /);
  const staging = join(box.root, 'staging');
  const trash = join(box.root, 'trash');
  mkdirSync(trash);
  const names = Array.from({ length: COUNT }, (_, i) => `p${i}`);
  for (const name of names) {
    mkdirSync(join(staging, name), { recursive: true });
    writeFileSync(join(staging, name, 'run'), sh('exec sleep 1000'), { mode: 0o755 });
  }
  // Each appears whole and goes whole (renamed in, renamed out), so no reading finds half a profile.
  for (const name of names) renameSync(join(staging, name), join(box.profilesDir, name));
  await waitFor('the first start', () => box.lines().some((l) => l.message.startsWith('started pid ')));
  for (const name of names) renameSync(join(box.profilesDir, name), join(trash, name));

  // A profile renamed away before the supervisor got to read it was never added, so it is not `removed` either (on a loaded machine, some).
  // (One that was read half-gone is `invalid`, and then `removed`.)
  const unremoved = () => {
    const known = new Set<string>();
    for (const { tag, message } of box.lines()) {
      const said = tag === 'proclaunch' && /^profile (added|invalid|removed): (p\d+)\b/.exec(message);
      if (said && said[1] === 'removed') known.delete(said[2]!);
      else if (said) known.add(said[2]!);
    }
    return [...known];
  };
  await waitFor(() => `each profile added also removed (not yet: ${unremoved().join(' ')})`, () => unremoved().length === 0 && box.count('proclaunch', /^profile added: /) > 0, { timeoutMs: 90_000 });
  await waitFor('no service process left', () => box.processes().length === 0, { timeoutMs: 60_000 });
  // A process that has exited is gone from /proc's view above (a zombie has no cwd) before the supervisor has reaped it and said so.
  const unended = () => {
    const open = new Map<string, number>();
    for (const { tag, message } of box.lines()) {
      if (/^started pid \d+$/.test(message)) open.set(tag, (open.get(tag) ?? 0) + 1);
      else if (/^(stopped|exited) pid \d+/.test(message)) open.set(tag, (open.get(tag) ?? 0) - 1);
    }
    return [...open].filter(([, n]) => n > 0).map(([tag]) => tag);
  };
  await waitFor(() => `an end line for each start (not yet: ${unended().join(' ')})`, () => unended().length === 0, { timeoutMs: 30_000 });
  const lines = box.lines();
  // (The reader may still call a directory that vanishes mid-read `profile invalid: pN: no run file`: a proclaunch line, not the service's.)
  expect(lines.filter((l) => l.tag !== 'proclaunch' && (l.level === 'ERROR' || l.level === 'FATAL'))).toEqual([]);
  expect(lines.filter((l) => /cannot execute|interpreter/.test(l.message))).toEqual([]);
  for (const name of names) expect(box.count(name, /^removed before it started$/), name).toBeLessThanOrEqual(1);
  // Each one that started ended once: stopped, or (its script renamed away before `sh` opened it) exited on its own.
  // One stopped while spawning is signalled once SPAWNED: it ends without a `started` line.
  for (const name of names) {
    const [started, ended] = [box.count(name, /^started pid \d+$/), box.count(name, /^(stopped|exited) pid \d+/)];
    expect([started, ended], name).toSatisfy(() => started <= ended && ended <= 1);
  }
}, 180_000); // 400 starts and stops: minutes on a loaded 2-core machine
