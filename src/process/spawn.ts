import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ServiceConfig } from '../profile/types.js';
import { isHeld, openPipeEnd } from './log-pipe.js';
import { spawnChild } from './native-spawn.js';
import { trackChild } from './reaper.js';

export const isRoot = (): boolean => process.getuid?.() === 0;

/** The environment a service sees: ours, then `env/`, then who it runs as. */
export function serviceEnv(config: ServiceConfig, asUser: boolean, stateDir: string): NodeJS.ProcessEnv {
  // PROCLAUNCH_STATE: `proclaunch stop other` inside a service (or finish) talks to this supervisor.
  const env: NodeJS.ProcessEnv = { ...process.env, PROCLAUNCH_PROFILE: config.name, PROCLAUNCH_TAG: config.tag, PROCLAUNCH_STATE: stateDir };
  if (config.instance !== null) env.PROCLAUNCH_INSTANCE = String(config.instance);
  for (const [name, value] of Object.entries(config.env)) {
    if (value === null) delete env[name];
    else env[name] = value;
  }
  if (asUser && config.user) {
    Object.assign(env, { HOME: config.user.home, USER: config.user.name, LOGNAME: config.user.name, SHELL: config.user.shell });
  }
  return env;
}

/**
 * The argv that starts `run`. As root with a `user`, through setpriv
 * (util-linux): libuv's setuid drops supplementary groups, setpriv sets them.
 */
export function serviceArgv(config: ServiceConfig, asUser: boolean, args: string[] = []): [string, string[]] {
  if (!asUser || !config.user) return [config.runPath, args];
  const { uid, gid } = config.user;
  return ['setpriv', ['--reuid', String(uid), '--regid', String(gid), '--init-groups', '--', config.runPath, ...args]];
}

function openOutput(path: string): number {
  mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
  return openSync(path, 'a', 0o640);
}

export interface ServiceStdio {
  stdio: ['ignore' | number, number, number];
  /** Close our copies once the child has its own. */
  close(): void;
}

/**
 * The child's stdin, stdout and stderr, obtained apart from the spawn call:
 * the FIFOs of bounded output (src/output/), O_APPEND files, or with `log/`
 * the pipe its logger reads (a logger gets that pipe as stdin).
 */
export function openStdio(config: ServiceConfig): ServiceStdio {
  const opened: number[] = [];
  const keep = (fd: number): number => (opened.push(fd), fd);
  const close = (): void => opened.forEach((fd) => closeSync(fd));
  try {
    const stdin = config.stdinPipe ? keep(openPipeEnd(config.stdinPipe, 'reader')) : 'ignore';
    if (config.logPipe) {
      const pipe = keep(openPipeEnd(config.logPipe, 'writer'));
      return { stdio: [stdin, pipe, pipe], close };
    }
    // A FIFO not held (a config read without the supervisor's claims: tests) is bypassed: the file, as before.
    const held = (pipe: string | null | undefined) => (pipe && isHeld(pipe) ? pipe : null);
    const [stdoutPipe, stderrPipe] = [held(config.output?.stdoutPipe), held(config.output?.stderrPipe)];
    const out = keep(stdoutPipe ? openPipeEnd(stdoutPipe, 'writer') : openOutput(config.stdout));
    const same = stderrPipe === stdoutPipe && config.stderr === config.stdout;
    const err = same ? out : keep(stderrPipe ? openPipeEnd(stderrPipe, 'writer') : openOutput(config.stderr));
    return { stdio: [stdin, out, err], close };
  } catch (error) {
    close();
    throw error;
  }
}

/** Descriptors the child gets above 2: its fd N → our fd (notification-fd's). Ours stay ours to close. */
export type ExtraFds = ReadonlyMap<number, number>;

/** Node's stdio array with fd N at index N, 'ignore' (closed in the child) between. */
export function withExtraFds(stdio: readonly (number | 'ignore')[], extraFds: ExtraFds): (number | 'ignore')[] {
  const all: (number | 'ignore')[] = [...stdio];
  for (const [n, fd] of extraFds) {
    if (!Number.isInteger(n) || n < 3 || n > 1023) throw new RangeError(`fd ${n} for the service must be 3..1023`);
    while (all.length <= n) all.push('ignore');
    all[n] = fd;
  }
  return all;
}

/**
 * Start `run` in its own session (so its whole group can be signalled), with
 * stdout and stderr going to the drain's FIFOs, O_APPEND files or the
 * logger's pipe.
 */
export function spawnService(config: ServiceConfig, stateDir: string, args: string[] = [], extraFds: ExtraFds = new Map()): ChildProcess {
  const asUser = isRoot() && config.user !== null;
  const { stdio, close } = openStdio(config);
  try {
    const [command, argv] = serviceArgv(config, asUser, args);
    const child = spawnChild(command, argv, { // posix_spawn when the native module has it, else Node's spawn
      cwd: config.dir,
      detached: true,
      stdio: extraFds.size ? withExtraFds(stdio, extraFds) : stdio,
      env: serviceEnv(config, asUser, stateDir),
    });
    trackChild(child); // the reaper (PID 1, --reaper) must leave our children (libuv's or native) to us
    return child;
  } finally {
    close();
  }
}
