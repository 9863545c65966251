#!/usr/bin/env node
// proclaunch benchmark: how fast it reacts and what it costs, measured from
// the outside with real processes. Not part of `npm test`.
//
//   npm run bench                 full run (20 trials, N up to 1000)
//   npm run bench -- --quick      a smoke run (CI checks that it runs)
//   npm run bench -- --out FILE   also write the Markdown report to FILE
//
// Each service's `run` writes its own pid to a file, then execs sleep: the
// moment that file names a new pid, the new process is running. The harness
// polls for it every 1 ms.
import { spawn } from 'node:child_process';
import { cpus, release, tmpdir } from 'node:os';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'main.js');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const outIndex = args.indexOf('--out');
const outFile = outIndex >= 0 ? args[outIndex + 1] : null;
if (args.includes('--peers')) {
  console.error('bench: --peers is not built yet (issue 6); measuring proclaunch alone');
}
const TRIALS = quick ? 5 : 20;
const SCALES = quick ? [1, 50] : [1, 100, 1000];
const BULK = quick ? 50 : 500;
const IDLE_SECONDS = quick ? 3 : 30;

const now = () => Number(process.hrtime.bigint()) / 1e6;
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what, probe, timeoutMs = 20_000) {
  const deadline = now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await pause(1);
  }
}

const readPid = (file) => {
  try {
    const pid = Number(readFileSync(file, 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : 0;
  } catch {
    return 0;
  }
};
const alive = (pid) => {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('Z');
  } catch {
    return false;
  }
};

/** A scratch supervisor with its own state and profiles directories. */
class Bench {
  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'proclaunch-bench-'));
    this.profiles = join(this.root, 'profiles');
    this.pids = join(this.root, 'pids');
    mkdirSync(this.profiles);
    mkdirSync(this.pids);
  }
  /** Write a profile (atomically, by rename, as an operator's deploy would). */
  add(name) {
    const tmp = join(this.root, `.new-${name}`);
    mkdirSync(tmp);
    writeFileSync(join(tmp, 'run'), `#!/bin/sh\nprintf %s $$ > ${join(this.pids, name)}\nexec sleep 100000\n`, { mode: 0o755 });
    writeFileSync(join(tmp, 'restart'), '');
    renameSync(tmp, join(this.profiles, name));
  }
  pidOf(name) {
    return readPid(join(this.pids, name));
  }
  start() {
    this.child = spawn(process.execPath, [CLI, 'supervise', '--foreground', '--log-path', join(this.root, 'proclaunch.log'), join(this.root, 'state'), this.profiles], { stdio: 'ignore' });
    return this.child;
  }
  async stop() {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
  }
  cleanup() {
    for (const file of existsSync(this.pids) ? readdirSync(this.pids) : []) {
      const pid = this.pidOf(file);
      if (pid > 1 && alive(pid)) process.kill(pid, 'SIGKILL');
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

async function withBench(idle, body) {
  const bench = new Bench();
  try {
    for (let i = 0; i < idle; i++) bench.add(`idle${i}`);
    bench.start();
    await until(`${idle} idle services`, () => [...Array(idle).keys()].every((i) => bench.pidOf(`idle${i}`)), 60_000);
    return await body(bench);
  } finally {
    await bench.stop().catch(() => undefined);
    bench.cleanup();
  }
}

/** New profile directory (by rename) → its process running. */
const pickUp = (idle) =>
  withBench(idle, async (bench) => {
    const samples = [];
    for (let i = 0; i < TRIALS; i++) {
      const t0 = now();
      bench.add(`new${i}`);
      await until(`new${i}`, () => bench.pidOf(`new${i}`));
      samples.push(now() - t0);
    }
    return samples;
  });

/** kill -9 of a service up for more than 1 s → a new process running. */
const restart = (idle) =>
  withBench(idle, async (bench) => {
    bench.add('victim');
    await until('victim', () => bench.pidOf('victim'));
    const samples = [];
    for (let i = 0; i < TRIALS; i++) {
      await pause(1100); // up > 1 s: a restart, not a crash loop
      const old = bench.pidOf('victim');
      const t0 = now();
      process.kill(old, 'SIGKILL');
      await until('a new victim pid', () => {
        const pid = bench.pidOf('victim');
        return pid !== old && pid;
      });
      samples.push(now() - t0);
    }
    return samples;
  });

/** N profiles present at start-up → all running; SIGTERM → all gone. */
async function bulk(n) {
  const bench = new Bench();
  try {
    for (let i = 0; i < n; i++) bench.add(`s${i}`);
    const t0 = now();
    bench.start();
    await until(`${n} services`, () => [...Array(n).keys()].every((i) => bench.pidOf(`s${i}`)), 120_000);
    const started = now() - t0;
    const pids = [...Array(n).keys()].map((i) => bench.pidOf(`s${i}`));
    const t1 = now();
    await bench.stop();
    await until('all stopped', () => pids.every((pid) => !alive(pid)), 60_000);
    return { started, stopped: now() - t1 };
  } finally {
    bench.cleanup();
  }
}

const ticks = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (1/100 s)
};
const pssKiB = (pid) => Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? NaN);

/** The supervisor's own cost with N idle services: PSS and CPU over an idle stretch. */
const idle = (n) =>
  withBench(n, async (bench) => {
    await pause(1000); // let start-up settle
    const pid = bench.child.pid;
    const before = ticks(pid);
    await pause(IDLE_SECONDS * 1000);
    return { pssMB: pssKiB(pid) / 1024, cpuMs: (ticks(pid) - before) * 10 };
  });

const sorted = (xs) => [...xs].sort((a, b) => a - b);
const quantile = (xs, q) => sorted(xs)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const ms = (x) => `${x.toFixed(1)} ms`;

const lines = [];
const say = (line = '') => {
  lines.push(line);
  console.log(line);
};

say(`# proclaunch benchmark${quick ? ' (quick)' : ''}`);
say();
say(`${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Linux ${release()}, Node ${process.version}, ${TRIALS} trials, polling every 1 ms.`);
say();
say('| metric | N idle | min | median | p95 | max |');
say('|---|---:|---:|---:|---:|---:|');
for (const n of SCALES) {
  const s = await pickUp(n);
  say(`| pick-up: new profile dir → running | ${n} | ${ms(Math.min(...s))} | ${ms(quantile(s, 0.5))} | ${ms(quantile(s, 0.95))} | ${ms(Math.max(...s))} |`);
}
for (const n of SCALES) {
  const s = await restart(n);
  say(`| restart: kill -9 → new pid running | ${n} | ${ms(Math.min(...s))} | ${ms(quantile(s, 0.5))} | ${ms(quantile(s, 0.95))} | ${ms(Math.max(...s))} |`);
}
say();
const b = await bulk(BULK);
say(`| bulk (N=${BULK}) | time |`);
say('|---|---:|');
say(`| start: all running | ${(b.started / 1000).toFixed(2)} s |`);
say(`| stop (SIGTERM): all gone | ${(b.stopped / 1000).toFixed(2)} s |`);
say();
say(`| idle supervisor, N services | PSS | CPU over ${IDLE_SECONDS} s |`);
say('|---:|---:|---:|');
for (const n of quick ? [1, BULK] : [1, 100, 500]) {
  const r = await idle(n);
  say(`| ${n} | ${r.pssMB.toFixed(1)} MB | ${r.cpuMs} ms |`);
}
if (outFile) writeFileSync(outFile, `${lines.join('\n')}\n`);
