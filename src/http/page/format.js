// @ts-check
// How the page writes a value: pure functions, no DOM, so that vitest can
// check them in Node (test/http-page-format.test.ts) against the CLI's own
// wording. The page is served as it is (no build step), so it cannot import
// src/vocabulary/: formatDuration mirrors src/vocabulary/durations.ts and a
// test keeps the two the same.

/** @typedef {{ pid: number, code: number | null, signal: string | null, at: string }} LastExit */

/** `250ms`, `6.4s`, `3m05s`, `2h07m`: as `status` and the log lines write a duration. */
export function formatDuration(ms) {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** An uptime without the milliseconds that would make every row change on every refresh. */
export function formatUptime(ms) {
  if (ms === null || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return '0s';
  if (ms < 60_000) return `${Math.floor(ms / 1000)}s`;
  return formatDuration(ms);
}

/**
 * The state as `status` names it: `running`, `stopped.failed`,
 * `starting.awaitingReady` (`idle` is the plain state, as in `status`).
 * @param {string} state @param {string | null} substate
 */
export function stateText(state, substate) {
  return substate && substate !== 'idle' ? `${state}.${substate}` : state;
}

/**
 * What colour a state gets (a CSS class): the four top-level states, and the
 * two substates an operator must notice, failed and backoff.
 * @param {string} state @param {string | null} substate
 */
export function stateClass(state, substate) {
  if (substate === 'failed') return 'failed';
  if (substate === 'backoff') return 'backoff';
  return ['running', 'starting', 'stopping', 'stopped'].includes(state) ? state : 'stopped';
}

/** @param {LastExit | null} exit @param {number} now */
export function describeLastExit(exit, now) {
  if (!exit) return '-';
  // A self-daemonized process is not our child: its exit status is unknown.
  const how = exit.signal ? exit.signal : exit.code === null ? 'ended' : `code ${exit.code}`;
  const at = Date.parse(exit.at);
  return Number.isFinite(at) ? `${how} ${formatUptime(Math.max(0, now - at))} ago` : how;
}

/** Bytes as ps users read them: `812 KiB`, `14.2 MiB`, `1.1 GiB`. */
export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '-';
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

/** A share of one core, as `ps` and `top` write %CPU. */
export function formatPercent(share) {
  if (share === null || !Number.isFinite(share)) return '-';
  return `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;
}

/**
 * CPU as a share of one core: over the time between two readings when there
 * are two of the same process, else the lifetime average (what `status` and
 * `ps` show) — so the first figure is right, and the next ones are recent.
 * @param {{ cpuSeconds: number | null, pid: number | null, at: number, uptimeMs: number | null }} now
 * @param {{ cpuSeconds: number | null, pid: number | null, at: number } | null} before
 */
export function cpuShare(now, before) {
  if (now.cpuSeconds === null || now.cpuSeconds === undefined || now.pid === null) return null;
  if (before && before.pid === now.pid && before.cpuSeconds !== null && now.at - before.at >= 500) {
    return Math.max(0, now.cpuSeconds - before.cpuSeconds) / ((now.at - before.at) / 1000);
  }
  return now.uptimeMs ? now.cpuSeconds / Math.max(1, now.uptimeMs / 1000) : null;
}

/**
 * The note under a state: why it is not running, or what the service says of
 * itself — the NOTE column of `status` (src/cli/format.ts).
 * @param {any} s a service as /api/v1/services gives it
 */
export function noteOf(s) {
  if (s.reason) return s.reason;
  if (s.waitingFor) return `waiting for ${s.waitingFor.need} (${s.waitingFor.phase})`;
  if (s.held) return 'stopped by command';
  if (s.startsInMs !== null && s.startsInMs !== undefined) return `starts in ${formatDuration(s.startsInMs)}`;
  if (s.status) return s.notifyStopping ? `${s.status} (STOPPING=1)` : s.status;
  if (s.notifyStopping) return 'says it is stopping (STOPPING=1)';
  if (s.probe) return `${s.probe.kind} failed${s.probe.inARow > 1 ? ` ${s.probe.inARow} times in a row` : ''}: ${s.probe.reason}`;
  return s.down ? 'down file' : '';
}

/**
 * One event's details after its kind and profile: `pid 4242 code 1`,
 * `reason ...`, `by http (token)`.
 * @param {any} e an event as /api/v1/events gives it
 */
export function eventDetail(e) {
  const parts = [];
  if (e.pid !== undefined && e.pid !== null) parts.push(`pid ${e.pid}`);
  if (e.signal) parts.push(`signal ${e.signal}`);
  else if (e.code !== undefined && e.code !== null) parts.push(`code ${e.code}`);
  if (e.reason) parts.push(e.reason);
  if (e.by) parts.push(`by ${e.by}`);
  return parts.join(' ');
}

/** `07:41:03` of an ISO time in the reader's own zone (the full time goes in a title). */
export function clockTime(iso) {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return String(iso);
  return [at.getHours(), at.getMinutes(), at.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/**
 * Does a service match the filter box? Every word must be found in its name
 * or its state (`web fail` finds web-2 in stopped.failed); `*` and `?` are
 * globs within a word.
 * @param {string} filter @param {string} name @param {string} state
 */
export function matchesFilter(filter, name, state) {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const hay = `${name} ${state}`.toLowerCase();
  return words.every((word) => (/[*?]/.test(word) ? globWord(word).test(hay) : hay.includes(word)));
}

/** @param {string} word */
function globWord(word) {
  const body = word.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '\\S*').replace(/\?/g, '\\S');
  return new RegExp(`(^|\\s)${body}(\\s|$)`);
}

/** Names in the order people expect: web@2 before web@10. */
export const byName = new Intl.Collator('en', { numeric: true }).compare;
