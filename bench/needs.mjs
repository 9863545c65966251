#!/usr/bin/env node
// Readiness, start order and health, measured (proclaunch alone: the peers
// have no `needs` to compare with). Issue 11's targets.
//
// 1. A chain of 20 services, each needing the one before, each ready at once
//    through notification-fd (and through sd_notify, with `systemd-notify
//    --ready`, where it is installed). Per link: from the first service ready
//    to the last ready, divided by 19, under a supervisor done with its own
//    start-up (the 19 dependents read and waiting, then the first added),
//    against a bare loop that runs the same services in the same order with no
//    supervisor (bench/needs-bare.mjs: the services' own time); trials
//    alternate. The supervisor's cost per link is the difference of the two
//    medians (target ≤ 2 ms). Also: the need's `ready` to the dependent's
//    `started` (events.log, ms), the supervisor's CPU per link, and, with the
//    whole chain there at its start, from the supervisor's spawn to the last
//    ready.
// 2. Idle CPU per 30 s of the supervisor (its own threads: probes are other
//    processes): 500 services without probes (target: 0 ms, as before
//    readiness), 100 without and 100 with a `health` probe every 10 s.
//
//   npm run build && node bench/needs.mjs [--quick] [--trials N] [--chains] [--baseline DIR]
// --chains: only the chains; --baseline DIR: also the supervisor of another
// build (a checkout with dist/ and the native module), in the same trials.
// bench/bench.mjs runs it too (section 8 of its report). On a machine other
// work keeps busy, `chrt -f 10 node bench/needs.mjs` shows the figures without
// waiting for a core (the services inherit the priority; so does the bare loop).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bareChain, RUN } from './needs-bare.mjs';
import { cpuPreciseMs, now, pause } from './lib.mjs';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'main.js');
const LINKS = 20;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Poll `probe` every 5 ms until it returns something truthy: the figures come
 * from events.log's times, and a 1 ms poll would take a share of the two
 * cores from the supervisor it measures.
 */
async function until(what, probe, timeoutMs) {
  const deadline = now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await pause(5);
  }
}

/** The events of STATE_DIR/events.log, read on from where the last call stopped (the harness polls it). */
function eventReader(path) {
  const events = [];
  let offset = 0;
  let partial = '';
  const chunk = Buffer.alloc(64 * 1024);
  return () => {
    let fd;
    try {
      fd = openSync(path, 'r');
    } catch {
      return events;
    }
    try {
      for (let n; (n = readSync(fd, chunk, 0, chunk.length, offset)) > 0; offset += n) partial += chunk.toString('utf8', 0, n);
    } finally {
      closeSync(fd);
    }
    const lines = partial.split('\n');
    partial = lines.pop();
    for (const line of lines) if (line) events.push(JSON.parse(line));
    return events;
  };
}

/** Write profile NAME's files into `dir`. */
function writeProfile(dir, name, files) {
  mkdirSync(join(dir, name));
  for (const [file, content] of Object.entries(files)) {
    writeFileSync(join(dir, name, file), content);
    if (content.startsWith('#!')) chmodSync(join(dir, name, file), 0o755);
  }
}

/**
 * A scratch PROFILES_DIR and STATE_DIR with `profiles` (name → files), a
 * supervisor on them, and its events; `add(name, files)` adds a profile the
 * supervisor's way (written beside, renamed in).
 */
async function withSupervisor(profiles, body, cli = CLI) {
  const root = mkdtempSync(join(tmpdir(), 'proclaunch-needs-bench-'));
  const dir = join(root, 'profiles');
  const staging = join(root, 'staging');
  mkdirSync(dir);
  mkdirSync(staging);
  for (const [name, files] of Object.entries(profiles)) writeProfile(dir, name, files);
  const state = join(root, 'state');
  const events = eventReader(join(state, 'events.log'));
  const add = (name, files) => {
    writeProfile(staging, name, files);
    renameSync(join(staging, name), join(dir, name));
  };
  const spawnedAt = Date.now();
  const supervisor = spawn(process.execPath, [cli, 'supervise', '--foreground', '--log-path', join(root, 'supervisor.log'), state, dir], { stdio: 'ignore' });
  try {
    return await body({ supervisor, events, spawnedAt, add, state });
  } finally {
    supervisor.kill('SIGTERM');
    await new Promise((resolve) => (supervisor.exitCode !== null ? resolve() : supervisor.once('exit', resolve)));
    rmSync(root, { recursive: true, force: true });
  }
}

const name = (i) => `s${String(i).padStart(2, '0')}`;
const FILES = { 'notification-fd': { 'notification-fd': '3\n' }, sd_notify: { notify: '' } };
const chainProfile = (kind, i) => ({ run: RUN[kind], ...FILES[kind], ...(i > 0 ? { needs: `${name(i - 1)}\n` } : {}) });

/** The whole chain there at the supervisor's start: from its spawn to the last one ready. */
async function coldChain(kind, cli) {
  const profiles = {};
  for (let i = 0; i < LINKS; i++) profiles[name(i)] = chainProfile(kind, i);
  return withSupervisor(profiles, async ({ events, spawnedAt }) => {
    const last = name(LINKS - 1);
    const ready = await until(`${last} ready`, () => events().find((e) => e.profile === last && e.event === 'ready'), 60_000);
    return { totalMs: Date.parse(ready.time) - spawnedAt };
  }, cli);
}

/**
 * The chain under a supervisor done with its start-up (the dependents read and
 * waiting for s00, which is added then): per link, from s00 ready to the last
 * ready; the need's `ready` to the dependent's `started`; the service's own
 * `started` to `ready`; the supervisor's CPU (all its threads) per link.
 */
async function warmChain(kind, cli) {
  const profiles = {};
  for (let i = 1; i < LINKS; i++) profiles[name(i)] = chainProfile(kind, i);
  return withSupervisor(profiles, async ({ supervisor, events, add, state }) => {
    const isReady = (tag) => events().some((e) => e.profile === tag && e.event === 'ready');
    await until('the dependents read', () => existsSync(join(state, 'control.sock')) && events().filter((e) => e.event === 'added').length >= LINKS - 1, 60_000);
    await pause(300); // the last of its start-up (the watcher's first scan) settles
    add(name(0), chainProfile(kind, 0));
    const last = name(LINKS - 1);
    await until(`${name(0)} ready`, () => isReady(name(0)), 60_000);
    const cpuAtFirst = cpuPreciseMs(supervisor.pid);
    await until(`${last} ready`, () => isReady(last), 60_000);
    const cpuPerLinkMs = (cpuPreciseMs(supervisor.pid) - cpuAtFirst) / (LINKS - 1);
    const at = (tag, event) => Date.parse(events().find((e) => e.profile === tag && e.event === event).time);
    const handOver = [];
    const own = [];
    for (let i = 0; i < LINKS; i++) {
      own.push(at(name(i), 'ready') - at(name(i), 'started'));
      if (i > 0) handOver.push(at(name(i), 'started') - at(name(i - 1), 'ready'));
    }
    return { perLinkMs: (at(last, 'ready') - at(name(0), 'ready')) / (LINKS - 1), handOverMs: median(handOver), ownMs: median(own), cpuPerLinkMs };
  }, cli);
}

/**
 * Trials of the chain of `kind`: this build's supervisor, the bare loop (and
 * another build's supervisor, `baseline`: its dist/cli/main.js) in turn, so
 * that all see the same load. Each supervisor's row: medians.
 */
async function chain(kind, trials, baseline) {
  const builds = [{ label: kind, cli: CLI }, ...(baseline ? [{ label: `${kind} (${baseline})`, cli: join(baseline, 'dist', 'cli', 'main.js') }] : [])];
  const runs = builds.map(() => ({ warm: [], cold: [] }));
  const bare = [];
  for (let t = 0; t < trials; t++) {
    for (const [i, build] of builds.entries()) runs[i].warm.push(await warmChain(kind, build.cli));
    bare.push(await bareChain(kind, LINKS));
    for (const [i, build] of builds.entries()) runs[i].cold.push(await coldChain(kind, build.cli));
  }
  const m = (list, key) => median(list.map((r) => r[key]));
  const barePerLinkMs = m(bare, 'perLinkMs');
  return builds.map((build, i) => {
    const { warm, cold } = runs[i];
    const perLinkMs = m(warm, 'perLinkMs');
    return {
      kind: build.label, trials, perLinkMs, barePerLinkMs, costPerLinkMs: perLinkMs - barePerLinkMs,
      totalMs: m(cold, 'totalMs'), handOverMs: m(warm, 'handOverMs'), ownMs: m(warm, 'ownMs'),
      cpuPerLinkMs: m(warm, 'cpuPerLinkMs'), bareCpuPerLinkMs: m(bare, 'cpuPerLinkMs'),
    };
  });
}

/** The supervisor's CPU per 30 s with `n` idle services (`health`: each with a probe every 10 s). */
async function idleCost(n, withHealth, { settleMs, windowMs }, cli = CLI) {
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
  }, cli);
}

/** Everything, as data for the report. */
export async function needsBench({ quick = false, trials = quick ? 1 : 7, chainsOnly = false, baseline = null, log = () => undefined } = {}) {
  const load = loadavg()[0];
  const kinds = ['notification-fd'];
  if (spawnSync('sh', ['-c', 'command -v systemd-notify']).status === 0) kinds.push('sd_notify');
  const chains = [];
  for (const kind of kinds) {
    log(`needs: a chain of ${LINKS}, ${kind}, ${trials} trial(s) with the supervisor and bare`);
    chains.push(...(await chain(kind, trials, baseline).catch((error) => [{ kind, error: error.message }])));
  }
  // The window holds at least one health round (every 10 s, the first 10 s after ready) — except in a
  // quick run, a smoke test that must stay under a minute in all (bench.mjs --quick).
  const timing = quick ? { settleMs: 300, windowMs: 2_000 } : { settleMs: 10_000, windowMs: 30_000 };
  const idle = [];
  // Quick: only the one with health (the idle footprint of section 5 is the one without).
  for (const [n, withHealth] of chainsOnly ? [] : quick ? [[100, true]] : [[500, false], [100, false], [100, true]]) {
    // The baseline too where the probes' cost is what differs.
    for (const build of [null, ...(baseline && withHealth ? [baseline] : [])]) {
      log(`idle: ${n} services${withHealth ? ' with health every 10 s' : ', no probes'}${build ? ` (${build})` : ''}`);
      const cli = build ? join(build, 'dist', 'cli', 'main.js') : CLI;
      idle.push(await idleCost(n, withHealth, timing, cli).then((r) => ({ ...r, build }), (error) => ({ n, health: withHealth, build, error: error.message })));
    }
  }
  return { chains, idle, windowMs: timing.windowMs, load: [load, loadavg()[0]], missing: kinds.includes('sd_notify') ? null : 'sd_notify not measured: systemd-notify is not installed' };
}

const ms = (x, digits = 1) => `${x.toFixed(digits)} ms`;

/** The report's section, as Markdown lines. */
export function needsReport({ chains, idle, windowMs, load, missing }) {
  const lines = [
    `Load average (1 min) ${load[0].toFixed(2)} before, ${load[1].toFixed(2)} after; medians of the trials.`,
    '',
    `| chain of ${LINKS} (each needs the one before) | trials | per link, supervised | per link, bare loop (the services' own) | **supervisor's cost per link** | supervisor start → last ready | need ready → dependent started | service started → ready | CPU per link: supervisor, bare loop |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const c of chains) {
    if (c.error) lines.push(`| ${c.kind} | failed: ${c.error} | | | | | | | |`);
    else lines.push(`| ${c.kind} | ${c.trials} | ${ms(c.perLinkMs, 2)} | ${ms(c.barePerLinkMs, 2)} | **${ms(c.costPerLinkMs, 2)}** | ${ms(c.totalMs, 0)} | ${ms(c.handOverMs, 0)} | ${ms(c.ownMs, 0)} | ${ms(c.cpuPerLinkMs, 2)}, ${ms(c.bareCpuPerLinkMs, 2)} |`);
  }
  if (missing) lines.push('', missing);
  lines.push('', `| idle services | supervisor CPU per 30 s (measured over ${windowMs / 1000} s) |`, '|---|---:|');
  for (const h of idle) lines.push(`| ${h.n}, ${h.health ? 'with `health` every 10 s' : 'no probes'}${h.build ? ` (${h.build})` : ''} | ${h.error ? `failed: ${h.error}` : ms(h.cpuMsPer30s)} |`);
  lines.push('', '| target (issue 11) | measured | |', '|---|---|---|');
  for (const c of chains.filter((x) => !x.error)) lines.push(`| chain of ${LINKS}, ${c.kind}: cost per link ≤ 2 ms | ${ms(c.costPerLinkMs, 2)} | ${c.costPerLinkMs <= 2 ? 'met' : '**missed**'} |`);
  const idle500 = idle.find((h) => h.n === 500 && !h.health && !h.build && !h.error);
  // 0 ms: no timer, no polling; the few ms a window may show are the kernel's accounting of the idle event loop.
  if (idle500) lines.push(`| 500 idle, no probes: 0 ms per 30 s, as before | ${ms(idle500.cpuMsPer30s)} | ${idle500.cpuMsPer30s < 5 ? 'met' : '**missed**'} |`);
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const option = (flag) => (process.argv.includes(flag) ? process.argv[process.argv.indexOf(flag) + 1] : undefined);
  const trials = option('--trials') === undefined ? undefined : Number(option('--trials'));
  const results = await needsBench({
    quick: process.argv.includes('--quick'), chainsOnly: process.argv.includes('--chains'), trials, baseline: option('--baseline') ?? null, log: (line) => console.error(line),
  });
  console.log(needsReport(results).join('\n'));
}
