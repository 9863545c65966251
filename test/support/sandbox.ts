import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { ServiceStatus } from '../../src/control/protocol.js';
import { killGroupLeftovers, readStat } from '../../src/process/proc.js';
import type { EventRecord } from '../../src/supervisor/events.js';
import { askSocket } from './ask.js';
import { extractShippedProfiles } from './shipped.js';
import { waitFor } from './wait.js';

export const CLI = resolve('dist/cli/main.js');

/** One file of a profile: text, or text with a mode. Scripts named `run` are made executable. */
export type ProfileFiles = Record<string, string | { content: string; mode: number }>;

export interface LogLine {
  level: string;
  tag: string;
  message: string;
}

/** A temp directory with a STATE_DIR and a PROFILES_DIR, and a supervisor to run on them. */
export class Sandbox {
  readonly root = mkdtempSync(join(tmpdir(), 'proclaunch-test-'));
  readonly stateDir = join(this.root, 'state');
  readonly profilesDir = join(this.root, 'profiles');
  readonly logPath = join(this.root, 'supervisor.log');
  supervisor: ChildProcess | null = null;
  private output = '';
  /** Names scratch files and directories beside the profiles (see replace, remove). */
  private scratch = 0;

  constructor() {
    mkdirSync(this.profilesDir);
  }

  /** Write a profile directory (in a scratch place, then renamed in: it appears whole). */
  profile(name: string, files: ProfileFiles, { atomic = true } = {}): string {
    const target = join(this.profilesDir, name);
    const dir = atomic ? join(this.root, `.new-${name}-${++this.scratch}`) : target;
    mkdirSync(dir, { recursive: true });
    for (const [file, spec] of Object.entries(files)) this.write(join(dir, file), spec);
    if (atomic) spawnSync('mv', ['-T', dir, target]);
    return target;
  }

  /** Write a file in place (truncate, then write): only for files nothing reads yet. */
  write(path: string, spec: string | { content: string; mode: number }): void {
    mkdirSync(dirname(path), { recursive: true });
    const { content, mode } = typeof spec === 'string' ? { content: spec, mode: path.endsWith('/run') ? 0o755 : 0o644 } : spec;
    writeFileSync(path, content);
    chmodSync(path, mode);
  }

  /**
   * Write a file that a running supervisor or service may read: written
   * whole (mode included) beside the profiles, then renamed over `path`, so a
   * reader sees the old file or the new one, never an empty or half one.
   */
  replace(path: string, spec: string | { content: string; mode: number }): void {
    const scratch = join(this.root, `.replace-${basename(path)}-${++this.scratch}`);
    this.write(scratch, typeof spec === 'string' ? { content: spec, mode: path.endsWith('/run') ? 0o755 : 0o644 } : spec);
    mkdirSync(dirname(path), { recursive: true });
    renameSync(scratch, path);
  }

  /** Remove a profile directory (or a part of one) at once: renamed out of sight, then deleted, never seen half-gone. */
  remove(path: string): void {
    const away = join(this.root, `.gone-${++this.scratch}`);
    renameSync(path, away);
    rmSync(away, { recursive: true, force: true });
  }

  /** Lay the committed profiles/ (all, or `names`) into PROFILES_DIR, each appearing whole. */
  shipped(names: string[] = []): void {
    const extracted = extractShippedProfiles(join(this.root, `.shipped-${++this.scratch}`), names);
    for (const name of readdirSync(extracted)) renameSync(join(extracted, name), join(this.profilesDir, name));
  }

  /** Start `proclaunch supervise --foreground` on this sandbox, logging to logPath (`env`: added to ours). */
  start(extra: string[] = [], { env = {} as Record<string, string> } = {}): ChildProcess {
    const child = spawn(process.execPath, [CLI, 'supervise', '--foreground', '--log-path', this.logPath, ...extra, this.stateDir, this.profilesDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    child.stdout!.on('data', (d) => (this.output += d));
    child.stderr!.on('data', (d) => (this.output += d));
    this.supervisor = child;
    return child;
  }

  /** What the supervisor printed on stdout/stderr (not its log). */
  get printed(): string {
    return this.output;
  }

  logText(): string {
    return existsSync(this.logPath) ? readFileSync(this.logPath, 'utf8') : '';
  }

  lines(): LogLine[] {
    return this.logText()
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [, level = '', tag = '', ...message] = line.split(' ');
        return { level, tag, message: message.join(' ') };
      });
  }

  /** Wait for a log line of `tag` matching `pattern`; returns the regexp match. */
  waitLog(tag: string, pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    return waitFor(() => `log ${tag} ${pattern}\n--- log:\n${this.logText()}`, () => {
      for (const line of this.lines()) {
        if (line.tag !== tag) continue;
        const match = line.message.match(pattern);
        if (match) return match;
      }
      return null;
    }, { timeoutMs });
  }

  count(tag: string, pattern: RegExp): number {
    return this.lines().filter((l) => l.tag === tag && pattern.test(l.message)).length;
  }

  /** Run a control command against this sandbox's supervisor. */
  cli(...args: string[]): Promise<CliResult> {
    return new Promise((done) => {
      const child = spawn(process.execPath, [CLI, ...args, '--state', this.stateDir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => done({ code, stdout, stderr }));
    });
  }

  /** Start the supervisor and wait until its control socket answers (its own line: an earlier supervisor's, in the same log, does not count). */
  async startReady(extra: string[] = []): Promise<ChildProcess> {
    const before = this.count('proclaunch', /^control socket /);
    const child = this.start(extra);
    await waitFor(() => `control socket\n${this.logText()}`, () => this.count('proclaunch', /^control socket /) > before);
    return child;
  }

  /** STATE_DIR/events.log (and the events.log.1 it rotated to), oldest first: what happened, as data. */
  events(): EventRecord[] {
    const records: EventRecord[] = [];
    for (const file of ['events.log.1', 'events.log']) {
      const path = join(this.stateDir, file);
      if (!existsSync(path)) continue;
      for (const line of readFileSync(path, 'utf8').split('\n')) {
        try {
          if (line) records.push(JSON.parse(line) as EventRecord);
        } catch {
          // a line being written as we read
        }
      }
    }
    return records;
  }

  /** The tag's events of one kind (`started`, `failed`, ...), oldest first. */
  eventsOf(tag: string, kind: EventRecord['event']): EventRecord[] {
    return this.events().filter((e) => e.profile === tag && e.event === kind);
  }

  /** Wait for the n-th event with the fields of `like` (e.g. { profile: 'web', event: 'started' }) and return it. */
  waitEvent(like: Partial<EventRecord>, { nth = 1, timeoutMs = 10_000 } = {}): Promise<EventRecord> {
    const matches = () => this.events().filter((e) => Object.entries(like).every(([k, v]) => e[k as keyof EventRecord] === v));
    const what = () => `event #${nth} ${JSON.stringify(like)}\n--- events:\n${this.events().map((e) => JSON.stringify(e)).join('\n')}\n--- log:\n${this.logText()}`;
    return waitFor(what, () => matches()[nth - 1], { timeoutMs });
  }

  /** When the tag's process last came up (its last `started` event; a readiness profile is ready at its `ready` event). */
  startedAt(tag: string): number {
    const last = this.events().filter((e) => e.profile === tag && e.event === 'started').pop();
    return last ? Date.parse(last.time) : Number.NaN;
  }

  /** Wait for the n-th time the tag's process came up (started, adopted, re-adopted; for a readiness profile, before it is ready) and return its pid. */
  async runningPid(tag: string, nth = 1, timeoutMs = 10_000): Promise<number> {
    return (await this.waitEvent({ profile: tag, event: 'started' }, { nth, timeoutMs })).pid!;
  }

  /** One request on the control socket, one reply (rejects on an error, or after timeoutMs). */
  ask(request: object, timeoutMs = 5000): Promise<Record<string, unknown>> {
    return askSocket(join(this.stateDir, 'control.sock'), request, timeoutMs);
  }

  /** `status` over the control socket (what `status --json` prints, without the /proc read of rssBytes and cpuSeconds), without starting a CLI process each time. */
  async status(...names: string[]): Promise<ServiceStatus[]> {
    const reply = await this.ask({ command: 'status', names, usage: false });
    if (reply.ok !== true) throw new Error(`status: ${JSON.stringify(reply)}`);
    return reply.services as ServiceStatus[];
  }

  /** `rescan` over the control socket: answered once every profile has been read again. */
  async rescan(): Promise<void> {
    const reply = await this.ask({ command: 'rescan' });
    if (reply.ok !== true) throw new Error(`rescan: ${JSON.stringify(reply)}`);
  }

  serviceLog(tag: string): string {
    const path = join(this.stateDir, 'logs', `${tag}.log`);
    return existsSync(path) ? readFileSync(path, 'utf8') : '';
  }

  /** Processes whose working directory is inside this sandbox (services and their children). */
  processes(): number[] {
    const pids: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (readlinkSync(`/proc/${entry}/cwd`).startsWith(this.root)) pids.push(Number(entry));
      } catch {
        // gone, or not ours to read
      }
    }
    return pids;
  }

  async stopSupervisor(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const child = this.supervisor;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    child.kill(signal);
    return exited;
  }

  /** Kill everything this sandbox started and remove it. */
  async cleanup(): Promise<void> {
    if (this.supervisor && this.supervisor.exitCode === null && this.supervisor.signalCode === null) {
      const exited = new Promise((done) => this.supervisor!.once('exit', done));
      this.supervisor.kill('SIGKILL');
      await exited;
    }
    for (const pid of this.processes()) {
      // Its whole process group too: a child forked after the scan (a run's `mv`, `sleep`) is in no list,
      // and would write on into the directory being removed (ENOTEMPTY, seen in CI).
      const group = readStat(pid)?.pgid;
      if (group !== undefined) killGroupLeftovers(group);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    // SIGKILL is delivered, not yet done: a process still exiting may write one more file.
    await waitFor('the killed processes gone', () => this.processes().length === 0, { timeoutMs: 5000 }).catch(() => undefined);
    rmSync(this.root, { recursive: true, force: true, maxRetries: 5 });
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A shell `run` script. */
export const sh = (body: string): string => `#!/bin/sh\n${body}\n`;

export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

/**
 * A process's environment as `NAME=value` entries ([] once it is gone). A read that crosses an exec
 * (`sh` → `exec cat`) comes back empty — the kernel no longer has the mm the file was opened on — so an
 * empty read of a live process is read again.
 */
export function environOf(pid: number): string[] {
  for (let attempt = 0; attempt < 100; attempt++) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      return [];
    }
    if (text !== '' || !alive(pid)) return text.split('\0').filter(Boolean);
  }
  return [];
}
