#!/usr/bin/env node
// Issue 4's goal, measured: N self-daemonizing (pid_file) services, none of
// them our children. (1) The supervisor's CPU over an idle minute — with the
// native module nothing ticks: one pidfd per daemon, watched by the event
// loop. (2) kill -9 of one daemon at a time: when the supervisor noticed (the
// timestamp of its `exited pid N` line) and when the new daemon's pid is in
// the pid file.
//
//   npm run build && node bench/daemons.mjs [N=500] [TRIALS=20]
//   PROCLAUNCH_NO_NATIVE=1 node bench/daemons.mjs    # the /proc polling fallback
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const N = Number(process.argv[2] ?? 500);
const TRIALS = Number(process.argv[3] ?? 20);
const IDLE_S = 60;
const SETTLE_S = 15; // V8 collects start-up garbage in the first seconds: not idleness
const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'main.js');

const root = mkdtempSync(join(tmpdir(), 'proclaunch-daemons-'));
const profiles = join(root, 'profiles');
const log = join(root, 'supervisor.log');
mkdirSync(profiles);
for (let i = 0; i < N; i++) {
  const dir = join(profiles, `d${i}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'run'), '#!/bin/sh\nsleep 100000 </dev/null >/dev/null 2>&1 &\necho $! > daemon.pid\n');
  chmodSync(join(dir, 'run'), 0o755);
  writeFileSync(join(dir, 'pid_file'), 'daemon.pid');
  writeFileSync(join(dir, 'restart'), '');
}

const supervisor = spawn(process.execPath, [CLI, 'supervise', '--foreground', '--log-path', log, join(root, 'state'), profiles], { stdio: 'inherit' });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const text = () => {
  try {
    return readFileSync(log, 'utf8');
  } catch {
    return '';
  }
};
/** CPU ms of every thread of the supervisor (utime + stime). */
function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];

try {
  const deadline = Date.now() + 120_000;
  while ((text().match(/ running pid /g) ?? []).length < N) {
    if (Date.now() > deadline) throw new Error(`not all ${N} daemons running after 120 s`);
    await sleep(100);
  }
  await sleep(SETTLE_S * 1000);
  const before = cpuMs(supervisor.pid);
  await sleep(IDLE_S * 1000);
  const idle = cpuMs(supervisor.pid) - before;

  const noticed = [];
  const restarted = [];
  for (let t = 0; t < TRIALS; t++) {
    const name = `d${(t * 37) % N}`;
    const pidFile = join(profiles, name, 'daemon.pid');
    const old = Number(readFileSync(pidFile, 'utf8'));
    await sleep(200 + Math.random() * 300);
    const wall = Date.now();
    const t0 = performance.now();
    process.kill(old, 'SIGKILL');
    for (;;) {
      let pid = 0;
      try {
        pid = Number(readFileSync(pidFile, 'utf8'));
      } catch {
        // being rewritten
      }
      if (pid && pid !== old) break;
      await sleep(1);
    }
    restarted.push(performance.now() - t0);
    await sleep(50);
    const line = text().split('\n').find((l) => l.includes(` ${name} `) && l.includes(`exited pid ${old} `));
    if (line) noticed.push(Date.parse(line.split(' ')[0]) - wall);
  }
  console.log(`${N} pid_file daemons (${process.env.PROCLAUNCH_NO_NATIVE === '1' ? 'polling fallback' : 'native module if built'}):`);
  console.log(`  idle: ${idle.toFixed(0)} ms of supervisor CPU in ${IDLE_S} s (after ${SETTLE_S} s to settle)`);
  console.log(`  death noticed (log timestamp, ms resolution): median ${median(noticed)} ms, max ${Math.max(...noticed)} ms (${noticed.length} trials)`);
  console.log(`  restarted (new pid in the pid file, 1 ms polling): median ${median(restarted).toFixed(1)} ms`);
} finally {
  supervisor.kill('SIGTERM');
  await new Promise((resolve) => supervisor.once('exit', resolve));
  rmSync(root, { recursive: true, force: true });
}
