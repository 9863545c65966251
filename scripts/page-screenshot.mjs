#!/usr/bin/env node
// The screenshot of the web page in docs/ (docs/web-page.png, shown by the
// README): the committed profiles/ plus three workers and a broken profile,
// under a real `supervise --http`, in headless Chromium. After npm run build:
//
//   node scripts/page-screenshot.mjs [OUT.png] [--dark] [--phone]
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './chromium.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const out = resolve(args.find((a) => !a.startsWith('--')) ?? join(ROOT, 'docs', 'web-page.png'));
// Not under /tmp: a pid file in a world-writable directory is not trusted (the daemon profile would fail).
mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
const dir = mkdtempSync(join(ROOT, 'test-artifacts', 'screenshot-'));
const profiles = join(dir, 'profiles');
mkdirSync(profiles);
execFileSync('sh', ['-c', `git -C "${ROOT}" archive HEAD profiles | tar -x --no-same-permissions -C "${dir}"`]);
const profile = (name, files) => {
  mkdirSync(join(profiles, name));
  for (const [file, content] of Object.entries(files)) writeFileSync(join(profiles, name, file), content, { mode: file === 'run' ? 0o755 : 0o644 });
};
profile('worker', { run: '#!/bin/sh\necho "worker $PROCLAUNCH_INSTANCE up"\nexec sleep 100000\n', restart: '', instances: '3' });
profile('broken', { run: '#!/bin/sh\nexec sleep 100000\n', stop_signal: 'BOGUS' });

const pause = (ms) => new Promise((r) => setTimeout(r, ms));
const log = join(dir, 'proclaunch.log');
const child = spawn(process.execPath, [join(ROOT, 'dist/cli/main.js'), 'supervise', '--foreground', '--log-path', log, '--http', '127.0.0.1:0', join(dir, 'state'), profiles], { stdio: 'ignore' });
let browser;
try {
  let address;
  for (let i = 0; i < 200 && !address; i++, await pause(50)) address = readFileSync(log, { encoding: 'utf8', flag: 'a+' }).match(/ http listening on (\S+)/)?.[1];
  if (!address) throw new Error('page-screenshot: the supervisor did not listen');
  browser = await launchChromium();
  const phone = args.includes('--phone');
  const page = await browser.newPage({ viewport: phone ? { width: 390, height: 844 } : { width: 1280, height: 860 }, colorScheme: args.includes('--dark') ? 'dark' : 'light' });
  await page.goto(`http://${address}/`);
  await page.locator('#token').fill(readFileSync(join(dir, 'state', 'http.token'), 'utf8').trim());
  await page.locator('#login-form button[type="submit"]').click();
  await page.locator('#rows > .row[data-name="worker@3"][data-state="running"]').waitFor();
  await pause(1500); // the kv and counter chain gets ready
  await page.locator('#rows > .row[data-name="greeter"] button[data-action="restart"]').click();
  await page.locator('#rows > .row[data-name="greeter"] [data-cell="result"].ok').waitFor({ timeout: 20_000 });
  await page.locator('#rows > .row[data-name="ticker"] .name-button').click();
  await pause(6000); // two readings: CPU over the interval between them
  if (!phone) await page.locator('#rows > .row[data-name="worker@2"] .name-button').focus();
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: out, fullPage: !phone });
  console.log(`wrote ${out}`);
} finally {
  await browser?.close();
  child.kill('SIGTERM');
  await new Promise((done) => child.once('exit', done));
  rmSync(dir, { recursive: true, force: true });
}
