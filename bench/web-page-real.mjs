// The web page against a real `proclaunch supervise --http` with N real
// services (`sleep`): the whole path an operator sees — the first full
// table, a kill -9 until the page shows the new pid (issue 12: "the latency
// itself belongs in the benchmark"), Stop all and Restart all clicked on the
// page until every row says so, and what an open page costs the supervisor
// (its CPU and memory refresh every 5 s). Run by bench/web-page.mjs.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuPreciseMs, waitExit } from './lib.mjs';
import { launchChromium } from '../scripts/chromium.mjs';
import { WATCH, firstRender, until } from './page-probes.mjs';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'main.js');
const pause = (ms) => new Promise((r) => setTimeout(r, ms));

/** @param {{ services: number, trials: number, kills: number, log: (line: string) => void }} options */
export async function realPageBench({ services: N, trials, kills, log }) {
  const dir = mkdtempSync(join(tmpdir(), 'proclaunch-bench-page-'));
  const profiles = join(dir, 'profiles');
  const state = join(dir, 'state');
  const logPath = join(dir, 'proclaunch.log');
  const names = Array.from({ length: N }, (_, i) => `svc-${String(i + 1).padStart(4, '0')}`);
  for (const name of names) {
    mkdirSync(join(profiles, name), { recursive: true });
    writeFileSync(join(profiles, name, 'run'), '#!/bin/sh\nexec sleep 100000\n', { mode: 0o755 });
    writeFileSync(join(profiles, name, 'restart'), '');
  }
  const child = spawn(process.execPath, [CLI, 'supervise', '--foreground', '--log-path', logPath, '--http', '127.0.0.1:0', state, profiles], { stdio: 'ignore' });
  let browser = null;
  try {
    const logText = () => { try { return readFileSync(logPath, 'utf8'); } catch { return ''; } };
    const address = (await until(async () => logText().match(/ http listening on (\S+)/), 30_000))[1];
    const url = `http://${address}/`;
    const token = readFileSync(join(state, 'http.token'), 'utf8').trim();
    const ask = async (path) => (await fetch(new URL(path, url), { headers: { authorization: `Bearer ${token}` } })).json();
    log(`web page (real): waiting for ${N} services to run`);
    await until(async () => {
      await pause(200);
      const { services = [] } = await ask('/api/v1/services');
      return services.length === N && services.every((s) => s.state === 'running');
    }, 180_000);

    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(url);
    await page.locator('#token').fill(token);
    await page.locator('#login-form button[type="submit"]').click();
    log(`web page (real): first render of ${N} services, ${trials} loads`);
    const renders = [];
    for (let t = 0; t < trials; t++) renders.push(await firstRender(page, url, N));
    await page.evaluate(WATCH);
    await page.waitForFunction(() => document.getElementById('connection')?.dataset.live === 'true');

    log(`web page (real): ${kills} kill -9, each until the page shows the new pid`);
    const killToPid = [];
    for (let k = 0; k < kills; k++) {
      const name = names[(k * 37) % N];
      const old = await page.locator(`#rows > .row[data-name="${name}"] [data-cell="pid"]`).textContent();
      await page.evaluate(() => (window.__changes = []));
      const sent = Date.now();
      process.kill(Number(old), 'SIGKILL');
      const change = await until(() => page.evaluate(([n, p]) => window.__changes.find((c) => c.name === n && c.pid && /^\d+$/.test(c.pid) && c.pid !== p), [name, old]));
      killToPid.push(change.at - sent);
      await pause(50);
    }

    log('web page (real): what an open page costs the supervisor (20 s)');
    const cpu0 = cpuPreciseMs(child.pid);
    await pause(20_000);
    const openPageCpuPer30s = ((cpuPreciseMs(child.pid) - cpu0) * 30) / 20;

    const clickAll = async (action, target) => {
      await page.evaluate(() => (window.__changes = []));
      page.once('dialog', (dialog) => void dialog.accept());
      const sent = Date.now();
      await page.locator(`[data-all="${action}"]`).click();
      await until(() => page.evaluate(([n, s]) => document.querySelectorAll(`#rows > .row[data-state="${s}"]`).length === n, [N, target]), 180_000);
      const rowsDone = Math.max(...(await page.evaluate(() => window.__changes.filter((c) => c.state).map((c) => c.at)))) - sent;
      // The results column: every service's own answer, once the request is answered.
      await until(() => page.evaluate((n) => document.querySelectorAll('#rows [data-cell="result"].ok').length === n, N), 180_000);
      return { rowsDone, answered: Date.now() - sent };
    };
    log(`web page (real): Stop all, then Restart all, on ${N}`);
    const stopAll = await clickAll('stop', 'stopped');
    const restartAll = await clickAll('restart', 'running');
    return { services: N, renders, killToPid, stopAll, restartAll, openPageCpuPer30s };
  } finally {
    await browser?.close();
    child.kill('SIGTERM');
    await waitExit(child, 60_000);
    rmSync(dir, { recursive: true, force: true });
  }
}
