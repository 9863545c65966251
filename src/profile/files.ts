// How a profile's files are read: plain syscalls. A profile is a handful of
// small local files; statSync or a read is ~5 µs each, while each
// fs/promises call cost ~30–50 µs of main-thread work (a request, a promise,
// a callback from the thread pool): ~0.4 ms a profile, 0.2 s of a bulk start
// of 500 (issue 16). The async shape stays, for the readers' sake. Only
// regular files are read (opened O_NONBLOCK, checked with fstat): a FIFO or a
// device named like a profile file must not block the supervisor. A profiles
// directory on a filesystem that hangs (a dead NFS server) blocks it while
// it is read, as it would block s6-svscan.
import { closeSync, constants, fstatSync, openSync, readdirSync, readFileSync, statSync, type Stats } from 'node:fs';

export const stat = async (path: string): Promise<Stats> => statSync(path);
export const readdir = async (path: string): Promise<string[]> => readdirSync(path);

export function readFile(path: string): Promise<Buffer>;
export function readFile(path: string, encoding: 'utf8'): Promise<string>;
export async function readFile(path: string, encoding?: 'utf8'): Promise<Buffer | string> {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = fstatSync(fd);
    if (info.isDirectory()) throw Object.assign(new Error(`${path} is a directory`), { code: 'EISDIR' });
    if (!info.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'EINVAL' });
    return encoding ? readFileSync(fd, encoding) : readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}
