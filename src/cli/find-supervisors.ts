// Only on the "no supervisor" path: which supervisors run on this host as
// this user. Found by their control sockets: /proc/net/unix lists every
// bound Unix socket with its path (of this network namespace) — one read,
// whatever command line a supervisor was started with (supervise, the
// ProcLaunch shorthand, a daemon child, PID 1 of a container).
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { controlSocketPath } from '../control/protocol.js';
import { liveSupervisorPid } from '../supervisor/state-dir.js';

/** __SO_ACCEPTCON in /proc/net/unix's Flags: a listening socket. */
const LISTENING = 0x10000;
const SOCKET_NAME = basename(controlSocketPath('/'));

/** The STATE_DIR of each live supervisor of ours whose control socket is bound here, sorted. */
export function runningSupervisors(table = '/proc/net/unix'): string[] {
  let text: string;
  try {
    text = readFileSync(table, 'utf8');
  } catch {
    return [];
  }
  const dirs = new Set<string>();
  // Num RefCount Protocol Flags Type St Inode Path — the path is the rest of the line.
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const path = fields.slice(7).join(' ');
    if ((Number.parseInt(fields[3] ?? '', 16) & LISTENING) === 0 || basename(path) !== SOCKET_NAME) continue;
    dirs.add(dirname(path));
  }
  return [...dirs].filter((dir) => ours(controlSocketPath(dir)) && liveSupervisorPid(dir) !== null).sort();
}

function ours(socket: string): boolean {
  const info = statSync(socket, { throwIfNoEntry: false });
  return info !== undefined && info.isSocket() && info.uid === process.getuid?.();
}

/** The rest of the "no supervisor" line: how to point at one, and which one runs here when there is exactly one. */
export function pointAtSupervisor(stateDir: string): string {
  const running = runningSupervisors().filter((dir) => dir !== stateDir);
  const one = running.length === 1 ? ` (one is running for ${running[0]}: --state ${running[0]})` : '';
  return `point at one with --state DIR or PROCLAUNCH_STATE=DIR${one}`;
}
