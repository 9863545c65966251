// @ts-check
// The table of services: one row per service, created once and then only
// the cells whose text changed are touched (1,000 rows, an event at a time).
// Every value from the server goes in with textContent, never as HTML.
import {
  byName,
  cpuShare,
  describeLastExit,
  formatBytes,
  formatPercent,
  formatUptime,
  matchesFilter,
  noteOf,
  stateClass,
  stateText,
} from './format.js';

/**
 * @typedef {{
 *   el: HTMLElement, name: string, state: string, matched: boolean,
 *   select: HTMLInputElement | null, stateBadge: HTMLElement, note: HTMLElement,
 *   pid: HTMLElement, uptime: HTMLElement, restarts: HTMLElement, lastExit: HTMLElement,
 *   cpu: HTMLElement, memory: HTMLElement, result: HTMLElement | null,
 *   service: any, upSince: number | null, sample: { cpuSeconds: number | null, pid: number | null, at: number } | null,
 * }} Row
 */

/** Set a text only when it changed: most updates change one or two cells of one row. */
function put(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

export class ServiceTable {
  /**
   * @param {{ list: HTMLElement, template: HTMLTemplateElement, onChange: () => void }} parts
   */
  constructor({ list, template, onChange }) {
    this.list = list;
    this.template = template;
    this.onChange = onChange;
    /** @type {Map<string, Row>} */
    this.rows = new Map();
    this.filter = '';
  }

  /** The whole list, as /api/v1/services gives it: rows are added, updated, and removed when gone. */
  setAll(services, at = Date.now()) {
    const seen = new Set();
    const fresh = [];
    for (const s of services) {
      seen.add(s.name);
      if (this.rows.has(s.name)) this.update(/** @type {Row} */ (this.rows.get(s.name)), s, at);
      else fresh.push(s);
    }
    for (const name of [...this.rows.keys()]) if (!seen.has(name)) this.remove(name);
    this.add(fresh, at);
    this.onChange();
  }

  /** Some services, fresh from the server after their events (`missing`: asked for, not there any more). */
  upsert(services, missing = [], at = Date.now()) {
    const fresh = [];
    for (const s of services) {
      const row = this.rows.get(s.name);
      if (row) this.update(row, s, at);
      else fresh.push(s);
    }
    for (const name of missing) this.remove(name);
    this.add(fresh, at);
    this.onChange();
  }

  remove(name) {
    const row = this.rows.get(name);
    if (!row) return;
    row.el.remove();
    this.rows.delete(name);
  }

  /** New rows, each in its place by name (a batch at the start: one fragment, in order). */
  add(services, at) {
    if (services.length === 0) return;
    services.sort((a, b) => byName(a.name, b.name));
    if (this.rows.size === 0) {
      const fragment = document.createDocumentFragment();
      for (const s of services) fragment.append(this.create(s, at).el);
      this.list.append(fragment);
      return;
    }
    // The rows are in name order: a binary search over them finds the place.
    const children = this.list.children;
    for (const s of services) {
      const row = this.create(s, at);
      let low = 0;
      let high = children.length;
      while (low < high) {
        const mid = (low + high) >> 1;
        if (byName(/** @type {HTMLElement} */ (children[mid]).dataset.name ?? '', s.name) > 0) high = mid;
        else low = mid + 1;
      }
      this.list.insertBefore(row.el, children[low] ?? null);
    }
  }

  create(s, at) {
    const el = /** @type {HTMLElement} */ (/** @type {Element} */ (this.template.content.firstElementChild).cloneNode(true));
    el.dataset.name = s.name;
    const cell = (name) => /** @type {HTMLElement} */ (el.querySelector(`[data-cell="${name}"]`));
    const nameButton = cell('name');
    nameButton.textContent = s.name;
    nameButton.title = `show the log of ${s.name}`;
    for (const button of el.querySelectorAll('button[data-action]')) {
      button.setAttribute('aria-label', `${/** @type {HTMLElement} */ (button).dataset.action} ${s.name}`);
    }
    const select = /** @type {HTMLInputElement | null} */ (el.querySelector('input[data-cell="select"]'));
    select?.setAttribute('aria-label', `select ${s.name}`);
    /** @type {Row} */
    const row = {
      el, name: s.name, state: '', matched: true, select,
      stateBadge: cell('state'), note: cell('note'), pid: cell('pid'), uptime: cell('uptime'),
      restarts: cell('restarts'), lastExit: cell('lastExit'), cpu: cell('cpu'), memory: cell('memory'),
      result: el.querySelector('[data-cell="result"]'),
      service: null, upSince: null, sample: null,
    };
    this.rows.set(s.name, row);
    this.update(row, s, at);
    return row;
  }

  /** @param {Row} row */
  update(row, s, at) {
    const text = stateText(s.state, s.substate);
    if (row.state !== text) {
      row.state = text;
      put(row.stateBadge, text);
      row.stateBadge.className = `state ${stateClass(s.state, s.substate)}`;
      row.el.dataset.state = text;
      this.match(row);
    }
    const note = noteOf(s);
    if (row.note.textContent !== note) {
      row.note.textContent = note;
      row.note.title = note;
    }
    put(row.pid, s.pid === null ? '-' : String(s.pid));
    put(row.restarts, String(s.restarts));
    // The server's uptime at the moment of the reply, turned into our own clock: no skew between the two clocks.
    row.upSince = s.uptimeMs === null || s.uptimeMs === undefined ? null : at - s.uptimeMs;
    const before = row.service;
    row.service = s;
    // CPU and memory come with every reading; an event's hint has none (a new process: none yet).
    if (s.cpuSeconds !== undefined || s.rssBytes !== undefined) {
      const sample = { cpuSeconds: s.cpuSeconds ?? null, pid: s.pid, at };
      put(row.cpu, s.pid === null ? '-' : formatPercent(cpuShare({ ...sample, uptimeMs: s.uptimeMs }, row.sample)));
      put(row.memory, s.pid === null ? '-' : formatBytes(s.rssBytes));
      row.sample = sample;
    } else if (s.pid === null || s.pid !== before?.pid) {
      put(row.cpu, '-');
      put(row.memory, '-');
    }
    this.times(row, at);
  }

  /**
   * What an event says for sure, shown at once: the reading that follows it
   * (asked for by the page, ~10-100 ms later, longer while the supervisor is
   * busy stopping 1,000) brings the exact substate, note, CPU and memory. A
   * start is shown as `starting` until then: whether it is already running
   * or still awaiting readiness, only the reading says.
   */
  hint(e, at = Date.now()) {
    const row = this.rows.get(e.profile);
    if (!row) return;
    const s = { ...row.service };
    delete s.cpuSeconds;
    delete s.rssBytes;
    const gone = () => Object.assign(s, { pid: null, uptimeMs: null, substate: null });
    switch (e.event) {
      case 'started':
        Object.assign(s, { pid: e.pid ?? s.pid, uptimeMs: 0, reason: null, held: false });
        if (s.state !== 'running') Object.assign(s, { state: 'starting', substate: null });
        break;
      case 'ready':
        Object.assign(s, { state: 'running', substate: null });
        break;
      case 'stopped':
      case 'exited':
      case 'crashed':
        gone();
        s.state = 'stopped';
        if (e.pid !== undefined) s.lastExit = { pid: e.pid, code: e.code ?? null, signal: e.signal ?? null, at: e.time };
        break;
      case 'failed':
        gone();
        Object.assign(s, { state: 'stopped', substate: 'failed', reason: e.reason ?? s.reason });
        break;
      default:
        return;
    }
    this.update(row, s, at);
    this.onChange();
  }

  /** The cells that age: uptime and "last exit … ago". @param {Row} row */
  times(row, now) {
    put(row.uptime, row.upSince === null ? '-' : formatUptime(now - row.upSince));
    put(row.lastExit, describeLastExit(row.service.lastExit, now));
    if (row.service.lastExit) row.lastExit.title = `pid ${row.service.lastExit.pid} at ${row.service.lastExit.at}`;
  }

  tick(now = Date.now()) {
    for (const row of this.rows.values()) this.times(row, now);
  }

  setFilter(text) {
    this.filter = text;
    for (const row of this.rows.values()) this.match(row);
    this.onChange();
  }

  /** @param {Row} row */
  match(row) {
    row.matched = matchesFilter(this.filter, row.name, row.state);
    if (row.el.hidden === row.matched) row.el.hidden = !row.matched;
  }

  /** The rows shown (the filter's matches). */
  shown() {
    return [...this.rows.values()].filter((r) => r.matched);
  }

  /** Names selected and shown: what "selected" buttons act on (a row hidden by the filter is not acted on). */
  selected() {
    return this.shown().filter((r) => r.select?.checked).map((r) => r.name);
  }

  selectShown(on) {
    for (const row of this.shown()) if (row.select) row.select.checked = on;
    this.onChange();
  }

  /** The result of an action on one service, shown in its row until the next action. */
  showResult(name, kind, text) {
    const row = this.rows.get(name);
    if (!row?.result) return;
    put(row.result, text);
    row.result.className = `result ${kind}`;
    row.result.title = text;
  }

  /** Counts by top-level state, for the header. */
  counts() {
    /** @type {Record<string, number>} */
    const counts = {};
    for (const row of this.rows.values()) {
      const kind = stateClass(row.service.state, row.service.substate);
      counts[kind] = (counts[kind] ?? 0) + 1;
    }
    return counts;
  }
}
