import { createHash } from 'node:crypto';
import { accessSync, constants, mkdirSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { isAlive } from '../process/proc.js';

export const supervisorPidPath = (stateDir: string): string => join(stateDir, 'proclaunch.pid');

/**
 * mkdir -p, one level at a time from the nearest directory that exists.
 * Node's recursive mkdirSync loops for ever (a core at 100%) where mkdir
 * answers ENOENT although the parent exists, as it does under /proc.
 */
function makeDirectories(path: string, mode: number): void {
  const missing: string[] = [];
  for (let dir = path; ; dir = dirname(dir)) {
    const info = statSync(dir, { throwIfNoEntry: false });
    if (info?.isDirectory()) break;
    if (info) throw new Error(`${dir} is not a directory`);
    missing.unshift(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir, { mode });
    } catch (error) {
      // Made meanwhile by someone else (a second supervisor starting): as good.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(dir).isDirectory()) throw error;
    }
  }
}

/** Create STATE_DIR (mode 0700) and prove we can write in it; throws a message an operator can act on. */
export function prepareStateDir(stateDir: string): void {
  try {
    makeDirectories(stateDir, 0o700);
    mkdirSync(join(stateDir, 'logs'), { recursive: true, mode: 0o750 });
    accessSync(stateDir, constants.W_OK | constants.X_OK);
    const probe = join(stateDir, `.probe-${process.pid}`);
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (error) {
    throw new Error(`state directory ${stateDir} is not usable: ${(error as Error).message}`);
  }
}

/** Write a file so that readers see the old or the new content, never half. */
export function writeAtomic(path: string, content: string, mode = 0o644): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, path);
}

/** The pid recorded in STATE_DIR/proclaunch.pid if that supervisor is alive. */
export function liveSupervisorPid(stateDir: string): number | null {
  try {
    const pid = Number(readFileSync(supervisorPidPath(stateDir), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1) return null;
    return isAlive({ pid, startTime: null }) ? pid : null;
  } catch {
    return null;
  }
}

export type Ownership = { owned: true; release(): void } | { owned: false; ownerPid: number | null };

/**
 * Exclusive, race-free ownership of STATE_DIR. The lock is a Linux abstract
 * socket named after the directory: the kernel grants the name to exactly one
 * process and frees it when that process dies, so a killed supervisor leaves
 * no stale lock and two started at once cannot both win.
 */
export async function acquireStateDir(stateDir: string): Promise<Ownership> {
  const key = createHash('sha256').update(realpathSync(stateDir)).digest('hex').slice(0, 32);
  const server: Server = createServer((socket) => socket.destroy());
  const won = await new Promise<boolean>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(false) : reject(error)));
    server.listen(`\0proclaunch-${key}`, () => resolve(true));
  });
  if (!won) return { owned: false, ownerPid: liveSupervisorPid(stateDir) };
  server.unref();
  writeAtomic(supervisorPidPath(stateDir), `${process.pid}\n`);
  return {
    owned: true,
    release() {
      server.close();
      try {
        if (liveSupervisorPid(stateDir) === process.pid) unlinkSync(supervisorPidPath(stateDir));
      } catch {
        // already gone
      }
    },
  };
}

/**
 * STATE_DIR/bin/proclaunch: runs this very CLI (same Node, same version) for
 * services, `finish` scripts and hooks, which see its path as PROCLAUNCH_BIN —
 * `proclaunch` may not be on their PATH (e.g. a clone started with npm start).
 */
export function writeCliShim(stateDir: string, cliPath: string): string {
  const bin = join(stateDir, 'bin');
  mkdirSync(bin, { recursive: true, mode: 0o700 });
  const shim = join(bin, 'proclaunch');
  const quoteSh = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  writeAtomic(shim, `#!/bin/sh\nexec ${quoteSh(process.execPath)} ${quoteSh(cliPath)} "$@"\n`, 0o755);
  return shim;
}
