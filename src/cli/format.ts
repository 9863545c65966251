// How control replies look to a person: aligned columns that fit the terminal
// (80 columns when its width is unknown), colour only on a terminal and never
// with NO_COLOR. Values from outside
// (reasons, names) are escaped so they never break a row.
import type { ActionResult, ServiceStatus } from '../control/protocol.js';
import { escapeValue } from '../log/escape.js';
import { formatDuration } from '../vocabulary/durations.js';
import type { EventRecord } from '../supervisor/events.js';

const COLOURS = { green: 32, yellow: 33, red: 31, dim: 2 } as const;
type Colour = keyof typeof COLOURS;
const paint = (on: boolean, colour: Colour | null, text: string): string => (on && colour ? `\x1b[${COLOURS[colour]}m${text}\x1b[0m` : text);

/** Columns padded to their widest cell; the last column is never padded. */
export function table(rows: string[][], options: { rightAlign?: number[]; colour?: (row: number, col: number) => Colour | null; on?: boolean } = {}): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row, r) =>
      row
        .map((cell, c) => {
          const last = c === row.length - 1;
          const padded = last ? cell : options.rightAlign?.includes(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!);
          return paint(options.on ?? false, options.colour?.(r, c) ?? null, padded);
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
    .concat('\n');
}

export function describeLastExit(exit: ServiceStatus['lastExit'], now = Date.now()): string {
  if (!exit) return '-';
  // A self-daemonized process is not our child: its exit status is unknown.
  const how = exit.signal ? exit.signal : exit.code === null ? 'ended' : `code ${exit.code}`;
  return `${how} ${formatDuration(Math.max(0, now - Date.parse(exit.at)))} ago`;
}

const stateColour = (state: string): Colour => (state === 'running' ? 'green' : state.endsWith('failed') ? 'red' : 'yellow');

/** The NOTE column: why it is not running, or what the service says of itself (STATUS=). */
export function noteOf(s: ServiceStatus): string {
  if (s.reason) return s.reason;
  // (A supervisor before needs and sd_notify sends neither field.)
  if (s.waitingFor) return `waiting for ${s.waitingFor.need} (${s.waitingFor.phase})`;
  if (s.held) return 'stopped by command';
  if (s.startsInMs !== null) return `starts in ${formatDuration(s.startsInMs)}`;
  if (s.status) return s.notifyStopping ? `${s.status} (STOPPING=1)` : s.status;
  if (s.notifyStopping) return 'says it is stopping (STOPPING=1)';
  if (s.probe) return `${s.probe.kind} failed${s.probe.inARow > 1 ? ` ${s.probe.inARow} times in a row` : ''}: ${s.probe.reason}`;
  return s.down ? 'down file' : '';
}

/** `880K`, `9.8M`, `123M`, `1.2G`: resident memory as top and pm2 show it (1024-based). */
export function formatBytes(bytes: number): string {
  let value = bytes / 1024;
  for (const unit of ['K', 'M', 'G', 'T']) {
    if (value < 1000 || unit === 'T') return `${value < 10 && unit !== 'K' ? value.toFixed(1) : Math.round(value)}${unit}`;
    value /= 1024;
  }
  return '-';
}

/** CPU% as ps shows it: the lifetime average (CPU time over time up), one decimal; 100 is one core. */
export function cpuPercent(s: ServiceStatus): string {
  if (s.cpuSeconds == null || s.uptimeMs === null || s.uptimeMs <= 0) return '-'; // (a supervisor before usage sends none)
  return ((s.cpuSeconds * 100_000) / s.uptimeMs).toFixed(1);
}

export const stateOf = (s: ServiceStatus): string => (s.substate && s.substate !== 'idle' ? `${s.state}.${s.substate}` : s.state);

/** How wide the table may be: $COLUMNS, else the terminal's width, else 80 (a pipe, a file). */
export function terminalWidth(stream: NodeJS.WriteStream): number {
  const columns = Number(process.env.COLUMNS);
  if (Number.isInteger(columns) && columns > 0) return columns;
  return stream.isTTY && stream.columns > 0 ? stream.columns : 80;
}

/** The NOTE column keeps this much (or its widest note, if shorter): CPU% and MEM give way first, then it is cut. */
const NOTE_ROOM = 12;

/** `text` in at most `room` columns, cut with `…`. */
const cut = (text: string, room: number): string => (text.length <= room ? text : `${text.slice(0, Math.max(0, room - 1))}…`);

/**
 * The status table in `width` columns: CPU% and MEM when they fit beside a
 * NOTE of NOTE_ROOM (or its widest note, if shorter), the NOTE cut with `…`
 * to the rest; `wide`: every column, nothing cut. Names and states are never
 * cut: a row with long ones may be wider rather than lose its NOTE.
 */
export function formatStatus(services: ServiceStatus[], colour: boolean, { width = 80, wide = false } = {}): string {
  if (services.length === 0) return 'no profiles\n';
  const head = ['NAME', 'STATE', 'PID', 'UPTIME', 'CPU%', 'MEM', 'RESTARTS', 'LAST EXIT', 'NOTE'];
  const body = services.map((s) => [
    escapeValue(s.name),
    stateOf(s),
    s.pid === null ? '-' : String(s.pid),
    s.uptimeMs === null ? '-' : formatDuration(s.uptimeMs),
    cpuPercent(s),
    s.rssBytes == null ? '-' : formatBytes(s.rssBytes),
    String(s.restarts),
    describeLastExit(s.lastExit),
    escapeValue(noteOf(s)),
  ]);
  let rows = [head, ...body];
  const widthOf = (columns: string[][]) => columns[0]!.reduce((sum, _, c) => sum + Math.max(...columns.map((r) => r[c]!.length)) + 2, 0);
  const widestNote = Math.max(...rows.map((r) => r.at(-1)!.length));
  if (!wide) {
    const withUsage = width - widthOf(rows.map((r) => r.slice(0, -1)));
    if (withUsage < Math.min(widestNote, NOTE_ROOM)) rows = rows.map((r) => [...r.slice(0, 4), ...r.slice(6)]); // CPU% and MEM give way
    const room = Math.max(Math.min(widestNote, NOTE_ROOM), width - widthOf(rows.map((r) => r.slice(0, -1))));
    rows = rows.map((r) => [...r.slice(0, -1), cut(r.at(-1)!, room)]);
  }
  const numeric = rows[0]!.flatMap((name, c) => (['PID', 'UPTIME', 'CPU%', 'MEM', 'RESTARTS'].includes(name) ? [c] : []));
  return table(rows, {
    rightAlign: numeric,
    on: colour,
    colour: (r, c) => (r === 0 ? 'dim' : c === 1 ? stateColour(rows[r]![1]!) : null),
  });
}

export function formatResults(results: ActionResult[], colour: boolean): string {
  return table(
    results.map((r) => [escapeValue(r.name), r.ok ? 'ok' : 'FAILED', escapeValue(r.message)]),
    { on: colour, colour: (r, c) => (c === 1 ? (results[r]!.ok ? 'green' : 'red') : null) },
  );
}

/** `2026-11-23T10:45:48.247+00:00 crashed web pid 42 code 1` — one line, grep-able like the log. */
export function formatEvent(e: EventRecord): string {
  const parts = [e.time, e.event, escapeValue(e.profile)];
  if (e.pid !== undefined) parts.push(`pid ${e.pid}`);
  if (e.signal) parts.push(`signal ${e.signal}`);
  else if (e.code !== undefined && e.code !== null) parts.push(`code ${e.code}`);
  if (e.reason) parts.push(escapeValue(e.reason));
  if (e.by) parts.push(`by ${escapeValue(e.by)}`);
  return `${parts.join(' ')}\n`;
}
