// Fault-injection harness: supervisors started under a subreaper (so that a
// kill -9 leaves no unreaped orphan behind, whatever the machine's pid 1 does),
// service processes recognisable by their command name, and a census of what
// really runs (read from /proc, not from the supervisor) judged against what
// the profiles directory says should run.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, Sandbox, alive, environOf, sh, type ProfileFiles } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

/** A small, seedable PRNG (mulberry32): the same seed gives the same faults in the same order. */
export function prng(seed: number): { next(): number; int(min: number, max: number): number; pick<T>(items: readonly T[]): T; chance(p: number): boolean } {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  return { next, int, pick: (items) => items[int(0, items.length - 1)]!, chance: (p) => next() < p };
}

/** `FAULTS_SEED=N` replays a run; otherwise `fallback` (fixed, so CI is repeatable). */
export function seedFrom(fallback: number): number {
  const env = process.env.FAULTS_SEED;
  return env !== undefined && env !== '' ? Number(env) : fallback;
}

/** A pause whose only purpose is to pick a random *moment* for a fault (never used to wait for a result). */
export const pause = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

// Makes itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER), forks the
// supervisor, tells its pid on fd 3, then reaps every orphan until none is left.
const REAPER = String.raw`
use POSIX ();
my $nr = shift @ARGV;
if ($nr > 0) { syscall($nr, 36, 1, 0, 0, 0) == 0 or die "reaper: prctl: $!\n"; }
my $pid = fork();
die "reaper: fork: $!\n" unless defined $pid;
if ($pid == 0) { POSIX::close(3); exec { $ARGV[0] } @ARGV; die "reaper: exec: $!\n"; }
my $line = "$pid\n";
POSIX::write(3, $line, length $line);
POSIX::close(3);
1 while waitpid(-1, 0) > 0;
`;

/** The prctl syscall number, where we know it. */
const PRCTL = ({ x64: 157, arm64: 167, ia32: 172, arm: 172 } as Record<string, number>)[process.arch] ?? 0;

/**
 * Why this machine cannot run the fault suite, or null: it needs perl (Debian's
 * perl-base is Essential) for the subreaper, and the prctl syscall number.
 */
export const unsupported = ((): string | null => {
  if (spawnSync('perl', ['-e', '1']).status !== 0) return 'perl is not installed (needed to run supervisors under a subreaper)';
  if (!PRCTL) return `the prctl syscall number is not known for ${process.arch}`;
  return null;
})();
if (unsupported) console.warn(`fault-injection tests skipped: ${unsupported}`);

export const faultsSupported = (): boolean => unsupported === null;

/** Print figures; with FAULTS_REPORT=FILE, also append them there as a JSON line (for CI). */
export function report(what: string, numbers: object): void {
  console.log(`${what}: ${figures(numbers as Record<string, unknown>)}`);
  if (process.env.FAULTS_REPORT) appendFileSync(process.env.FAULTS_REPORT, `${JSON.stringify({ what, ...numbers })}\n`);
}

export interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
  state: string;
  comm: string;
}

export interface ServiceProc extends Proc {
  profile: string | null;
  version: string | null;
}

/** What really runs, from /proc. */
export interface Census {
  /** Live service processes (our marker command) by profile. */
  services: Map<string, ServiceProc[]>;
  /** Zombies that are ours: a marker process, or a child of one of our supervisors or reapers. */
  zombies: Proc[];
  /** Live processes working in the sandbox that belong to no service process group we counted. */
  strays: Array<Proc & { profile: string | null; args: string }>;
}

/** What should run: profile → version of its `run`; `maybe`: 0 or 1 process (an invalid profile may be left running); `ignore`: transient (a crash loop). */
export interface Expectation {
  run: Map<string, string>;
  maybe: Set<string>;
  ignore: Set<string>;
}

export interface ServiceStatus {
  name: string;
  state: string;
  substate: string | null;
  pid: number | null;
  held: boolean;
}

export interface Verdict {
  ok: boolean;
  duplicates: number;
  lost: number;
  stale: number;
  /** Processes of a profile that should not run (removed, held). */
  extra: number;
  strays: number;
  zombies: number;
  problems: string[];
}

function readStat(pid: number): Proc | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const close = text.lastIndexOf(')');
    const fields = text.slice(close + 2).split(' ');
    return { pid, comm: text.slice(text.indexOf('(') + 1, close), state: fields[0]!, ppid: Number(fields[1]), pgid: Number(fields[2]) };
  } catch {
    return null;
  }
}

function environ(pid: number): Map<string, string> {
  const env = new Map<string, string>();
  for (const entry of environOf(pid)) {
    const eq = entry.indexOf('=');
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return env;
}

function args(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/**
 * A Sandbox whose service processes all run a copy of sleep(1) named after
 * this sandbox (so their command name, and that of their zombies, is ours
 * alone), and whose supervisors run under a subreaper.
 */
/** How many threads of pid are left (0 once it is reaped); a zombie leader may still have some exiting. */
function threads(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/task`).length;
  } catch {
    return 0;
  }
}

export class FaultBox {
  readonly box = new Sandbox();
  readonly marker = `plf${randomBytes(5).toString('hex')}`; // 13 characters: fits the kernel's 15-byte comm
  readonly markerPath: string;
  /** Every supervisor we started, and the reapers above them. */
  readonly supervisors: number[] = [];
  private readonly reapers: ChildProcess[] = [];
  current: number | null = null;
  output = '';

  constructor() {
    mkdirSync(join(this.box.root, 'bin'));
    this.markerPath = join(this.box.root, 'bin', this.marker);
    const sleep = realpathSync(spawnSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).stdout.trim());
    copyFileSync(sleep, this.markerPath);
    chmodSync(this.markerPath, 0o755);
  }

  get root(): string {
    return this.box.root;
  }

  get profilesDir(): string {
    return this.box.profilesDir;
  }

  get stateDir(): string {
    return this.box.stateDir;
  }

  /** A foreground service: one process, the marker, with PLV=version in its environment. */
  service(version: string | number, { ignoreTerm = false } = {}): string {
    return sh(`${ignoreTerm ? "trap '' TERM\n" : ''}export PLV=${version}\nexec ${this.markerPath} 100000`);
  }

  /** A self-daemonizing `run` (pid_file PIDFILE): the daemon is the marker, in a session of its own. */
  daemon(version: string | number, pidFile: string): string {
    return sh(`export PLV=${version}\nsetsid ${this.markerPath} 100000 >/dev/null 2>&1 &\necho $! > ${pidFile}`);
  }

  readyCount(): number {
    return this.box.lines().filter((l) => l.tag === 'proclaunch' && l.message.startsWith('control socket ')).length;
  }

  /** Start a supervisor (under a subreaper) and return its pid; `ready`: wait for its control socket. */
  async startSupervisor({ ready = true, extra = [] as string[] } = {}): Promise<number> {
    const before = this.readyCount();
    const argv = [process.execPath, CLI, 'supervise', '--foreground', '--log-path', this.box.logPath, ...extra, this.stateDir, this.profilesDir];
    const reaper = spawn('perl', ['-e', REAPER, String(PRCTL), ...argv], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    this.reapers.push(reaper);
    reaper.stdout!.on('data', (d) => (this.output += d));
    reaper.stderr!.on('data', (d) => (this.output += d));
    const pid = await new Promise<number>((resolve, reject) => {
      let text = '';
      const fd3 = reaper.stdio[3] as NodeJS.ReadableStream;
      fd3.on('data', (d) => {
        text += d;
        if (text.includes('\n')) resolve(Number(text.trim()));
      });
      reaper.once('exit', () => reject(new Error(`the reaper exited before starting the supervisor:\n${this.output}`)));
    });
    this.supervisors.push(pid);
    this.current = pid;
    if (!ready) return pid;
    const outcome = await waitFor(`supervisor pid ${pid} ready`, () => (this.readyCount() > before ? 'ready' : alive(pid) ? null : 'dead'), { timeoutMs: 15_000 });
    if (outcome === 'dead') throw new Error(`supervisor pid ${pid} died while starting:\n${this.output}\n${this.box.logText().slice(-3000)}`);
    return pid;
  }

  /** kill -9 the supervisor and wait until it is gone. */
  async killSupervisor(): Promise<void> {
    const pid = this.current;
    if (pid === null) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    // Not only its main thread: its native drain thread holds the state lock until it is gone too.
    await waitFor(`supervisor ${pid} gone with all its threads`, () => !alive(pid) && threads(pid) <= 1);
    this.current = null;
  }

  /** One request on the control socket, one reply (rejects on error or after timeoutMs). */
  ask(request: object, timeoutMs = 5000): Promise<Record<string, unknown>> {
    return this.box.ask(request, timeoutMs);
  }

  async status(): Promise<ServiceStatus[]> {
    const reply = await this.ask({ command: 'status', usage: false });
    if (reply.ok !== true) throw new Error(`status: ${JSON.stringify(reply)}`);
    return reply.services as ServiceStatus[];
  }

  /** The live processes of one service, from /proc. */
  procsOf(tag: string): ServiceProc[] {
    return this.census().services.get(tag) ?? [];
  }

  /** One service as the supervisor's `status` reports it. */
  async statusOf(tag: string): Promise<ServiceStatus | undefined> {
    return (await this.status()).find((s) => s.name === tag);
  }

  /** What runs now, read from /proc. */
  census(): Census {
    const parents = new Set<number>([...this.supervisors, ...this.reapers.map((r) => r.pid!).filter(Boolean)]);
    const services = new Map<string, ServiceProc[]>();
    const zombies: Proc[] = [];
    const others: Proc[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const proc = readStat(Number(entry));
      if (!proc) continue;
      const ours = proc.comm === this.marker;
      if (proc.state === 'Z' || proc.state === 'X') {
        if (ours || parents.has(proc.ppid)) zombies.push(proc);
        continue;
      }
      if (ours) {
        const env = environ(proc.pid);
        const service: ServiceProc = { ...proc, profile: env.get('PROCLAUNCH_PROFILE') ?? null, version: env.get('PLV') ?? null };
        const key = service.profile ?? '(none)';
        services.set(key, [...(services.get(key) ?? []), service]);
        continue;
      }
      try {
        if (readlinkSync(`/proc/${proc.pid}/cwd`).startsWith(this.root)) others.push(proc);
      } catch {
        // gone, or not ours
      }
    }
    const groups = new Set([...services.values()].flat().map((p) => p.pgid));
    const strays = others
      .filter((p) => !groups.has(p.pgid))
      .map((p) => ({ ...p, profile: environ(p.pid).get('PROCLAUNCH_PROFILE') ?? null, args: args(p.pid) }));
    return { services, zombies, strays };
  }

  /** Compare a census (and the supervisor's status, if any) with what should run. */
  judge(census: Census, expect: Expectation, status: ServiceStatus[] | null): Verdict & { quiet: boolean } {
    const v: Verdict = { ok: true, duplicates: 0, lost: 0, stale: 0, extra: 0, strays: 0, zombies: 0, problems: [] };
    const byName = new Map((status ?? []).map((s) => [s.name, s]));
    for (const [name, version] of expect.run) {
      const procs = census.services.get(name) ?? [];
      if (procs.length === 0) {
        v.lost++;
        v.problems.push(`lost: ${name} should run (v${version}) but no process does (status: ${describe(byName.get(name))})`);
      } else if (procs.length > 1) {
        v.duplicates += procs.length - 1;
        v.problems.push(`duplicate: ${name} has ${procs.length} processes: ${procs.map((p) => `pid ${p.pid} v${p.version} ppid ${p.ppid}`).join(', ')} (status: ${describe(byName.get(name))})`);
      } else if (procs[0]!.version !== version) {
        v.stale++;
        v.problems.push(`stale: ${name} runs v${procs[0]!.version} pid ${procs[0]!.pid}, its run is v${version} (status: ${describe(byName.get(name))})`);
      } else if (status && byName.get(name)?.pid !== procs[0]!.pid) {
        v.problems.push(`status disagrees: ${name} runs as pid ${procs[0]!.pid}, status says ${describe(byName.get(name))}`);
      }
    }
    for (const [name, procs] of census.services) {
      if (expect.run.has(name) || expect.ignore.has(name)) continue;
      if (expect.maybe.has(name)) {
        if (procs.length > 1) {
          v.duplicates += procs.length - 1;
          v.problems.push(`duplicate: ${name} (invalid) has ${procs.length} processes: ${procs.map((p) => `pid ${p.pid}`).join(', ')}`);
        } else if (status && byName.get(name)?.pid !== procs[0]!.pid) {
          v.problems.push(`status disagrees: ${name} (invalid) runs as pid ${procs[0]!.pid}, status says ${describe(byName.get(name))}`);
        }
        continue;
      }
      v.extra += procs.length;
      v.problems.push(`extra: ${name} should not run but ${procs.map((p) => `pid ${p.pid} v${p.version}`).join(', ')} does (status: ${describe(byName.get(name))})`);
    }
    for (const stray of census.strays) {
      if (stray.profile !== null && expect.ignore.has(stray.profile)) continue;
      v.strays++;
      v.problems.push(`stray: pid ${stray.pid} (${stray.comm}, profile ${stray.profile}) ppid ${stray.ppid} pgid ${stray.pgid}: ${stray.args}`);
    }
    for (const zombie of census.zombies) {
      v.zombies++;
      v.problems.push(`zombie: pid ${zombie.pid} (${zombie.comm}) ppid ${zombie.ppid}`);
    }
    v.ok = v.problems.length === 0;
    // Quiet: no service on its way somewhere (a crash loop aside).
    const moving = (status ?? []).filter((s) => !expect.ignore.has(s.name) && (s.state === 'starting' || s.state === 'stopping' || s.substate === 'backoff'));
    for (const s of moving) v.problems.push(`moving: ${s.name} is ${s.state}${s.substate ? `.${s.substate}` : ''}`);
    return { ...v, quiet: status !== null && moving.length === 0 };
  }

  /**
   * Wait (with a deadline) until what runs is what should, and the supervisor
   * is quiet and agrees. Returns the last verdict either way.
   */
  async settle(expect: () => Expectation, timeoutMs = 15_000): Promise<Verdict & { converged: boolean; ms: number }> {
    const began = Date.now();
    let last: (Verdict & { quiet: boolean }) | null = null;
    let outcome: 'converged' | 'dead' | 'timeout';
    try {
      outcome = await waitFor(
        'convergence',
        async () => {
          if (this.current !== null && !alive(this.current)) return 'dead' as const;
          const status = await this.status().catch(() => null);
          last = this.judge(this.census(), expect(), status);
          return last.ok && last.quiet && ('converged' as const);
        },
        { timeoutMs, intervalMs: 25 },
      );
    } catch {
      outcome = 'timeout';
    }
    if (outcome === 'dead') throw new Error(`the supervisor pid ${this.current} died on its own:\n${this.output}\n${this.box.logText().slice(-3000)}`);
    const verdict = last ?? this.judge(this.census(), expect(), null);
    return outcome === 'converged' ? { ...verdict, converged: true, ms: Date.now() - began } : { ...verdict, ok: false, converged: false, ms: Date.now() - began };
  }

  /** SIGKILL every service process the supervisor does not own, so that one bad round does not spoil the next. */
  async repair(): Promise<void> {
    const status = await this.status().catch(() => [] as ServiceStatus[]);
    const owned = new Set(status.map((s) => s.pid).filter((p): p is number => p !== null));
    const census = this.census();
    for (const proc of [...[...census.services.values()].flat(), ...census.strays]) {
      if (owned.has(proc.pid)) continue;
      try {
        process.kill(proc.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }

  /** Temp files a killed writer left behind in STATE_DIR (records, holds). */
  leftoverTempFiles(): string[] {
    const found: string[] = [];
    for (const dir of [this.stateDir, join(this.stateDir, 'services')]) {
      if (!existsSync(dir)) continue;
      for (const file of readdirSync(dir)) if (file.endsWith('.tmp')) found.push(join(dir, file));
    }
    return found;
  }

  /** The supervisor log lines of the profiles named in `problems` (the last 12 each), for a failure report. */
  logOf(problems: string[]): string {
    const names = new Set(problems.map((p) => p.match(/^\w[\w ]*: (\S+)/)?.[1]).filter((n): n is string => !!n));
    const lines = this.box.logText().split('\n');
    return [...names]
      .map((name) => `  --- log of ${name}:\n${lines.filter((l) => l.split(' ')[2] === name || (l.includes(` ${name}`) && l.split(' ')[2] === 'proclaunch')).slice(-12).map((l) => `    ${l}`).join('\n')}`)
      .join('\n');
  }

  /** Names in STATE_DIR/held (profiles stopped by command). */
  held(): Set<string> {
    try {
      return new Set(readFileSync(join(this.stateDir, 'held'), 'utf8').split('\n').filter(Boolean));
    } catch {
      return new Set();
    }
  }

  /** The supervisor's resident set size in KiB. */
  rssKiB(pid = this.current): number {
    const line = readFileSync(`/proc/${pid}/status`, 'latin1').split('\n').find((l) => l.startsWith('VmRSS:'));
    return Number(line?.match(/(\d+)/)?.[1] ?? Number.NaN);
  }

  /** SIGKILL every supervisor and every service process (and wait for the supervisors to be gone). */
  async killAll(): Promise<void> {
    for (const pid of this.supervisors) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await Promise.all(this.supervisors.map((pid) => waitFor(`supervisor ${pid} gone`, () => !alive(pid)).catch(() => undefined)));
    // Services left running (re-adopted or not) and their zombies go with the sandbox.
    for (let pass = 0; pass < 3; pass++) {
      for (const proc of [...[...this.census().services.values()].flat(), ...this.census().strays]) {
        try {
          process.kill(proc.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    await waitFor('services gone', () => [...this.census().services.values()].flat().length === 0, { timeoutMs: 5000 }).catch(() => undefined);
  }

  async cleanup(): Promise<void> {
    await this.killAll();
    await this.box.cleanup();
    await Promise.all(
      this.reapers.map((reaper) =>
        reaper.exitCode !== null || reaper.signalCode !== null
          ? undefined
          : new Promise((done) => {
              reaper.once('exit', done);
              reaper.kill('SIGKILL');
            }),
      ),
    );
  }
}

function describe(status: ServiceStatus | undefined): string {
  if (!status) return 'unknown to the supervisor';
  return `${status.state}${status.substate ? `.${status.substate}` : ''}${status.pid ? ` pid ${status.pid}` : ''}${status.held ? ' held' : ''}`;
}

/** Whether the profile directory NAME has an executable `run`. */
export function executable(dir: string): boolean {
  try {
    return (statSync(join(dir, 'run')).mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** The version a `run` written by FaultBox.service/daemon runs, or null. */
export function versionOf(dir: string): string | null {
  try {
    return readFileSync(join(dir, 'run'), 'utf8').match(/export PLV=(\S+)/)?.[1] ?? null;
  } catch {
    return null;
  }
}

/**
 * Rewrite a file in place (truncate, write), as an editor without a backup
 * file does. While the kernel is exec'ing that very script the write fails
 * with ETXTBSY: a real editor would say so and the operator try again; so do we.
 */
export function writeInPlace(path: string, content: string): void {
  const deadline = Date.now() + 2000;
  for (;;) {
    try {
      writeFileSync(path, content);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ETXTBSY' || Date.now() > deadline) throw error;
    }
  }
}

/** A one-line summary of figures. */
export function figures(record: Record<string, unknown>): string {
  return Object.entries(record)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

// ---------------------------------------------------------------------------
// kill -9 rounds

export interface RoundsSummary {
  seed: number;
  rounds: number;
  startupKills: number;
  actions: Record<string, number>;
  duplicates: number;
  lost: number;
  stale: number;
  extra: number;
  strays: number;
  zombies: number;
  notConverged: number;
  /** Longest wait for convergence after a restart. */
  maxSettleMs: number;
  seconds: number;
  tempFilesLeft: number;
  failures: string[];
}

const SLEEPERS = ['s0', 's1', 's2', 's3', 's4', 's5'];
const POOL = [...SLEEPERS, 'stub', 'dmn'];
const CRASHY = 'crashy';

/**
 * N rounds of: do something (add, remove, edit, stop, start, restart, SIGHUP,
 * rescan, a burst of those, or nothing), wait a random moment, kill -9 the
 * supervisor (sometimes again while the next one starts up), maybe change
 * profiles while none runs, start a new one, and wait for it to settle: each
 * profile that should run has exactly one process running its current `run`,
 * nothing else runs, no zombie is left.
 */
export async function killNineRounds(fb: FaultBox, { rounds, seed, log = () => undefined }: { rounds: number; seed: number; log?: (line: string) => void }): Promise<RoundsSummary> {
  const began = Date.now();
  const rand = prng(seed);
  let version = 0;
  const summary: RoundsSummary = {
    seed, rounds: 0, startupKills: 0, actions: {}, duplicates: 0, lost: 0, stale: 0, extra: 0, strays: 0, zombies: 0,
    notConverged: 0, maxSettleMs: 0, seconds: 0, tempFilesLeft: 0, failures: [],
  };
  /**
   * Names whose stop/start was asked without waiting: the supervisor may or
   * may not have taken it (STATE_DIR/held decides). Removing the directory
   * forgets a stop, but only once a supervisor could see it gone: a supervisor
   * started while it is absent (a removal and re-addition between two of its
   * looks, or just before a kill -9, cannot be told from an edit).
   */
  const holdUnknown = new Set<string>();
  const forgetGoneHolds = () => {
    for (const name of holdUnknown) if (!existsSync(dir(name))) holdUnknown.delete(name);
  };

  const dir = (name: string) => join(fb.profilesDir, name);
  const present = (): string[] => readdirSync(fb.profilesDir).filter((n) => !n.startsWith('.')).sort();
  const files = (name: string, v: number): ProfileFiles => {
    if (name === 'stub') return { run: fb.service(v, { ignoreTerm: true }), restart: '', stop_timeout: '0.3' };
    if (name === 'dmn') return { run: fb.daemon(v, 'dmn.pid'), pid_file: 'dmn.pid', restart: '' };
    return { run: fb.service(v), restart: '' };
  };
  const add = (name: string) => fb.box.profile(name, files(name, ++version));
  const remove = (name: string) => spawnSync('rm', ['-rf', dir(name)]);
  const edit = (name: string) => {
    const text = name === 'dmn' ? fb.daemon(++version, 'dmn.pid') : fb.service(++version, { ignoreTerm: name === 'stub' });
    writeInPlace(join(dir(name), 'run'), text);
  };
  const expectation = (): Expectation => {
    const held = fb.held();
    const run = new Map<string, string>();
    for (const name of present()) {
      if (name === CRASHY) continue;
      if (holdUnknown.has(name) && held.has(name)) continue;
      run.set(name, versionOf(dir(name)) ?? '?');
    }
    return { run, maybe: new Set(), ignore: new Set([CRASHY]) };
  };
  const some = (names: string[]) => (names.length ? rand.pick(names) : null);
  const absentFromPool = () => POOL.filter((n) => !present().includes(n));
  const presentFromPool = () => POOL.filter((n) => present().includes(n));
  const count = (kind: string) => (summary.actions[kind] = (summary.actions[kind] ?? 0) + 1);

  /** Start something happening; returns a short description. */
  const act = (kind: string): string => {
    const ask = (command: string, name: string) => {
      holdUnknown.add(name);
      void fb.ask({ command, names: [name], wait: false }).catch(() => undefined);
    };
    switch (kind) {
      case 'add': {
        const name = some(absentFromPool());
        if (name) add(name);
        return name ? `add ${name}` : 'add (all there)';
      }
      case 'remove': {
        const name = some(presentFromPool());
        if (name) remove(name);
        return name ? `remove ${name}` : 'remove (none there)';
      }
      case 'edit': {
        const name = some(presentFromPool());
        if (name) edit(name);
        return `edit ${name}`;
      }
      case 'stop':
      case 'start':
      case 'restart': {
        const name = some(presentFromPool());
        if (name) ask(kind, name);
        return `${kind} ${name}`;
      }
      case 'hup':
        if (fb.current) process.kill(fb.current, 'SIGHUP');
        return 'SIGHUP';
      case 'rescan':
        void fb.ask({ command: 'rescan' }).catch(() => undefined);
        return 'rescan';
      case 'burst': {
        const done = [act('add'), act('edit'), act('remove'), act('add')];
        return `burst(${done.join(', ')})`;
      }
      default:
        return 'nothing';
    }
  };
  const KINDS = ['add', 'add', 'remove', 'edit', 'edit', 'stop', 'start', 'start', 'restart', 'hup', 'rescan', 'burst', 'burst', 'nothing'];

  for (const name of ['s0', 's1', 's2', 's3', 'stub', 'dmn']) add(name);
  fb.box.profile(CRASHY, { run: sh('exit 1'), restart: '' });
  await fb.startSupervisor();
  const first = await fb.settle(expectation, 20_000);
  if (!first.converged) throw new Error(`the first supervisor never settled:\n${first.problems.join('\n')}`);

  for (let round = 1; round <= rounds; round++) {
    const kind = rand.pick(KINDS);
    count(kind);
    const what = act(kind);
    // A random moment: most kills land while the change is being acted on.
    await pause(rand.chance(0.6) ? rand.int(0, 40) : rand.int(0, 400));
    await fb.killSupervisor();
    let story = `${what}, kill -9`;
    if (rand.chance(0.25)) {
      // Kill the next one too, while it starts up and takes services over.
      summary.startupKills++;
      await fb.startSupervisor({ ready: false });
      await pause(rand.int(0, 700));
      await fb.killSupervisor();
      story += ', start, kill -9 during start-up';
    }
    if (rand.chance(0.2)) {
      const downKind = rand.pick(['add', 'remove', 'edit']);
      story += `, while down: ${act(downKind)}`;
    }
    await fb.startSupervisor();
    forgetGoneHolds();
    const verdict = await fb.settle(expectation); // a deadline, not a measure: maxSettleMs is that
    summary.rounds++;
    if (verdict.converged) summary.maxSettleMs = Math.max(summary.maxSettleMs, verdict.ms);
    for (const key of ['duplicates', 'lost', 'stale', 'extra', 'strays', 'zombies'] as const) summary[key] += verdict.converged ? 0 : verdict[key];
    log(`round ${round}: ${story}: ${verdict.converged ? `settled in ${verdict.ms}ms` : 'NOT SETTLED'}`);
    if (!verdict.converged) {
      summary.notConverged++;
      const held = fb.held();
      const logText = fb.box.logText();
      const hints = [...expectation().run.keys()]
        .filter((name) => held.has(name) && !holdUnknown.has(name))
        .map((name) => `hint: STATE_DIR/held still names ${name}, although a supervisor started while its directory was gone since its last stop or start`);
      for (const problem of verdict.problems) {
        const dup = problem.match(/^duplicate: (\S+) has \d+ processes: (.*) \(status: running pid (\d+)\)$/);
        if (dup) {
          for (const pid of [...dup[2]!.matchAll(/(?:^|, )pid (\d+)/g)].map((m) => m[1]!).filter((p) => p !== dup[3])) {
            if (!new RegExp(`INFO ${dup[1]} (started|running) pid ${pid}\\b`).test(logText)) hints.push(`hint: pid ${pid} of ${dup[1]} was never logged as started: spawned by a supervisor killed before it logged and recorded it`);
          }
        }
        const stale = problem.match(/^stale: (\S+) runs \S+ pid (\d+)/);
        if (stale && new RegExp(`INFO ${stale[1]} stopping pid ${stale[2]} [\\s\\S]*INFO ${stale[1]} running pid ${stale[2]} \\(re-adopted`).test(logText)) {
          hints.push(`hint: pid ${stale[2]} of ${stale[1]} was re-adopted while being stopped for a change: its record already described the new profile`);
        }
      }
      const report = `round ${round} (seed ${seed}): ${story}:\n  ${[...verdict.problems, ...hints].join('\n  ')}\n${fb.logOf(verdict.problems)}`;
      summary.failures.push(report);
      log(report);
      // Put things right so that one bad round does not spoil the next ones.
      await fb.repair();
      const wrong = [...new Set(verdict.problems.map((p) => p.match(/^(?:lost|stale): (\S+)/)?.[1]).filter((n): n is string => !!n))];
      if (wrong.length) await fb.ask({ command: 'restart', names: wrong, wait: true, timeoutMs: 10_000 }, 15_000).catch(() => undefined);
      const repaired = await fb.settle(expectation, 10_000);
      if (!repaired.converged) log(`round ${round}: could not put things right:\n  ${repaired.problems.join('\n  ')}`);
    }
  }
  summary.tempFilesLeft = fb.leftoverTempFiles().length;
  summary.seconds = Math.round((Date.now() - began) / 100) / 10;
  return summary;
}

// ---------------------------------------------------------------------------
// Churn: random profile operations against one supervisor

export const CHURN_NAMES = ['a', 'b', 'c', 'd', 'e', 'f'] as const;
export type ChurnName = (typeof CHURN_NAMES)[number];

export type ChurnOp =
  | { op: 'add'; name: ChurnName; pauseMs: number }
  | { op: 'remove'; name: ChurnName; pauseMs: number }
  | { op: 'edit'; name: ChurnName; atomic: boolean; pauseMs: number }
  | { op: 'rename'; name: ChurnName; to: ChurnName; pauseMs: number }
  | { op: 'chmod-x'; name: ChurnName; pauseMs: number }
  | { op: 'chmod+x'; name: ChurnName; pauseMs: number }
  /** A new profile whose `run` (not executable yet, and exiting at once while there is no `restart`) is armed: chmod +x run; touch restart, gapMs apart. */
  | { op: 'arm'; name: ChurnName; gapMs: number; pauseMs: number };

export interface ChurnSummary {
  runs: number;
  ops: number;
  /** Operations that changed something (an add of a present name does nothing). */
  applied: number;
  duplicates: number;
  lost: number;
  stale: number;
  extra: number;
  strays: number;
  zombies: number;
  /** Checks that only passed after an explicit rescan: filesystem events were missed. */
  missedEvents: number;
  maxSettleMs: number;
}

export const newChurnSummary = (): ChurnSummary => ({ runs: 0, ops: 0, applied: 0, duplicates: 0, lost: 0, stale: 0, extra: 0, strays: 0, zombies: 0, missedEvents: 0, maxSettleMs: 0 });

/**
 * Apply `ops` to the profiles directory of a running supervisor, then check
 * (1) after quiescence: every profile with an executable `run` has exactly
 * one process, of its current version; one whose `run` is not executable has
 * at most one (left running on its last good profile); nothing else runs;
 * (2) once every `run` is made executable again: exactly one each, current;
 * (3) once every profile is removed: nothing runs. Throws with the problems.
 */
export async function churnRun(fb: FaultBox, ops: ChurnOp[], summary: ChurnSummary, nextVersion: () => number): Promise<void> {
  const model = new Map<ChurnName, { version: number; exec: boolean }>();
  const dir = (name: string) => join(fb.profilesDir, name);
  // Start from an empty directory (a failed or shrunk run may have left things).
  for (const name of readdirSync(fb.profilesDir)) spawnSync('rm', ['-rf', dir(name)]);
  await check('reset before', () => ({ run: new Map(), maybe: new Set(), ignore: new Set() }));

  for (const op of ops) {
    const entry = model.get(op.name);
    let applied = true;
    switch (op.op) {
      case 'add': {
        if (entry) {
          applied = false;
          break;
        }
        const version = nextVersion();
        fb.box.profile(op.name, { run: fb.service(version), restart: '' });
        model.set(op.name, { version, exec: true });
        break;
      }
      case 'remove':
        if (!entry) applied = false;
        else {
          spawnSync('rm', ['-rf', dir(op.name)]);
          model.delete(op.name);
        }
        break;
      case 'edit': {
        if (!entry) {
          applied = false;
          break;
        }
        entry.version = nextVersion();
        const mode = entry.exec ? 0o755 : 0o644;
        if (op.atomic) {
          fb.box.write(join(dir(op.name), '.run.new'), { content: fb.service(entry.version), mode });
          renameSync(join(dir(op.name), '.run.new'), join(dir(op.name), 'run'));
        } else {
          writeInPlace(join(dir(op.name), 'run'), fb.service(entry.version)); // truncated, then written
        }
        break;
      }
      case 'rename':
        if (!entry || model.has(op.to)) applied = false;
        else {
          renameSync(dir(op.name), dir(op.to));
          model.delete(op.name);
          model.set(op.to, entry);
        }
        break;
      case 'arm': {
        if (entry) {
          applied = false;
          break;
        }
        const version = nextVersion();
        const run = join(dir(op.name), 'run');
        fb.box.profile(op.name, { run: { content: sh(`[ -e restart ] || exit 0\nexport PLV=${version}\nexec ${fb.markerPath} 100000`), mode: 0o644 } });
        await pause(op.gapMs);
        chmodSync(run, 0o755);
        await pause(op.gapMs); // the supervisor may start it, and see it exit, before the restart file comes
        writeFileSync(join(dir(op.name), 'restart'), '');
        model.set(op.name, { version, exec: true });
        break;
      }
      case 'chmod-x':
      case 'chmod+x':
        if (!entry) applied = false;
        else {
          entry.exec = op.op === 'chmod+x';
          chmodSync(join(dir(op.name), 'run'), entry.exec ? 0o755 : 0o644);
        }
        break;
    }
    summary.ops++;
    if (applied) summary.applied++;
    if (op.pauseMs > 0) await pause(op.pauseMs);
  }

  const live = () => new Map([...model].filter(([, e]) => e.exec).map(([n, e]) => [n, String(e.version)]));
  await check('after the operations', () => ({ run: live(), maybe: new Set([...model].filter(([, e]) => !e.exec).map(([n]) => n)), ignore: new Set() }));
  for (const [name, entry] of model) {
    if (entry.exec) continue;
    entry.exec = true;
    chmodSync(join(dir(name), 'run'), 0o755);
  }
  await check('after chmod +x of every run', () => ({ run: live(), maybe: new Set(), ignore: new Set() }));
  for (const name of [...model.keys()]) spawnSync('rm', ['-rf', dir(name)]);
  model.clear();
  await check('after removing every profile', () => ({ run: new Map(), maybe: new Set(), ignore: new Set() }));
  summary.runs++;

  async function check(when: string, expect: () => Expectation): Promise<void> {
    // Long enough that a loaded machine's slowness is not taken for missed events below.
    let verdict = await fb.settle(expect, 20_000);
    if (!verdict.converged) {
      // Did the supervisor miss filesystem events? A rescan tells.
      await fb.ask({ command: 'rescan' }).catch(() => undefined);
      const again = await fb.settle(expect, 5000);
      if (again.converged) {
        summary.missedEvents++;
        throw new Error(`${when}: only right after an explicit rescan (missed filesystem events):\n  ${verdict.problems.join('\n  ')}\n${fb.logOf(verdict.problems)}`);
      }
      verdict = again;
    }
    summary.maxSettleMs = Math.max(summary.maxSettleMs, verdict.ms);
    if (verdict.converged) return;
    for (const key of ['duplicates', 'lost', 'stale', 'extra', 'strays', 'zombies'] as const) summary[key] += verdict[key];
    const problems = `${when}:\n  ${verdict.problems.join('\n  ')}\n${fb.logOf(verdict.problems)}`;
    await fb.repair();
    throw new Error(problems);
  }
}

/** `add a; edit b (in place) +12ms; rename c→d; ...`: how a failing sequence is shown. */
export function showOps(ops: ChurnOp[]): string {
  return ops
    .map((o) => {
      const what =
        o.op === 'rename' ? `rename ${o.name}→${o.to}` : o.op === 'edit' ? `edit ${o.name}${o.atomic ? '' : ' (in place)'}` : o.op === 'arm' ? `arm ${o.name} (gap ${o.gapMs}ms)` : `${o.op} ${o.name}`;
      return o.pauseMs ? `${what} +${o.pauseMs}ms` : what;
    })
    .join('; ');
}

/** An array of `length` churn operations, shown compactly in a counterexample. */
export function churnOpsArbitrary(fc: typeof import('fast-check'), length: number): import('fast-check').Arbitrary<ChurnOp[]> {
  return fc
    .array(churnOpArbitrary(fc), { minLength: length, maxLength: length })
    .map((ops) => Object.assign(ops, { [fc.toStringMethod]: () => `[${showOps(ops)}]` }));
}

/** fast-check arbitraries for churn operations (passed fc, so that this file needs no fast-check import at load). */
export function churnOpArbitrary(fc: typeof import('fast-check')): import('fast-check').Arbitrary<ChurnOp> {
  const name = fc.constantFrom(...CHURN_NAMES);
  // Mostly back to back (the supervisor sees bursts), sometimes a pause long enough to act in between.
  const pauseMs = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 30 }) });
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('add' as const), name, pauseMs }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('remove' as const), name, pauseMs }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('edit' as const), name, atomic: fc.boolean(), pauseMs }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('rename' as const), name, to: name, pauseMs }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('chmod-x' as const), name, pauseMs }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('chmod+x' as const), name, pauseMs }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('arm' as const), name, gapMs: fc.integer({ min: 0, max: 20 }), pauseMs }) },
  );
}
