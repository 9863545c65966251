// What bench/web-page.mjs and bench/web-page-real.mjs ask of the page in the
// browser, and their statistics.

export const until = async (probe, timeoutMs = 20_000, what = async () => '') => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`bench/web-page: timed out ${await what()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** Every change of a row's state or pid, in page time (Date.now: the same clock as ours). */
export const WATCH = () => {
  window.__changes = [];
  new MutationObserver((records) => {
    for (const r of records) {
      const el = r.target.nodeType === Node.ELEMENT_NODE ? r.target : r.target.parentElement;
      const row = el?.closest('#rows > .row');
      if (!row) continue;
      if (r.type === 'attributes') window.__changes.push({ name: row.dataset.name, state: row.dataset.state, at: Date.now() });
      else if (el.dataset.cell === 'pid') window.__changes.push({ name: row.dataset.name, pid: el.textContent, at: Date.now() });
    }
  }).observe(document.getElementById('rows'), { attributes: true, attributeFilter: ['data-state'], subtree: true, childList: true, characterData: true });
};

/** Load the page until its full table is laid out: ms from navigation start (the page's own clock). */
export async function firstRender(page, url, n) {
  await page.goto(url);
  await page.waitForFunction((count) => document.querySelectorAll('#rows > .row').length === count && performance.getEntriesByName('services-rendered').length > 0, n, { polling: 'raf', timeout: 60_000 });
  // Navigation start → the table is in the DOM and one frame has been laid out and painted.
  return page.evaluate(() => new Promise((done) => requestAnimationFrame(() => setTimeout(() => done(performance.now()), 0))));
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
export const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)];
