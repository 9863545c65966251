// `log/` (runit/s6): a profile subdirectory with its own `run` is the
// profile's logger. It is supervised like a service, under the tag NAME:log
// (`:` is never in a profile name, so it cannot collide, and it is file-safe
// for its record and STATE_DIR/logs/NAME:log.log), and
// reads on its stdin what every instance of the service writes on stdout and
// stderr, through a FIFO the supervisor holds open (process/log-pipe.ts).
import { createHash } from 'node:crypto';
import { readdir, stat } from '../profile/files.js';
import { join } from 'node:path';
import { quote } from '../log/escape.js';
import { holdPipe, isHeld, logPipePath, releasePipe } from '../process/log-pipe.js';
import { readProfile, type ReadOptions } from '../profile/read.js';
import type { ProfileReading, ServiceConfig } from '../profile/types.js';
import { isLoggerTag, loggerTag } from '../vocabulary/tags.js';
import { DOWN, STOPPING } from '../vocabulary/state-tags.js';
import type { ServiceActor } from '../machine/service-machine.js';
import { outputClaims } from '../output/claims.js';


const invalid = (reason: string): ProfileReading => ({ kind: 'invalid', reason });

/**
 * Read a profile and its `log/`: the logger's config first (it starts before
 * the service), then the service's, whose stdout and stderr now go to the
 * pipe — held open from here on, before anything is spawned. Only whether
 * there is a logger is part of the service's launch fingerprint: a change to
 * `log/run` restarts the logger alone; adding or removing `log/` restarts the
 * service (a running process's stdout cannot be moved).
 */
export async function readProfileAndLogger(dir: string, name: string, options: ReadOptions): Promise<ProfileReading> {
  // Then the FIFOs of bounded output it names are held (src/output/claims.ts), before anything is spawned.
  return outputClaims.claim(name, await readWithLogger(dir, name, options));
}

async function readWithLogger(dir: string, name: string, options: ReadOptions): Promise<ProfileReading> {
  const reading = await readProfile(dir, name, options);
  if (reading.kind !== 'valid') return reading;
  const logDir = join(dir, 'log');
  // A plain file named `log` is the service's own business (its output, say), not a logger.
  if (!(await stat(logDir).catch(() => null))?.isDirectory()) return reading;
  const tag = loggerTag(name);
  const logger = await readProfile(logDir, tag, options);
  if (logger.kind === 'missing') return reading; // gone between the two looks
  if (logger.kind === 'invalid') return invalid(`log/: ${logger.reason}`);
  const [config] = logger.configs;
  if (logger.configs.length !== 1 || config!.instance !== null) return invalid('log/instances: one logger serves every instance; remove log/instances');
  if (config!.pidFile) return invalid('log/pid_file: a logger runs in the foreground, reading its stdin; remove log/pid_file');
  const present = await readdir(dir).catch(() => [] as string[]);
  const clash = ['stdout', 'stderr'].filter((f) => present.includes(f));
  if (clash.length > 0) return invalid(`${clash.join(' and ')} and log/ both say where the output goes; remove one`);
  const bounds = ['log_max_size', 'log_keep', 'log_timestamps'].filter((f) => present.includes(f));
  if (bounds.length > 0) return invalid(`${bounds.join(' and ')} and log/: the logger keeps the output as log/run says; remove ${bounds.length > 1 ? 'them' : 'it'}`);
  const pipe = logPipePath(options.stateDir, name);
  try {
    await holdPipe(pipe);
  } catch (error) {
    return invalid(`log/: ${(error as Error).message}`);
  }
  const withPipe = (service: ServiceConfig): ServiceConfig => ({
    ...service,
    logPipe: pipe,
    output: null,
    fingerprint: { ...service.fingerprint, launch: createHash('sha1').update(`${service.fingerprint.launch}\0log/`).digest('hex') },
  });
  // Always brought back, whatever log/restart says: a service blocks once 64 KiB wait for a logger that is gone.
  const loggerConfig: ServiceConfig = { ...config!, name, restart: 'always', stdinPipe: pipe };
  const warnings = [...(reading.warnings ?? []), ...(logger.warnings ?? []).map((w) => `log/: ${w}`)];
  return { kind: 'valid', configs: [loggerConfig, ...reading.configs.map(withPipe)], warnings };
}

/**
 * What the profile watcher must watch beyond the tree (which goes down to
 * NAME/env/VAR): the `watch` files, and log/env/, one level deeper.
 */
export function watchedPaths(configs: ServiceConfig[]): string[] {
  const paths = configs.flatMap((c) => (c.stdinPipe ? [...c.watch, join(c.dir, 'env')] : c.watch));
  return [...new Set(paths)];
}

export interface LoggerRemovalDeps {
  stateDir: string;
  actor(tag: string): ServiceActor | undefined;
  /** The tags of profile NAME the supervisor knows. */
  tagsOf(name: string): Iterable<string>;
  /** The tag's profile (or log/) is gone, as last read. */
  gone(tag: string): boolean;
  profileOf(tag: string): string;
  log(message: string): void;
}

/**
 * A logger whose `log/` (or whole profile) went away is stopped only once no
 * process of its service writes into the pipe any more — so the service's
 * last words, written while it stops, are logged — and then the pipe is
 * closed and removed. Put back meanwhile, it just goes on.
 */
export class LoggerRemovals {
  /** Logger tags waiting for their service to let go of the pipe. */
  private readonly waiting = new Set<string>();
  /** Logger tags told to stop: the pipe goes once they have. */
  private readonly stopping = new Set<string>();

  constructor(private readonly deps: LoggerRemovalDeps) {
    outputClaims.attach({ snapshot: (tag) => deps.actor(tag)?.getSnapshot() }, deps.stateDir);
  }

  /** Logger tags still waiting or stopping. */
  get size(): number {
    return this.waiting.size + this.stopping.size;
  }

  remove(tag: string): void {
    this.stopping.delete(tag);
    this.waiting.add(tag);
    this.settle();
  }

  /** Look again (called on every state change of any actor: cheap while nothing is pending). */
  settle(): void {
    outputClaims.settle(); // bounded outputs wait the same way
    if (this.waiting.size === 0 && this.stopping.size === 0) return;
    for (const tag of this.waiting) {
      if (!this.deps.gone(tag)) this.waiting.delete(tag);
      else if (!this.pipeInUse(this.deps.profileOf(tag))) {
        this.waiting.delete(tag);
        this.stopping.add(tag);
        this.deps.actor(tag)?.send({ type: 'REMOVE' });
      }
    }
    for (const tag of this.stopping) {
      const snapshot = this.deps.actor(tag)?.getSnapshot();
      if (!this.deps.gone(tag)) this.stopping.delete(tag);
      else if (!snapshot || snapshot.hasTag(DOWN)) {
        this.stopping.delete(tag);
        const path = logPipePath(this.deps.stateDir, this.deps.profileOf(tag));
        try {
          releasePipe(path);
        } catch (error) {
          this.deps.log(`cannot remove the log pipe ${quote(path)}: ${(error as Error).message}`);
        }
      }
    }
  }

  /** Does a process of profile NAME (not its logger) still write into the pipe? */
  private pipeInUse(name: string): boolean {
    for (const tag of this.deps.tagsOf(name)) {
      if (isLoggerTag(tag)) continue;
      const snapshot = this.deps.actor(tag)?.getSnapshot();
      if (!snapshot) continue;
      if (snapshot.hasTag(STOPPING)) return true; // whatever its new config says, the old process is still there
      if (!snapshot.context.config?.logPipe) continue;
      // Not DOWN: it runs, starts, or its `finish` runs (finish writes where the service wrote).
      if (!snapshot.hasTag(DOWN)) return true;
    }
    return false;
  }
}

/**
 * FIFOs in STATE_DIR/pipes of profiles that have no `log/` and no process any
 * more (a supervisor killed between stopping a logger and removing its pipe);
 * and in STATE_DIR/out, those of bounded output no profile names now.
 */
export async function sweepPipes(stateDir: string, known: Set<string>, profilesDir: string): Promise<void> {
  outputClaims.sweep(); // and those of bounded output: drained first
  const dir = join(stateDir, 'pipes');
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (known.has(name) || (await stat(join(profilesDir, name, 'log')).catch(() => null))) continue;
    if (!isHeld(join(dir, name))) releasePipe(join(dir, name));
  }
}
