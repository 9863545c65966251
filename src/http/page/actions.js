// @ts-check
// start / stop / restart / reload: of one row, of the selected rows, or of
// all (supervisord's Restart All / Stop All). Each service's result is shown
// in its row; the row's state itself follows from the events the change causes.
import { api, joinNames, servicePath } from './api.js';

export const ACTIONS = ['start', 'stop', 'restart', 'reload'];

/**
 * Requests at once for a selection: the browser keeps 6 connections to a
 * host (HTTP/1.1) and two hold the event and log streams.
 */
const PARALLEL = 4;

/**
 * @param {import('./services.js').ServiceTable} table
 * @param {(text: string) => void} say the summary line
 */
export function actionRunner(table, say) {
  /** One request (NAME may be a glob: `*` is every service); its rows go to their services. */
  async function ask(pattern, action, expected) {
    for (const name of expected) table.showResult(name, 'pending', `${action}…`);
    try {
      const reply = await api(`${servicePath(pattern)}/${action}`, { method: 'POST', body: { wait: true } });
      const results = Array.isArray(reply.results) ? reply.results : [];
      for (const r of results) table.showResult(r.name, r.ok ? 'ok' : 'failed', `${r.ok ? 'ok' : 'FAILED'}: ${r.message ?? r.state ?? ''}`);
      const answered = new Set(results.map((r) => r.name));
      for (const name of expected) if (!answered.has(name)) table.showResult(name, 'failed', reply.error ?? 'no answer for it');
      return results;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      for (const name of expected) table.showResult(name, 'failed', `FAILED: ${message}`);
      return expected.map((name) => ({ name, ok: false }));
    }
  }

  function summarise(action, results) {
    const failed = results.filter((r) => !r.ok).length;
    say(`${action}: ${results.length - failed} ok${failed ? `, ${failed} failed` : ''}`);
  }

  return {
    /** @param {string} name @param {string} action */
    async one(name, action) {
      summarise(`${action} ${name}`, await ask(name, action, [name]));
    },

    /** The selected rows: their names joined by commas (a request per ~20 names), a few requests at once. @param {string[]} names @param {string} action */
    async some(names, action) {
      if (names.length === 0) return say('nothing selected');
      say(`${action} of ${names.length}…`);
      const queue = joinNames(names);
      const results = [];
      const worker = async () => {
        for (let group = queue.shift(); group !== undefined; group = queue.shift()) results.push(...(await ask(group, action, group.split(','))));
      };
      await Promise.all(Array.from({ length: PARALLEL }, worker));
      summarise(`${action} of ${names.length} selected`, results);
    },

    /** @param {string} action */
    async all(action) {
      say(`${action} all…`);
      summarise(`${action} all`, await ask('*', action, [...table.rows.keys()]));
    },
  };
}
