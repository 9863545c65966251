// The harness's sessions: one supervisor instance on a scratch directory of
// its own, everything it started remembered by pid (with its start time) so
// that whatever is left is ended by pid, also on Ctrl-C. Used by bench.mjs and
// bench/bulk.mjs.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, killIfSame, now, pause, processTable, readPid, startTime, supervisorProcesses, until } from './lib.mjs';

/**
 * A scratch directory under $TMPDIR/proclaunch-bench-*, and the Session class
 * bound to it. `log(line)`: the harness's progress lines.
 */
export function openScratch({ log }) {
  const scratch = mkdtempSync(join(tmpdir(), 'proclaunch-bench-'));
  const sessions = new Set();
  const leftBehind = new Set(); // supervisors whose stop left pid-file daemons running

  /** One supervisor instance on its own scratch directory, and everything it started. */
  class Session {
    constructor(adapter, label) {
      this.adapter = adapter;
      this.dir = mkdtempSync(join(scratch, `${adapter.name}-${label}-`));
      this.pidDir = join(this.dir, 'pids');
      mkdirSync(this.pidDir);
      mkdirSync(join(this.dir, 'sv'));
      this.inst = adapter.create(join(this.dir, 'sv'));
      this.supervisors = new Map(); // pid → start time: every supervisor process seen
      this.kinds = new Map(); // service name → 'plain' | 'daemon'
      sessions.add(this);
    }
    service(name, kind = 'plain') {
      this.kinds.set(name, kind);
      return { name, kind, pidFile: join(this.pidDir, name) };
    }
    /** The services' current pids (of one kind, or all). */
    servicePids(kind = null) {
      return new Set(
        readdirSync(this.pidDir)
          .filter((f) => kind === null || this.kinds.get(f) === kind)
          .map((f) => readPid(join(this.pidDir, f)))
          .filter(Boolean),
      );
    }
    /** Note every supervisor process now alive, so that close() can end them by pid. */
    remember() {
      const procs = supervisorProcesses(this.inst.rootPids(), this.servicePids());
      for (const p of procs) this.supervisors.set(p.pid, p.start);
      return procs;
    }
    async untilAll(services, timeoutMs) {
      let i = 0;
      try {
        await until('services', () => {
          while (i < services.length && readPid(services[i].pidFile)) i++;
          return i === services.length;
        }, timeoutMs);
      } catch {
        throw new Error(`${i}/${services.length} services running after ${timeoutMs / 1000} s`);
      }
      this.remember();
    }
    /** Some service's pid file names its process (pid files appear in the supervisor's order, not ours). */
    anyRunning() {
      return readdirSync(this.pidDir).some((f) => readPid(join(this.pidDir, f)));
    }
    /** Prepare `services`, launch the supervisor: { first, all } ms from the launch to the first one running, to all of them. */
    async start(services, timeoutMs) {
      this.inst.prepare(services);
      const t0 = now();
      await this.inst.start();
      await until('the first service', () => this.anyRunning(), timeoutMs);
      const first = now() - t0;
      await this.untilAll(services, timeoutMs);
      return { first, all: now() - t0 };
    }
    /**
     * Stop everything the supervisor's way; the time until every (plain) service
     * process is gone. pid-file daemons a supervisor leaves behind are noted
     * and ended by close().
     */
    async stop() {
      this.remember();
      const pids = [...this.servicePids('plain')];
      const t0 = now();
      await this.inst.stopAll();
      let i = 0;
      try {
        await until('services gone', () => {
          while (i < pids.length && !alive(pids[i])) i++;
          return i === pids.length;
        }, 120_000);
      } catch {
        throw new Error(`${pids.filter(alive).length} of ${pids.length} services still running 120 s after the stop`);
      }
      const elapsed = now() - t0;
      const daemons = [...this.servicePids('daemon')].filter((pid) => isOurs(pid));
      if (daemons.length) {
        await pause(1000);
        const left = daemons.filter((pid) => isOurs(pid));
        if (left.length) leftBehind.add(this.adapter.name);
      }
      return elapsed;
    }
    /** End whatever is left — supervisor processes, then services — by pid, and remove the directory. */
    async close() {
      try {
        this.remember();
        let timer;
        await Promise.race([this.inst.close(), new Promise((resolve) => (timer = setTimeout(resolve, 90_000)))]);
        clearTimeout(timer);
        // Helpers (runsv, s6-supervise) exit on their own shortly after the daemon: give them 5 s.
        const same = ([pid, start]) => alive(pid) && startTime(pid) === start;
        await until('the supervisor processes to exit', () => ![...this.supervisors].some(same), 5_000).catch(() => undefined);
      } catch (error) {
        log(`${this.adapter.name}: close: ${error.message}`);
      }
      this.killLeftovers();
      rmSync(this.dir, { recursive: true, force: true });
      sessions.delete(this);
    }
    /** No stop to measure: end everything by pid at once (supervisor processes first, so nothing restarts), then close. */
    async discard() {
      const pids = [...this.servicePids()];
      this.killLeftovers(false);
      await this.close();
      // The kernel tears the services down after SIGKILL: let it finish before the next supervisor is timed.
      let i = 0;
      await until('the services to be gone', () => {
        while (i < pids.length && !isOurs(pids[i])) i++;
        return i === pids.length;
      }, 10_000).catch(() => undefined);
    }
    killLeftovers(noisy = true) {
      try {
        this.remember();
      } catch {
        // best effort
      }
      let ended = 0;
      for (const [pid, start] of this.supervisors) if (killIfSame(pid, start)) ended++;
      if (ended && noisy) log(`${this.adapter.name}: ended ${ended} leftover supervisor process${ended > 1 ? 'es' : ''}`);
      for (const pid of this.servicePids()) {
        if (isOurs(pid)) killIfSame(pid, null);
      }
    }
  }

  /**
   * A service process of ours (pid files name only those, but pids get reused):
   * `sleep 100000`, or the script about to exec it (its command line names a
   * file in the scratch directory).
   */
  function isOurs(pid) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return (cmdline === 'sleep\u0000100000\u0000' || cmdline.includes(scratch)) && alive(pid);
    } catch {
      return false;
    }
  }
  function cleanupAllSync() {
    for (const s of sessions) s.killLeftovers();
    // Safety net: anything still running from the scratch directory.
    for (const [pid] of processTable()) {
      try {
        const cwd = readlinkSync(`/proc/${pid}/cwd`);
        if (cwd.startsWith(scratch) && pid !== process.pid) killIfSame(pid, null);
      } catch {
        // gone, or not ours to look at
      }
    }
    rmSync(scratch, { recursive: true, force: true });
  }
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      log(`${signal}: cleaning up`);
      cleanupAllSync();
      process.exit(130);
    });
  }

  return { scratch, Session, isOurs, leftBehind, cleanupAllSync };
}
