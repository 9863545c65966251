// `proclaunch ps` as a person reads it: ps -o columns, aligned, escaped.
import { escapeValue, quote } from '../log/escape.js';
import type { PsRow } from '../process/ps.js';

export const PS_COLUMNS = ['profile', 'pid', 'ppid', 'pgid', 'user', 'rss', 'vsz', 'pcpu', 'elapsed', 'stat', 'comm', 'args'] as const;
export type PsColumn = (typeof PS_COLUMNS)[number];

export const DEFAULT_PS_FORMAT: PsColumn[] = ['profile', 'pid', 'ppid', 'user', 'rss', 'pcpu', 'elapsed', 'args'];

/** The names ps(1) users will type for our columns. */
const ALIASES: Record<string, PsColumn> = {
  '%cpu': 'pcpu',
  etime: 'elapsed',
  cmd: 'args',
  command: 'args',
  uid: 'user',
  uname: 'user',
  ruser: 'user',
  pgrp: 'pgid',
  rsz: 'rss',
  vsize: 'vsz',
  s: 'stat',
  state: 'stat',
};

const HEADERS: Record<PsColumn, string> = {
  profile: 'PROFILE',
  pid: 'PID',
  ppid: 'PPID',
  pgid: 'PGID',
  user: 'USER',
  rss: 'RSS',
  vsz: 'VSZ',
  pcpu: '%CPU',
  elapsed: 'ELAPSED',
  stat: 'STAT',
  comm: 'COMM',
  args: 'ARGS',
};

const RIGHT_ALIGNED = new Set<PsColumn>(['pid', 'ppid', 'pgid', 'rss', 'vsz', 'pcpu', 'elapsed']);

/** `pid,user,args` or `pid user args` (ps -o syntax, without `col=HEADER`); an error message otherwise. */
export function parsePsFormat(text: string): PsColumn[] | string {
  const names = text.split(/[\s,]+/).filter(Boolean);
  const valid = `valid: ${PS_COLUMNS.join(', ')}`;
  if (names.length === 0) return `empty ps format (${valid})`;
  const columns: PsColumn[] = [];
  for (const name of names) {
    const lower = name.toLowerCase();
    const column = (PS_COLUMNS as readonly string[]).includes(lower) ? (lower as PsColumn) : ALIASES[lower];
    if (!column) return `unknown ps column ${quote(name)} (${valid})`;
    columns.push(column);
  }
  return columns;
}

/** ps's etime: [[dd-]hh:]mm:ss. */
export function formatElapsed(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const two = (n: number) => String(n).padStart(2, '0');
  const days = Math.floor(s / 86_400);
  const hours = Math.floor(s / 3600) % 24;
  const mmss = `${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
  if (days > 0) return `${days}-${two(hours)}:${mmss}`;
  return hours > 0 ? `${two(hours)}:${mmss}` : mmss;
}

function cell(row: PsRow, column: PsColumn): string {
  switch (column) {
    case 'rss':
      return String(row.rssKiB);
    case 'vsz':
      return String(row.vszKiB);
    case 'pcpu':
      return row.pcpu.toFixed(1);
    case 'elapsed':
      return formatElapsed(row.elapsedSec);
    case 'pid':
    case 'ppid':
    case 'pgid':
      return String(row[column]);
    default:
      // Values from outside (names, command lines) must never break a line.
      return escapeValue(row[column]);
  }
}

/**
 * Aligned columns like ps: numbers right-aligned, the last column (args, by
 * default) not padded. Each line ends with a newline; no rows and no header
 * gives ''. Widths count UTF-16 units, so wide characters may misalign.
 */
export function formatPs(rows: PsRow[], columns: PsColumn[], options: { header?: boolean } = {}): string {
  const table = rows.map((row) => columns.map((column) => cell(row, column)));
  if (options.header ?? true) table.unshift(columns.map((column) => HEADERS[column]));
  const widths = columns.map((_, i) => Math.max(0, ...table.map((cells) => cells[i]!.length)));
  const pad = (text: string, i: number): string =>
    RIGHT_ALIGNED.has(columns[i]!) ? text.padStart(widths[i]!) : i === columns.length - 1 ? text : text.padEnd(widths[i]!);
  return table.map((cells) => `${cells.map(pad).join(' ')}\n`).join('');
}
