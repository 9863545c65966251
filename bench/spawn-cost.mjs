#!/usr/bin/env node
// What one service start costs the supervisor: N spawns of `sleep 1000`, as
// spawnService starts a service (detached, stdin ignored, stdout and stderr
// to an O_APPEND file), with Node's child_process.spawn (libuv: fork + exec)
// and with the native module's posix_spawn (clone(CLONE_VM | CLONE_VFORK)).
// Not part of `npm test`; needs `npm run build` (and the native module).
//
//   node bench/spawn-cost.mjs                 500 spawns each way, 3 rounds
//   node bench/spawn-cost.mjs --n 100 --rounds 5
//   node bench/spawn-cost.mjs --ballast 100   first grow this process by 100 MB
//                                             (fork's cost grows with the parent's memory)
//   node bench/spawn-cost.mjs --only node     (or native)
//
// Per spawn: the time spawn() blocks the event loop (both return only once
// the child has exec'd). Per round: from the first spawn() until every
// `spawn` event has fired. All children are then killed (SIGKILL) and their
// `exit` events awaited, untimed.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'process');
const { loadNative, nativeUnavailableReason } = await import(join(DIST, 'native.js'));
const { spawnNative } = await import(join(DIST, 'native-spawn.js'));

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const N = Number(option('--n', 500));
const ROUNDS = Number(option('--rounds', 3));
const BALLAST_MB = Number(option('--ballast', 0));
const only = option('--only', null);

const native = loadNative();
const ways = [];
if (only !== 'native') ways.push(['child_process.spawn', (cmd, argv, options) => spawn(cmd, argv, options)]);
if (only !== 'node') {
  if (native?.canSpawn && native.pidfd) ways.push(['native posix_spawn', (cmd, argv, options) => spawnNative(native, cmd, argv, options)]);
  else console.error(`native spawn not available: ${nativeUnavailableReason() ?? 'built without posix_spawn, or no pidfd'}`);
}

// Memory the parent has touched: fork copies its page tables, then faults on every page written before the child execs.
const ballast = [];
for (let i = 0; i < BALLAST_MB; i++) ballast.push(Buffer.alloc(1 << 20, i));

const now = () => Number(process.hrtime.bigint()) / 1e6;
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const pct = (xs, p) => sorted(xs)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const median = (xs) => pct(xs, 0.5);
const rssMB = () => process.memoryUsage.rss() / 2 ** 20;

const dir = mkdtempSync(join(tmpdir(), 'proclaunch-spawn-cost-'));
const results = new Map(ways.map(([name]) => [name, { perSpawn: [], totals: [] }]));
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, start] of ways) {
      const fd = openSync(join(dir, 'out.log'), 'a', 0o640);
      const children = [];
      const spawned = [];
      const perSpawn = [];
      const t0 = now();
      for (let i = 0; i < N; i++) {
        const s0 = now();
        const child = start('sleep', ['1000'], { cwd: dir, detached: true, stdio: ['ignore', fd, fd], env: process.env });
        perSpawn.push(now() - s0);
        children.push(child);
        spawned.push(
          new Promise((resolve, reject) => {
            child.once('spawn', resolve);
            child.once('error', reject);
          }),
        );
      }
      await Promise.all(spawned);
      const total = now() - t0;
      closeSync(fd);
      const r = results.get(name);
      r.perSpawn.push(...perSpawn);
      r.totals.push(total);
      console.error(`round ${round + 1} ${name}: ${N} in ${total.toFixed(0)} ms; per spawn median ${median(perSpawn).toFixed(3)} ms, p95 ${pct(perSpawn, 0.95).toFixed(3)} ms (RSS ${rssMB().toFixed(0)} MB)`);
      const exited = children.map((child) => new Promise((resolve) => child.once('exit', resolve)));
      for (const child of children) process.kill(child.pid, 'SIGKILL');
      await Promise.all(exited);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`${N} spawns of \`sleep 1000\` (detached, stdio to an O_APPEND file), ${ROUNDS} rounds, Node ${process.version}, RSS ${rssMB().toFixed(0)} MB${BALLAST_MB ? ` (${BALLAST_MB} MB ballast)` : ''}, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('| how | all N (median of rounds) | per spawn median | p95 | max |');
console.log('|---|---:|---:|---:|---:|');
for (const [name, { perSpawn, totals }] of results) {
  console.log(`| ${name} | ${median(totals).toFixed(0)} ms | ${median(perSpawn).toFixed(3)} ms | ${pct(perSpawn, 0.95).toFixed(3)} ms | ${Math.max(...perSpawn).toFixed(3)} ms |`);
}
