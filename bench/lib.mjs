// What the harness and every adapter share: the clock, deadline polling, the
// services' scripts, and reading processes from /proc.
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const now = () => Number(process.hrtime.bigint()) / 1e6;
export const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The pid a proclaunch supervisor's records (STATE_DIR/records.jsonl) give TAG, read as the supervisor reads them; null if none. */
export async function recordedPid(stateDir, tag) {
  const { readRecords } = await import(new URL('../dist/supervisor/records.js', import.meta.url).href);
  return readRecords(stateDir).get(tag)?.proc.pid ?? null;
}

/** Poll `probe` (it may return a promise) every 1 ms until it returns something truthy. */
export async function until(what, probe, timeoutMs = 20_000) {
  const deadline = now() + timeoutMs;
  for (;;) {
    let value = probe();
    if (value instanceof Promise) value = await value;
    if (value) return value;
    if (now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await pause(1);
  }
}

export const readPid = (file) => {
  try {
    const pid = Number(readFileSync(file, 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : 0;
  } catch {
    return 0;
  }
};

/** The fields of /proc/PID/stat after the command name (index 0 = state), or null. */
export function statFields(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return { comm: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')), fields: text.slice(text.lastIndexOf(')') + 2).split(' ') };
  } catch {
    return null;
  }
}

/** Present and not a zombie. */
export const alive = (pid) => {
  const s = statFields(pid);
  return s !== null && s.fields[0] !== 'Z' && s.fields[0] !== 'X';
};

/** Start time in clock ticks since boot: with the pid, a process's identity. */
export const startTime = (pid) => statFields(pid)?.fields[19] ?? null;

/** utime + stime in ms (USER_HZ is 100 on Linux). */
export const cpuMs = (pid) => {
  const s = statFields(pid);
  return s ? (Number(s.fields[11]) + Number(s.fields[12])) * 10 : 0;
};

/**
 * CPU time in ms, to the nanosecond where the kernel keeps schedstat (summed
 * over the process's threads: Node has several), else from utime + stime.
 */
export function cpuPreciseMs(pid) {
  try {
    let ns = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // the thread just ended
      }
    }
    return ns / 1e6;
  } catch {
    return cpuMs(pid);
  }
}

/** Unique set size: the process's private pages (what ending it would free). */
export const ussKiB = (pid) => {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return ['Private_Clean', 'Private_Dirty'].reduce((sum, key) => sum + Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0), 0);
  } catch {
    return 0;
  }
};

export const pssKiB = (pid) => {
  try {
    return Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
};

/**
 * The memory of a set of processes ({ pid, comm }), summed: PSS (shared pages
 * split between the processes that map them), USS (their private pages) and
 * RSS, in MiB, and what they are ("500 × s6-supervise + s6-svscan").
 */
export function memoryOf(procs) {
  let pss = 0;
  let uss = 0;
  let rss = 0;
  const kinds = new Map();
  for (const p of procs) {
    pss += pssKiB(p.pid);
    uss += ussKiB(p.pid);
    try {
      rss += Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // it just exited
    }
    kinds.set(p.comm, (kinds.get(p.comm) ?? 0) + 1);
  }
  return {
    processes: procs.length,
    kinds: [...kinds].map(([comm, k]) => (k > 1 ? `${k} × ${comm}` : comm)).join(' + '),
    pssMB: pss / 1024,
    ussMB: uss / 1024,
    rssMB: rss / 1024,
  };
}

/** The CPU ms of each process (cpuPreciseMs), to hand to cpuSince later. */
export const cpuOf = (procs) => procs.map((p) => cpuPreciseMs(p.pid));

/** The CPU ms `procs` used since `before` (cpuOf the same list); one that has exited counts what it had used until `before`. */
export const cpuSince = (procs, before) =>
  procs.reduce((sum, p, i) => sum + Math.max(0, (statFields(p.pid) ? cpuPreciseMs(p.pid) : before[i]) - before[i]), 0);

/** Every process on the machine: pid → { ppid, comm, start }. */
export function processTable() {
  const table = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = statFields(entry);
    if (s) table.set(Number(entry), { ppid: Number(s.fields[1]), comm: s.comm, start: s.fields[19], state: s.fields[0] });
  }
  return table;
}

/**
 * The supervisor's own processes: the roots and all their descendants, less
 * the services (`exclude`: their pids) and whatever they started.
 */
export function supervisorProcesses(roots, exclude = new Set()) {
  const table = processTable();
  const children = new Map();
  for (const [pid, p] of table) {
    if (!children.has(p.ppid)) children.set(p.ppid, []);
    children.get(p.ppid).push(pid);
  }
  const found = [];
  const stack = roots.filter((pid) => table.has(pid));
  while (stack.length) {
    const pid = stack.pop();
    if (exclude.has(pid) || table.get(pid).state === 'Z') continue;
    found.push({ pid, comm: table.get(pid).comm, start: table.get(pid).start });
    stack.push(...(children.get(pid) ?? []));
  }
  return found;
}

/** SIGKILL a process we started, by pid, only if it is still the same process. */
export function killIfSame(pid, start, signal = 'SIGKILL') {
  if (!(pid > 1) || pid === process.pid || !alive(pid)) return false;
  if (start !== null && start !== undefined && startTime(pid) !== start) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** `sleep 100000`: a service that has exec'd its sleep. */
export function isSleep(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === 'sleep\u0000100000\u0000';
  } catch {
    return false;
  }
}

/**
 * A service directory `into`/NAME holding `files` (name → text; `run` is made
 * executable), written beside in `scratchDir` and renamed in: a supervisor
 * watching `into` sees it whole.
 */
export function renameInServiceDir(scratchDir, into, name, files) {
  const tmp = join(scratchDir, `.new-${name}`);
  mkdirSync(tmp);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(tmp, file), text, { mode: file === 'run' ? 0o755 : 0o644 });
  renameSync(tmp, join(into, name));
}

/**
 * A service's program. Every supervisor runs it the same way: it writes its
 * own pid to the harness's file, then execs sleep, so the moment the file
 * names a new pid, the new process is running.
 */
export const plainScript = (pidFile, notifyFd = null) =>
  `#!/bin/sh\nprintf %s $$ > '${pidFile}'\n` + (notifyFd === null ? '' : `echo >&${notifyFd}\nexec ${notifyFd}>&-\n`) + 'exec sleep 100000\n';

/**
 * A self-daemonizing launcher: starts the daemon in the background (it writes
 * its own pid to the harness's file, then execs sleep), optionally writes its
 * pid to `daemonPidFile` (the supervisor's pid file), and exits 0.
 */
export const daemonScript = (pidFile, daemonPidFile) =>
  `#!/bin/sh\nsh -c 'printf %s $$ > "$0"; exec sleep 100000' '${pidFile}' </dev/null >/dev/null 2>&1 &\n` +
  (daemonPidFile ? `echo $! > '${daemonPidFile}'\n` : '') +
  'exit 0\n';

/** Run a command to its end; resolves { code, stdout, stderr }, rejects on a non-zero exit unless `allowFail`. */
export function run(cmd, args, { env, cwd, allowFail = false, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: env ?? process.env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if ((code === 0 || allowFail) && !signal) resolve({ code, stdout, stderr });
      else reject(new Error(`${cmd} ${args.join(' ')} → ${signal ?? `exit ${code}`}: ${(stderr || stdout).trim().slice(-500)}`));
    });
  });
}

/** Whether `cmd` is on PATH (or is an existing path). */
export function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    try {
      accessSync(`${dir}/${cmd}`, constants.X_OK);
      return `${dir}/${cmd}`;
    } catch {
      // not here
    }
  }
  return null;
}

/** Wait for a child we spawned to exit; SIGKILL it (by its pid) after `ms`. */
export function waitExit(child, ms = 30_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Wait until a pid (not our child) is gone; SIGKILL it after `ms`. */
export async function waitGone(pid, ms = 30_000) {
  if (!(pid > 1)) return;
  const start = startTime(pid);
  const deadline = now() + ms;
  while (alive(pid) && startTime(pid) === start) {
    if (now() > deadline) {
      killIfSame(pid, start);
      return;
    }
    await pause(5);
  }
}
