#!/usr/bin/env node
// Soak test (`npm run test:soak`, not part of `npm test`): add and remove
// profiles under names never seen before, against a real Supervisor run in
// this process (built dist/, real processes), and compare the live heap
// before and after. Memory must not grow with the number of names ever seen.
//
//   node --expose-gc scripts/soak.mjs [--cycles 20000] [--parallel 8] [--max-seconds 1200] [--max-growth-mib 4]
//
// Each cycle: write profile soak-N (`exec sleep 1000`) beside PROFILES_DIR and
// rename it in (it appears whole), wait for its `started` event (and for `run`
// to have exec'd sleep), rename it out again (it goes whole) and remove it,
// wait for its `removed` event and for its actor to be released. Exit 0 when the heap grew by at most
// --max-growth-mib, 1 otherwise (or when a cycle hangs), 2 on bad usage.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../dist/log/logger.js';
import { EventLog } from '../dist/supervisor/event-log.js';
import { HeldProfiles } from '../dist/supervisor/holds.js';
import { ServiceRecords } from '../dist/supervisor/records.js';
import { prepareStateDir } from '../dist/supervisor/state-dir.js';
import { Supervisor } from '../dist/supervisor/supervisor.js';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '20000' },
    parallel: { type: 'string', default: '8' },
    'max-seconds': { type: 'string', default: '1200' },
    'max-growth-mib': { type: 'string', default: '4' },
    warmup: { type: 'string', default: '300' },
  },
});
const cycles = Number(values.cycles);
const parallel = Number(values.parallel);
const maxMs = Number(values['max-seconds']) * 1000;
const maxGrowth = Number(values['max-growth-mib']);
const warmup = Number(values.warmup);
if (typeof globalThis.gc !== 'function' || ![cycles, parallel, maxMs, maxGrowth, warmup].every((n) => Number.isFinite(n) && n >= 0)) {
  process.stderr.write('usage: node --expose-gc scripts/soak.mjs [--cycles N] [--parallel P] [--max-seconds S] [--max-growth-mib M] [--warmup N]\n');
  process.exit(2);
}

const root = mkdtempSync(join(tmpdir(), 'proclaunch-soak-'));
const stateDir = join(root, 'state');
const profilesDir = join(root, 'profiles');
mkdirSync(profilesDir);
prepareStateDir(stateDir);
const eventLog = new EventLog(join(stateDir, 'events.log'));
const supervisor = new Supervisor({
  stateDir,
  profilesDir,
  logger: createLogger({ path: join(root, 'supervisor.log'), level: 'WARN' }),
  eventLog,
  holds: new HeldProfiles(join(stateDir, 'held')),
  records: new ServiceRecords(stateDir),
});

/** Profile name → the event awaited for it. */
const waiting = new Map();
eventLog.subscribe((record) => {
  const wait = waiting.get(record.profile);
  if (wait && wait.event === record.event) {
    waiting.delete(record.profile);
    wait.resolve(record);
  }
});
const next = (name, event) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: no ${event} event after 30s`)), 30_000);
    waiting.set(name, { event, resolve: (record) => (clearTimeout(timer), resolve(record)) });
  });
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** `run` has exec'd `sleep` (a shell that has not read its script yet would fail once the profile is renamed away). */
const execd = async (pid) => {
  for (let i = 0; i < 1000; i++) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep') return;
    } catch {
      return; // gone already
    }
    await pause(2);
  }
};
/** Released: the actor is gone (a supervisor without debugCounts, older, never releases: not waited for). */
const released = async (name) => {
  if (typeof supervisor.debugCounts !== 'function') return;
  for (let i = 0; supervisor.actor(name); i++) {
    if (i > 3000) throw new Error(`${name}: its actor was not released`);
    await pause(10);
  }
};

let serial = 0;
async function cycle() {
  const name = `soak-${++serial}`;
  const scratch = join(root, `.new-${name}`);
  mkdirSync(scratch);
  writeFileSync(join(scratch, 'run'), '#!/bin/sh\nexec sleep 1000\n');
  chmodSync(join(scratch, 'run'), 0o755);
  const started = next(name, 'started');
  renameSync(scratch, join(profilesDir, name));
  await execd((await started).pid);
  const removed = next(name, 'removed');
  renameSync(join(profilesDir, name), scratch);
  rmSync(scratch, { recursive: true });
  await removed;
  await released(name);
}

async function run(count, deadline) {
  let done = 0;
  let issued = 0;
  const worker = async () => {
    while (issued < count && Date.now() < deadline) {
      issued++;
      await cycle();
      done++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return done;
}

const mib = (bytes) => (bytes / 1024 / 1024).toFixed(1);
function measure() {
  for (let i = 0; i < 4; i++) globalThis.gc();
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsed, rss };
}

let code = 0;
try {
  await supervisor.start();
  const began = Date.now();
  await run(warmup, began + maxMs); // JIT, caches and pools settle before the first figure
  const before = measure();
  const t0 = Date.now();
  const done = await run(cycles, began + maxMs);
  const seconds = (Date.now() - t0) / 1000;
  await pause(200); // timers of the last cycles run out
  const after = measure();
  const growth = (after.heapUsed - before.heapUsed) / 1024 / 1024;
  const counts = typeof supervisor.debugCounts === 'function' ? JSON.stringify(supervisor.debugCounts()) : 'n/a';
  process.stdout.write(
    `soak: ${done} add/remove cycles of unique names (after ${warmup} warm-up) in ${seconds.toFixed(0)}s (${(done / seconds).toFixed(0)}/s, ${parallel} at once)\n` +
      `live heap: ${mib(before.heapUsed)} MiB before, ${mib(after.heapUsed)} MiB after (${growth >= 0 ? '+' : ''}${growth.toFixed(2)} MiB)\n` +
      `rss: ${mib(before.rss)} MiB before, ${mib(after.rss)} MiB after\n` +
      `kept by the supervisor: ${counts}\n`,
  );
  if (done < cycles) {
    process.stdout.write(`soak: FAILED, stopped at --max-seconds after ${done} of ${cycles} cycles\n`);
    code = 1;
  }
  if (growth > maxGrowth) {
    process.stdout.write(`soak: FAILED, the heap grew by more than ${maxGrowth} MiB\n`);
    code = 1;
  }
} catch (error) {
  process.stdout.write(`soak: FAILED: ${error.message}\n`);
  code = 1;
} finally {
  await supervisor.stopAll();
  rmSync(root, { recursive: true, force: true });
}
process.exit(code);
