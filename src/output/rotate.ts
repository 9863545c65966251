// Rotation by renaming, as the drains, the supervisor's log and events.log
// do it: PATH → PATH.1 → … → PATH.keep, the oldest going.
import { existsSync, renameSync, rmSync } from 'node:fs';

export function rotateFiles(path: string, keep: number): void {
  for (let i = keep - 1; i >= 0; i--) {
    try {
      renameSync(i === 0 ? path : `${path}.${i}`, `${path}.${i + 1}`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/** PATH.(keep+1) … PATH.upTo (or as far as they go), left by a larger keep. */
export function removeBeyond(path: string, keep: number, upTo = Infinity): void {
  for (let i = keep + 1; i <= upTo && (upTo !== Infinity || existsSync(`${path}.${i}`)); i++) rmSync(`${path}.${i}`, { force: true });
}
