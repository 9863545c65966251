// Event hooks (`supervise --hooks DIR`): every executable in DIR runs on each
// event with the PROCLAUNCH_* environment. The supervisor never waits on a
// hook: an event only queues runs (a bounded queue; the oldest runs are
// dropped and counted when it is full); a few runs at a time are started
// (bounded concurrency), each detached in its own process group, killed with
// its group after a timeout, its output going to one bounded file.
// One hook runs one event at a time, in event order; different hooks run in
// parallel, so a hanging hook holds one slot at most and delays only itself.
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { quote } from '../log/escape.js';
import type { Logger } from '../log/logger.js';
import { formatDuration } from '../vocabulary/durations.js';
import { openPipeEnd } from '../process/log-pipe.js';
import { spawnChild } from '../process/native-spawn.js';
import { holdSink } from '../output/sinks.js';
import { OUTPUT_DEFAULTS } from '../vocabulary/output.js';
import { killGroupLeftovers } from '../process/proc.js';
import { trackChild } from '../process/reaper.js';
import type { EventRecord } from '../supervisor/events.js';
import { hookRunEnv } from './env.js';
import { HOOK_DEFAULTS, listHooks, type HookRunnerOptions } from './list.js';
import { RunQueue, type Run } from './queue.js';

interface Running {
  run: Run;
  child: ChildProcess;
  startedAt: number;
  timer: NodeJS.Timeout;
  /** Killed by us (timeout or shutdown): its exit is not worth another line. */
  killed: boolean;
}

export interface HookStats {
  running: number;
  pending: number;
  /** Runs started (or tried) since the runner was made. */
  started: number;
  /** Runs dropped since the runner was made (queue full, or shutdown). */
  dropped: number;
}

const what = (run: Run): string => `on ${run.record.event} of ${run.record.profile}`;
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export class HookRunner {
  private readonly timeoutMs: number;
  private readonly concurrency: number;
  private readonly queueLimit: number;
  private readonly relistMs: number;
  private readonly reportMs: number;
  private hooks: string[];
  private listedAt: number;
  private dirProblem: string | null = null;
  /** Runs waiting to start: a FIFO per hook, bounded over all (./queue.ts). */
  private readonly queue: RunQueue;
  /** By hook: at most one run of a hook at a time. */
  private readonly running = new Map<string, Running>();
  private started = 0;
  private droppedTotal = 0;
  private droppedUnreported = 0;
  private reportTimer: NodeJS.Timeout | null = null;
  private outputFailing = false;
  /** Hooks whose last run could not be started: said once, until one starts again. */
  private readonly unrunnable = new Set<string>();
  /** Hooks whose last run could not start, until that is reported: their next run waits for it. */
  private readonly failing = new Set<string>();
  private closed = false;
  /** Held and drained: each run writes into it. */
  private outputPipe: string | null = null;
  private idleWaiters: Array<() => void> = [];

  /** Reads DIR; if it cannot, says so once and tries again at the next event (the CLI checks DIR before we get here). */
  constructor(private readonly options: HookRunnerOptions) {
    this.timeoutMs = options.timeoutMs ?? HOOK_DEFAULTS.timeoutMs;
    this.concurrency = options.concurrency ?? HOOK_DEFAULTS.concurrency;
    this.queueLimit = options.queueLimit ?? HOOK_DEFAULTS.queueLimit;
    this.queue = new RunQueue(this.queueLimit);
    this.relistMs = options.relistMs ?? HOOK_DEFAULTS.relistMs;
    this.reportMs = options.reportMs ?? HOOK_DEFAULTS.reportMs;
    this.listedAt = Date.now();
    try {
      this.hooks = listHooks(options.dir);
    } catch (error) {
      this.hooks = [];
      this.cannotRead(error as Error);
    }
    try {
      mkdirSync(dirname(options.outputPath), { recursive: true, mode: 0o750 });
    } catch {
      // said by openOutput, at the first run
    }
    const pipe = options.outputPipe;
    if (pipe) {
      holdSink(pipe, options.outputPath, OUTPUT_DEFAULTS).then(
        () => (this.outputPipe = pipe),
        (error: Error) => this.log('WARN', `hooks: ${error.message}; their output goes to ${quote(options.outputPath)} unbounded`),
      );
    }
    this.log(
      'INFO',
      `hooks from ${quote(options.dir)}: ${this.names()}; timeout ${formatDuration(this.timeoutMs)}, ${this.concurrency} at once, up to ${this.queueLimit} runs queued; output to ${quote(options.outputPath)}`,
    );
  }

  /** Queue the runs of one event. Never blocks on a hook and never throws: it is called from the supervisor's event path. */
  handle(record: EventRecord): void {
    if (this.closed) return;
    try {
      for (const hook of this.currentHooks()) if (this.queue.push(hook, record)) this.countDropped();
      this.dispatch();
    } catch (error) {
      this.log('ERROR', `hooks: ${(error as Error).message}`);
    }
  }

  stats(): HookStats {
    return { running: this.running.size, pending: this.queue.size, started: this.started, dropped: this.droppedTotal };
  }

  /** Resolves when nothing runs and nothing waits. */
  whenIdle(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Take no more events; let what is queued run for at most graceMs (default:
   * the hook timeout), then kill what is left. For a supervisor shutting down.
   */
  async close(graceMs = this.timeoutMs): Promise<void> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.whenIdle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    this.kill();
  }

  /** Now: drop every queued run and SIGKILL the group of every running hook (a detached hook would outlive us). */
  kill(): void {
    this.closed = true;
    const queued = this.queue.clear();
    this.report();
    this.droppedTotal += queued;
    const running = [...this.running.values()].filter((r) => !r.killed);
    for (const r of running) {
      r.killed = true;
      clearTimeout(r.timer);
      killGroupLeftovers(r.child.pid!);
    }
    if (running.length > 0 || queued > 0) {
      const which = running.map((r) => ` ${quote(r.run.hook)} pid ${r.child.pid}`).join(',');
      this.log('WARN', `hooks: exiting: killed ${plural(running.length, 'running hook')}${which}; dropped ${plural(queued, 'queued run')}`);
    }
  }

  private log(level: Parameters<Logger['log']>[0], message: string): void {
    this.options.logger.log(level, 'proclaunch', message);
  }

  private names(): string {
    return this.hooks.length > 0 ? this.hooks.map(quote).join(', ') : 'none yet';
  }

  /** The hooks, from a listing at most relistMs old: a burst of events reads DIR once. */
  private currentHooks(): string[] {
    const now = Date.now();
    if (now - this.listedAt < this.relistMs) return this.hooks;
    this.listedAt = now;
    let hooks: string[];
    try {
      hooks = listHooks(this.options.dir);
    } catch (error) {
      this.hooks = [];
      this.cannotRead(error as Error);
      return this.hooks;
    }
    const changed = hooks.join('\0') !== this.hooks.join('\0');
    this.hooks = hooks;
    if (this.dirProblem !== null || changed) this.log('INFO', `hooks from ${quote(this.options.dir)} are now: ${this.names()}`);
    this.dirProblem = null;
    return this.hooks;
  }

  private cannotRead(error: Error): void {
    if (this.dirProblem === null) this.log('ERROR', `hooks: cannot read ${quote(this.options.dir)}: ${error.message}; no hook runs until it can be read`);
    this.dirProblem = error.message;
  }

  private countDropped(): void {
    this.droppedTotal++;
    this.droppedUnreported++;
    // One line per reportMs at most, with the count: never a line per dropped run.
    this.reportTimer ??= setTimeout(() => this.report(), this.reportMs);
  }

  private report(): void {
    if (this.reportTimer) clearTimeout(this.reportTimer);
    this.reportTimer = null;
    if (this.droppedUnreported === 0) return;
    this.log('WARN', `hooks: queue full (${this.queueLimit} runs waiting); dropped ${plural(this.droppedUnreported, 'run')} (${this.droppedTotal} since start)`);
    this.droppedUnreported = 0;
  }

  private idle(): boolean {
    return this.running.size === 0 && this.queue.size === 0;
  }

  /** Start the oldest waiting runs of hooks that are not running, while there is room. */
  private dispatch(): void {
    while (this.running.size < this.concurrency) {
      const run = this.queue.takeOldest((hook) => this.running.has(hook) || this.failing.has(hook));
      if (!run) break;
      this.start(run);
    }
    if (this.idle()) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** stdout and stderr of one run: the FIFO, or the file opened per run (so a rotated file is let go at once). */
  private openOutput(): number | 'ignore' {
    try {
      const fd = this.outputPipe ? openPipeEnd(this.outputPipe, 'writer') : openSync(this.options.outputPath, 'a', 0o640);
      this.outputFailing = false;
      return fd;
    } catch (error) {
      if (!this.outputFailing) this.log('WARN', `hooks: cannot open ${quote(this.options.outputPath)}: ${(error as Error).message}; hook output is discarded until it can be`);
      this.outputFailing = true;
      return 'ignore';
    }
  }

  /** One WARN, then DEBUG until the hook starts again: a broken hook with 1,000 queued runs is one line. */
  private cannotRun(run: Run, error: Error): void {
    const again = this.unrunnable.has(run.hook);
    this.unrunnable.add(run.hook);
    this.log(again ? 'DEBUG' : 'WARN', `hook ${quote(run.hook)} cannot be run ${what(run)}: ${error.message}${again ? '' : ' (said once until it runs again)'}`);
  }

  private start(run: Run): void {
    this.started++;
    const out = this.openOutput();
    let child: ChildProcess;
    try {
      // As services are started: posix_spawn when the native module has it, no fork of the supervisor per run.
      child = spawnChild(join(this.options.dir, run.hook), [], {
        cwd: this.options.dir,
        detached: true, // its own process group: a timeout kills all of it
        stdio: ['ignore', out, out],
        env: hookRunEnv(run.record, this.options.env),
      });
    } catch (error) {
      this.cannotRun(run, error as Error);
      this.failing.add(run.hook);
      setImmediate(() => {
        this.failing.delete(run.hook);
        this.dispatch();
      });
      return;
    } finally {
      if (out !== 'ignore') closeSync(out);
    }
    trackChild(child); // the reaper (PID 1, --reaper) must leave our children (libuv's or native) to us
    if (child.pid === undefined) {
      // ENOENT, EACCES, a bad #! line: reported by 'error', there is no process.
      // Its next run waits for that: 1,000 queued runs of a broken hook are not 1,000 forks in one tick.
      this.failing.add(run.hook);
      child.once('error', (error) => {
        this.failing.delete(run.hook);
        this.cannotRun(run, error);
        this.dispatch();
      });
      return;
    }
    this.unrunnable.delete(run.hook);
    const pid = child.pid;
    const entry: Running = {
      run,
      child,
      startedAt: Date.now(),
      killed: false,
      timer: setTimeout(() => {
        entry.killed = true;
        this.log('WARN', `hook ${quote(run.hook)} pid ${pid} timed out after ${formatDuration(this.timeoutMs)} ${what(run)}; killing its process group`);
        killGroupLeftovers(pid);
      }, this.timeoutMs),
    };
    this.running.set(run.hook, entry);
    child.on('error', () => {}); // a failed kill(); the exit still comes
    child.once('exit', (code, signal) => {
      clearTimeout(entry.timer);
      this.running.delete(run.hook);
      const took = formatDuration(Date.now() - entry.startedAt);
      if (entry.killed) {
        // said when it was killed
      } else if (code === 0) {
        this.log('DEBUG', `hook ${quote(run.hook)} pid ${pid} done ${what(run)} in ${took}`);
      } else {
        const how = signal ? `signal ${signal}` : `code ${code}`;
        this.log('WARN', `hook ${quote(run.hook)} pid ${pid} exited ${how} ${what(run)} after ${took}`);
      }
      this.dispatch();
    });
  }
}
