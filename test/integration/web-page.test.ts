// The web page of `supervise --http`, end to end: Debian's headless Chromium
// (driven by playwright-core) against a real supervisor and real services.
// Everything is waited for with a deadline; how fast the page follows is the
// benchmark's business (bench/web-page.mjs), not these tests'.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, launchChromium } from '../../scripts/chromium.mjs';
import { Sandbox, sh } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

const missing = chromiumMissing();
if (missing) console.warn(`web page tests skipped: ${missing}`);

const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const sleeper = { run: sh('exec sleep 1000'), restart: '' };
/** Says one line at start and one on each SIGHUP (reload): what the log tail must show live. */
const talker = { run: sh(`trap 'echo "got HUP $n"; n=$((n+1))' HUP\nn=1\necho "talker up $$"\nwhile :; do sleep 1 & wait $!; done`), restart: '' };

describe.skipIf(missing !== null)('the web page', () => {
  let box: Sandbox;
  let browser: Browser;
  let base = '';

  beforeAll(async () => {
    box = new Sandbox();
    box.profile('alpha', sleeper);
    box.profile('beta', { ...sleeper, instances: '2' });
    box.profile('talker', talker);
    box.start(['--http', '127.0.0.1:0']);
    const [, address] = await box.waitLog('proclaunch', /^http listening on (\S+)/);
    base = `http://${address}/`;
    await Promise.all(['alpha', 'beta@1', 'beta@2', 'talker'].map((tag) => box.runningPid(tag)));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await box?.cleanup();
  });

  const token = (kind: 'http.token' | 'http.readonly-token'): string => readFileSync(join(box.stateDir, kind), 'utf8').trim();

  /** A fresh browser context (no cookie yet), the page loaded and logged in with the token. */
  async function loggedIn(kind: 'http.token' | 'http.readonly-token'): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(base);
    await page.locator('#token').fill(token(kind));
    await page.locator('#login-form button[type="submit"]').click();
    await page.locator('#app').waitFor({ state: 'visible', timeout: 10_000 });
    expect(errors).toEqual([]);
    return page;
  }

  const row = (page: Page, name: string) => page.locator(`#rows > .row[data-name="${name}"]`);
  /** The page has not been reloaded since `mark()`: a value set in the window is still there. */
  const mark = (page: Page) => page.evaluate(() => ((window as unknown as { sameLoad: boolean }).sameLoad = true));
  const sameLoad = (page: Page) => page.evaluate(() => (window as unknown as { sameLoad?: boolean }).sameLoad === true);
  const cell = (page: Page, name: string, which: string) => row(page, name).locator(`[data-cell="${which}"]`).textContent();

  it('logs in with the token and shows every service, its state and pid', async () => {
    const page = await loggedIn('http.token');
    const status = await box.status();
    await waitFor('a row per service', async () => (await page.locator('#rows > .row').count()) === status.length);
    const names = await page.locator('#rows > .row').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.name));
    expect(names).toEqual(['alpha', 'beta@1', 'beta@2', 'talker']);
    for (const s of status) {
      expect(await cell(page, s.name, 'state')).toBe('running');
      expect(await cell(page, s.name, 'pid')).toBe(String(s.pid));
    }
    expect(await page.locator('#connection').textContent()).toBe('live');
    await page.context().close();
  });

  it('stop, a log line and a kill -9 show up live, without a reload', async () => {
    const page = await loggedIn('http.token');
    await row(page, 'alpha').waitFor();
    await mark(page);

    // Stop one service from its row: the row follows, its result says ok, the event says who.
    await row(page, 'alpha').locator('button[data-action="stop"]').click();
    await waitFor('alpha stopped on the page', async () => (await row(page, 'alpha').getAttribute('data-state')) === 'stopped');
    await waitFor('its note', async () => (await cell(page, 'alpha', 'note')) === 'stopped by command');
    await waitFor('its result', async () => /^ok/.test((await cell(page, 'alpha', 'result')) ?? ''));
    await waitFor('the stopped event, by http', async () => /stopped alpha pid \d+ signal SIGTERM by http full/.test((await page.locator('#events').textContent()) ?? ''));

    // The log tail of one service: its old lines, then a line it prints now.
    await row(page, 'talker').locator('.name-button').click();
    await waitFor('the tail', async () => /talker up \d+/.test((await page.locator('#log').textContent()) ?? ''));
    expect((await box.cli('reload', 'talker')).code).toBe(0);
    await waitFor('a line printed after the tail opened', async () => /got HUP 1/.test((await page.locator('#log').textContent()) ?? ''));

    // kill -9 from outside: the supervisor restarts it, the page shows the new pid.
    const [before] = await box.status('beta@1');
    process.kill(before!.pid!, 'SIGKILL');
    const after = await box.runningPid('beta@1', 2);
    await waitFor('the new pid on the page', async () => (await cell(page, 'beta@1', 'pid')) === String(after));
    expect(after).not.toBe(before!.pid);
    // The event shows the new pid at once (as `starting`); the reading after it says `running`.
    await waitFor('beta@1 running again', async () => (await row(page, 'beta@1').getAttribute('data-state')) === 'running');

    expect(await sameLoad(page)).toBe(true);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'web-page.png'), fullPage: true });
    await page.context().close();
  });

  it('by keyboard: / filters, j and x select, the selected and all are restarted, each with its result', async () => {
    const page = await loggedIn('http.token');
    await row(page, 'beta@2').waitFor();
    const before = await box.status('beta');
    await page.keyboard.press('/');
    await page.keyboard.type('beta');
    await waitFor('two rows shown', async () => (await page.locator('#rows > .row:not([hidden])').count()) === 2);
    await page.keyboard.press('Tab'); // out of the filter: keys are shortcuts again
    for (const _ of [1, 2]) {
      await page.keyboard.press('j');
      await page.keyboard.press('x');
    }
    expect(await page.locator('#selection').textContent()).toBe('2 selected');
    await page.locator('[data-bulk="restart"]').click();
    await waitFor('a result per selected service', async () =>
      (await Promise.all(['beta@1', 'beta@2'].map((n) => cell(page, n, 'result')))).every((r) => /^ok/.test(r ?? '')));
    const after = await box.status('beta');
    expect(after.map((s) => s.pid)).not.toContain(before[0]!.pid);
    expect(after.map((s) => s.pid)).not.toContain(before[1]!.pid);
    await waitFor('the new pids on the page', async () => (await cell(page, 'beta@1', 'pid')) === String(after[0]!.pid) && (await cell(page, 'beta@2', 'pid')) === String(after[1]!.pid));
    expect(await cell(page, 'alpha', 'result')).toBe(''); // not selected, not touched

    // Esc clears the filter; Restart all asks first, then answers for every service.
    await page.locator('#filter').focus();
    await page.keyboard.press('Escape');
    await waitFor('every row shown', async () => (await page.locator('#rows > .row:not([hidden])').count()) === 4);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator('[data-all="restart"]').click();
    await waitFor('a result per service', async () => (await page.locator('#rows [data-cell="result"].ok').count()) === 4, { timeoutMs: 20_000 });
    await waitFor('the summary', async () => (await page.locator('#summary').textContent()) === 'restart all: 4 ok');
    await page.context().close();
  });

  it('the read-only token shows everything and no action button', async () => {
    const page = await loggedIn('http.readonly-token');
    await waitFor('the rows', async () => (await page.locator('#rows > .row').count()) === 4);
    expect(await page.locator('#role').textContent()).toBe('read-only');
    expect(await page.locator('button[data-action], [data-bulk], [data-all], #select-shown').count()).toBe(0);
    expect(await cell(page, 'talker', 'state')).toBe('running');
    await page.context().close();
  });

  it('a wrong token is refused with one line, and the page stays at its login', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(base);
    await page.locator('#token').fill('0'.repeat(64));
    await page.locator('#login-form button[type="submit"]').click();
    await waitFor('the refusal', async () => (await page.locator('#login-error').textContent()) === 'Wrong token.');
    expect(await page.locator('#app').isHidden()).toBe(true);
    await page.context().close();
  });
});
