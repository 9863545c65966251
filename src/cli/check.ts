// `proclaunch check`: a Nagios/Icinga plugin after the monitoring-plugins
// guidelines — one status line with perfdata, exit 0 OK, 1 WARNING,
// 2 CRITICAL, 3 UNKNOWN. Thresholds are on services down, as a count or a
// share of the services that should be running (lancelot: alert when half
// the workers are down); as in the guidelines, `-w 1` alerts above 1.
import type { ServiceStatus } from '../control/protocol.js';
import { escapeValue } from '../log/escape.js';
import { heldBack, isDown } from '../control/wanted.js';

// In src/control/wanted.ts since /readyz asks the same; still exported from here.
export { heldBack, isDown };

export interface Threshold {
  value: number;
  percent: boolean;
}

export const CHECK_EXIT = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 } as const;
export type CheckStatus = keyof typeof CHECK_EXIT;

export function parseThreshold(text: string): Threshold | null {
  const match = /^(\d+(?:\.\d+)?)(%?)$/.exec(text.trim());
  if (!match) return null;
  const value = Number(match[1]);
  const percent = match[2] === '%';
  if (percent && value > 100) return null;
  return { value, percent };
}

const limit = (t: Threshold, total: number): number => (t.percent ? (total * t.value) / 100 : t.value);
const number = (n: number): string => String(Math.round(n * 100) / 100);

/** What a check counts: the services that should run, those that run, the names of those down. */
export interface CheckCounts {
  running: number;
  total: number;
  down: string[];
}

export function countCheck(services: ServiceStatus[]): CheckCounts {
  // Counted: what should run, and what runs anyway (a `down` profile started by hand).
  const wanted = services.filter((s) => s.state === 'running' || !heldBack(s));
  return { running: wanted.filter((s) => s.state === 'running').length, total: wanted.length, down: wanted.filter(isDown).map((s) => s.name) };
}

/** The thresholds against the counts: the status, and the limits as counts (for perfdata). */
export function judge(counts: CheckCounts, warning: Threshold | null, critical: Threshold | null): { status: CheckStatus; warnAt: number | null; critAt: number | null } {
  const warnAt = warning ? limit(warning, counts.total) : null;
  const critAt = critical ? limit(critical, counts.total) : null;
  const down = counts.down.length;
  const status: CheckStatus = critAt !== null && down > critAt ? 'CRITICAL' : warnAt !== null && down > warnAt ? 'WARNING' : 'OK';
  return { status, warnAt, critAt };
}

/** `, down: a, b, and 3 more` (names escaped), or '' when none is down. */
export function downText(names: string[], label = 'down'): string {
  if (names.length === 0) return '';
  const shown = names.slice(0, 10).map(escapeValue);
  return `, ${label}: ${shown.join(', ')}${names.length > shown.length ? `, and ${names.length - shown.length} more` : ''}`;
}

export function perfData({ running, total, down }: CheckCounts, warnAt: number | null, critAt: number | null): string {
  return `running=${running};;;0;${total} down=${down.length};${warnAt === null ? '' : number(warnAt)};${critAt === null ? '' : number(critAt)};0;${total}`;
}

export function evaluateCheck(services: ServiceStatus[], warning: Threshold | null, critical: Threshold | null): { status: CheckStatus; line: string } & CheckCounts {
  const counts = countCheck(services);
  const { status, warnAt, critAt } = judge(counts, warning, critical);
  return { status, ...counts, line: `PROCLAUNCH ${status} - ${counts.running}/${counts.total} running${downText(counts.down)} | ${perfData(counts, warnAt, critAt)}` };
}
