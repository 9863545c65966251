#!/usr/bin/env node
// Readiness, start order and health, measured (proclaunch alone: the peers
// have no `needs` to compare with).
//
// 1. A chain of 20 services, each needing the one before, each ready at once
//    through notification-fd (and through sd_notify, with `systemd-notify
//    --ready`, where it is installed): from the supervisor's spawn to the
//    last one ready; per link, the supervisor's own part — from the need's
//    `ready` event to the dependent's `started` (events.log, ms resolution) —
//    and the service's own (its `started` to its `ready`).
// 2. 100 services with a `health` probe every 10 s (it exits 0), against 100
//    without: the supervisor's CPU per 30 s (its own threads: the probes are
//    other processes).
//
//   npm run build && node bench/needs.mjs [--quick]
// bench/bench.mjs runs it too (section 7 of its report).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpuPreciseMs, pause, until } from './lib.mjs';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'main.js');
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** A scratch PROFILES_DIR and STATE_DIR with `profiles` (name → files), a supervisor on them, and its events. */
async function withSupervisor(profiles, body) {
  const root = mkdtempSync(join(tmpdir(), 'proclaunch-needs-bench-'));
  const dir = join(root, 'profiles');
  mkdirSync(dir);
  for (const [name, files] of Object.entries(profiles)) {
    mkdirSync(join(dir, name));
    for (const [file, content] of Object.entries(files)) {
      writeFileSync(join(dir, name, file), content);
      if (content.startsWith('#!')) chmodSync(join(dir, name, file), 0o755);
    }
  }
  const state = join(root, 'state');
  const events = () => {
    try {
      return readFileSync(join(state, 'events.log'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    } catch {
      return [];
    }
  };
  const spawnedAt = Date.now();
  const supervisor = spawn(process.execPath, [CLI, 'supervise', '--foreground', '--log-path', join(root, 'supervisor.log'), state, dir], { stdio: 'ignore' });
  try {
    return await body({ supervisor, events, spawnedAt });
  } finally {
    supervisor.kill('SIGTERM');
    await new Promise((resolve) => (supervisor.exitCode !== null ? resolve() : supervisor.once('exit', resolve)));
    rmSync(root, { recursive: true, force: true });
  }
}

const READY = {
  'notification-fd': { run: '#!/bin/sh\necho >&3\nexec 3>&-\nexec sleep 100000\n', 'notification-fd': '3\n' },
  sd_notify: { run: '#!/bin/sh\nsystemd-notify --ready\nexec sleep 100000\n', notify: '' },
};

async function chain(kind, links) {
  const name = (i) => `s${String(i).padStart(2, '0')}`;
  const profiles = {};
  for (let i = 0; i < links; i++) profiles[name(i)] = { ...READY[kind], ...(i > 0 ? { needs: `${name(i - 1)}\n` } : {}) };
  return withSupervisor(profiles, async ({ events, spawnedAt }) => {
    const last = name(links - 1);
    await until(`${last} ready`, () => events().some((e) => e.profile === last && e.event === 'ready'), 60_000);
    const at = (tag, event) => Date.parse(events().find((e) => e.profile === tag && e.event === event).time);
    const link = [];
    const own = [];
    for (let i = 0; i < links; i++) {
      own.push(at(name(i), 'ready') - at(name(i), 'started'));
      if (i > 0) link.push(at(name(i), 'started') - at(name(i - 1), 'ready'));
    }
    return { kind, links, totalMs: at(last, 'ready') - spawnedAt, linkMedianMs: median(link), linkMaxMs: Math.max(...link), ownMedianMs: median(own) };
  });
}

async function healthCost(n, withHealth, { settleMs, windowMs }) {
  const profiles = {};
  for (let i = 0; i < n; i++) {
    profiles[`h${i}`] = { run: '#!/bin/sh\nexec sleep 100000\n', ...(withHealth ? { health: '#!/bin/sh\nexit 0\n', health_interval: '10\n' } : {}) };
  }
  return withSupervisor(profiles, async ({ supervisor, events }) => {
    await until(`${n} started`, () => events().filter((e) => e.event === 'started').length >= n, 60_000);
    await pause(settleMs);
    const before = cpuPreciseMs(supervisor.pid);
    await pause(windowMs);
    return { n, health: withHealth, cpuMsPer30s: ((cpuPreciseMs(supervisor.pid) - before) * 30_000) / windowMs };
  });
}

/** Everything, as table rows for a report. */
export async function needsBench({ quick = false, log = () => undefined } = {}) {
  const kinds = ['notification-fd'];
  if (spawnSync('sh', ['-c', 'command -v systemd-notify']).status === 0) kinds.push('sd_notify');
  const chains = [];
  for (const kind of kinds) {
    log(`needs: a chain of 20, ${kind}`);
    chains.push(await chain(kind, 20).catch((error) => ({ kind, error: error.message })));
  }
  // The window holds at least one health round (every 10 s, the first 10 s after ready).
  const timing = quick ? { settleMs: 1000, windowMs: 12_000 } : { settleMs: 10_000, windowMs: 30_000 };
  const health = [];
  // Quick: only with health (the idle footprint of section 5 is the one without).
  for (const withHealth of quick ? [true] : [false, true]) {
    log(`health: 100 services${withHealth ? ' with health every 10 s' : ', no health'}`);
    health.push(await healthCost(100, withHealth, timing).catch((error) => ({ n: 100, health: withHealth, error: error.message })));
  }
  return { chains, health, windowMs: timing.windowMs, missing: kinds.includes('sd_notify') ? null : 'sd_notify not measured: systemd-notify is not installed' };
}

/** The report's section, as Markdown lines. */
export function needsReport({ chains, health, windowMs, missing }) {
  const lines = ['| chain of 20 (each needs the one before) | supervisor start → last ready | per link: need ready → dependent started (median, max) | the service\'s own start → ready (median) |', '|---|---:|---:|---:|'];
  for (const c of chains) lines.push(c.error ? `| ${c.kind} | failed: ${c.error} | | |` : `| ${c.kind} | ${c.totalMs} ms | ${c.linkMedianMs} ms, ${c.linkMaxMs} ms | ${c.ownMedianMs} ms |`);
  if (missing) lines.push('', missing);
  lines.push('', `| 100 services | supervisor CPU per 30 s (measured over ${windowMs / 1000} s) |`, '|---|---:|');
  for (const h of health) lines.push(`| ${h.health ? 'with `health` every 10 s' : 'without health'} | ${h.error ? `failed: ${h.error}` : `${h.cpuMsPer30s.toFixed(1)} ms`} |`);
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const results = await needsBench({ quick: process.argv.includes('--quick'), log: (line) => console.error(line) });
  console.log(needsReport(results).join('\n'));
}
