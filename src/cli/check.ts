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

export function evaluateCheck(services: ServiceStatus[], warning: Threshold | null, critical: Threshold | null): { status: CheckStatus; line: string } {
  // Counted: what should run, and what runs anyway (a `down` profile started by hand).
  const wanted = services.filter((s) => s.state === 'running' || !heldBack(s));
  const down = wanted.filter(isDown);
  const total = wanted.length;
  const running = wanted.filter((s) => s.state === 'running').length;
  const warnAt = warning ? limit(warning, total) : null;
  const critAt = critical ? limit(critical, total) : null;
  const status: CheckStatus = critAt !== null && down.length > critAt ? 'CRITICAL' : warnAt !== null && down.length > warnAt ? 'WARNING' : 'OK';
  const shown = down.slice(0, 10).map((s) => escapeValue(s.name));
  const names = down.length === 0 ? '' : `, down: ${shown.join(', ')}${down.length > shown.length ? `, and ${down.length - shown.length} more` : ''}`;
  const perf = `running=${running};;;0;${total} down=${down.length};${warnAt === null ? '' : number(warnAt)};${critAt === null ? '' : number(critAt)};0;${total}`;
  return { status, line: `PROCLAUNCH ${status} - ${running}/${total} running${names} | ${perf}` };
}
