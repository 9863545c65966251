// What Node's spawn runs, found as libuv finds it: execvp(3)'s search of
// PATH and its fallback to /bin/sh for a script without a #! line, done here
// because the native spawn is posix_spawn of one file (native-spawn.ts).
import { accessSync } from 'node:fs';
import type { Native } from './native.js';

/** What the native spawn needs, from Node's spawn options. */
export interface Plan {
  cwd: string | null;
  env: NodeJS.ProcessEnv;
  /** fds; null: /dev/null ('ignore'). */
  stdio: [number | null, number | null, number | null];
  /** [N, fd] for stdio[N] (N >= 3) given an fd; an 'ignore' there is simply closed, as Node does. */
  extraFds: [number, number][];
}

export const codeOf = (error: unknown): string | undefined => (error as NodeJS.ErrnoException).code;

/** glibc's execvp without PATH: confstr(_CS_PATH). */
const DEFAULT_PATH = '/bin:/usr/bin';

/**
 * What Node's spawn runs, found as libuv finds it: execvp(3) in the child,
 * with the child's environment (so its PATH).
 */
export function spawnResolved(native: Native, command: string, argv: string[], envp: string[], plan: Plan): number {
  if (command.includes('/')) return spawnFile(native, command, argv, envp, plan);
  let denied: unknown = null;
  let last: unknown = null;
  for (const dir of (plan.env.PATH ?? DEFAULT_PATH).split(':')) {
    const file = dir ? `${dir}/${command}` : command;
    if (file.startsWith('/')) {
      try {
        accessSync(file); // a miss costs a stat, not a clone
      } catch {
        continue;
      }
    }
    try {
      return spawnFile(native, file, argv, envp, plan);
    } catch (error) {
      // execvp goes on to the next directory after these, and reports EACCES if one said so.
      const code = codeOf(error);
      if (code === 'EACCES') denied = error;
      else if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ESTALE' || code === 'ENODEV' || code === 'ETIMEDOUT') last = error;
      else throw error;
    }
  }
  throw denied ?? last ?? Object.assign(new Error(`${command}: not found in PATH`), { code: 'ENOENT', errno: -2 });
}

function spawnFile(native: Native, file: string, argv: string[], envp: string[], plan: Plan): number {
  const [stdin, stdout, stderr] = plan.stdio;
  const request = { file, argv, envp, cwd: plan.cwd, stdin, stdout, stderr, extraFds: plan.extraFds };
  try {
    return native.spawn(request);
  } catch (error) {
    if (codeOf(error) !== 'ENOEXEC') throw error;
    // No #! line and not a binary: as execvp does (and so Node's spawn), a script for /bin/sh.
    try {
      return native.spawn({ ...request, file: '/bin/sh', argv: ['/bin/sh', file, ...argv.slice(1)] });
    } catch {
      throw error;
    }
  }
}
