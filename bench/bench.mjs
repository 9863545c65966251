#!/usr/bin/env node
// proclaunch benchmark (issue 6): how fast it reacts and what it costs,
// measured from the outside with real processes, side by side with
// supervisord, runit, s6 and PM2. Not part of `npm test`.
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
//
// Every service runs a tiny sh script that writes its own pid to a file, then
// execs sleep: the moment that file names a new pid, the new process is
// running, whoever supervises it. The harness polls for it every 1 ms.
//
// Each supervisor is an adapter in bench/peers/ (see bench/README.md): adding
// a peer is adding one file there.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawn } from 'node:child_process';
import { FLOOD_MODES, floodRun, floodTable } from './output.mjs';
import { proclaunchAt } from './peers/proclaunch.mjs';
import {
  alive,
  cpuPreciseMs,
  killIfSame,
  now,
  pause,
  plainScript,
  daemonScript,
  processTable,
  pssKiB,
  ussKiB,
  readPid,
  startTime,
  statFields,
  supervisorProcesses,
  until,
} from './lib.mjs';
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

const TRIALS = quick ? 5 : 20;
const SCALES = option('--scales')?.split(',').map(Number) ?? (quick ? [1, 50] : [1, 100, 1000]); // metrics 1-3 at each N
const FOOTPRINT_SCALES = quick ? [1, 50] : [1, 100, 500];
const BULK = quick ? 50 : 500;
const BULK_RUNS = quick ? 1 : 3;
// 60 s, reported per 30 s: a 30 s window would catch a once-a-minute task (proclaunch's safety-net rescan) or not, by chance.
const IDLE_SECONDS = quick ? 3 : 60;
// After start-up, before the idle measurement: V8 (proclaunch, PM2) collects
// the garbage of start-up in the first seconds after it (its memory reducer);
// 2 s caught ~190 ms of that in proclaunch's GC threads at 500 services, 10 s none.
const SETTLE_MS = quick ? 500 : 10_000;
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
let adapters = [proclaunchAdapter, ...loaded.filter((a) => a !== proclaunchAdapter)];
if (!withPeers) adapters = [proclaunchAdapter];
else if (only) adapters = adapters.filter((a) => a === proclaunchAdapter || only.includes(a.name.toLowerCase()));
if (option('--baseline')) adapters.splice(1, 0, proclaunchAt(option('--baseline'), 'proclaunch baseline'));
const FLOOD_SECONDS = Number(option('--flood-seconds') ?? (quick ? 2 : 10));

const log = (line) => process.stderr.write(`[${((now() - T0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
const T0 = now();

if (withPeers && install && adapters.length > 1) {
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
const scratch = mkdtempSync(join(tmpdir(), 'proclaunch-bench-'));
const sessions = new Set();

/** One supervisor instance on its own scratch directory, and everything it started. */
class Session {
  constructor(adapter, label) {
    this.adapter = adapter;
    this.dir = mkdtempSync(join(scratch, `${adapter.name}-${label}-`));
    this.pidDir = join(this.dir, 'pids');
    mkdirSync(this.pidDir);
    mkdirSync(join(this.dir, 'sv'));
    this.inst = adapter.create(join(this.dir, 'sv'));
    this.supervisors = new Map(); // pid → start time: every supervisor process seen
    this.kinds = new Map(); // service name → 'plain' | 'daemon'
    sessions.add(this);
  }
  service(name, kind = 'plain') {
    this.kinds.set(name, kind);
    return { name, kind, pidFile: join(this.pidDir, name) };
  }
  /** The services' current pids (of one kind, or all). */
  servicePids(kind = null) {
    return new Set(
      readdirSync(this.pidDir)
        .filter((f) => kind === null || this.kinds.get(f) === kind)
        .map((f) => readPid(join(this.pidDir, f)))
        .filter(Boolean),
    );
  }
  /** Note every supervisor process now alive, so that close() can end them by pid. */
  remember() {
    const procs = supervisorProcesses(this.inst.rootPids(), this.servicePids());
    for (const p of procs) this.supervisors.set(p.pid, p.start);
    return procs;
  }
  async untilAll(services, timeoutMs) {
    let i = 0;
    try {
      await until('services', () => {
        while (i < services.length && readPid(services[i].pidFile)) i++;
        return i === services.length;
      }, timeoutMs);
    } catch {
      throw new Error(`${i}/${services.length} services running after ${timeoutMs / 1000} s`);
    }
    this.remember();
  }
  async start(services, timeoutMs) {
    this.inst.prepare(services);
    const t0 = now();
    await this.inst.start();
    await this.untilAll(services, timeoutMs);
    return now() - t0;
  }
  /**
   * Stop everything the supervisor's way; the time until every (plain) service
   * process is gone. pid-file daemons a supervisor leaves behind are noted
   * and ended by close().
   */
  async stop() {
    this.remember();
    const pids = [...this.servicePids('plain')];
    const t0 = now();
    await this.inst.stopAll();
    let i = 0;
    try {
      await until('services gone', () => {
        while (i < pids.length && !alive(pids[i])) i++;
        return i === pids.length;
      }, 120_000);
    } catch {
      throw new Error(`${pids.filter(alive).length} of ${pids.length} services still running 120 s after the stop`);
    }
    const elapsed = now() - t0;
    const daemons = [...this.servicePids('daemon')].filter((pid) => isOurs(pid));
    if (daemons.length) {
      await pause(1000);
      const left = daemons.filter((pid) => isOurs(pid));
      if (left.length) leftBehind.add(this.adapter.name);
    }
    return elapsed;
  }
  /** End whatever is left — supervisor processes, then services — by pid, and remove the directory. */
  async close() {
    try {
      this.remember();
      let timer;
      await Promise.race([this.inst.close(), new Promise((resolve) => (timer = setTimeout(resolve, 90_000)))]);
      clearTimeout(timer);
      // Helpers (runsv, s6-supervise) exit on their own shortly after the daemon: give them 5 s.
      const same = ([pid, start]) => alive(pid) && startTime(pid) === start;
      await until('the supervisor processes to exit', () => ![...this.supervisors].some(same), 5_000).catch(() => undefined);
    } catch (error) {
      log(`${this.adapter.name}: close: ${error.message}`);
    }
    this.killLeftovers();
    rmSync(this.dir, { recursive: true, force: true });
    sessions.delete(this);
  }
  /** No stop to measure: end everything by pid at once (supervisor processes first, so nothing restarts), then close. */
  async discard() {
    this.killLeftovers(false);
    await this.close();
  }
  killLeftovers(noisy = true) {
    try {
      this.remember();
    } catch {
      // best effort
    }
    let ended = 0;
    for (const [pid, start] of this.supervisors) if (killIfSame(pid, start)) ended++;
    if (ended && noisy) log(`${this.adapter.name}: ended ${ended} leftover supervisor process${ended > 1 ? 'es' : ''}`);
    for (const pid of this.servicePids()) {
      if (isOurs(pid)) killIfSame(pid, null);
    }
  }
}

/**
 * A service process of ours (pid files name only those, but pids get reused):
 * `sleep 100000`, or the script about to exec it (its command line names a
 * file in the scratch directory).
 */
function isSleep(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === 'sleep\u0000100000\u0000';
  } catch {
    return false;
  }
}
function isOurs(pid) {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return (cmdline === 'sleep\u0000100000\u0000' || cmdline.includes(scratch)) && alive(pid);
  } catch {
    return false;
  }
}
const leftBehind = new Set(); // supervisors whose stop left pid-file daemons running

function cleanupAllSync() {
  for (const s of sessions) s.killLeftovers();
  // Safety net: anything still running from the scratch directory.
  for (const [pid] of processTable()) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cwd.startsWith(scratch) && pid !== process.pid) killIfSame(pid, null);
    } catch {
      // gone, or not ours to look at
    }
  }
  rmSync(scratch, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    log(`${signal}: cleaning up`);
    cleanupAllSync();
    process.exit(130);
  });
}

// ---------------------------------------------------------------- measurements
/**
 * The supervisors' own processes, every session at once (idle processes do not
 * compete): PSS at the end, CPU over IDLE_SECONDS of idleness.
 */
async function footprints(list) {
  await pause(SETTLE_MS);
  const before = list.map((session) => {
    const procs = session.remember();
    return { procs, cpu0: procs.map((p) => cpuPreciseMs(p.pid)) };
  });
  await pause(IDLE_SECONDS * 1000);
  return list.map((session, k) => attemptSync(() => footprint(session, before[k])));
}
function footprint(session, { procs, cpu0 }) {
  const after = session.remember();
  const cpu = procs.reduce((sum, p, i) => sum + Math.max(0, (statFields(p.pid) ? cpuPreciseMs(p.pid) : cpu0[i]) - cpu0[i]), 0);
  let pss = 0;
  let uss = 0;
  let rss = 0;
  const kinds = new Map();
  for (const p of after) {
    pss += pssKiB(p.pid);
    uss += ussKiB(p.pid);
    rss += Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))?.[1] ?? 0);
    kinds.set(p.comm, (kinds.get(p.comm) ?? 0) + 1);
  }
  return {
    processes: after.length,
    kinds: [...kinds].map(([comm, k]) => (k > 1 ? `${k} × ${comm}` : comm)).join(' + '),
    pssMB: pss / 1024,
    ussMB: uss / 1024,
    rssMB: rss / 1024,
    cpuMsPer30s: (cpu * 30) / IDLE_SECONDS,
  };
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
const results = new Map(adapters.map((a) => [a.name, { scales: new Map(), footprint: new Map(), bulk: [] }]));
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

/** Metric 4. */
async function bulkRun(adapter, run) {
  const session = new Session(adapter, `bulk${run}`);
  const entry = { start: null, stop: null };
  results.get(adapter.name).bulk.push(entry);
  try {
    const services = [...Array(BULK).keys()].map((i) => session.service(`s${i}`));
    log(`${adapter.name} bulk ${BULK} (run ${run + 1}/${BULK_RUNS}): start`);
    entry.start = await attempt(`${adapter.name} bulk start`, () => session.start(services, startTimeout(BULK)));
    if (entry.start?.error) return;
    await pause(SETTLE_MS);
    log(`${adapter.name} bulk ${BULK} (run ${run + 1}/${BULK_RUNS}): stop`);
    entry.stop = await attempt(`${adapter.name} bulk stop`, () => session.stop());
  } finally {
    await session.close();
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
      for (const adapter of adapters) {
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
const floods = [];
let needs;
let httpResults;
let cliStartup;
let fleet;
try {
  log(`measuring ${adapters.map((a) => a.name).join(', ')}${quick ? ' (quick)' : ''}; scratch ${scratch}`);
  costs = await runCost();
  for (const n of SCALES) for (const adapter of adapters) await scaleRun(adapter, n);
  // The small ones share a window; the largest gets its own.
  await footprintRun(FOOTPRINT_SCALES.slice(0, -1));
  await footprintRun(FOOTPRINT_SCALES.slice(-1));
  for (let run = 0; run < BULK_RUNS; run++) for (const adapter of adapters) await bulkRun(adapter, run);
  for (const mode of Object.keys(FLOOD_MODES)) {
    log(`proclaunch: a flood, ${mode} output (${FLOOD_SECONDS} s)`);
    floods.push(await floodRun(mode, { seconds: FLOOD_SECONDS, scratch }).catch((error) => ({ mode, error: error.message })));
  }
  needs = await needsBench({ quick, log });
  httpResults = await httpBench({ quick, log });
  cliStartup = await cliStartupBench({ quick, log }).catch((error) => ({ error: error.message }));
  fleet = await fleetBench({ quick, log }).catch((error) => ({ error: error.message }));
} finally {
  cleanupAllSync();
}
const load1 = loadavg();
const seconds = (now() - T0) / 1000;

// ---------------------------------------------------------------- report
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const median = (xs) => {
  const s = sorted(xs);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const p95 = (xs) => sorted(xs)[Math.max(0, Math.ceil(0.95 * xs.length) - 1)]; // nearest rank
const fmtMs = (x) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : x >= 100 ? `${x.toFixed(0)} ms` : x >= 10 ? `${x.toFixed(1)} ms` : `${x.toFixed(2)} ms`);
const fmtRatio = (ours, theirs) => {
  if (ours === undefined || theirs === undefined) return '';
  if (!(theirs > 0)) return ours > 0 ? '∞' : '—';
  const r = ours / theirs;
  return r === 0 ? '0' : r.toFixed(r < 0.1 ? 3 : 2);
};
const isSamples = (v) => Array.isArray(v) && v.length > 0;
const cellError = (v) => (v?.na ? `n/a` : v?.error ? `failed: ${v.error}` : 'not measured');

const lines = [];
const say = (line = '') => lines.push(line);
const cpu = cpus();
say(`# proclaunch benchmark${quick ? ' (quick smoke run: fewer trials, smaller N — not the figures to quote)' : ''}`);
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
    for (const a of adapters) {
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
say(`## 4. Bulk start and stop of ${BULK} services`);
say();
say(`Start: from launching the supervisor on ${BULK} services to all ${BULK} running. Stop: from the supervisor's stop-all ` +
  `(proclaunch and supervisord: SIGTERM; runit: SIGHUP to runsvdir; s6: \`s6-svscanctl -t\`; PM2: \`pm2 kill\`) to all ${BULK} processes gone. ` +
  `${BULK_RUNS} run${BULK_RUNS > 1 ? 's' : ''}: min / median / max.`);
say();
say('| supervisor | start min | start median | start max | ratio | stop min | stop median | stop max | ratio |');
say('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
const bulkOf = (name, key) => results.get(name).bulk.map((b) => b[key]).filter((v) => typeof v === 'number');
for (const a of adapters) {
  const cells = [];
  for (const key of ['start', 'stop']) {
    const v = bulkOf(a.name, key);
    const base = bulkOf('proclaunch', key);
    if (v.length) {
      cells.push(fmtMs(Math.min(...v)), fmtMs(median(v)), fmtMs(Math.max(...v)), a.name === 'proclaunch' ? '—' : base.length ? fmtRatio(median(base), median(v)) : '');
    } else {
      const err = results.get(a.name).bulk.map((b) => b[key]).find((x) => x?.error);
      cells.push(err ? `failed: ${err.error}` : 'not measured', '', '', '');
    }
  }
  say(`| ${a.name} | ${cells.join(' | ')} |`);
}
say();

say('## 5. Idle footprint');
say();
say(`All of the supervisor's own processes (the daemon and every helper it keeps, e.g. one s6-supervise or runsv per service; not the services). ` +
  `PSS from /proc/PID/smaps_rollup, summed (shared pages split fairly between the processes that map them); USS: their private pages only; RSS summed for reference (counts shared pages once per process). ` +
  `CPU: schedstat run time of all their threads over ${IDLE_SECONDS} s of idleness${IDLE_SECONDS !== 30 ? ', given per 30 s' : ''} (a once-a-minute task falls in it exactly once), after ${SETTLE_MS / 1000} s to settle. ` +
  `One run; all supervisors idle side by side in the same window (N = ${FOOTPRINT_SCALES.slice(0, -1).join(' and ')} in one window, N = ${FOOTPRINT_SCALES.at(-1)} in another). ` +
  `PSS depends on who else maps the same files (the node binary shared with other Node processes on the machine counts less); USS does not.`);
say();
say('| supervisor | N | processes | PSS | USS | RSS sum | CPU per 30 s | ratio PSS | ratio CPU |');
say('|---|---:|---|---:|---:|---:|---:|---:|---:|');
const FOOT = FOOTPRINT_SCALES;
for (const n of FOOT) {
  const base = ours.footprint.get(n);
  for (const a of adapters) {
    const f = results.get(a.name).footprint.get(n);
    if (f && !f.error) {
      const theirs = a.name === 'proclaunch';
      say(`| ${a.name} | ${n} | ${f.kinds} | ${f.pssMB.toFixed(1)} MB | ${f.ussMB.toFixed(1)} MB | ${f.rssMB.toFixed(1)} MB | ${f.cpuMsPer30s.toFixed(1)} ms | ${theirs ? '—' : base && !base.error ? fmtRatio(base.pssMB, f.pssMB) : ''} | ${theirs ? '—' : base && !base.error ? fmtRatio(base.cpuMsPer30s, f.cpuMsPer30s) : ''} |`);
    } else say(`| ${a.name} | ${n} | ${cellError(f)} | | | | | | |`);
  }
}
say();

say(`## 6. Scaling: N = ${nLow} → N = ${nHigh} idle services (medians)`);
say();
say('| supervisor | restart | change | pick-up | change | pid_file daemon | change |');
say('|---|---:|---:|---:|---:|---:|---:|');
const change = (lo, hi) => `${hi >= lo ? '+' : ''}${(((hi - lo) / lo) * 100).toFixed(0)}%`;
for (const a of adapters) {
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

say('## 7. One service writing as fast as it can (issue 14)');
say();
say(`\`exec yes\` for ${FLOOD_SECONDS} s, under proclaunch alone, while another service writes a line every 10 ms (\`log_timestamps\`: its latency is the drain's arrival stamp minus the time the line says) ` +
  'and a client sends `status` on one connection every 10 ms (the round trip). To disk: the bytes `yes` wrote (/proc/PID/io wchar), per second; ' +
  'supervisor CPU: all its threads, as a share of one core. Kinds of output: ' +
  `${Object.entries(FLOOD_MODES).map(([mode, what]) => `**${mode}**: ${what}`).join('; ')}.`);
say();
for (const row of floodTable(floods)) say(row);
say();
say('## 8. Start order and health (proclaunch alone; bench/needs.mjs)');
say();
for (const line of needsReport(needs)) say(line);
say();
say('## 9. `supervise --http`: API, metrics, SSE (proclaunch alone; bench/http.mjs)');
say();
for (const line of httpReport(httpResults)) say(line);
say();
say('## 10. CLI start-up (proclaunch alone; bench/cli-startup.mjs)');
say();
say('Each command run in turn, shuffled every round, against a supervisor with three services; the target is 1.3× bare Node for `status` and `check`.');
say();
for (const line of cliStartupReport(cliStartup)) say(line);
say('## 11. Many hosts over ssh: `proclaunch fleet status` (bench/fleet.mjs)');
say();
for (const line of fleetReport(fleet)) say(line);
say();

// The issue's targets, checked against proclaunch's figures in this run.
say('## proclaunch against the targets (issue 6)');
say();
say('| target | measured | |');
say('|---|---|---|');
const verdict = (ok) => (ok === null ? 'not measured' : ok ? 'met' : '**missed**');
const med = (n, key) => (isSamples(ours.scales.get(n)?.[key]) ? median(ours.scales.get(n)[key]) : null);
for (const n of SCALES) {
  const m = med(n, 'restart');
  say(`| restart median ≤ 3 ms (N = ${n}) | ${m === null ? '—' : fmtMs(m)} | ${verdict(m === null ? null : m <= 3)} |`);
}
const pickN = SCALES.includes(100) ? 100 : SCALES[1];
{
  const m = med(pickN, 'pickup');
  say(`| pick-up median ≤ 10 ms at N = ${pickN}, no rescan command | ${m === null ? '—' : fmtMs(m)} | ${verdict(m === null ? null : m <= 10)} |`);
}
{
  const runMs = median(costs.daemon);
  for (const n of SCALES) {
    const m = med(n, 'daemon');
    say(`| pid_file death → restarted ≤ 10 ms + cost of \`run\` (${fmtMs(runMs)}) (N = ${n}) | ${m === null ? '—' : fmtMs(m)} | ${verdict(m === null ? null : m <= 10 + runMs)} |`);
  }
}
{
  const s = bulkOf('proclaunch', 'start');
  const t = bulkOf('proclaunch', 'stop');
  say(`| bulk start of ${BULK} ≤ 0.5 s (median) | ${s.length ? fmtMs(median(s)) : '—'} | ${verdict(s.length ? median(s) <= 500 : null)} |`);
  say(`| stop of ${BULK} ≤ 0.15 s (median) | ${t.length ? fmtMs(median(t)) : '—'} | ${verdict(t.length ? median(t) <= 150 : null)} |`);
  const f = ours.footprint.get(BULK);
  const ok = f && !f.error;
  say(`| idle with ${BULK}: PSS ≤ 32 MB | ${ok ? `${f.pssMB.toFixed(1)} MB` : '—'} | ${verdict(ok ? f.pssMB <= 32 : null)} |`);
  say(`| idle with ${BULK}: ≤ 5 CPU-ms per 30 s | ${ok ? `${f.cpuMsPer30s.toFixed(1)} ms` : '—'} | ${verdict(ok ? f.cpuMsPer30s <= 5 : null)} |`);
}
for (const key of ['restart', 'pickup', 'daemon']) {
  const lo = med(nLow, key);
  const hi = med(nHigh, key);
  say(`| ${key} at N = ${nHigh} ≤ 1.2 × N = ${nLow} | ${lo === null || hi === null ? '—' : `${fmtMs(lo)} → ${fmtMs(hi)} (${change(lo, hi)})`} | ${verdict(lo === null || hi === null ? null : hi <= 1.2 * lo)} |`);
}
say();
say('Beating each peer: see the ratio columns above (below 1 everywhere is the bar).');

const report = `${lines.join('\n')}\n`;
process.stdout.write(report);
if (outFile) writeFileSync(outFile, report);
log(`done in ${seconds.toFixed(0)} s${outFile ? `; report in ${outFile}` : ''}`);
