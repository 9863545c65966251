// Metric 7 (issue 14): one service writing as fast as it can (`exec yes`),
// under a real supervisor, while a second service writes a line every 10 ms
// and a client asks `status` every 10 ms. Used by bench.mjs; alone:
//
//   node bench/output.mjs [--seconds S] [--modes bounded,direct,js]
//
//   bounded  the default: a FIFO drained by the native module's thread into logs/TAG.log (rotated)
//   direct   today's way, kept for explicit `stdout` files: the service writes into an O_APPEND file (unbounded)
//   js       bounded, without the native module (PROCLAUNCH_NO_NATIVE=1): copied through JavaScript
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuPreciseMs, now, pause, recordedPid, until, waitExit } from './lib.mjs';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'main.js');
export const FLOOD_MODES = {
  bounded: 'default: FIFO drained by the native thread into logs/TAG.log, rotated at 10M × 5',
  direct: 'the service writes into an O_APPEND file itself, unbounded (today\'s default; explicit `stdout` files)',
  js: 'bounded, without the native module (`PROCLAUNCH_NO_NATIVE=1`): read and written by the event loop',
};

function profile(dir, name, files) {
  mkdirSync(join(dir, name), { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, name, file), text, { mode: file === 'run' ? 0o755 : 0o644 });
}

/** Send `status` requests one after another (10 ms apart) on one connection; the round trips in ms. */
function statusProbe(socketPath) {
  const trips = [];
  let stopped = false;
  const socket = connect(socketPath);
  let sent = 0;
  let buffer = '';
  const ask = () => {
    if (stopped) return;
    sent = now();
    socket.write(`${JSON.stringify({ id: trips.length, command: 'status' })}\n`);
  };
  socket.on('connect', ask);
  socket.on('data', (data) => {
    buffer += data;
    while (buffer.includes('\n')) {
      buffer = buffer.slice(buffer.indexOf('\n') + 1);
      trips.push(now() - sent);
      setTimeout(ask, 10);
    }
  });
  socket.on('error', () => undefined);
  return { trips, stop: () => ((stopped = true), socket.destroy()) };
}

const wchar = (pid) => Number(/wchar: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? 0);

/** One flood of `seconds` with `mode`; what it measured. */
export async function floodRun(mode, { seconds = 5, scratch = tmpdir() } = {}) {
  const dir = mkdtempSync(join(scratch, `flood-${mode}-`));
  const profiles = join(dir, 'profiles');
  const state = join(dir, 'state');
  // (Not inside the profile directory: its watcher would get an inotify event per write.)
  const direct = join(dir, 'flood.out');
  profile(profiles, 'flood', { run: '#!/bin/sh\nexec yes\n', ...(mode === 'direct' ? { stdout: direct } : {}) });
  profile(profiles, 'probe', { run: '#!/bin/sh\nwhile :; do date +%s%N; sleep 0.01; done\n', log_timestamps: '' });
  const env = { ...process.env, ...(mode === 'js' ? { PROCLAUNCH_NO_NATIVE: '1' } : {}) };
  const supervisor = spawn(process.execPath, [CLI, 'supervise', '--foreground', '--log-path', join(dir, 'proclaunch.log'), state, profiles], { stdio: 'ignore', env });
  try {
    const socketPath = join(state, 'control.sock');
    await until('the control socket', () => existsSync(socketPath), 30_000);
    const floodPid = await until('the flood running', () => recordedPid(state, 'flood'), 30_000);
    await pause(500);
    const probe = statusProbe(socketPath);
    const [cpu0, bytes0, t0] = [cpuPreciseMs(supervisor.pid), wchar(floodPid), now()];
    await pause(seconds * 1000);
    const [cpu1, bytes1, t1] = [cpuPreciseMs(supervisor.pid), wchar(floodPid), now()];
    probe.stop();
    const elapsed = (t1 - t0) / 1000;
    const logs = join(state, 'logs');
    const latency = readFileSync(join(logs, 'probe.log'), 'utf8').split('\n').filter((l) => /^\S+ \d+$/.test(l))
      .map((l) => Date.parse(l.slice(0, 29)) - Number(BigInt(l.slice(30)) / 1000000n)).slice(-Math.round(seconds * 80));
    const onDisk = mode === 'direct' ? statSync(direct).size : readdirSync(logs).filter((f) => f.startsWith('flood.log')).reduce((sum, f) => sum + statSync(join(logs, f)).size, 0);
    return { mode, bytesPerSecond: (bytes1 - bytes0) / elapsed, cpuShare: (cpu1 - cpu0) / (t1 - t0), status: probe.trips, probe: latency, onDisk };
  } finally {
    supervisor.kill('SIGTERM');
    await waitExit(supervisor, 30_000);
    rmSync(dir, { recursive: true, force: true });
  }
}

const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)] ?? Number.NaN;
const ms = (x) => (x >= 100 ? `${x.toFixed(0)} ms` : x >= 10 ? `${x.toFixed(1)} ms` : `${x.toFixed(2)} ms`);

/** The Markdown rows of a set of runs. */
export function floodTable(runs) {
  const rows = [
    '| output | to disk | supervisor CPU | `status` p50 / p99 / max | other service\'s line p50 / p99 / max | on disk at the end |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of runs) {
    if (r.error) rows.push(`| ${r.mode} | failed: ${r.error} | | | | |`);
    else rows.push(`| ${r.mode} | ${(r.bytesPerSecond / 1e6).toFixed(0)} MB/s | ${(r.cpuShare * 100).toFixed(0)}% | ${ms(q(r.status, 0.5))} / ${ms(q(r.status, 0.99))} / ${ms(Math.max(...r.status))} (${r.status.length}) | ${q(r.probe, 0.5)} / ${q(r.probe, 0.99)} / ${Math.max(...r.probe)} ms | ${(r.onDisk / 2 ** 20).toFixed(1)} MiB |`);
  }
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
  const runs = [];
  for (const mode of option('--modes', 'bounded,direct,js').split(',')) {
    runs.push(await floodRun(mode, { seconds: Number(option('--seconds', '5')) }).catch((error) => ({ mode, error: error.message })));
  }
  console.log(floodTable(runs).join('\n'));
}
