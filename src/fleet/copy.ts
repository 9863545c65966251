// Copy a directory to a host, into a hidden place beside its target (`.NAME.fleet-new`, which
// a supervisor ignores): rsync when both ends have it (a rerun sends only what is missing),
// else tar through ssh. Nothing here renames it in; a copy cut short leaves only the hidden
// directory, and the next run starts it over.
import { spawn, spawnSync } from 'node:child_process';
import { lastLine } from './classify.js';
import type { FleetContext } from './context.js';
import type { Host } from './hosts-file.js';
import { scriptLine } from './remote.js';
import { run } from './run.js';

let localRsync: boolean | null = null;
export function hasLocalRsync(): boolean {
  localRsync ??= spawnSync('rsync', ['--version'], { stdio: 'ignore' }).status === 0;
  return localRsync;
}

export type CopyResult = { ok: true; how: 'rsync' | 'tar' } | { ok: false; reason: string };

/** `SRC/` into `DEST/` on the host (DEST is made; its parent must be there). */
export async function copyDirectory(context: FleetContext, host: Host, source: string, dest: string, remoteRsync: boolean, deadline: number): Promise<CopyResult> {
  if (remoteRsync && hasLocalRsync()) {
    // -rlpt: contents, links, modes, times; not owners (the host's user owns what it runs).
    const args = ['-rlpt', '--delete', '-e', context.ssh.rsh(host), `${source}/`, context.ssh.rsyncTarget(host, `${dest}/`)];
    const ran = await run('rsync', args, { deadline });
    if (ran.code === 0) return { ok: true, how: 'rsync' };
    return { ok: false, reason: ran.timedOut ? 'the copy (rsync) did not end within -t' : `rsync: ${lastLine(ran.stderr) || `exited with code ${ran.code}`}` };
  }
  const tar = spawn('tar', ['-C', source, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let tarError = '';
  tar.stderr.setEncoding('utf8').on('data', (chunk: string) => (tarError += chunk));
  const tarDone = new Promise<number | null>((done) => {
    tar.on('error', (error) => ((tarError += error.message), done(null)));
    tar.on('close', (code) => done(code));
  });
  // A half copy from an earlier run is started over; tar -o: files belong to the host's user.
  const script = 'rm -rf "$1" && mkdir "$1" && exec tar -x -o -f - -C "$1"';
  const ran = await context.ssh.run(host, scriptLine(script, [dest]), { deadline, stdin: tar.stdout });
  if (tar.exitCode === null) tar.kill('SIGKILL');
  const tarCode = await tarDone;
  if (ran.code === 0 && tarCode === 0) return { ok: true, how: 'tar' };
  if (ran.timedOut) return { ok: false, reason: 'the copy (tar over ssh) did not end within -t' };
  if (tarCode !== 0) return { ok: false, reason: `tar here: ${lastLine(tarError) || `exited with code ${tarCode}`}` };
  return { ok: false, reason: `tar there: ${lastLine(ran.stderr) || `exited with code ${ran.code}`}` };
}
