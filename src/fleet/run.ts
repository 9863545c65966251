// Run a local program (ssh, rsync, tar, npm) to its end or its deadline, collecting its
// output. Past the deadline it is killed: a slow host never holds the others back.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';

export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Killed at the deadline. */
  timedOut: boolean;
  /** It could not be started at all (ENOENT: not installed here). */
  spawnError: string | null;
  ms: number;
}

export interface RunOptions {
  /** Absolute time (Date.now()) at which it is killed. */
  deadline: number;
  /** What it reads: nothing (the default), or a stream piped in. */
  stdin?: Readable;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Output beyond this is dropped (a `logs -n 1000000`): a fleet table is not a file copy. */
const MAX_OUTPUT = 32 << 20;

export function run(argv0: string, args: string[], options: RunOptions): Promise<Ran> {
  const started = Date.now();
  return new Promise((resolve) => {
    let child: ChildProcess;
    const result: Ran = { code: null, signal: null, stdout: '', stderr: '', timedOut: false, spawnError: null, ms: 0 };
    try {
      child = spawn(argv0, args, { stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: options.env, cwd: options.cwd });
    } catch (error) {
      resolve({ ...result, spawnError: (error as Error).message, ms: Date.now() - started });
      return;
    }
    const timer = setTimeout(() => {
      result.timedOut = true;
      child.kill('SIGKILL');
    }, Math.max(0, options.deadline - Date.now()));
    if (options.stdin && child.stdin) {
      child.stdin.on('error', () => {}); // the far end stopped reading: its exit says why
      options.stdin.pipe(child.stdin);
    }
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      if (result.stdout.length < MAX_OUTPUT) result.stdout += chunk;
    });
    child.stderr!.on('data', (chunk: string) => {
      if (result.stderr.length < MAX_OUTPUT) result.stderr += chunk;
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      result.spawnError = error.code === 'ENOENT' ? `${argv0}: not found` : error.message;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ ...result, code, signal, ms: Date.now() - started });
    });
  });
}
