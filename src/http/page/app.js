// @ts-check
// The page of `supervise --http`: log in, then every service live. State
// comes from the event stream (each event: that service is asked for again);
// CPU and memory, which change without events, from a refresh every few
// seconds while the page is visible — no timer at all while it is hidden.
import { actionRunner } from './actions.js';
import { ApiError, api, joinNames, whenUnauthorized } from './api.js';
import { EventFeed } from './events.js';
import { LogTail } from './logtail.js';
import { ServiceTable } from './services.js';
import { bindKeys } from './keys.js';

const REFRESH_MS = 5000;
/** More changed services than this at once (a stop of all): one request for the whole list instead. */
const FEW = 32;

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

async function main() {
  let session;
  try {
    session = await api('/api/v1/session');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return showLogin('');
    return showLogin(error instanceof Error ? error.message : String(error));
  }
  run(session.readonly === true);
}

/** @param {string} message @param {(readonly: boolean) => void} afterLogin */
function showLogin(message, afterLogin = run) {
  $('app').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  const form = /** @type {HTMLFormElement} */ ($('login-form'));
  const input = /** @type {HTMLInputElement} */ ($('token'));
  input.focus();
  form.onsubmit = async (event) => {
    event.preventDefault();
    $('login-error').textContent = '';
    try {
      const reply = await api('/api/v1/session', { method: 'POST', body: { token: input.value.trim() } });
      input.value = '';
      $('login').hidden = true;
      afterLogin(reply.readonly === true);
    } catch (error) {
      $('login-error').textContent = error instanceof ApiError && error.status === 401 ? 'Wrong token.' : `Could not log in: ${error instanceof Error ? error.message : error}`;
      input.select();
    }
  };
}

/** @param {boolean} readonly */
function run(readonly) {
  // A read-only session gets no action at all: the buttons are not there, not merely disabled.
  document.body.classList.toggle('readonly', readonly);
  $('role').textContent = readonly ? 'read-only' : '';
  const template = /** @type {HTMLTemplateElement} */ ($('row-template'));
  if (readonly) for (const el of [...document.querySelectorAll('[data-write]'), ...template.content.querySelectorAll('[data-write]')]) el.remove();
  $('app').hidden = false;

  // The header's counts: once a frame at most (a burst of 1,000 events is one count).
  let counting = false;
  const recount = () => {
    if (counting) return;
    counting = true;
    requestAnimationFrame(() => {
      counting = false;
      showCounts(table);
    });
  };
  const table = new ServiceTable({ list: $('rows'), template, onChange: recount });
  const logTail = new LogTail({ pre: $('log'), title: $('log-name'), panel: $('log-panel') });
  const say = (text) => ($('summary').textContent = text);
  const actions = actionRunner(table, say);

  // ---- state from events: the services an event names are asked for again, in batches
  const dirty = new Set();
  let asking = false;
  async function flush() {
    if (asking || dirty.size === 0) return;
    asking = true;
    const names = [...dirty];
    dirty.clear();
    try {
      if (names.length > FEW) await refreshAll();
      else {
        const at = Date.now();
        const replies = await Promise.all(joinNames(names).map((group) => api(`/api/v1/services?names=${encodeURIComponent(group)}`)));
        const services = replies.flatMap((reply) => reply.services ?? []);
        // A name asked for and not in the reply is gone (a removed profile, released once stopped).
        const found = new Set(services.map((s) => s.name));
        table.upsert(services, names.filter((n) => !found.has(n)), at);
      }
    } catch (error) {
      say(`could not read the services: ${error instanceof Error ? error.message : error}`);
    } finally {
      asking = false;
      if (dirty.size > 0) queueMicrotask(flush);
    }
  }
  const feed = new EventFeed({
    list: /** @type {HTMLOListElement} */ ($('events')),
    onEvent: (e) => {
      if (typeof e.profile !== 'string' || e.profile === 'proclaunch') return;
      table.hint(e);
      dirty.add(e.profile);
      queueMicrotask(flush);
    },
    onStatus: (live) => {
      const el = $('connection');
      el.dataset.live = String(live);
      el.textContent = live ? 'live' : 'reconnecting…';
    },
    onResumed: () => void refreshAll(),
  });

  // ---- CPU and memory (and a reconciliation of everything): only while visible
  async function refreshAll() {
    const at = Date.now();
    const { services = [] } = await api('/api/v1/services');
    table.setAll(services, at);
    // When the first full table is in (bench/web-page.mjs reads it).
    if (performance.getEntriesByName('services-rendered').length === 0) performance.mark('services-rendered');
  }
  /** @type {ReturnType<typeof setInterval> | null} */
  let timer = null;
  const onVisibility = () => {
    if (document.visibilityState === 'visible') {
      if (timer === null) timer = setInterval(() => void refreshAll().catch(() => {}), REFRESH_MS);
      void refreshAll().catch(() => {});
    } else if (timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };

  // ---- the controls
  const filter = /** @type {HTMLInputElement} */ ($('filter'));
  filter.addEventListener('input', () => table.setFilter(filter.value));
  $('rows').addEventListener('click', (event) => {
    const target = /** @type {HTMLElement} */ (event.target);
    const name = /** @type {HTMLElement | null} */ (target.closest('.row'))?.dataset.name;
    if (!name) return;
    const button = /** @type {HTMLElement | null} */ (target.closest('button'));
    if (button?.dataset.action) void actions.one(name, button.dataset.action);
    else if (button?.dataset.cell === 'name') logTail.open(name);
  });
  $('rows').addEventListener('change', () => showSelection(table));
  $('log-close').addEventListener('click', () => {
    logTail.close();
    $('log-panel').hidden = true;
  });
  if (!readonly) {
    const shown = /** @type {HTMLInputElement} */ ($('select-shown'));
    shown.addEventListener('change', () => table.selectShown(shown.checked));
    for (const button of document.querySelectorAll('[data-bulk]')) {
      button.addEventListener('click', () => void actions.some(table.selected(), /** @type {string} */ (/** @type {HTMLElement} */ (button).dataset.bulk)));
    }
    for (const button of document.querySelectorAll('[data-all]')) {
      const action = /** @type {string} */ (/** @type {HTMLElement} */ (button).dataset.all);
      button.addEventListener('click', () => {
        if (confirm(`${action[0]?.toUpperCase()}${action.slice(1)} all ${table.rows.size} services?`)) void actions.all(action);
      });
    }
  }
  bindKeys({ filter, table });

  let ended = false;
  whenUnauthorized(() => {
    if (ended) return;
    ended = true;
    feed.stop();
    logTail.close();
    if (timer !== null) clearInterval(timer);
    document.removeEventListener('visibilitychange', onVisibility);
    // Start afresh after the new login: the new token may be of the other kind.
    showLogin('The session has ended: log in again.', () => location.reload());
  });

  document.addEventListener('visibilitychange', onVisibility);
  onVisibility();
  void feed.start().catch((error) => say(`could not read the events: ${error instanceof Error ? error.message : error}`));
}

/** @param {ServiceTable} table */
function showCounts(table) {
  const counts = table.counts();
  const parts = [`${table.rows.size} services`];
  for (const kind of ['running', 'starting', 'stopping', 'backoff', 'stopped', 'failed']) if (counts[kind]) parts.push(`${counts[kind]} ${kind}`);
  $('counts').textContent = parts.join(' · ');
  // A tab in the background still says when something failed.
  document.title = counts.failed ? `(${counts.failed} failed) proclaunch` : 'proclaunch';
  const shown = table.shown().length;
  $('shown').textContent = shown === table.rows.size ? '' : `${shown} shown`;
  $('empty').hidden = table.rows.size > 0;
  showSelection(table);
}

/** @param {ServiceTable} table */
function showSelection(table) {
  const selection = document.getElementById('selection');
  if (!selection) return;
  const chosen = table.selected().length;
  selection.textContent = `${chosen} selected`;
  for (const button of document.querySelectorAll('[data-bulk]')) /** @type {HTMLButtonElement} */ (button).disabled = chosen === 0;
  const all = /** @type {HTMLInputElement | null} */ (document.getElementById('select-shown'));
  if (all) {
    const shown = table.shown().length;
    all.checked = chosen > 0 && chosen === shown;
    all.indeterminate = chosen > 0 && chosen < shown;
  }
}

void main();
