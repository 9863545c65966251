// The supervisor's own process_* metrics (the names node_exporter-era client
// libraries use), read from process.* and /proc/self at scrape time: none
// needs a timer of its own (prom-client's defaults sample the event loop's
// lag on one, and observe every garbage collection).
import { readdirSync } from 'node:fs';
import { readProcFile } from '../process/proc.js';
import type { Exposition } from './exposition.js';

const startTimeSeconds = Math.round((Date.now() - process.uptime() * 1000) / 10) / 100;

/** kB lines of /proc/self/status (VmRSS, VmSize, VmData), in bytes. */
function statusBytes(): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const line of readProcFile('/proc/self/status').split('\n')) {
      const match = /^(Vm\w+):\s+(\d+) kB/.exec(line);
      if (match) out[match[1]!] = Number(match[2]) * 1024;
    }
  } catch {
    // not Linux: the figures from process.memoryUsage() below
  }
  return out;
}

function openFds(): number | null {
  try {
    return readdirSync('/proc/self/fd').length - 1; // the directory's own fd, open while it is read
  } catch {
    return null;
  }
}

function maxFds(): number | null {
  try {
    const line = readProcFile('/proc/self/limits').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.slice('Max open files'.length).trim().split(/\s+/)[0]);
    return Number.isFinite(soft) ? soft : null;
  } catch {
    return null;
  }
}

export function processMetrics(out: Exposition): void {
  const cpu = process.cpuUsage();
  const vm = statusBytes();
  const memory = process.memoryUsage();
  out
    .family('process_cpu_user_seconds_total', 'counter', 'User CPU time spent by the supervisor in seconds.', [{ value: cpu.user / 1e6 }])
    .family('process_cpu_system_seconds_total', 'counter', 'System CPU time spent by the supervisor in seconds.', [{ value: cpu.system / 1e6 }])
    .family('process_cpu_seconds_total', 'counter', 'Total user and system CPU time spent by the supervisor in seconds.', [{ value: (cpu.user + cpu.system) / 1e6 }])
    .family('process_start_time_seconds', 'gauge', 'Start time of the supervisor since the Unix epoch in seconds.', [{ value: startTimeSeconds }])
    .family('process_resident_memory_bytes', 'gauge', 'Resident memory size of the supervisor in bytes.', [{ value: vm.VmRSS ?? memory.rss }])
    .family('process_virtual_memory_bytes', 'gauge', 'Virtual memory size of the supervisor in bytes.', [{ value: vm.VmSize ?? 0 }])
    .family('process_heap_bytes', 'gauge', 'Heap (data segment) size of the supervisor in bytes.', [{ value: vm.VmData ?? memory.heapTotal }]);
  const open = openFds();
  if (open !== null) out.family('process_open_fds', 'gauge', 'Number of open file descriptors of the supervisor.', [{ value: open }]);
  const max = maxFds();
  if (max !== null) out.family('process_max_fds', 'gauge', 'Maximum number of open file descriptors of the supervisor.', [{ value: max }]);
}
