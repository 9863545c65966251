// `proclaunch ps`: every process of every service, ps-style, read from /proc.
import { readdirSync, readFileSync } from 'node:fs';
import { userNames } from '../profile/users.js';
import { CLOCK_TICKS, parseStatDetail, readProcFile, type ProcStatDetail } from './proc.js';

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
  /** Raw, as the kernel gave it; cli/ps-format.ts escapes. */
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
 * made its own), handed to `each` with its profile. A process that exits
 * while we read it is skipped.
 */
function scanServiceProcesses(groups: ServiceGroup[], each: (profile: string, stat: ProcStatDetail) => void): void {
  // pgid 0 is the kernel threads' and 1 init's: never a service's group.
  const byPgid = new Map(groups.filter((g) => g.pgid > 1).map((g) => [g.pgid, g.profile]));
  const byLeader = new Map(groups.filter((g) => g.leaderPid > 1).map((g) => [g.leaderPid, g.profile]));
  if (byPgid.size === 0 && byLeader.size === 0) return;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      // utf8: the stat fields we parse are ASCII, and comm may not be.
      const stat = parseStatDetail(readProcFile(`/proc/${pid}/stat`, 'utf8'));
      if (!stat) continue;
      const profile = byLeader.get(pid) ?? byPgid.get(stat.pgid);
      if (profile !== undefined) each(profile, stat);
    } catch {
      // ENOENT/ESRCH: it exited between readdir and now.
    }
  }
}

/** Every process of every service, ps-style (zombies kept, stat Z), by profile then pid. */
export function listServiceProcesses(groups: ServiceGroup[]): PsRow[] {
  const uptimeSec = Number.parseFloat(readProcFile('/proc/uptime'));
  const names = userNames();
  const rows: PsRow[] = [];
  scanServiceProcesses(groups, (profile, stat) => {
    const { pid } = stat;
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
      rssKiB: rssKiBOf(status),
      vszKiB: Number.parseInt(statusField(status, 'VmSize') ?? '0', 10) || 0,
      pcpu: elapsed > 0 ? Math.floor((cpuSec * 1000) / elapsed) / 10 : 0,
      elapsedSec: Math.floor(elapsed),
      stat: stat.state,
      comm: stat.comm,
      args: cmdline ? cmdline.replace(/\0/g, ' ') : `[${stat.comm}]`,
    });
  });
  return rows.sort((a, b) => (a.profile < b.profile ? -1 : a.profile > b.profile ? 1 : a.pid - b.pid));
}

const rssKiBOf = (status: string): number => Number.parseInt(statusField(status, 'VmRSS') ?? '0', 10) || 0;
