#!/usr/bin/env node
// `proclaunch fleet status` on many hosts (issue 13): the test hosts of
// test/support/ssh-lab.mjs — each a network namespace (or a loopback address)
// with its own sshd and supervisor, 2 services each — all on this one machine.
//
// Wall time of the whole command (the fleet client's own Node start included),
// for one host and for all of them, cold (a fresh control directory: a TCP
// connection, key exchange and authentication per host) and warm (the
// multiplexed masters of the run before: a channel per host). The target: warm
// on every host ≤ 3× warm on one. All the hosts share this machine's cores, and
// each runs a remote proclaunch CLI (a Node start) per command.
//
//   npm run build && node bench/fleet.mjs [--quick] [--hosts N]
// bench/bench.mjs runs it too (section 11 of its report). Skipped, saying why,
// where sshd is missing (scripts/ensure-test-tools.sh installs it) or not root.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { labUnavailable, SshLab } from '../test/support/ssh-lab.mjs';

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function timed(lab, args, xdg) {
  const run = await lab.fleet(args, { env: { XDG_RUNTIME_DIR: xdg } });
  if (run.code !== 0) throw new Error(`fleet ${args.join(' ')} exited ${run.code}: ${(run.stderr || run.stdout).trim().split('\n').pop()}`);
  return run.ms;
}

export async function fleetBench({ quick = false, hosts = quick ? 3 : 20, log = () => undefined } = {}) {
  const why = labUnavailable();
  if (why) return { skipped: why };
  log(`fleet: ${hosts} test hosts (sshd, supervisor, 2 services each)`);
  const lab = await SshLab.create(Array.from({ length: hosts }, (_, i) => ({ name: `h${i + 1}` })));
  try {
    for (const host of lab.hosts.keys()) lab.profile(host, 'worker', { run: '#!/bin/sh\nexec sleep 1000\n', instances: '2\n' });
    const trials = quick ? 2 : 5;
    const one = ['-H', 'h1', 'status'];
    const all = ['status'];
    const result = { hosts, trials, mode: lab.mode, oneCold: [], oneWarm: [], allCold: [], allWarm: [] };
    for (let trial = 0; trial < trials; trial++) {
      // Cold: a control directory of its own, so no master is there yet; warm: the same again.
      const fresh = (what) => {
        const dir = join(lab.root, `xdg-${what}-${trial}`);
        mkdirSync(dir, { mode: 0o700 });
        return dir;
      };
      const xdgOne = fresh('one');
      result.oneCold.push(await timed(lab, one, xdgOne));
      result.oneWarm.push(await timed(lab, one, xdgOne));
      const xdgAll = fresh('all');
      result.allCold.push(await timed(lab, all, xdgAll));
      result.allWarm.push(await timed(lab, all, xdgAll));
    }
    log(`fleet: one host ${median(result.oneWarm)} ms warm, ${hosts} hosts ${median(result.allWarm)} ms warm`);
    return result;
  } finally {
    await lab.close();
  }
}

/** The report's section, as Markdown lines. */
export function fleetReport(r) {
  if (r.skipped) return [`Not measured: ${r.skipped}.`];
  if (r.error) return [`Failed: ${r.error}`];
  const ms = (xs) => `${median(xs)} ms`;
  const ratio = median(r.allWarm) / median(r.oneWarm);
  return [
    `${r.hosts} hosts (${r.mode === 'netns' ? 'network namespaces on a bridge' : 'sshd on loopback addresses'}), medians of ${r.trials} runs, wall time of \`proclaunch fleet status\`:`,
    '',
    '| hosts | cold (new connections) | warm (multiplexed) |',
    '|---|---:|---:|',
    `| 1 | ${ms(r.oneCold)} | ${ms(r.oneWarm)} |`,
    `| ${r.hosts} | ${ms(r.allCold)} | ${ms(r.allWarm)} |`,
    '',
    `Warm, ${r.hosts} hosts / 1 host: ${ratio.toFixed(2)}× (target ≤ 3×: ${ratio <= 3 ? 'met' : '**missed**'}).`,
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--hosts');
  const results = await fleetBench({ quick: argv.includes('--quick'), hosts: at >= 0 ? Number(argv[at + 1]) : undefined, log: (line) => console.error(line) }).catch((error) => ({ error: error.message }));
  console.log(fleetReport(results).join('\n'));
}
