// How control replies look to a person: aligned columns that fit 80 columns,
// colour only on a terminal and never with NO_COLOR. Values from outside
// (reasons, names) are escaped so they never break a row.
import type { ActionResult, ServiceStatus } from '../control/protocol.js';
import { escapeValue } from '../log/escape.js';
import { formatDuration } from '../vocabulary/durations.js';
import type { EventRecord } from '../supervisor/events.js';

export const useColour = (stream: NodeJS.WriteStream): boolean => stream.isTTY === true && !('NO_COLOR' in process.env);

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

export function formatStatus(services: ServiceStatus[], colour: boolean): string {
  if (services.length === 0) return 'no profiles\n';
  const rows = [['NAME', 'STATE', 'PID', 'UPTIME', 'RESTARTS', 'LAST EXIT', 'NOTE']];
  for (const s of services) {
    const state = s.substate && s.substate !== 'idle' ? `${s.state}.${s.substate}` : s.state;
    const note = noteOf(s);
    rows.push([
      escapeValue(s.name),
      state,
      s.pid === null ? '-' : String(s.pid),
      s.uptimeMs === null ? '-' : formatDuration(s.uptimeMs),
      String(s.restarts),
      describeLastExit(s.lastExit),
      escapeValue(note),
    ]);
  }
  return table(rows, {
    rightAlign: [2, 3, 4],
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
  return `${parts.join(' ')}\n`;
}
