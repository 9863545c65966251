// Why a program could not be started, in words. execve says ENOENT both for
// a file that is gone and for a missing #! interpreter: the two are told apart
// here, for services, `finish` scripts and probes alike.
import { existsSync, readFileSync } from 'node:fs';

export interface ExecFailure {
  reason: string;
  /** The file itself is gone (removed since the profile was read). */
  missing: boolean;
}

export function execFailure(path: string, error: NodeJS.ErrnoException): ExecFailure {
  const failure = (reason: string, missing = false): ExecFailure => ({ reason, missing });
  if (error.code === 'ENOENT' && error.path === 'setpriv') return failure('setpriv (util-linux) is not installed; it is needed to run as another user');
  if (error.code === 'ENOENT' && !existsSync(path)) return failure(`cannot execute ${path}: it does not exist (any more)`, true);
  if (error.code === 'ENOENT') {
    const interpreter = interpreterOf(path);
    return failure(`cannot execute ${path}: its interpreter (the #! line) was not found${interpreter ? ` (#!${interpreter})` : ''}`);
  }
  if (error.code === 'EACCES') return failure(`cannot execute ${path}: permission denied (is it executable, and its interpreter?)`);
  if (error.code === 'ENOEXEC') return failure(`cannot execute ${path}: not a binary and no #! line`);
  return failure(`cannot start ${path}: ${error.message}`);
}

function interpreterOf(path: string): string {
  try {
    const head = readFileSync(path, 'latin1').slice(0, 256);
    return head.startsWith('#!') ? (head.slice(2).split('\n')[0] ?? '').trim() : '';
  } catch {
    return '';
  }
}
