// Rotation by renaming, as the drains, the supervisor's log and events.log
// do it: PATH → PATH.1 → … → PATH.keep, the oldest going.
import { renameSync } from 'node:fs';

export function rotateFiles(path: string, keep: number): void {
  for (let i = keep - 1; i >= 0; i--) {
    try {
      renameSync(i === 0 ? path : `${path}.${i}`, `${path}.${i + 1}`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}
