// A supervisor killed between spawning a service and writing its record
// leaves a process nobody knows: the next supervisor would start a duplicate.
import { readdirSync } from 'node:fs';
import { readProcFile, readStatDetail } from '../process/proc.js';

/**
 * Services started by a supervisor of this STATE_DIR (their environment says
 * PROCLAUNCH_STATE=STATE_DIR; they lead their own session) whose tag has no
 * live record: SIGKILL their groups before anything is started. A session
 * leader under a tag that does have a live record (a daemon a service
 * started with setsid) is left alone.
 */
export function killUnrecordedServices(stateDir: string, recordedTags: Set<string>, recorded: Set<number>, log: (message: string) => void): void {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid <= 1 || recorded.has(pid) || pid === process.pid) continue;
    let env: string;
    try {
      env = readProcFile(`/proc/${pid}/environ`);
    } catch {
      continue;
    }
    const vars = env.split('\0');
    if (!vars.includes(`PROCLAUNCH_STATE=${stateDir}`)) continue;
    // A `finish` or hook (they carry the event) is not a service: it ends on its own.
    if (vars.some((v) => v.startsWith('PROCLAUNCH_EVENT='))) continue;
    const stat = readStatDetail(pid);
    if (!stat || stat.state === 'Z' || stat.pgid !== pid || stat.session !== pid) continue;
    const tag = vars.find((e) => e.startsWith('PROCLAUNCH_TAG='))?.slice(15) ?? '?';
    if (recordedTags.has(tag)) continue;
    log(`pid ${pid} of ${tag} was started by a supervisor that died before recording it: killing its group`);
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
