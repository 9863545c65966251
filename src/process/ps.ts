// `proclaunch ps`: every process of every service, ps-style, read from /proc.
import { readdirSync, readFileSync } from 'node:fs';
import { escapeValue, quote } from '../log/escape.js';
import { userNames } from '../profile/users.js';
import { CLOCK_TICKS, parseStatDetail, readProcFile } from './proc.js';

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

export interface PsRow {
  profile: string;
  pid: number;
  ppid: number;
  pgid: number;
  /** Name of the real uid, or the uid as a number when /etc/passwd has no entry. */
  user: string;
  rssKiB: number;
  vszKiB: number;
  /** CPU time over elapsed time, in percent, truncated to one decimal like ps. */
  pcpu: number;
  elapsedSec: number;
  /** The state letter of /proc/PID/stat (R, S, D, T, Z, ...), without ps's extra flags. */
  stat: string;
  /** Raw, as the kernel gave it; formatPs escapes. */
  comm: string;
  /** Command line with NULs as spaces, or `[comm]` when empty (kernel thread, zombie). Raw. */
  args: string;
}

export interface ServiceGroup {
  profile: string;
  pgid: number;
  leaderPid: number;
}

/** `Key:\tvalue` lines of /proc/PID/status. */
function statusField(status: string, key: string): string | undefined {
  const line = status.split('\n').find((l) => l.startsWith(`${key}:`));
  return line?.slice(key.length + 1).trim();
}

/**
 * One scan of /proc: every process in the group of a service, plus each
 * leader even outside its recorded group (a self-daemonized service may have
 * made its own). Zombies are kept (stat Z). A process that exits while we
 * read it is skipped.
 */
export function listServiceProcesses(groups: ServiceGroup[]): PsRow[] {
  // pgid 0 is the kernel threads' and 1 init's: never a service's group.
  const byPgid = new Map(groups.filter((g) => g.pgid > 1).map((g) => [g.pgid, g.profile]));
  const byLeader = new Map(groups.filter((g) => g.leaderPid > 1).map((g) => [g.leaderPid, g.profile]));
  if (byPgid.size === 0 && byLeader.size === 0) return [];

  const uptimeSec = Number.parseFloat(readProcFile('/proc/uptime'));
  const names = userNames();
  const rows: PsRow[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      // utf8: the stat fields we parse are ASCII, and comm may not be.
      const stat = parseStatDetail(readProcFile(`/proc/${pid}/stat`, 'utf8'));
      if (!stat) continue;
      const profile = byLeader.get(pid) ?? byPgid.get(stat.pgid);
      if (profile === undefined) continue;
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '');
      // Uid: real, effective, saved, filesystem. We show the real one (ps's `ruser`), which a setuid binary does not change.
      const uid = Number(statusField(status, 'Uid')?.split(/\s+/)[0]);
      const elapsed = Math.max(0, uptimeSec - stat.startTime / CLOCK_TICKS);
      const cpuSec = (stat.utime + stat.stime) / CLOCK_TICKS;
      rows.push({
        profile,
        pid,
        ppid: stat.ppid,
        pgid: stat.pgid,
        user: names.get(uid) ?? (Number.isInteger(uid) ? String(uid) : '?'),
        // VmRSS/VmSize are in kB already (no page size to learn); absent for zombies.
        rssKiB: Number.parseInt(statusField(status, 'VmRSS') ?? '0', 10) || 0,
        vszKiB: Number.parseInt(statusField(status, 'VmSize') ?? '0', 10) || 0,
        pcpu: elapsed > 0 ? Math.floor((cpuSec * 1000) / elapsed) / 10 : 0,
        elapsedSec: Math.floor(elapsed),
        stat: stat.state,
        comm: stat.comm,
        args: cmdline ? cmdline.replace(/\0/g, ' ') : `[${stat.comm}]`,
      });
    } catch {
      // ENOENT/ESRCH: it exited between readdir and now.
    }
  }
  return rows.sort((a, b) => (a.profile < b.profile ? -1 : a.profile > b.profile ? 1 : a.pid - b.pid));
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
