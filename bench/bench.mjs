#!/usr/bin/env node
// proclaunch benchmark (issues 6 and 16): how fast it reacts and what it
// costs, measured from the outside with real processes, side by side with
// supervisord, runit, s6 and PM2, and two baselines always measured with it: a
// naive 60-line Node supervisor and the posix_spawn floor. Not part of `npm test`.
//
//   node bench/bench.mjs                 proclaunch alone (works on a fresh clone, after npm run build)
//   node bench/bench.mjs --quick         a smoke run (< 60 s; CI runs it)
//   node bench/bench.mjs --peers         also the peers, in the same run (installs them first
//                                        with scripts/install-peers.sh: root, apt-get, npm)
//   node bench/bench.mjs --only s6,PM2   only these adapters (proclaunch is always measured)
//   node bench/bench.mjs --out FILE      also write the Markdown report to FILE
//   node bench/bench.mjs --no-install    with --peers: use what is installed, install nothing
//   node bench/bench.mjs --scales 1,1000 metrics 1-3 at these N instead
//   node bench/bench.mjs --baseline DIR  also another build of proclaunch (a checkout of main, say,
//                                        built: dist/ and the native module), as a peer
//   node bench/bench.mjs --flood-seconds S  metric 7: seconds of flood per kind of output (default 10)
//   node bench/bench.mjs --sections bulk only these sections (comma-separated): latency (1-3, 6),
//                                        bulk (4), footprint (5), output (7), needs (8), http (9),
//                                        cli (10), fleet (11)
//   node bench/bench.mjs --bulk-runs K   section 4: K runs instead of 3; --tail-runs K: the 30 s CPU
//                                        tail in the first K of them (default: every run)
//   node bench/bench.mjs --no-baselines  without node-naive and the posix_spawn floor
//
// Every service runs a tiny sh script that writes its own pid to a file, then
// execs sleep: the moment that file names a new pid, the new process is
// running, whoever supervises it. The harness polls for it every 1 ms.
//
// Each supervisor is an adapter in bench/peers/ (see bench/README.md): adding
// a peer is adding one file there.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawn } from 'node:child_process';
import { FLOOD_MODES, floodRun, floodTable } from './output.mjs';
import { proclaunchAt } from './peers/proclaunch.mjs';
import { alive, cpuOf, cpuSince, daemonScript, isSleep, memoryOf, now, pause, plainScript, readPid, until } from './lib.mjs';
import { openScratch } from './session.mjs';
import { bulkBench, bulkPlan, bulkReport } from './bulk.mjs';
import { fmtMs, fmtRatio, median, p95 } from './format.mjs';
import { targetsReport } from './targets.mjs';
import { httpBench, httpReport } from './http.mjs';
import { needsBench, needsReport } from './needs.mjs';
import { cliStartupBench, cliStartupReport } from './cli-startup.mjs';
import { fleetBench, fleetReport } from './fleet.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..');

// ---------------------------------------------------------------- options
const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : null;
};
const quick = args.includes('--quick');
const only = option('--only')?.split(',').map((s) => s.trim().toLowerCase());
const withPeers = args.includes('--peers') || Boolean(only);
const outFile = option('--out');
const install = !args.includes('--no-install');
const ALL_SECTIONS = ['latency', 'bulk', 'footprint', 'output', 'needs', 'http', 'cli', 'fleet'];
const sections = new Set(option('--sections')?.split(',').map((s) => s.trim().toLowerCase()) ?? ALL_SECTIONS);
for (const name of sections) {
  if (!ALL_SECTIONS.includes(name)) {
    console.error(`bench: unknown section '${name}' (sections: ${ALL_SECTIONS.join(', ')})`);
    process.exit(2);
  }
}
const numberOption = (name) => (option(name) === null ? undefined : Number(option(name)));
const plan = bulkPlan({ quick, runs: numberOption('--bulk-runs'), tailRuns: numberOption('--tail-runs') });

const TRIALS = quick ? 4 : 20; // quick: one kill per victim, so no trial waits for a victim to be up 1 s again
const SCALES = option('--scales')?.split(',').map(Number) ?? (quick ? [1, 50] : [1, 100, 1000]); // metrics 1-3 at each N
const FOOTPRINT_SCALES = quick ? [1, 50] : [1, 100, 500];
// 60 s, reported per 30 s: a 30 s window would catch a once-a-minute task (proclaunch's safety-net rescan) or not, by chance.
const IDLE_SECONDS = quick ? 1 : 60;
// After start-up, before the steady-state idle measurement: past the start-up
// tail (garbage collection, deferred work) that section 4 measures — 5 s,
// then 30 s — so that section 5 is the steady state alone.
const SETTLE_MS = quick ? 500 : 35_000;
const VICTIMS = 4; // killed in turn, so each has been up > 1 s without waiting 1.2 s per trial
const UP_MS = 1200; // "up for more than 1 s", with a margin for the supervisor's own view of it
const GAP_MS = 100; // between two trials: let the supervisor finish its bookkeeping
// Plus a random wait (up to 1 s before a pick-up, 0.3 s before a kill):
// runsvdir looks at its directory once a second, and trials spaced by a fixed
// gap would lock onto that tick's phase.
const gap = (jitterMs) => GAP_MS + Math.random() * (quick ? 100 : jitterMs);

// ---------------------------------------------------------------- adapters
const adapterFiles = readdirSync(join(HERE, 'peers')).filter((f) => f.endsWith('.mjs')).sort();
const loaded = [];
for (const file of adapterFiles) loaded.push((await import(pathToFileURL(join(HERE, 'peers', file)).href)).default);
const proclaunchAdapter = loaded.find((a) => a.name === 'proclaunch');
// The baselines (node-naive, the floor) live in the repository: measured in every run, next to proclaunch.
const withBaselines = !args.includes('--no-baselines');
const always = (a) => a === proclaunchAdapter || (a.baseline && withBaselines);
const baselines = loaded.filter((a) => a.baseline).sort((a, b) => Number(Boolean(a.bulkOnly)) - Number(Boolean(b.bulkOnly)));
let adapters = [proclaunchAdapter, ...baselines, ...loaded.filter((a) => a !== proclaunchAdapter && !a.baseline)];
if (!withPeers) adapters = adapters.filter(always);
else if (only) adapters = adapters.filter((a) => always(a) || only.includes(a.name.toLowerCase()));
if (option('--baseline')) adapters.splice(1, 0, proclaunchAt(option('--baseline'), 'proclaunch baseline'));
const FLOOD_SECONDS = Number(option('--flood-seconds') ?? (quick ? 2 : 10));

const log = (line) => process.stderr.write(`[${((now() - T0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
const T0 = now();

if (withPeers && install && adapters.some((a) => !always(a))) {
  log('installing the peers (scripts/install-peers.sh)');
  const r = spawnSync('bash', [join(REPO, 'scripts', 'install-peers.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) log('install-peers.sh failed: measuring whatever is installed');
}
const skipped = [];
adapters = adapters.filter((a) => {
  const why = a.unavailable();
  if (why) {
    skipped.push({ name: a.name, why });
    log(`skipping ${a.name}: ${why}`);
  }
  return !why;
});
if (!adapters.includes(proclaunchAdapter)) {
  console.error(`bench: ${skipped.find((s) => s.name === 'proclaunch')?.why}`);
  process.exit(1);
}
const versions = new Map(adapters.map((a) => [a.name, String(a.version()).trim()]));

// ---------------------------------------------------------------- sessions
const { scratch, Session, isOurs, leftBehind, cleanupAllSync } = openScratch({ log });
/** Sections 1-3 and 5 measure supervisors; section 4 also the floor, which supervises nothing. */
const supervising = adapters.filter((a) => !a.bulkOnly);

// ---------------------------------------------------------------- measurements
/**
 * The supervisors' own processes, every session at once (idle processes do not
 * compete): PSS at the end, CPU over IDLE_SECONDS of idleness.
 */
async function footprints(list) {
  await pause(SETTLE_MS);
  const before = list.map((session) => {
    const procs = session.remember();
    return { procs, cpu0: cpuOf(procs) };
  });
  await pause(IDLE_SECONDS * 1000);
  return list.map((session, k) => attemptSync(() => ({
    ...memoryOf(session.remember()),
    cpuMsPer30s: (cpuSince(before[k].procs, before[k].cpu0) * 30) / IDLE_SECONDS,
  })));
}

/** kill -9 each victim in turn (each up > 1 s) → a new pid running. */
async function restartTrials(session, victims) {
  const upSince = new Map(victims.map((v) => [v.name, now()]));
  const samples = [];
  for (let i = 0; i < TRIALS; i++) {
    const v = victims[i % victims.length];
    await pause(Math.max(gap(300), UP_MS - (now() - upSince.get(v.name))));
    const old = readPid(v.pidFile);
    const t0 = now();
    process.kill(old, 'SIGKILL');
    await until(`a new pid for ${v.name}`, () => {
      const pid = readPid(v.pidFile);
      return pid !== old && pid;
    });
    samples.push(now() - t0);
    upSince.set(v.name, now());
  }
  return samples;
}

/** A new service, added the supervisor's natural way → its process running. */
async function pickUpTrials(session) {
  const samples = [];
  for (let i = 0; i < TRIALS; i++) {
    const s = session.service(`new${i}`);
    const t0 = now();
    await session.inst.add([s]);
    await until(`new${i} running`, () => readPid(s.pidFile), 30_000);
    samples.push(now() - t0);
    await pause(gap(1000));
  }
  return samples;
}

function attemptSync(body) {
  try {
    return body();
  } catch (error) {
    return { error: error.message };
  }
}

/** Wrap a measurement: its value, or the error that stopped it. */
async function attempt(what, body) {
  try {
    return await body();
  } catch (error) {
    log(`${what}: FAILED: ${error.message}`);
    return { error: error.message };
  }
}

const startTimeout = (n) => 60_000 + n * 300;
const results = new Map(adapters.map((a) => [a.name, { scales: new Map(), footprint: new Map() }]));
const capped = new Map(); // adapter name → its limit on services, where N had to be reduced

/** Metrics 1-3 with N idle services. */
async function scaleRun(adapter, n) {
  const r = { restart: null, pickup: null, daemon: null, n };
  results.get(adapter.name).scales.set(n, r);
  // A supervisor with a hard limit (runsvdir: 1,000) gets fewer idle services, so that the victims and new ones fit.
  const extra = VICTIMS * (adapter.daemonHow ? 2 : 1) + TRIALS;
  if (adapter.maxServices && n + extra > adapter.maxServices) {
    r.n = adapter.maxServices - extra;
    capped.set(adapter.name, adapter.maxServices);
  }
  const session = new Session(adapter, `n${n}`);
  try {
    const idle = [...Array(r.n).keys()].map((i) => session.service(`idle${i}`));
    log(`${adapter.name} N=${r.n}: starting`);
    const started = await attempt(`${adapter.name} N=${n} start`, () => session.start(idle, startTimeout(n)));
    if (started?.error) {
      r.restart = r.pickup = r.daemon = started;
      return;
    }
    const victims = [...Array(VICTIMS).keys()].map((i) => session.service(`victim${i}`));
    const daemons = adapter.daemonHow ? [...Array(VICTIMS).keys()].map((i) => session.service(`daemon${i}`, 'daemon')) : [];
    const added = await attempt(`${adapter.name} N=${n} victims`, async () => {
      await session.inst.add([...victims, ...daemons]);
      await session.untilAll([...victims, ...daemons], 30_000);
    });
    if (added?.error) {
      r.restart = r.pickup = r.daemon = added;
    } else {
      log(`${adapter.name} N=${n}: restart after kill -9`);
      r.restart = await attempt(`${adapter.name} N=${n} restart`, () => restartTrials(session, victims));
      if (daemons.length) {
        log(`${adapter.name} N=${n}: pid_file daemon death`);
        r.daemon = await attempt(`${adapter.name} N=${n} daemon`, () => restartTrials(session, daemons));
      } else r.daemon = { na: adapter.daemonNA };
      log(`${adapter.name} N=${n}: pick-up of a new service`);
      r.pickup = await attempt(`${adapter.name} N=${n} pick-up`, () => pickUpTrials(session));
    }
  } finally {
    await session.discard();
  }
}

/**
 * Metric 5: every supervisor started on each N of `ns`, all of them measured
 * in one idle window (idle processes do not compete for the CPU).
 */
async function footprintRun(ns) {
  const list = [];
  try {
    for (const n of ns) {
      for (const adapter of supervising) {
        const session = new Session(adapter, `idle${n}`);
        list.push({ session, n });
        log(`${adapter.name} N=${n}: starting for the idle footprint`);
        const started = await attempt(`${adapter.name} N=${n} start`, () =>
          session.start([...Array(n).keys()].map((i) => session.service(`idle${i}`)), startTimeout(n)),
        );
        if (started?.error) results.get(adapter.name).footprint.set(n, started);
      }
    }
    const ok = list.filter(({ session, n }) => !results.get(session.adapter.name).footprint.has(n));
    log(`N=${ns.join(', ')}: idle footprint of ${ok.length} supervisors side by side (${IDLE_SECONDS} s)`);
    const measured = await footprints(ok.map(({ session }) => session));
    ok.forEach(({ session, n }, k) => results.get(session.adapter.name).footprint.set(n, measured[k]));
  } finally {
    for (const { session } of list) await session.discard();
  }
}

/** The floor under metrics 1 and 3: Node spawning each `run` script, until its pid file names the process. */
async function runCost() {
  const dir = mkdtempSync(join(scratch, 'runcost-'));
  const out = { plain: [], daemon: [] };
  try {
    for (const kind of ['plain', 'daemon']) {
      for (let i = 0; i < TRIALS; i++) {
        const pidFile = join(dir, `${kind}${i}.pid`);
        const script = join(dir, `${kind}${i}.sh`);
        writeFileSync(script, kind === 'plain' ? plainScript(pidFile) : daemonScript(pidFile, join(dir, `${kind}${i}.daemonpid`)), { mode: 0o755 });
        const t0 = now();
        const child = spawn(script, [], { stdio: 'ignore', detached: true });
        const pid = await until('run cost', () => readPid(pidFile));
        out[kind].push(now() - t0);
        // The script wrote its pid and is about to exec sleep: end it once it has.
        await until('sleep', () => isSleep(pid) || !alive(pid), 5_000).catch(() => undefined);
        if (isOurs(pid)) process.kill(pid, 'SIGKILL');
        await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', resolve)));
        await pause(20);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

// ---------------------------------------------------------------- run it
const load0 = loadavg();
const started = new Date();
let costs;
let bulk;
const floods = [];
let needs;
let httpResults;
let cliStartup;
let fleet;
const failed = (error) => ({ error: error.message });
try {
  log(`measuring ${adapters.map((a) => a.name).join(', ')}${quick ? ' (quick)' : ''}; sections ${[...sections].join(', ')}; scratch ${scratch}`);
  // Sections 7-11 measure proclaunch alone, after the others. A quick run (a smoke test, under a minute:
  // its figures are not to be quoted) runs them at the same time as sections 1-6 — all but section 10,
  // first and alone: its spawnSync calls would stall every other section's event loop.
  const alone = Object.entries({
    output: async () => {
      for (const mode of Object.keys(FLOOD_MODES)) {
        log(`proclaunch: a flood, ${mode} output (${FLOOD_SECONDS} s)`);
        floods.push(await floodRun(mode, { seconds: FLOOD_SECONDS, scratch }).catch((error) => ({ mode, error: error.message })));
      }
    },
    needs: async () => (needs = await needsBench({ quick, log }).catch(failed)),
    http: async () => (httpResults = await httpBench({ quick, log }).catch(failed)),
    cli: async () => (cliStartup = await cliStartupBench({ quick, log }).catch(failed)),
    fleet: async () => (fleet = await fleetBench({ quick, log }).catch(failed)),
  }).filter(([name]) => sections.has(name));
  let together = null;
  if (quick) {
    for (const [name, section] of alone) if (name === 'cli') await section();
    together = Promise.all(alone.filter(([name]) => name !== 'cli').map(([, section]) => section()));
  }
  if (sections.has('latency')) {
    costs = await runCost();
    for (const n of SCALES) for (const adapter of supervising) await scaleRun(adapter, n);
  }
  if (sections.has('footprint')) {
    // The small ones share a window; the largest gets its own.
    await footprintRun(FOOTPRINT_SCALES.slice(0, -1));
    await footprintRun(FOOTPRINT_SCALES.slice(-1));
  }
  if (sections.has('bulk')) bulk = await bulkBench({ adapters, Session, attempt, log, scratch, quick, heap: true }, plan);
  if (together) await together;
  else for (const [, section] of alone) await section();
} finally {
  cleanupAllSync();
}
const load1 = loadavg();
const seconds = (now() - T0) / 1000;

// ---------------------------------------------------------------- report
const isSamples = (v) => Array.isArray(v) && v.length > 0;
const cellError = (v) => (v?.na ? `n/a` : v?.error ? `failed: ${v.error}` : 'not measured');

const lines = [];
const say = (line = '') => lines.push(line);
const cpu = cpus();
say(`# proclaunch benchmark${quick ? ' (quick smoke run: fewer trials, smaller N, sections 7-11 at the same time as the others — not the figures to quote)' : ''}`);
say();
say(`Run ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC by \`node bench/bench.mjs${args.length ? ` ${args.join(' ')}` : ''}\`, ${(seconds / 60).toFixed(1)} min.`);
say();
say('| machine | |');
say('|---|---|');
say(`| CPU | ${cpu.length} cores, ${cpu[0]?.model ?? '?'} |`);
say(`| memory | ${(totalmem() / 2 ** 30).toFixed(0)} GiB |`);
say(`| kernel | Linux ${release()} |`);
say(`| Node | ${process.version} |`);
say(`| load average (1 min) | ${load0[0].toFixed(2)} at the start, ${load1[0].toFixed(2)} at the end |`);
say(`| supervisors | ${adapters.map((a) => `${a.name} ${versions.get(a.name)}`).join(', ')} |`);
{
  const git = (...a) => {
    try {
      return execFileSync('git', ['-C', REPO, ...a], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return null;
    }
  };
  const commit = git('rev-parse', '--short', 'HEAD');
  if (commit) say(`| proclaunch | dist/ built from commit ${commit}${git('status', '--porcelain', '--', 'src') ? ' plus uncommitted changes in src/' : ''} |`);
}
if (skipped.length) say(`| not measured | ${skipped.map((s) => `${s.name} (${s.why})`).join('; ')} |`);
if (sections.size < ALL_SECTIONS.length) say(`| sections | only ${[...sections].join(', ')} (\`--sections\`) |`);
say();
say(`Each service is \`sh\` writing its own pid to a file, then \`exec sleep\`; the harness polls that file every 1 ms. ` +
  `"N" is the number of idle services the supervisor already has; metrics 1 and 3 kill ${VICTIMS} extra services in turn ` +
  `(each up > 1 s), metric 2 adds ${TRIALS} new ones. ${TRIALS} trials per cell; p95 is nearest-rank. ` +
  `**ratio** = proclaunch's median ÷ that supervisor's median in this run (below 1: proclaunch is faster or smaller).`);
say();
say('## How each supervisor was driven, and its built-in delays');
say();
for (const a of adapters) {
  say(`- **${a.name}** — add: ${a.addHow}; pid-file daemons: ${a.daemonHow ?? `n/a (${a.daemonNA})`}.`);
  for (const note of a.notes) say(`  ${note}`);
}
say();

const ours = results.get('proclaunch');
const [nLow, nHigh] = [SCALES[0], SCALES[SCALES.length - 1]];
const latencyTable = (title, key, intro) => {
  say(`## ${title}`);
  say();
  if (intro) {
    say(intro);
    say();
  }
  say('| supervisor | N | median | p95 | min | max | ratio |');
  say('|---|---:|---:|---:|---:|---:|---:|');
  for (const n of SCALES) {
    const base = ours.scales.get(n)?.[key];
    for (const a of supervising) {
      const cell = results.get(a.name).scales.get(n);
      const v = cell?.[key];
      const shownN = cell && cell.n !== n ? `${cell.n}*` : `${n}`;
      if (isSamples(v)) {
        say(`| ${a.name} | ${shownN} | ${fmtMs(median(v))} | ${fmtMs(p95(v))} | ${fmtMs(Math.min(...v))} | ${fmtMs(Math.max(...v))} | ${a.name === 'proclaunch' ? '—' : isSamples(base) ? fmtRatio(median(base), median(v)) : ''} |`);
      } else say(`| ${a.name} | ${shownN} | ${cellError(v)} | | | | |`);
    }
  }
  say();
  for (const [name, limit] of capped) say(`\\* ${name} supervises at most ${limit.toLocaleString('en')} services, so it got ${limit.toLocaleString('en')} in all: fewer idle ones, plus the ${VICTIMS} victims${results.get(name).scales.get(nHigh)?.daemon?.na ? '' : ' and daemons'} and ${TRIALS} new ones.`);
  if (capped.size) say();
};
if (sections.has('latency')) {
  latencyTable('1. Restart after kill -9 (service up > 1 s) → new pid running', 'restart',
    `The floor under this, on this machine: the same \`run\` spawned by Node until its pid file names it, median ${fmtMs(median(costs.plain))} (min ${fmtMs(Math.min(...costs.plain))}).`);
  latencyTable('2. Pick-up of a new service → its process running', 'pickup',
    'From just before the service is added (directory renamed in, or conf written) to its pid file naming it; the command, where the supervisor needs one, is inside the time.');
  latencyTable('3. Death of a self-daemonized (pid_file) service → restarted', 'daemon',
    `From kill -9 of the daemon to the new daemon's pid file: includes running \`run\` again, which forks the daemon and exits. ` +
    `Cost of that \`run\` alone, spawned from Node: median ${fmtMs(median(costs.daemon))} (a plain \`run\`: ${fmtMs(median(costs.plain))}).`);
  if (leftBehind.size) {
    say(`Stopping ${[...leftBehind].join(', ')} left the pid-file daemons running (the harness ended them): the supervisor signals only the process it started.`);
    say();
  }
}
if (sections.has('bulk')) {
  say(`## 4. Bulk start (N = ${plan.sizes.join(', ')}), the start-up tail and stop (N = ${plan.bulk})`);
  say();
  const stopHow = 'proclaunch, supervisord, node-naive, floor: SIGTERM; runit: SIGHUP to runsvdir; s6: `s6-svscanctl -t`; PM2: `pm2 kill`';
  for (const line of bulkReport(bulk, plan, adapters, stopHow)) say(line);
  say();
}

if (sections.has('footprint')) {
  say('## 5. Idle footprint (the steady state)');
  say();
  say(`All of the supervisor's own processes (the daemon and every helper it keeps, e.g. one s6-supervise or runsv per service; not the services). ` +
    `PSS from /proc/PID/smaps_rollup, summed (shared pages split fairly between the processes that map them); USS: their private pages only; RSS summed for reference (counts shared pages once per process). ` +
    `CPU: schedstat run time of all their threads over ${IDLE_SECONDS} s of idleness${IDLE_SECONDS !== 30 ? ', given per 30 s' : ''} (a once-a-minute task falls in it exactly once), ` +
    `after ${SETTLE_MS / 1000} s to settle (past the start-up tail of section 4). ` +
    `One run; all supervisors idle side by side in the same window (N = ${FOOTPRINT_SCALES.slice(0, -1).join(' and ')} in one window, N = ${FOOTPRINT_SCALES.at(-1)} in another). ` +
    `PSS depends on who else maps the same files (the node binary shared with other Node processes on the machine counts less); USS does not.`);
  say();
  say('| supervisor | N | processes | PSS | USS | RSS sum | CPU per 30 s | ratio PSS | ratio CPU |');
  say('|---|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const n of FOOTPRINT_SCALES) {
    const base = ours.footprint.get(n);
    for (const a of supervising) {
      const f = results.get(a.name).footprint.get(n);
      if (f && !f.error) {
        const theirs = a.name === 'proclaunch';
        say(`| ${a.name} | ${n} | ${f.kinds} | ${f.pssMB.toFixed(1)} MiB | ${f.ussMB.toFixed(1)} MiB | ${f.rssMB.toFixed(1)} MiB | ${f.cpuMsPer30s.toFixed(1)} ms | ${theirs ? '—' : base && !base.error ? fmtRatio(base.pssMB, f.pssMB) : ''} | ${theirs ? '—' : base && !base.error ? fmtRatio(base.cpuMsPer30s, f.cpuMsPer30s) : ''} |`);
      } else say(`| ${a.name} | ${n} | ${cellError(f)} | | | | | | |`);
    }
  }
  say();
}

if (sections.has('latency')) {
  say(`## 6. Scaling: N = ${nLow} → N = ${nHigh} idle services (medians)`);
  say();
  say('| supervisor | restart | change | pick-up | change | pid_file daemon | change |');
  say('|---|---:|---:|---:|---:|---:|---:|');
  const change = (lo, hi) => `${hi >= lo ? '+' : ''}${(((hi - lo) / lo) * 100).toFixed(0)}%`;
  for (const a of supervising) {
    const cells = [];
    for (const key of ['restart', 'pickup', 'daemon']) {
      const lo = results.get(a.name).scales.get(nLow)?.[key];
      const hiCell = results.get(a.name).scales.get(nHigh);
      const hi = hiCell?.[key];
      const star = hiCell && hiCell.n !== nHigh ? ` (N = ${hiCell.n})` : '';
      if (isSamples(lo) && isSamples(hi)) cells.push(`${fmtMs(median(lo))} → ${fmtMs(median(hi))}${star}`, change(median(lo), median(hi)));
      else cells.push(isSamples(lo) ? `${fmtMs(median(lo))} → ${cellError(hi)}` : cellError(lo), '');
    }
    say(`| ${a.name} | ${cells.join(' | ')} |`);
  }
  say();
}

if (sections.has('output')) {
  say('## 7. One service writing as fast as it can (issue 14)');
  say();
  say(`\`exec yes\` for ${FLOOD_SECONDS} s, under proclaunch alone, while another service writes a line every 10 ms (\`log_timestamps\`: its latency is the drain's arrival stamp minus the time the line says) ` +
    'and a client sends `status` on one connection every 10 ms (the round trip). To disk: the bytes `yes` wrote (/proc/PID/io wchar), per second; ' +
    'supervisor CPU: all its threads, as a share of one core. Kinds of output: ' +
    `${Object.entries(FLOOD_MODES).map(([mode, what]) => `**${mode}**: ${what}`).join('; ')}.`);
  say();
  for (const row of floodTable(floods)) say(row);
  say();
}
const section = (name, title, body, failedText = (r) => `Failed: ${r.error}`) => {
  if (!sections.has(name)) return;
  say(title);
  say();
  // A section whose whole run failed has only { error }.
  const result = { needs, http: httpResults, cli: cliStartup, fleet }[name];
  if (result && Object.keys(result).length === 1 && result.error) say(failedText(result));
  else body(result);
  say();
};
section('needs', '## 8. Start order and health (proclaunch alone; bench/needs.mjs)', (r) => needsReport(r).forEach((line) => say(line)));
section('http', '## 9. `supervise --http`: API, metrics, SSE (proclaunch alone; bench/http.mjs)', (r) => httpReport(r).forEach((line) => say(line)));
section('cli', '## 10. CLI start-up (proclaunch alone; bench/cli-startup.mjs)', (r) => {
  say('Each command run in turn, shuffled every round, against a supervisor with three services; the target is 1.3× bare Node for `status` and `check`.');
  say();
  cliStartupReport(r).forEach((line) => say(line));
});
section('fleet', '## 11. Many hosts over ssh: `proclaunch fleet status` (bench/fleet.mjs)', (r) => fleetReport(r).forEach((line) => say(line)));

// The issue's targets, checked against proclaunch's figures in this run.
say('## proclaunch against the targets (issue 16)');
say();
for (const line of targetsReport({ sections, scales: SCALES, plan, bulk, results, footprintN: FOOTPRINT_SCALES.at(-1) })) say(line);
say();
say('Beating each peer: see the ratio columns above (below 1 everywhere is the bar).');

const report = `${lines.join('\n')}\n`;
process.stdout.write(report);
if (outFile) writeFileSync(outFile, report);
log(`done in ${seconds.toFixed(0)} s${outFile ? `; report in ${outFile}` : ''}`);
