// Who is on the other end of a control socket connection: `uid N`, from the
// kernel's peer credentials (SO_PEERCRED: set at connect(2), not forgeable by
// the client). It becomes the `by` of the events the client's commands cause.
import type { Socket } from 'node:net';
import { loadNative } from '../process/native.js';

/** Without the native module Node cannot ask; the socket's mode 0600 still means our uid or root. */
export const UNKNOWN_PEER = 'control socket';

export function socketCaller(socket: Socket): string {
  const peerCred = loadNative()?.peerCred;
  // libuv's handle keeps the fd; Node exposes no public accessor for it.
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (!peerCred || typeof fd !== 'number' || fd < 0) return UNKNOWN_PEER;
  try {
    return `uid ${peerCred(fd).uid}`;
  } catch {
    return UNKNOWN_PEER;
  }
}
