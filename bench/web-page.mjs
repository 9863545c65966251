#!/usr/bin/env node
// What the web page of `supervise --http` costs in a browser at 1,000
// services (issue 12): the first full table, a burst of 1,000 events (a
// stop of all), one event → its row, and the refresh of CPU and memory every
// 5 s. Real headless Chromium (Debian's, scripts/chromium.mjs) against
// bench/web-page-stub.mjs, which serves the real page and answers from
// memory: the figures are the page's own, no supervisor's share in them.
//
//   node bench/web-page.mjs [--services N] [--trials N] [--quick]
import { chromiumMissing, launchChromium } from '../scripts/chromium.mjs';
import { startStub } from './web-page-stub.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const quick = args.includes('--quick');
const N = option('--services', quick ? 200 : 1000);
const TRIALS = option('--trials', quick ? 3 : 7);
const SINGLES = quick ? 10 : 50;

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)];

const until = async (probe, timeoutMs = 20_000, what = async () => '') => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`bench/web-page: timed out ${await what()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** Every state change of a row, in page time (Date.now: the same clock as ours). */
const WATCH = () => {
  window.__changes = [];
  new MutationObserver((records) => {
    for (const r of records) window.__changes.push({ name: r.target.dataset.name, state: r.target.dataset.state, at: Date.now() });
  }).observe(document.getElementById('rows'), { attributes: true, attributeFilter: ['data-state'], subtree: true });
};

/** The main thread's busy time so far (ms): scripts, style, layout, paint. */
async function busyMs(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  return 1000 * (metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0);
}

export async function webPageBench({ log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  const missing = chromiumMissing();
  if (missing) return { skipped: missing };
  const stub = await startStub({ services: N });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    if (process.env.DEBUG_PAGE) page.on('request', (r) => log(`req ${r.url()}`));
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');

    log(`web page: first render of ${N} services, ${TRIALS} loads`);
    const renders = [];
    for (let t = 0; t < TRIALS; t++) {
      await page.goto(stub.url);
      await page.waitForFunction((n) => document.querySelectorAll('#rows > .row').length === n && performance.getEntriesByName('services-rendered').length > 0, N, { polling: 'raf' });
      // Navigation start → the table is in the DOM and one frame has been laid out and painted.
      renders.push(await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => setTimeout(() => done(performance.now()), 0)))));
    }
    await page.evaluate(WATCH);
    await page.waitForFunction(() => document.getElementById('connection')?.dataset.live === 'true');

    log(`web page: ${SINGLES} single events (a crash each)`);
    const singles = [];
    const names = [...stub.services.keys()];
    for (let i = 0; i < SINGLES; i++) {
      const name = names[(Math.floor(i / 2) * 7) % names.length]; // crashed, then started again
      const state = i % 2 ? 'running' : 'stopped';
      const sent = Date.now();
      stub.event(name, i % 2 ? 'started' : 'crashed', state === 'running' ? { state, substate: null, pid: 20_000 + i } : { state, substate: 'backoff', pid: null });
      const change = await until(() => page.evaluate(([n, s]) => window.__changes.find((c) => c.name === n && c.state === s), [name, state === 'running' ? 'running' : 'stopped.backoff']), 20_000, () => page.evaluate(() => JSON.stringify(window.__changes)));
      singles.push(change.at - sent);
      await page.evaluate(() => (window.__changes = []));
    }

    log(`web page: a burst of ${N} events (stop all), ${TRIALS} times`);
    const bursts = [];
    const burstBusy = [];
    for (let t = 0; t < TRIALS; t++) {
      const [kind, change] = t % 2 === 0 ? ['stopped', { state: 'stopped', substate: null, pid: null, held: true }] : ['started', { state: 'running', substate: null, held: false }];
      const target = change.state;
      await page.evaluate(() => (window.__changes = []));
      const before = await busyMs(cdp);
      const sent = Date.now();
      for (const name of names) stub.event(name, kind, { ...change, ...(kind === 'started' ? { pid: 30_000 + names.indexOf(name) } : {}) });
      await until(() => page.evaluate(([n, s]) => [...document.querySelectorAll('#rows > .row')].filter((tr) => tr.dataset.state === s).length === n, [N, target]));
      const last = await page.evaluate(() => Math.max(...window.__changes.map((c) => c.at)));
      bursts.push(last - sent);
      burstBusy.push((await busyMs(cdp)) - before);
    }

    log('web page: the CPU and memory refresh (every 5 s), main-thread time over 20 s');
    const idleBefore = await busyMs(cdp);
    await new Promise((r) => setTimeout(r, 20_000));
    const refreshBusy = ((await busyMs(cdp)) - idleBefore) / 4;
    return { services: N, renders, singles, bursts, burstBusy, refreshBusy };
  } finally {
    await browser.close();
    await stub.close();
  }
}

export function webPageReport(r) {
  if (r.skipped) return [`Web page: skipped (${r.skipped})`];
  const ms = (v) => `${v.toFixed(v < 10 ? 1 : 0)} ms`;
  return [
    `Web page at ${r.services} services (headless Chromium, bench/web-page.mjs against its stub server):`,
    `| figure | median | max |`,
    `|---|---:|---:|`,
    `| first full table (navigation → rows laid out), ${r.renders.length} loads | ${ms(median(r.renders))} | ${ms(Math.max(...r.renders))} |`,
    `| one event → its row changed (SSE, re-read, render), ${r.singles.length} events | ${ms(median(r.singles))} | ${ms(Math.max(...r.singles))} (p99 ${ms(percentile(r.singles, 99))}) |`,
    `| ${r.services} events at once → every row changed, ${r.bursts.length} bursts | ${ms(median(r.bursts))} | ${ms(Math.max(...r.bursts))} |`,
    `| main-thread time for such a burst | ${ms(median(r.burstBusy))} | ${ms(Math.max(...r.burstBusy))} |`,
    `| main-thread time of one CPU/memory refresh (average over 4) | ${ms(r.refreshBusy)} | |`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await webPageBench();
  for (const line of webPageReport(result)) console.log(line);
}
