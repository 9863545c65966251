#!/usr/bin/env node
// How to move a flooding service's output to disk (issue 14), measured in
// isolation: a Node process hosting the drain, `yes` writing as fast as it
// can, and a second, quiet writer whose lines are timestamped on arrival.
//
//   node bench/drain-mechanisms.mjs [--seconds S] [--only direct,thread,loop,js] [--native FILE.node] [--uncapped]
//
// --uncapped: the JS drain without its rate budget (32 MiB/s per output); the
// native one has it from commit "A rate budget per output" on: give an older
// build with --native to compare the mechanisms themselves.
//   direct  today's way: the child writes into an O_APPEND file itself (unbounded)
//   thread  a FIFO drained by the native module's thread (tee + splice)
//   loop    the same native code run on the event loop (uv_poll): only in a build
//           of the commit that had PROCLAUNCH_OUTPUT_DRAIN=loop ("native: a drain
//           thread for bounded output"), given with --native
//   js      a FIFO read by Node (net.Socket) and written with writev: supervisord's way
//
// Each mechanism runs in a fresh process. Reported: bytes per second reaching
// the file, the host's CPU (all its threads) and yes's, the host event loop's
// lateness (a 5 ms timer: how late it fires, p50/p99/max: what a `status`
// request would wait), and the quiet writer's line latency (p50/p99/max).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const seconds = Number(option('--seconds', '3'));
const only = option('--only', 'direct,thread,js').split(',');
const here = fileURLToPath(import.meta.url);
const nativePath = option('--native', join(here, '../../build/Release/proclaunch_native.node'));

if (args[0] === '--host') {
  await host(args[1], args[2], seconds);
} else {
  console.log(`| mechanism | to disk | host CPU | yes CPU | loop lateness p50 / p99 / max | other writer's line latency p50 / p99 / max |`);
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const mechanism of only) {
    const dir = mkdtempSync(join(tmpdir(), 'proclaunch-drain-bench-'));
    const env = { ...process.env, ...(mechanism === 'loop' ? { PROCLAUNCH_OUTPUT_DRAIN: 'loop' } : {}) };
    const run = spawnSync(process.execPath, [here, '--host', mechanism, dir, '--seconds', String(seconds), '--native', nativePath, ...(args.includes('--uncapped') ? ['--uncapped'] : [])], { encoding: 'utf8', env });
    process.stdout.write(run.stdout || `| ${mechanism} | failed: ${(run.stderr || '').split('\n')[0]} |\n`);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function host(mechanism, dir, secs) {
  const { openSync, readFileSync, constants } = await import('node:fs');
  const { createRequire } = await import('node:module');
  const native = createRequire(import.meta.url)(nativePath);
  const { JsDrain } = await import(join(here, '../../dist/output/js-drain.js'));
  const drain = mechanism === 'js' ? new JsDrain(args.includes('--uncapped') ? Infinity : undefined) : null;
  const bounds = { maxBytes: 10 << 20, keep: 5, timestamps: false };
  const add = (name, timestamps) => {
    const fifo = join(dir, name);
    native.mkfifo(fifo, 0o600);
    const held = openSync(fifo, constants.O_RDWR);
    const fd = openSync(`/proc/self/fd/${held}`, constants.O_RDWR | constants.O_NONBLOCK);
    const b = { ...bounds, timestamps };
    if (drain) drain.add(fd, join(dir, `${name}.log`), b);
    else native.outputAdd(fd, join(dir, `${name}.log`), b.maxBytes, b.keep, b.timestamps);
    return openSync(`/proc/self/fd/${held}`, constants.O_RDWR);
  };
  const floodOut = mechanism === 'direct' ? openSync(join(dir, 'flood.log'), 'a') : add('flood', false);
  // The quiet writer always goes through a drain (the thread for `direct`: it only needs timestamps).
  const quietOut = add('quiet', true);
  const ticks = (pid) => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  };
  const late = [];
  let expected = performance.now() + 5;
  const timer = setInterval(() => {
    const now = performance.now();
    late.push(now - expected);
    expected = now + 5;
  }, 5);
  const quiet = spawn('sh', ['-c', 'while :; do date +%s%N; sleep 0.01; done'], { stdio: ['ignore', quietOut, 'ignore'] });
  const yes = spawn('yes', [], { stdio: ['ignore', floodOut, 'ignore'] });
  const cpu0 = ticks(process.pid);
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, secs * 1000));
  const wchar = Number(/wchar: (\d+)/.exec(readFileSync(`/proc/${yes.pid}/io`, 'utf8'))[1]);
  const yesCpu = ticks(yes.pid);
  const hostCpu = ticks(process.pid) - cpu0;
  const elapsed = (performance.now() - t0) / 1000;
  yes.kill('SIGKILL');
  quiet.kill('SIGKILL');
  clearInterval(timer);
  if (drain) drain.flush(5000);
  else native.outputFlush(5000);
  const latency = readFileSync(join(dir, 'quiet.log'), 'utf8').split('\n').filter((l) => /^\S+ \d+$/.test(l))
    .map((l) => Date.parse(l.slice(0, 29)) - Number(BigInt(l.slice(30)) / 1000000n));
  const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;
  const three = (xs) => `${q(xs, 0.5).toFixed(1)} / ${q(xs, 0.99).toFixed(1)} / ${Math.max(...xs).toFixed(1)} ms`;
  console.log(`| ${mechanism} | ${(wchar / elapsed / 1e6).toFixed(0)} MB/s | ${(hostCpu / elapsed / 10).toFixed(0)}% | ${(yesCpu / elapsed / 10).toFixed(0)}% | ${three(late)} | ${three(latency)} |`);
  process.exit(0);
}
