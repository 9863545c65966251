#!/usr/bin/env node
// `supervise --http`, measured (proclaunch alone).
//
// 1. At 1,000 services: the latency of `GET /api/v1/services` and of
//    `GET /metrics` (one client, keep-alive, sequential requests): median, p99.
// 2. kill -9 of a service → its `crashed` and then `started` events on an SSE
//    client of /api/v1/events/stream: from the kill (in this process) to the
//    event's arrival, median and max over the trials.
// 3. At 500 services: the supervisor's PSS and idle CPU without --http, with
//    --http and no client, and with --http and one SSE client connected.
//
//   npm run build && node bench/http.mjs [--quick]
// bench/bench.mjs runs it too (section 9 of its report).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpuPreciseMs, now, pause, pssKiB, recordedPid, until } from './lib.mjs';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'main.js');
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const median = (xs) => sorted(xs)[xs.length >> 1];
const p99 = (xs) => sorted(xs)[Math.max(0, Math.ceil(0.99 * xs.length) - 1)];

/** N sleepers in a scratch PROFILES_DIR, a supervisor on them (with `extra` flags), all running; then `body`. */
async function withSupervisor(n, extra, body) {
  const root = mkdtempSync(join(tmpdir(), 'proclaunch-http-bench-'));
  const dir = join(root, 'profiles');
  mkdirSync(dir);
  for (let i = 0; i < n; i++) {
    mkdirSync(join(dir, `s${i}`));
    writeFileSync(join(dir, `s${i}`, 'run'), '#!/bin/sh\nexec sleep 100000\n');
    chmodSync(join(dir, `s${i}`, 'run'), 0o755);
    writeFileSync(join(dir, `s${i}`, 'restart'), '');
  }
  const state = join(root, 'state');
  const logPath = join(root, 'supervisor.log');
  const supervisor = spawn(process.execPath, [CLI, 'supervise', '--foreground', '--log-path', logPath, ...extra, state, dir], { stdio: 'ignore' });
  const log = () => {
    try {
      return readFileSync(logPath, 'utf8');
    } catch {
      return '';
    }
  };
  try {
    await until(`${n} running`, () => (log().match(/ running pid /g) ?? []).length >= n && log().includes('control socket'), 120_000);
    const port = Number(/http listening on 127\.0\.0\.1:(\d+)/.exec(log())?.[1] ?? 0);
    const token = port ? readFileSync(join(state, 'http.token'), 'utf8').trim() : null;
    return await body({ supervisor, port, token, state });
  } finally {
    supervisor.kill('SIGTERM');
    await new Promise((resolve) => (supervisor.exitCode !== null ? resolve() : supervisor.once('exit', resolve)));
    rmSync(root, { recursive: true, force: true });
  }
}

function get(agent, port, path, token) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: token ? { Authorization: `Bearer ${token}` } : {} }, (res) => {
      let size = 0;
      res.on('data', (d) => (size += d.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(size) : reject(new Error(`${path}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

/** An SSE client of the event stream: calls `onEvent(kind, data, arrivedAt)` for each event. */
function eventStream(port, token, onEvent) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/v1/events/stream', headers: { Authorization: `Bearer ${token}` }, agent: false }, (res) => {
      let buffered = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        const at = now();
        buffered += chunk;
        let end;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const kind = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (kind && data) onEvent(kind, JSON.parse(data), at);
        }
      });
      resolve({ close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

export async function latency(n, requests) {
  return withSupervisor(n, ['--http', '127.0.0.1:0'], async ({ supervisor, port, token }) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const out = {};
    for (const path of ['/api/v1/services', '/metrics']) {
      for (let i = 0; i < 3; i++) await get(agent, port, path, token); // warm-up
      const samples = [];
      let bytes = 0;
      // The supervisor's own CPU per request: what a loaded machine's wall-clock figures hide.
      const cpu0 = cpuPreciseMs(supervisor.pid);
      for (let i = 0; i < requests; i++) {
        const t0 = now();
        bytes = await get(agent, port, path, token);
        samples.push(now() - t0);
      }
      out[path] = { medianMs: median(samples), p99Ms: p99(samples), cpuMs: (cpuPreciseMs(supervisor.pid) - cpu0) / requests, bytes };
    }
    agent.destroy();
    return { n, requests, ...out };
  });
}

export async function sseLatency(trials) {
  return withSupervisor(10, ['--http', '127.0.0.1:0'], async ({ port, token, state }) => {
    let waiting = null;
    const stream = await eventStream(port, token, (kind, data, at) => waiting?.(kind, data, at));
    const crashed = [];
    const started = [];
    for (let t = 0; t < trials; t++) {
      const tag = `s${t % 10}`;
      const pid = await recordedPid(state, tag);
      const seen = new Promise((resolve) => {
        let crashAt = null;
        waiting = (kind, data, at) => {
          if (data.profile !== tag) return;
          if (kind === 'crashed' && data.pid === pid) crashAt = at;
          if (kind === 'started' && crashAt !== null) resolve({ crashAt, startAt: at });
        };
      });
      await pause(1200); // past the crash window of its last start: a plain restart, no backoff
      const t0 = now();
      process.kill(pid, 'SIGKILL');
      const { crashAt, startAt } = await seen;
      crashed.push(crashAt - t0);
      started.push(startAt - t0);
    }
    stream.close();
    return { trials, crashedMedianMs: median(crashed), crashedMaxMs: Math.max(...crashed), startedMedianMs: median(started), startedMaxMs: Math.max(...started) };
  });
}

export async function footprint(n, mode, { settleMs, windowMs }) {
  const extra = mode === 'without --http' ? [] : ['--http', '127.0.0.1:0'];
  return withSupervisor(n, extra, async ({ supervisor, port, token }) => {
    const stream = mode === 'with --http and one SSE client' ? await eventStream(port, token, () => {}) : null;
    await pause(settleMs);
    const before = cpuPreciseMs(supervisor.pid);
    await pause(windowMs);
    const cpuMsPer30s = ((cpuPreciseMs(supervisor.pid) - before) * 30_000) / windowMs;
    const pssMB = pssKiB(supervisor.pid) / 1024;
    stream?.close();
    return { n, mode, pssMB, cpuMsPer30s };
  });
}

export async function httpBench({ quick = false, log = () => undefined } = {}) {
  const n = quick ? 100 : 1000;
  log(`http: GET latency at ${n} services`);
  const lat = await latency(n, quick ? 30 : 300).catch((error) => ({ n, error: error.message }));
  log('http: kill -9 → crashed/started on an SSE client');
  const sse = await sseLatency(quick ? 2 : 30).catch((error) => ({ error: error.message }));
  const m = quick ? 50 : 500;
  // 40 s to settle: the tail of a bulk start (garbage collection) lasts some 35 s; the steady state is what is asked.
  const timing = quick ? { settleMs: 300, windowMs: 1000 } : { settleMs: 40_000, windowMs: 30_000 };
  const feet = [];
  for (const mode of ['without --http', 'with --http, no client', 'with --http and one SSE client']) {
    log(`http: footprint at ${m} services, ${mode}`);
    feet.push(await footprint(m, mode, timing).catch((error) => ({ n: m, mode, error: error.message })));
  }
  return { latency: lat, sse, footprint: feet, windowMs: timing.windowMs };
}

const ms = (x) => (x >= 100 ? `${x.toFixed(0)} ms` : x >= 10 ? `${x.toFixed(1)} ms` : `${x.toFixed(2)} ms`);

export function httpReport({ latency: lat, sse, footprint: feet, windowMs }) {
  const lines = [];
  if (lat.error) lines.push(`GET latency at ${lat.n} services: failed: ${lat.error}`);
  else {
    lines.push(`| at ${lat.n} services, ${lat.requests} requests each, keep-alive | median | p99 | supervisor CPU per request | reply size |`, '|---|---:|---:|---:|---:|');
    for (const path of ['/api/v1/services', '/metrics']) lines.push(`| \`GET ${path}\` | ${ms(lat[path].medianMs)} | ${ms(lat[path].p99Ms)} | ${ms(lat[path].cpuMs)} | ${(lat[path].bytes / 1024).toFixed(0)} KiB |`);
  }
  lines.push('');
  if (sse.error) lines.push(`kill -9 → SSE: failed: ${sse.error}`);
  else {
    lines.push(`| kill -9 → event on an SSE client (${sse.trials} trials) | median | max |`, '|---|---:|---:|');
    lines.push(`| \`crashed\` | ${ms(sse.crashedMedianMs)} | ${ms(sse.crashedMaxMs)} |`, `| \`started\` (the restart) | ${ms(sse.startedMedianMs)} | ${ms(sse.startedMaxMs)} |`);
  }
  lines.push('', `| ${feet[0]?.n} services | supervisor PSS | CPU per 30 s (idle, measured over ${windowMs / 1000} s) |`, '|---|---:|---:|');
  for (const f of feet) lines.push(f.error ? `| ${f.mode} | failed: ${f.error} | |` : `| ${f.mode} | ${f.pssMB.toFixed(1)} MB | ${f.cpuMsPer30s.toFixed(1)} ms |`);
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const results = await httpBench({ quick: process.argv.includes('--quick'), log: (line) => console.error(line) });
  console.log(httpReport(results).join('\n'));
}
