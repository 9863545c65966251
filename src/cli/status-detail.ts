// `proclaunch status NAME`: one service in depth, as `systemctl status NAME`
// shows a unit — state and since when, its process tree, CPU and memory,
// restarts, last exit, its profile, where its output goes, and the last lines
// of that output (read here, from the file, as `logs` does).
import type { ServiceDetail, ServiceStatus } from '../control/protocol.js';
import { escapeValue } from '../log/escape.js';
import { formatDuration } from '../vocabulary/durations.js';
import { cpuPercent, describeLastExit, formatBytes, noteOf, stateOf } from './format.js';
import { lastLines } from '../output/tail.js';

type Process = ServiceDetail['processes'][number];

const BULLET: Record<string, number> = { running: 32, starting: 33, stopping: 33, stopped: 2 };

/** `4242 sh ./run`, then its children below it, `├─` / `└─` as systemctl draws a cgroup. */
export function processTree(processes: Process[]): string[] {
  const pids = new Set(processes.map((p) => p.pid));
  const children = new Map<number, Process[]>();
  for (const p of processes) if (pids.has(p.ppid) && p.ppid !== p.pid) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const lines: string[] = [];
  const walk = (p: Process, lead: string, branch: string, depth: number) => {
    lines.push(`${lead}${branch}${p.pid} ${escapeValue(p.args)}${p.stat === 'Z' ? ' (zombie)' : ''}`);
    const below = children.get(p.pid) ?? [];
    // A pid that is its own ancestor cannot happen, but /proc is read while it changes: bound the depth.
    if (depth > 32) return;
    below.forEach((child, i) => {
      const last = i === below.length - 1;
      walk(child, lead + (branch === '' ? '' : branch === '├─' ? '│ ' : '  '), last ? '└─' : '├─', depth + 1);
    });
  };
  for (const root of processes.filter((p) => !pids.has(p.ppid) || p.ppid === p.pid)) walk(root, '', '', 0);
  return lines;
}

/** Where the output goes, and the file(s) whose last lines are shown. */
function outputOf(detail: ServiceDetail): { text: string; files: string[] } {
  if (detail.logger) return { text: `to its logger ${escapeValue(detail.logger)} (log/run): see \`proclaunch status ${escapeValue(detail.logger)}\``, files: [] };
  const files = [...new Set([detail.stdout, detail.stderr].filter((f): f is string => f !== null))];
  if (files.length === 0) return { text: '-', files };
  if (files.length === 1) return { text: escapeValue(files[0]!), files };
  return { text: `stdout ${escapeValue(detail.stdout!)}, stderr ${escapeValue(detail.stderr!)}`, files };
}

/** The view, `lines` lines of output at the end. */
export async function formatDetail(s: ServiceStatus, colour: boolean, lines = 10, now = Date.now()): Promise<string> {
  const state = stateOf(s);
  const since = s.since ?? s.lastExit?.at ?? null;
  const sinceText = since ? ` since ${since}; ${formatDuration(Math.max(0, now - Date.parse(since)))} ago` : '';
  const bullet = colour ? `\x1b[${BULLET[s.state] ?? (state.endsWith('failed') ? 31 : 0)}m●\x1b[0m` : '●';
  const rows: Array<[string, string | string[]]> = [['State', `${state}${s.state === 'running' && !s.ready ? ' (not ready)' : ''}${sinceText}`]];
  const detail = s.detail;
  if (s.pid !== null) {
    rows.push(['PID', String(s.pid)]);
    const tree = detail ? processTree(detail.processes) : [];
    if (tree.length > 0) rows.push(['Processes', tree]);
    if (s.cpuSeconds != null) rows.push(['CPU', `${s.cpuSeconds.toFixed(2)}s (${cpuPercent(s)}% of a core since it started)`]);
    if (s.rssBytes != null) rows.push(['Memory', formatBytes(s.rssBytes)]);
  }
  rows.push(['Restarts', String(s.restarts)]);
  rows.push(['Last exit', s.lastExit ? `${describeLastExit(s.lastExit, now)} (pid ${s.lastExit.pid})` : '-']);
  const note = noteOf(s);
  if (note) rows.push(['Note', escapeValue(note)]);
  const output = detail ? outputOf(detail) : null;
  if (detail) {
    rows.push(['Profile', escapeValue(detail.dir)]);
    rows.push(['Files', detail.files.length > 0 ? escapeValue(detail.files.join(' ')) : '(none)']);
    rows.push(['Output', output!.text]);
  }
  const label = (name: string) => `${name}:`.padStart(11);
  const body = rows.flatMap(([name, value]) => (Array.isArray(value) ? value.map((v, i) => `${i === 0 ? label(name) : ' '.repeat(11)} ${v}`) : [`${label(name)} ${value}`]));
  let text = `${bullet} ${escapeValue(s.name)}\n${body.join('\n')}\n`;
  for (const file of output?.files ?? []) {
    const tail = await lastLines(file, lines).catch((error: Error) => `(cannot read it: ${escapeValue(error.message)})\n`);
    text += `\nLast ${lines} lines of ${escapeValue(file)}:\n${tail || '(empty)\n'}`;
  }
  return text;
}
