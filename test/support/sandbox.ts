import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
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

  constructor() {
    mkdirSync(this.profilesDir);
  }

  /** Write a profile directory (in a scratch place, then renamed in: it appears whole). */
  profile(name: string, files: ProfileFiles, { atomic = true } = {}): string {
    const target = join(this.profilesDir, name);
    const dir = atomic ? join(this.root, `.new-${name}-${Date.now()}`) : target;
    mkdirSync(dir, { recursive: true });
    for (const [file, spec] of Object.entries(files)) this.write(join(dir, file), spec);
    if (atomic) spawnSync('mv', ['-T', dir, target]);
    return target;
  }

  write(path: string, spec: string | { content: string; mode: number }): void {
    mkdirSync(dirname(path), { recursive: true });
    const { content, mode } = typeof spec === 'string' ? { content: spec, mode: path.endsWith('/run') ? 0o755 : 0o644 } : spec;
    writeFileSync(path, content);
    chmodSync(path, mode);
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
    return waitFor(`log ${tag} ${pattern}\n--- log:\n${this.logText()}`, () => {
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

  /** Start the supervisor and wait until its control socket answers. */
  async startReady(extra: string[] = []): Promise<ChildProcess> {
    const child = this.start(extra);
    await waitFor(`control socket\n${this.logText()}`, () => this.lines().some((l) => l.tag === 'proclaunch' && l.message.startsWith('control socket ')));
    return child;
  }

  /** When the last `running` line of a tag was written (from its timestamp). */
  startedAt(tag: string): number {
    const line = this.logText().split('\n').filter((l) => l.split(' ')[2] === tag && / running pid /.test(l)).pop();
    return line ? Date.parse(line.split(' ')[0]!) : Number.NaN;
  }

  /** Wait for the n-th `running pid N` of a tag and return N. */
  async runningPid(tag: string, nth = 1): Promise<number> {
    await waitFor(`${nth} x running ${tag}\n${this.logText()}`, () => this.count(tag, /^running pid \d+/) >= nth);
    const lines = this.lines().filter((l) => l.tag === tag && /^running pid \d+/.test(l.message));
    return Number(lines[nth - 1]!.message.match(/pid (\d+)/)![1]);
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
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(this.root, { recursive: true, force: true });
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
