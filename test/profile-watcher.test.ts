// ProfileWatcher with real filesystem events, no supervisor: which looks it asks for.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { ProfileWatcher } from '../src/supervisor/profile-watcher.js';
import { waitFor } from './support/wait.js';

let dir: string;
let watcher: ProfileWatcher | null = null;
afterEach(async () => {
  await watcher?.close();
  watcher = null;
  rmSync(dir, { recursive: true, force: true });
});

it('a name released just as a new profile of that name arrives (`mv e c` while the old c stops) is still looked at', async () => {
  dir = mkdtempSync(join(tmpdir(), 'proclaunch-watcher-'));
  const profilesDir = join(dir, 'profiles');
  mkdirSync(profilesDir);
  const looked: string[] = [];
  const w = new ProfileWatcher({
    profilesDir,
    known: () => [],
    look: async (name) => void looked.push(name),
    // Wide enough that the release below lands inside it however busy the machine.
    debounceMs: 50,
    log: (_level, message) => {
      // The old c's actor is let go between the event and its look (the order a stress run found).
      if (message === 'filesystem event for "c"') queueMicrotask(() => w.forget('c'));
    },
  });
  watcher = w;
  await w.rescan();
  w.start();
  const arrive = (name: string) => {
    const made = join(dir, name);
    mkdirSync(made);
    writeFileSync(join(made, 'run'), '#!/bin/sh\nexec sleep 1000\n', { mode: 0o755 });
    renameSync(made, join(profilesDir, name)); // one event: NAME came
  };
  await waitFor('the watch set up', () => 'watchedDirs' in w.counts());
  // A profile first, looked at for its event: then the passes the watch's set-up runs (which would look at c anyway) are done.
  arrive('a');
  await waitFor('a look at a', () => looked.includes('a') && w.counts().lookQueue === 0);
  arrive('c');
  await waitFor(() => `a look at c (looked at: ${JSON.stringify(looked)})`, () => looked.includes('c'));
});
