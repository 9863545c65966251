// What a `status` reply carries beyond each actor's own state: the usage of
// each service's process group (read from /proc at request time, never
// sampled), the depth of `status NAME`, and the directories of PROFILES_DIR
// that are no profile because of their name.
import { readdirSync } from 'node:fs';
import type { ServiceConfig } from '../profile/types.js';
import { BAD_NAME_REASON } from '../profile/names.js';
import { listServiceProcesses, serviceUsage, type ServiceGroup } from '../process/ps.js';
import { loggerTag } from '../vocabulary/tags.js';
import type { ServiceDetail, ServiceStatus } from './protocol.js';

/** rssBytes and cpuSeconds of every service in `groups`, in one scan of /proc. */
export function withUsage(services: ServiceStatus[], groups: ServiceGroup[]): ServiceStatus[] {
  if (groups.length === 0) return services;
  const usage = serviceUsage(groups);
  return services.map((s) => {
    const sum = s.pid === null ? undefined : usage.get(s.name);
    return sum ? { ...s, rssBytes: sum.rssBytes, cpuSeconds: sum.cpuSeconds } : s;
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
