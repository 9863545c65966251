// What a `status` reply carries beyond each actor's own state: the usage of
// each service's process group (read from /proc at request time, never
// sampled by a timer), the depth of `status NAME`, and the directories of PROFILES_DIR
// that are no profile because of their name.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceConfig } from '../profile/types.js';
import { BAD_NAME_REASON } from '../profile/names.js';
import { groupUsage, type Usage } from '../process/group-usage.js';
import { listServiceProcesses, type ServiceGroup } from '../process/ps.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import { loggerTag, profileOf } from '../vocabulary/tags.js';
import type { ServiceDetail, ServiceStatus } from './protocol.js';

/** The process group of a service that has a process, for a /proc scan (ps, usage, detail). */
export function groupOf(supervisor: Supervisor, name: string): ServiceGroup | null {
  const proc = supervisor.actor(name)?.getSnapshot().context.proc;
  return proc ? { profile: name, pgid: proc.pgid, leaderPid: proc.pid } : null;
}

/** The status rows with what the request asked beyond them: usage (default), detail. */
export function withExtras(supervisor: Supervisor, rows: ServiceStatus[], { usage, detail }: { usage: boolean; detail: boolean }): ServiceStatus[] {
  // Every service's group, not only those asked for: one scan serves the next request too, whatever it names.
  let services = usage ? withUsage(rows, supervisor.names().flatMap((name) => groupOf(supervisor, name) ?? [])) : rows;
  if (detail) {
    services = services.map((s) => {
      const config = supervisor.actor(s.name)?.getSnapshot().context.config ?? null;
      return { ...s, detail: serviceDetail(config, config?.dir ?? join(supervisor.profilesDir, profileOf(s.name)), groupOf(supervisor, s.name)) };
    });
  }
  return services;
}

/**
 * A burst of status requests (200 clients at once, a web page and a
 * monitor) shares one read of /proc: a scan costs ~10–50 µs a process on
 * the host, and its figures do not move in a second. Reused only while the
 * services' process groups are the same ones.
 */
const USAGE_REUSE_MS = 1000;
let lastUsage: { key: string; at: number; usage: Map<string, Usage> } | null = null;

function usageOf(groups: ServiceGroup[], now = Date.now()): Map<string, Usage> {
  const key = groups.map((g) => `${g.profile}:${g.pgid}:${g.leaderPid}`).join(' ');
  if (lastUsage && lastUsage.key === key && now - lastUsage.at < USAGE_REUSE_MS && now >= lastUsage.at) return lastUsage.usage;
  lastUsage = { key, at: now, usage: groupUsage(groups) };
  return lastUsage.usage;
}

/** rssBytes and cpuSeconds of each row, from one scan of /proc for every service of `groups`. */
export function withUsage(services: ServiceStatus[], groups: ServiceGroup[]): ServiceStatus[] {
  if (groups.length === 0) return services;
  const usage = usageOf(groups);
  return services.map((s) => {
    const sum = s.pid === null ? undefined : usage.get(s.name);
    return sum ? { ...s, rssBytes: sum.rssBytes, cpuSeconds: Math.round(sum.cpuSeconds * 100) / 100 } : s;
  });
}

/** The profile directory's names, directories marked with `/`, hidden ones left out. */
function filesOf(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => !entry.name.startsWith('.'))
      .map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name))
      .sort();
  } catch {
    return [];
  }
}

/** `status NAME`'s depth for one service: where it lives, where its output goes, its processes. */
export function serviceDetail(config: ServiceConfig | null, dir: string, group: ServiceGroup | null): ServiceDetail {
  const processes = group ? listServiceProcesses([group]) : [];
  return {
    dir,
    files: filesOf(dir),
    stdout: config && !config.logPipe ? config.stdout : null,
    stderr: config && !config.logPipe ? config.stderr : null,
    logger: config?.logPipe ? loggerTag(config.name) : null,
    processes: processes.map(({ pid, ppid, user, rssKiB, pcpu, stat, args }) => ({ pid, ppid, user, rssKiB, pcpu, stat, args })),
  };
}

/** A directory skipped for its name (`my service`): shown as an invalid profile that has never run. */
export function skippedRow(name: string): ServiceStatus {
  return {
    name,
    state: 'stopped',
    substate: 'failed',
    pid: null,
    since: null,
    uptimeMs: null,
    restarts: 0,
    lastExit: null,
    reason: BAD_NAME_REASON,
    held: false,
    down: false,
    startsInMs: null,
    ready: false,
    status: null,
    notifyStopping: false,
    probe: null,
    waitingFor: null,
    rssBytes: null,
    cpuSeconds: null,
  };
}
