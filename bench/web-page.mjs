#!/usr/bin/env node
// What the web page of `supervise --http` costs in a browser at 1,000
// services (issue 12): the first full table, a burst of 1,000 events (a
// stop of all), one event → its row, and the refresh of CPU and memory every
// 5 s. Real headless Chromium (Debian's, scripts/chromium.mjs) against
// bench/web-page-stub.mjs, which serves the real page and answers from
// memory: the figures are the page's own, no supervisor's share in them.
//
// Then the same page against a real `supervise --http` with N real services
// (bench/web-page-real.mjs): kill -9 → new pid on the page, Stop all and
// Restart all clicked, the supervisor's CPU while a page is open.
//
//   node bench/web-page.mjs [--services N] [--trials N] [--quick] [--stub-only | --real-only]   (after npm run build)
import { chromiumMissing, launchChromium } from '../scripts/chromium.mjs';
import { WATCH, firstRender, median, percentile, until } from './page-probes.mjs';
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
    for (let t = 0; t < TRIALS; t++) renders.push(await firstRender(page, stub.url, N));
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
      const last = await page.evaluate(() => Math.max(...window.__changes.filter((c) => c.state).map((c) => c.at)));
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

export function realPageReport(r) {
  const ms = (v) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 1 : 0)} ms`);
  return [
    `Web page against a real \`supervise --http\` with ${r.services} services (\`sleep\`), bench/web-page-real.mjs:`,
    `| figure | median | max |`,
    `|---|---:|---:|`,
    `| first full table (navigation → rows laid out), ${r.renders.length} loads | ${ms(median(r.renders))} | ${ms(Math.max(...r.renders))} |`,
    `| kill -9 → the new pid on the page, ${r.killToPid.length} kills | ${ms(median(r.killToPid))} | ${ms(Math.max(...r.killToPid))} |`,
    `| Stop all clicked → every row \`stopped\` / every result in | ${ms(r.stopAll.rowsDone)} / ${ms(r.stopAll.answered)} | |`,
    `| Restart all clicked → every row \`running\` / every result in | ${ms(r.restartAll.rowsDone)} / ${ms(r.restartAll.answered)} | |`,
    `| the supervisor's CPU per 30 s with the page open (its 5 s refresh) | ${ms(r.openPageCpuPer30s)} | |`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const missing = chromiumMissing();
  if (missing) {
    console.log(`Web page: skipped (${missing})`);
    process.exit(0);
  }
  if (!args.includes('--real-only')) for (const line of webPageReport(await webPageBench())) console.log(line);
  if (!args.includes('--stub-only')) {
    const { realPageBench } = await import('./web-page-real.mjs');
    const log = (line) => process.stderr.write(`${line}\n`);
    const real = await realPageBench({ services: N, trials: TRIALS, kills: SINGLES, log });
    console.log('');
    for (const line of realPageReport(real)) console.log(line);
  }
}
