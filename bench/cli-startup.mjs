#!/usr/bin/env node
// CLI start-up (issue 15): what a control command costs before it does
// anything, against bare Node. `check` runs every minute from Nagios, and
// finish scripts and hooks call "$PROCLAUNCH_BIN": each should stay within
// 1.3× of `node -e 0`. Every command is run in turn, in a shuffled order each
// round (so that a busy moment of the machine falls on all of them alike),
// against a supervisor with three services; also counted: the modules of
// ours each one loads (a module hook of the measurement's own, not counted).
//
//   npm run build && node bench/cli-startup.mjs [--quick] [--baseline DIR]
// --baseline DIR: also another build (a checkout with dist/), in the same rounds.
// bench/bench.mjs runs it too (section 9 of its report).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { until } from './lib.mjs';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'main.js');
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const median = (xs) => sorted(xs)[xs.length >> 1];

/** The commands measured: [label, argv after `node`]; with a baseline build, its commands too. */
const commands = (state, baseline) => [
  ['node -e 0 (bare Node)', ['-e', '0']],
  ...[[CLI, ''], ...(baseline ? [[join(baseline, 'dist', 'cli', 'main.js'), ' (baseline)']] : [])].flatMap(([cli, tag]) => [
    [`proclaunch --version${tag}`, [cli, '--version']],
    [`proclaunch status${tag}`, [cli, 'status', '--state', state]],
    [`proclaunch check${tag}`, [cli, 'check', '--state', state]],
    [`proclaunch start web (already running)${tag}`, [cli, 'start', 'web', '--state', state]],
  ]),
];

/** How many of our modules (dist/) a command loads. */
function modulesLoaded(root, argv) {
  const hooks = join(root, 'count-hooks.mjs');
  writeFileSync(hooks, "export async function load(url, context, next) { if (url.includes('/dist/')) process.stderr.write(`MODULE ${url}\\n`); return next(url, context); }\n");
  const register = join(root, 'count.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  if (argv[0] === '-e') return 0;
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, ...argv], { encoding: 'utf8' });
  return r.stderr.split('\n').filter((l) => l.startsWith('MODULE ')).length;
}

export async function cliStartupBench({ quick = false, baseline = null, log = () => undefined } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'proclaunch-cli-bench-'));
  const profiles = join(root, 'profiles');
  for (const name of ['web', 'worker', 'db']) {
    mkdirSync(join(profiles, name), { recursive: true });
    writeFileSync(join(profiles, name, 'run'), '#!/bin/sh\nexec sleep 100000\n');
    chmodSync(join(profiles, name, 'run'), 0o755);
  }
  const state = join(root, 'state');
  const supervisor = spawn(process.execPath, [CLI, 'supervise', '--foreground', '--log-path', join(root, 'supervisor.log'), state, profiles], { stdio: 'ignore' });
  try {
    await until('supervisor answers', () => spawnSync(process.execPath, [CLI, 'check', '--state', state]).status === 0, 20_000);
    const list = commands(state, baseline);
    const rounds = quick ? 3 : 40; // quick: spawnSync blocks bench.mjs's other quick sections, run at the same time
    log(`cli start-up: ${list.length} commands × ${rounds} rounds`);
    const times = new Map(list.map(([label]) => [label, { wall: [], cpu: [] }]));
    for (let i = 0; i < 3; i++) for (const [, argv] of list) spawnSync(process.execPath, argv); // warm the page cache
    // GNU time, where installed, also gives each run's own CPU (user + system): steadier than wall time on a busy machine.
    const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
    const cpuFile = join(root, 'cpu');
    for (let round = 0; round < rounds; round++) {
      for (const [label, argv] of [...list].sort(() => Math.random() - 0.5)) {
        const [command, args] = timeBin ? [timeBin, ['-f', '%U %S', '-o', cpuFile, process.execPath, ...argv]] : [process.execPath, argv];
        const t0 = process.hrtime.bigint();
        spawnSync(command, args, { stdio: 'ignore' });
        const sample = times.get(label);
        sample.wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (timeBin) sample.cpu.push(readFileSync(cpuFile, 'utf8').trim().split(/\s+/).reduce((sum, s) => sum + Number(s) * 1000, 0));
      }
    }
    const bare = times.get(list[0][0]);
    return list.map(([label, argv]) => {
      const { wall, cpu } = times.get(label);
      return {
        label,
        medianMs: median(wall),
        minMs: sorted(wall)[0],
        ratio: median(wall) / median(bare.wall),
        cpuMs: cpu.length ? median(cpu) : null,
        cpuRatio: cpu.length ? median(cpu) / median(bare.cpu) : null,
        modules: modulesLoaded(root, argv),
      };
    });
  } finally {
    supervisor.kill('SIGTERM');
    await new Promise((resolve) => (supervisor.exitCode !== null ? resolve() : supervisor.once('exit', resolve)));
    rmSync(root, { recursive: true, force: true });
  }
}

export function cliStartupReport(rows) {
  if (rows.error) return [`failed: ${rows.error}`];
  const lines = ['| command | wall: median | min | × bare Node | its CPU (user + sys): median | × bare Node | our modules loaded |', '|---|---:|---:|---:|---:|---:|---:|'];
  const cpu = (r) => (r.cpuMs === null ? '— | —' : `${r.cpuMs.toFixed(0)} ms | ${r.cpuRatio.toFixed(2)}`);
  for (const r of rows) lines.push(`| ${r.label} | ${r.medianMs.toFixed(1)} ms | ${r.minMs.toFixed(1)} ms | ${r.ratio.toFixed(2)} | ${cpu(r)} | ${r.modules} |`);
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const at = process.argv.indexOf('--baseline');
  const baseline = at > 0 ? process.argv[at + 1] : null;
  const rows = await cliStartupBench({ quick: process.argv.includes('--quick'), baseline, log: (line) => console.error(line) });
  console.log(cliStartupReport(rows).join('\n'));
}
