// Where bounded output goes: each output file is fed by one FIFO in
// STATE_DIR/out, named so that the next supervisor finds the same FIFO (and
// what waits in it) again — and so that instances or streams sharing one file
// share its FIFO too: one drain per file, never two rotating it.
import { createHash } from 'node:crypto';
import { readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';

export const outputDir = (stateDir: string): string => join(stateDir, 'out');

/** STATE_DIR/logs/TAG.log: where a service's stdout and stderr go without `stdout`/`stderr` files. */
export const defaultOutput = (stateDir: string, tag: string): string => join(stateDir, 'logs', `${tag}.log`);

/**
 * out/TAG for a tag's default file; out/_HASH for any other (`_` never starts
 * a profile name), beside a symlink out/_HASH.path naming the file, so that a
 * FIFO left behind can be drained where it belongs (see targetOfPipe).
 */
export function outputPipePath(stateDir: string, target: string, tag: string): string {
  if (target === defaultOutput(stateDir, tag)) return join(outputDir(stateDir), tag);
  return join(outputDir(stateDir), `_${createHash('sha1').update(target).digest('hex').slice(0, 16)}`);
}

/** For an out/_HASH FIFO: (re)write its .path symlink. */
export function noteTarget(fifo: string, target: string): void {
  if (!basename(fifo).startsWith('_')) return;
  const link = `${fifo}.path`;
  if (readlinkOrNull(link) === target) return;
  try {
    unlinkSync(link);
  } catch {
    // none yet
  }
  symlinkSync(target, link);
}

/** The file a FIFO in STATE_DIR/out feeds, or null (an out/_HASH whose .path is gone). */
export function targetOfPipe(stateDir: string, fifo: string): string | null {
  const name = basename(fifo);
  if (!name.startsWith('_')) return defaultOutput(stateDir, name);
  return readlinkOrNull(`${fifo}.path`);
}

function readlinkOrNull(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}
