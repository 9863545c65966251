// GET /metrics: the SPEC's proclaunch_* families, computed when scraped from
// the `status` command's reply (the same handler as the control socket's,
// so /metrics and `status --json` never disagree), plus the event counts
// and the supervisor's own process_* figures.
import { constants } from 'node:os';
import type { ServiceStatus } from '../control/protocol.js';
import type { EventKind } from '../supervisor/events.js';
import { Exposition, type Sample } from './exposition.js';
import { processMetrics } from './process-metrics.js';

const TOP_LEVEL = ['stopped', 'starting', 'running', 'stopping'] as const;

/** The code, or 128 + the signal's number (the shell's convention). */
export function exitCodeOf(lastExit: NonNullable<ServiceStatus['lastExit']>): number | null {
  if (lastExit.code !== null) return lastExit.code;
  const number = lastExit.signal === null ? undefined : constants.signals[lastExit.signal as NodeJS.Signals];
  return number === undefined ? null : 128 + number;
}

export function renderMetrics(services: ServiceStatus[], events: ReadonlyMap<EventKind, number>): string {
  const out = new Exposition();
  const each = (value: (s: ServiceStatus) => number | null): Sample[] =>
    services.flatMap((s) => {
      const v = value(s);
      return v === null ? [] : [{ labels: { service: s.name }, value: v }];
    });
  out
    .family('proclaunch_service_up', 'gauge', 'Whether the service is running (1) or not (0).', each((s) => (s.state === 'running' ? 1 : 0)))
    .family('proclaunch_service_ready', 'gauge', 'Whether the service is running and ready (1) or not (0).', each((s) => (s.ready ? 1 : 0)))
    .family(
      'proclaunch_service_state',
      'gauge',
      'The state of the service as status names it (substate included): 1 for the current one.',
      services.map((s) => ({ labels: { service: s.name, state: s.substate ? `${s.state}.${s.substate}` : s.state }, value: 1 })),
    )
    .family('proclaunch_service_restarts_total', 'counter', 'Restarts of the service since it was added.', each((s) => s.restarts))
    .family('proclaunch_service_start_time_seconds', 'gauge', 'When the service reached running, since the Unix epoch in seconds.', each((s) => (s.since === null ? null : Date.parse(s.since) / 1000)))
    .family('proclaunch_service_last_exit_code', 'gauge', 'Exit code of the last exit of the service, or 128 + the signal number.', each((s) => (s.lastExit ? exitCodeOf(s.lastExit) : null)))
    .family('proclaunch_service_memory_rss_bytes', 'gauge', 'Resident memory of the whole process group of the service in bytes.', each((s) => s.rssBytes))
    .family('proclaunch_service_cpu_seconds_total', 'counter', 'CPU time (user and system) of the whole process group of the service in seconds.', each((s) => s.cpuSeconds))
    .family(
      'proclaunch_services',
      'gauge',
      'Services by top-level state.',
      TOP_LEVEL.map((state) => ({ labels: { state }, value: services.filter((s) => s.state === state).length })),
    )
    .family('proclaunch_events_total', 'counter', 'Events recorded since the supervisor started, by kind.', [...events].map(([event, value]) => ({ labels: { event }, value })));
  processMetrics(out);
  return out.text();
}
