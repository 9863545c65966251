// Orphan reaping, for when proclaunch runs as PID 1 (in a container) or as a
// child subreaper (--reaper): orphaned descendants, daemons included, are
// reparented to us, and their zombies are ours to collect.
//
// The one rule: reap only pids that are NOT child_process children. libuv
// reaps those itself, pid by pid, on SIGCHLD; stealing one loses its `exit`
// event for good. So no waitpid(-1): each orphan is reaped by its own pid.
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import type { ExitStatus, Native } from './native.js';
import { parseStat, readProcFile } from './proc.js';

export interface ReaperOptions {
  native: Native | null;
  /**
   * The pids of our child_process children (see trackChild), which libuv
   * reaps. Asked at every scan; must hold a pid from the tick it is spawned
   * in until its `exit` event.
   */
  ourChildren: () => { has(pid: number): boolean };
  /** Told of each orphan reaped. Must not throw. */
  onReaped?: (pid: number, status: ExitStatus) => void;
  /** How to find candidates; by default /proc/self/task/TID/children when the kernel has it. For tests. */
  find?: 'task-children' | 'proc-scan';
}

export interface Reaper {
  stop(): void;
  /** Reap what can be reaped now; returns how many. (SIGCHLD does this by itself.) */
  scan(): number;
}

const tracked = new Set<number>();

/** Pids of children registered with trackChild, until their `exit` event. */
export const trackedChildren: ReadonlySet<number> = tracked;

/**
 * Keep the reaper's hands off a child_process child: call it right after
 * spawn(), in the same tick. Every child_process child must be tracked while
 * a reaper runs (spawnSync's need not be: they are reaped before it returns),
 * and so must every child of native-spawn.ts's spawnChild: those are reaped by
 * their pidfd watch, which must read their exit status first.
 */
export function trackChild(child: ChildProcess): void {
  const pid = child.pid;
  if (pid === undefined) return; // spawn failed: there is no process
  tracked.add(pid);
  child.once('exit', () => tracked.delete(pid));
}

/** Our children, listed by the kernel: reparented orphans may hang off any of our threads. */
function childrenFromTasks(): number[] {
  const pids: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return pids;
  }
  for (const tid of tasks) {
    let text: string;
    try {
      text = readProcFile(`/proc/self/task/${tid}/children`);
    } catch {
      continue; // the thread ended meanwhile
    }
    for (const word of text.split(' ')) {
      const pid = Number(word);
      if (word && Number.isInteger(pid)) pids.push(pid);
    }
  }
  return pids;
}

/** Without CONFIG_PROC_CHILDREN: every zombie in /proc whose parent is us. */
function zombiesFromProc(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = parseStat(readProcFile(`/proc/${name}/stat`));
    } catch {
      continue; // gone meanwhile
    }
    if (stat && stat.ppid === process.pid && stat.state === 'Z') pids.push(stat.pid);
  }
  return pids;
}

/**
 * Become a subreaper (implicit as PID 1) and reap orphans on SIGCHLD. null
 * without the native module (nothing can reap a given pid from JavaScript):
 * the caller should WARN that orphans will stay zombies.
 */
export function startReaper(options: ReaperOptions): Reaper | null {
  const { native, ourChildren, onReaped } = options;
  if (!native) return null;
  if (process.pid !== 1) native.setChildSubreaper();
  const find = options.find ?? (existsSync(`/proc/self/task/${process.pid}/children`) ? 'task-children' : 'proc-scan');
  const candidates = find === 'task-children' ? childrenFromTasks : zombiesFromProc;

  const scan = (): number => {
    let total = 0;
    // Again until a pass reaps nothing: the children lists are not a snapshot.
    for (;;) {
      const ours = ourChildren();
      let reaped = 0;
      for (const pid of candidates()) {
        if (ours.has(pid)) continue;
        const status = native.reap(pid); // WNOHANG: null while it runs
        if (!status) continue;
        reaped++;
        onReaped?.(pid, status);
      }
      total += reaped;
      if (reaped === 0) return total;
    }
  };

  // One scan for any number of SIGCHLDs: they are coalesced into the next
  // check phase, which comes after libuv has reaped its own children for the
  // same signals. A SIGCHLD during a scan is handled after it, and schedules
  // another.
  let scheduled: NodeJS.Immediate | null = null;
  const run = (): void => {
    scheduled = null;
    scan();
  };
  const onSigchld = (): void => {
    scheduled ??= setImmediate(run);
  };
  process.on('SIGCHLD', onSigchld);
  scheduled = setImmediate(run); // zombies inherited before we started

  return {
    scan,
    stop() {
      process.off('SIGCHLD', onSigchld);
      if (scheduled) clearImmediate(scheduled);
      scheduled = null;
    },
  };
}
