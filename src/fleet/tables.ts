// How the hosts' answers read to a person: one table with a HOST column, a row for each
// service of each host, and one row for a host that did not answer, saying why.
import type { ActionResult, ServiceStatus } from '../control/protocol.js';
import { describeLastExit, formatEvent, noteOf, stateOf, table } from '../cli/format.js';
import { formatPs, type PsColumn } from '../cli/ps-format.js';
import { escapeValue } from '../log/escape.js';
import type { PsRow } from '../process/ps.js';
import type { EventRecord } from '../supervisor/events.js';
import { formatDuration } from '../vocabulary/durations.js';
import type { HostResult } from './context.js';

const label = (r: HostResult): string => escapeValue(r.host.label);
const why = (r: HostResult): string => escapeValue(r.error ?? '');
/** A kind shown in a table: `unreachable`, `auth refused`, `no supervisor`, ... */
const kindOf = (r: HostResult): string => (r.kind === 'answered' ? 'failed' : r.kind);

export function statusTable(results: HostResult[], colour: boolean): string {
  const rows = [['HOST', 'VERSION', 'NAME', 'STATE', 'PID', 'UPTIME', 'RESTARTS', 'LAST EXIT', 'NOTE']];
  for (const r of results) {
    const version = r.version ?? '-';
    const services = r.ok ? ((r.result as ServiceStatus[] | undefined) ?? []) : [];
    if (!r.ok) rows.push([label(r), version, '-', kindOf(r), '-', '-', '-', '-', why(r)]);
    else if (services.length === 0) rows.push([label(r), version, '-', '-', '-', '-', '-', '-', r.error ? why(r) : 'no profiles']);
    for (const s of services) {
      rows.push([label(r), version, escapeValue(s.name), stateOf(s), s.pid === null ? '-' : String(s.pid), s.uptimeMs === null ? '-' : formatDuration(s.uptimeMs), String(s.restarts), describeLastExit(s.lastExit), escapeValue(noteOf(s))]);
    }
  }
  // Green running, yellow on its way, red failed or not answering (the kind of failure is in STATE).
  const stateColour = (state: string): 'green' | 'yellow' | 'red' | null =>
    state === 'running' ? 'green' : state === '-' ? null : /^(starting|stopping|stopped)/.test(state) && !state.endsWith('failed') ? 'yellow' : 'red';
  return table(rows, { rightAlign: [4, 5, 6], on: colour, colour: (row, c) => (row === 0 ? 'dim' : c === 3 ? stateColour(rows[row]![3]!) : null) });
}

/** start, stop, restart, reload, signal, rescan, quit, deploy, ...: a row per service (or per host) with ok or FAILED. */
export function resultTable(results: HostResult[], colour: boolean, rowsOf: (r: HostResult) => { name: string; ok: boolean; message: string }[] = actionRows): string {
  const rows: string[][] = [['HOST', 'NAME', 'RESULT', 'MESSAGE']];
  const oks: boolean[] = [true];
  for (const r of results) {
    const own = r.result === undefined ? [] : rowsOf(r);
    for (const row of own) {
      rows.push([label(r), escapeValue(row.name), row.ok ? 'ok' : 'FAILED', escapeValue(row.message)]);
      oks.push(row.ok);
    }
    if (!r.ok && (own.length === 0 || own.every((row) => row.ok))) {
      rows.push([label(r), '-', r.kind === 'answered' || r.kind === 'failed' ? 'FAILED' : r.kind.toUpperCase(), why(r)]);
      oks.push(false);
    }
  }
  return table(rows, { on: colour, colour: (row, c) => (row === 0 ? 'dim' : c === 2 ? (oks[row] ? 'green' : 'red') : null) });
}

const actionRows = (r: HostResult): { name: string; ok: boolean; message: string }[] => {
  const value = r.result;
  if (Array.isArray(value)) return (value as ActionResult[]).map((a) => ({ name: a.name, ok: a.ok, message: a.message }));
  const reply = value as { ok?: boolean; message?: string; error?: string } | null;
  return reply ? [{ name: '-', ok: reply.ok !== false, message: reply.message ?? reply.error ?? (reply.ok === false ? 'failed' : 'done') }] : [];
};

export function psTable(results: HostResult[], columns: PsColumn[]): string {
  const rows = results.flatMap((r) => (r.ok ? ((r.result as PsRow[] | undefined) ?? []).map((row) => ({ host: label(r), row })) : []));
  const lines = formatPs(rows.map((x) => x.row), columns).split('\n').slice(0, -1);
  const hosts = ['HOST', ...rows.map((x) => x.host)];
  const width = Math.max(...hosts.map((h) => h.length));
  const text = lines.map((line, i) => `${hosts[i]!.padEnd(width)} ${line}\n`).join('');
  return text + failedLines(results);
}

/** Every host's events, in time order, each line led by its host. */
export function eventLines(results: HostResult[]): string {
  const all = results.flatMap((r) => (r.ok ? ((r.result as EventRecord[] | undefined) ?? []).map((e) => ({ host: label(r), e })) : []));
  all.sort((a, b) => Date.parse(a.e.time) - Date.parse(b.e.time));
  return all.map(({ host, e }) => `${host} ${formatEvent(e)}`).join('') + failedLines(results);
}

/** `logs`: each host's lines, led by `HOST | NAME | ` (docker compose logs), one host after another. */
export function logLines(results: HostResult[]): string {
  const lines = (r: HostResult) => (r.ok && Array.isArray(r.result) ? (r.result as { name: string; line: string }[]) : []);
  // The lines as the service wrote them (as `logs` prints them); the names escaped.
  return results.map((r) => lines(r).map((l) => `${label(r)} | ${escapeValue(l.name)} | ${l.line}\n`).join('')).join('') + failedLines(results);
}

/** Below a listing (ps, events, logs): a host that did not answer, one line each (stdout: it is part of the answer). */
function failedLines(results: HostResult[]): string {
  return results.filter((r) => !r.ok).map((r) => `${label(r)} ${kindOf(r).toUpperCase()}: ${why(r)}\n`).join('');
}
