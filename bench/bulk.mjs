// Section 4 of bench.mjs (issue 16): bulk start, the tail after it, and stop.
//
// For N = 1, 500 and 1,000 services present at start-up, every supervisor in
// turn is launched and timed to its first service running (a pid file names
// its process) and to all of them running. At N = 500 it then stays up: PSS
// 5 s after the last service is running, then its CPU over the 30 s that
// follow (the start-up tail: garbage collection, deferred work), then the
// stop of all 500 is timed until every service process is gone. At N = 1 and
// 1,000 everything is ended by pid at once (nothing to time there).
//
// A bare `node -e 0` (launch → exit) is timed before each group of starts, in
// the same run: the target for "first running" is that + 30 ms. The live heap
// per idle service (bench/heap-per-service.mjs) closes the section.
import { spawn } from 'node:child_process';
import { fmtCpu, fmtMiB, fmtMs, fmtRatio, median, spread } from './format.mjs';
import { heapPerService, heapReport } from './heap-per-service.mjs';
import { cpuOf, cpuSince, memoryOf, now, pause } from './lib.mjs';

/** The section's sizes and windows: `bulk` is the N of the tail and the stop; the last is 2 × it. */
export function bulkPlan({ quick, runs, tailRuns }) {
  const bulk = quick ? 20 : 500;
  return {
    sizes: [1, bulk, 2 * bulk],
    bulk,
    runs: runs ?? (quick ? 1 : 3),
    tailRuns: tailRuns ?? (quick ? 1 : 3),
    settleMs: quick ? 300 : 5_000, // "PSS 5 s after the last service is running"
    tailMs: quick ? 1_000 : 30_000, // "CPU over the 30 s that follow"
    nodeTrials: 3, // bare `node -e 0` before each group of starts
  };
}

/** Launch → exit of a bare `node -e 0`, spawned as the harness spawns a supervisor. */
function bareNode() {
  return new Promise((resolve, reject) => {
    const t0 = now();
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', () => resolve(now() - t0));
  });
}

const startTimeout = (n) => 60_000 + n * 300;

/** One supervisor on `n` services: { n, run, first, all } and, at the tail's N, { memory, settleCpu, tailCpu, stop }. */
async function bulkOne(ctx, plan, adapter, n, run) {
  const { Session, attempt, log } = ctx;
  const session = new Session(adapter, `bulk${n}-${run}`);
  const entry = { n, run };
  let stopped = false;
  try {
    const services = [...Array(n).keys()].map((i) => session.service(`s${i}`));
    log(`${adapter.name} bulk ${n} (run ${run + 1}/${plan.runs}): start`);
    const started = await attempt(`${adapter.name} bulk ${n} start`, () => session.start(services, startTimeout(n)));
    if (started.error) return Object.assign(entry, { error: started.error });
    Object.assign(entry, started);
    if (n !== plan.bulk) return entry;
    const atAll = session.remember();
    const cpuAtAll = cpuOf(atAll);
    await pause(plan.settleMs);
    const procs = session.remember();
    entry.settleCpu = cpuSince(atAll, cpuAtAll);
    entry.memory = memoryOf(procs);
    if (run < plan.tailRuns) {
      const cpu0 = cpuOf(procs);
      await pause(plan.tailMs);
      entry.tailCpu = cpuSince(procs, cpu0);
    }
    log(`${adapter.name} bulk ${n} (run ${run + 1}/${plan.runs}): stop`);
    entry.stop = await attempt(`${adapter.name} bulk stop`, () => session.stop());
    stopped = true;
    return entry;
  } finally {
    if (stopped) await session.close();
    else await session.discard();
  }
}

/**
 * The whole section: `ctx` = { adapters, Session, attempt, log, scratch, quick, heap }
 * (`heap`: also the live heap per service). Every supervisor's entries, the
 * bare-node samples, the heap.
 */
export async function bulkBench(ctx, plan) {
  const entries = new Map(ctx.adapters.map((a) => [a.name, []]));
  const bareNodeMs = [];
  for (let run = 0; run < plan.runs; run++) {
    for (const n of plan.sizes) {
      for (let i = 0; i < plan.nodeTrials; i++) bareNodeMs.push(await bareNode());
      for (const adapter of ctx.adapters) {
        entries.get(adapter.name).push(await bulkOne(ctx, plan, adapter, n, run));
        await pause(200); // the last one's teardown, off the next one's clock
      }
    }
  }
  const heap = ctx.heap
    ? await heapPerService({ quick: ctx.quick, n: plan.bulk, scratch: ctx.scratch, log: ctx.log }).catch((error) => ({ error: error.message }))
    : null;
  return { entries, bareNodeMs, heap };
}

/** The numbers of `key` measured for `name` at N = `n` (those that are numbers). */
export const bulkSamples = (bulk, name, n, key) =>
  (bulk.entries.get(name) ?? []).filter((e) => e.n === n).map((e) => (key === 'pss' ? e.memory?.pssMB : key === 'uss' ? e.memory?.ussMB : e[key])).filter((v) => typeof v === 'number');

const failure = (bulk, name, n, key = null) =>
  (bulk.entries.get(name) ?? []).filter((e) => e.n === n).map((e) => e.error ?? (key ? e[key]?.error : undefined)).find(Boolean);

/** The report's section 4, as Markdown lines. */
export function bulkReport(bulk, plan, adapters, stopHow) {
  const lines = [];
  const say = (line = '') => lines.push(line);
  const node = bulk.bareNodeMs;
  say(`Start: from launching the supervisor on N services (present before it starts) to the **first** service running (some pid file names its process), and to **all** N running. ` +
    `${plan.runs} run${plan.runs > 1 ? 's' : ''} (min / median / max), supervisors in turn. **ratio** = proclaunch's median ÷ theirs. ` +
    `Bare \`node -e 0\` (launch → exit, spawned as the supervisors are), ${node.length} times in this section: median **${fmtMs(median(node))}** (${spread(node)}).`);
  say();
  say('| supervisor | N | first running | all running | ratio first | ratio all |');
  say('|---|---:|---:|---:|---:|---:|');
  for (const n of plan.sizes) {
    const base = (key) => bulkSamples(bulk, 'proclaunch', n, key);
    for (const a of adapters) {
      const first = bulkSamples(bulk, a.name, n, 'first');
      const all = bulkSamples(bulk, a.name, n, 'all');
      const ours = a.name === 'proclaunch';
      const ratio = (key, v) => (ours ? '—' : base(key).length && v.length ? fmtRatio(median(base(key)), median(v)) : '');
      if (all.length) say(`| ${a.name} | ${n} | ${spread(first)} | ${spread(all)} | ${ratio('first', first)} | ${ratio('all', all)} |`);
      else say(`| ${a.name} | ${n} | ${failure(bulk, a.name, n) ? `failed: ${failure(bulk, a.name, n)}` : 'not measured'} | | | |`);
    }
  }
  say();
  say(`Stop of ${plan.bulk}: from the supervisor's stop-all (${stopHow}) to all ${plan.bulk} service processes gone, ${(plan.settleMs + (plan.tailRuns ? plan.tailMs : 0)) / 1000} s after the last started.`);
  say();
  say('| supervisor | stop min / median / max | ratio |');
  say('|---|---:|---:|');
  const baseStop = bulkSamples(bulk, 'proclaunch', plan.bulk, 'stop');
  for (const a of adapters) {
    const v = bulkSamples(bulk, a.name, plan.bulk, 'stop');
    const err = failure(bulk, a.name, plan.bulk, 'stop');
    say(v.length ? `| ${a.name} | ${spread(v)} | ${a.name === 'proclaunch' ? '—' : fmtRatio(median(baseStop), median(v))} |` : `| ${a.name} | ${err ? `failed: ${err}` : 'not measured'} | |`);
  }
  say();
  say(`The start-up tail, at N = ${plan.bulk}: the supervisor's own processes (not the services) ${plan.settleMs / 1000} s after the last service is running — PSS and USS (MiB, /proc/PID/smaps_rollup, summed) and the CPU they used in those ${plan.settleMs / 1000} s — ` +
    `then the CPU they use over the ${plan.tailMs / 1000} s that follow (schedstat, all threads; ${plan.tailRuns} of the runs). min / median / max. ` +
    'PSS splits shared pages between the processes that map them (the node binary: with the harness, itself a Node process); USS counts only private pages. The steady state, after this tail: section 5.');
  say();
  say(`| supervisor | processes | PSS | USS | CPU in the ${plan.settleMs / 1000} s | CPU in the ${plan.tailMs / 1000} s after | ratio PSS | ratio CPU after |`);
  say('|---|---|---:|---:|---:|---:|---:|---:|');
  const basePss = bulkSamples(bulk, 'proclaunch', plan.bulk, 'pss');
  const baseTail = bulkSamples(bulk, 'proclaunch', plan.bulk, 'tailCpu');
  for (const a of adapters) {
    const pss = bulkSamples(bulk, a.name, plan.bulk, 'pss');
    if (!pss.length) {
      say(`| ${a.name} | ${failure(bulk, a.name, plan.bulk) ? `failed: ${failure(bulk, a.name, plan.bulk)}` : 'not measured'} | | | | | | |`);
      continue;
    }
    const ours = a.name === 'proclaunch';
    const kinds = (bulk.entries.get(a.name) ?? []).find((e) => e.n === plan.bulk && e.memory)?.memory.kinds;
    const tail = bulkSamples(bulk, a.name, plan.bulk, 'tailCpu');
    say(`| ${a.name} | ${kinds} | ${spread(pss, fmtMiB)} | ${spread(bulkSamples(bulk, a.name, plan.bulk, 'uss'), fmtMiB)} | ${spread(bulkSamples(bulk, a.name, plan.bulk, 'settleCpu'), fmtCpu)} | ${spread(tail, fmtCpu)} | ${ours ? '—' : fmtRatio(median(basePss), median(pss))} | ${ours ? '—' : tail.length && baseTail.length ? fmtRatio(median(baseTail), median(tail)) : ''} |`);
  }
  say();
  say(`### The live heap per idle service (proclaunch; bench/heap-per-service.mjs)`);
  say();
  for (const line of heapReport(bulk.heap)) say(line);
  return lines;
}
