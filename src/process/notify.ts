// The `notify` profile file: systemd's sd_notify protocol. Each such profile
// gets a datagram socket of its own, bound to an abstract name (no file, no
// 108-byte path limit), named to the service by NOTIFY_SOCKET=@proclaunch/ID.
// Node has no Unix datagram sockets: native/notify.c reads them.
//
// The socket lives as long as the profile, not one run: the service needs its
// address at spawn, and keeps it when the supervisor is replaced. So ID is
// random but kept in STATE_DIR/notify/TAG, and the next supervisor binds the
// same name again (a datagram sent while none runs is lost: datagram sockets
// hold nothing without a reader).
//
// A run is listened to by one actor of the machine after another (while it
// awaits readiness, while it runs, while it stops). The run (its pid, and
// the MAINPID= it gave) is kept by the socket, not by the listener: what it
// sends between two listeners is read at once, against its trust, and kept
// (a few results) for the next one, and a MAINPID= stays trusted.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { interpretDatagram, type NotifyDatagram, type NotifyResult, type NotifyTrust } from './notify-message.js';
import { loadNative, nativeUnavailableReason, type NotifyBinding } from './native.js';

export type { NotifyDatagram, NotifyResult } from './notify-message.js';

export interface NotifySocket {
  /** For NOTIFY_SOCKET: `@proclaunch/ID` (`@`: the abstract namespace). */
  readonly address: string;
  close(): void;
}

/** Why `notify` cannot work here (one line, the profile's invalid reason), or null when it can. */
export function notifySupport(): string | null {
  const native = loadNative();
  if (!native) return `notify needs the native module (Node has no Unix datagram sockets): ${nativeUnavailableReason()}`;
  if (!native.notify) return 'notify needs the native module built with native/notify.c: rebuild it (npm run install)';
  return null;
}

function binding(): NotifyBinding {
  const problem = notifySupport();
  if (problem) throw Object.assign(new Error(problem), { code: 'ENOSYS' });
  return loadNative()!.notify!;
}

const ID = /^[0-9a-f]{32}$/;
const randomId = (): string => randomBytes(16).toString('hex');

/**
 * Bind `@proclaunch/ID` (ID: 32 hex digits, random unless given) and call
 * `onDatagram` for each datagram, from the event loop; the socket does not
 * keep the loop alive. Throws an Error with .code: ENOSYS (and the reason of
 * notifySupport()) without the native module, EADDRINUSE when the name is
 * taken.
 */
export function openNotifySocket(onDatagram: (datagram: NotifyDatagram) => void, id = randomId()): NotifySocket {
  if (!ID.test(id)) throw Object.assign(new TypeError(`notify socket id ${id} is not 32 hex digits`), { code: 'ERR_INVALID_ARG_VALUE' });
  const native = binding();
  const name = `proclaunch/${id}`;
  const handle = native.notifyOpen(name, (data, pid, uid, _gid, size, truncated) => onDatagram({ data, pid, uid, size, truncated }));
  return { address: `@${name}`, close: () => void native.notifyClose(handle) };
}

/** The run the socket is for: whose datagrams are believed, and what came while nobody listened. */
interface Run {
  trust: NotifyTrust;
  waiting: NotifyResult[];
}

interface Held {
  socket: NotifySocket;
  /** The service's current run, from its spawn (or the first listener) on; null before. */
  run: Run | null;
  /** Who is told now, if anyone. */
  listener: ((result: NotifyResult) => void) | null;
  /** Not yet given to a launch: the kept name was taken (see HeldNotify). */
  warning: string | null;
}

/** Results kept for the next listener: a gap between two listeners is one tick; only a flood overflows it (the oldest go). */
const MAX_WAITING = 32;

/** Address → the socket we hold for a profile. */
const held = new Map<string, Held>();
/** STATE_DIR + tag → address, so that holding twice binds once. */
const addresses = new Map<string, string>();

/** Notify sockets held for profiles of STATE_DIR (for tests: nothing of a released name may stay). */
export const notifySocketsOf = (stateDir: string): number => [...addresses.keys()].filter((key) => key.startsWith(`${stateDir}\0`)).length;

export const notifyIdPath = (stateDir: string, tag: string): string => join(stateDir, 'notify', tag);

function keptId(path: string): string | null {
  try {
    const id = readFileSync(path, 'latin1').trim();
    return ID.test(id) ? id : null;
  } catch {
    return null;
  }
}

function keepId(path: string, id: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(`${path}.new`, `${id}\n`, { mode: 0o600 });
  chmodSync(`${path}.new`, 0o600);
  renameSync(`${path}.new`, path);
}

export interface HeldNotify {
  /** NOTIFY_SOCKET for the service. */
  address: string;
  /** Set when the kept name was taken (another process bound it): a new one was made, which a running service does not know. */
  warning: string | null;
}

/**
 * The socket of profile `tag`, bound now if it is not yet: the same name as
 * the last supervisor's when that is free. Idempotent; the warning (a kept
 * name taken) is given once. Throws an Error whose message is the reason (no
 * native module, cannot bind, cannot keep the id).
 */
export function holdNotifySocket(stateDir: string, tag: string): HeldNotify {
  const entry = bound(stateDir, tag);
  const { warning } = entry;
  entry.warning = null;
  return { address: entry.socket.address, warning };
}

/**
 * Bind the socket of profile `tag` ahead of its start (while it waits for its
 * needs): its launch then finds it bound, and says its warning, if any.
 * Idempotent; throws as holdNotifySocket.
 */
export function bindNotifySocket(stateDir: string, tag: string): void {
  bound(stateDir, tag);
}

function bound(stateDir: string, tag: string): Held {
  const key = `${stateDir}\0${tag}`;
  const known = addresses.get(key);
  if (known) return heldAt(known);
  const path = notifyIdPath(stateDir, tag);
  const kept = keptId(path);
  let warning: string | null = null;
  let entry: Held | null = null;
  const open = (id: string): NotifySocket =>
    openNotifySocket((datagram) => {
      const run = entry?.run;
      if (!entry || !run) return; // no run yet: nobody to believe, as systemd drops a dead unit's notifications
      for (const result of interpretDatagram(datagram, run.trust)) {
        if (entry.listener) entry.listener(result);
        else if (run.waiting.push(result) > MAX_WAITING) run.waiting.shift();
      }
    }, id);
  let socket: NotifySocket;
  try {
    socket = open(kept ?? randomId());
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || kept === null) throw error;
    socket = open(randomId());
    warning = `the notify socket @proclaunch/${kept} is taken by another process; the service now gets ${socket.address}`;
  }
  try {
    if (socket.address !== `@proclaunch/${kept}`) keepId(path, socket.address.slice('@proclaunch/'.length));
  } catch (error) {
    socket.close();
    throw new Error(`cannot keep the notify socket's name in ${path}: ${(error as Error).message}`);
  }
  entry = { socket, run: null, listener: null, warning };
  held.set(socket.address, entry);
  addresses.set(key, socket.address);
  return entry;
}

const heldAt = (address: string): Held => {
  const entry = held.get(address);
  if (!entry) throw new Error(`the notify socket ${address} is not open`);
  return entry;
};

/** Is `pid` the socket's current run (its `run`, or a MAINPID= it gave)? Else it becomes the run, afresh. */
function runOf(entry: Held, run: { pid: number; uid: number | null }): Run {
  const current = entry.run;
  if (current && (current.trust.pid === run.pid || current.trust.mainPids.includes(run.pid))) return current;
  return (entry.run = { trust: { pid: run.pid, uid: run.uid, mainPids: [] }, waiting: [] });
}

/**
 * A run was just spawned (call it in the same tick): from now on its
 * datagrams are read, and kept until watchNotify attaches a listener.
 */
export function expectNotifyRun(address: string, run: { pid: number; uid: number | null }): void {
  runOf(heldAt(address), run);
}

/**
 * Listen for the run whose pid is `pid` (its `run`, or a MAINPID= it gave):
 * `onResult` for each line of each datagram from it or its descendants (or
 * from a MAINPID= it gave), and an `ignored` result with the reason for
 * anything else; what came since the run was expected, or since its last
 * listener stopped, comes first (in the next tick). One listener per socket:
 * a new one replaces the last. A pid that is not the current run's starts a
 * new run (nothing sent before is kept). Returns the function that stops it.
 */
export function watchNotify(address: string, run: { pid: number; uid: number | null }, onResult: (result: NotifyResult) => void): () => void {
  const entry = heldAt(address);
  const current = runOf(entry, run);
  const listener = (result: NotifyResult): void => onResult(result);
  entry.listener = listener;
  if (current.waiting.length > 0) {
    process.nextTick(() => {
      if (entry.listener !== listener || entry.run !== current) return; // replaced meanwhile: they stay for the next
      for (const result of current.waiting.splice(0)) listener(result);
    });
  }
  return () => {
    if (entry.listener === listener) entry.listener = null;
  };
}

/** The profile is gone and its service stopped: close its socket and forget its name. */
export function releaseNotifySocket(stateDir: string, tag: string): void {
  const key = `${stateDir}\0${tag}`;
  const address = addresses.get(key);
  addresses.delete(key);
  if (address) held.get(address)?.socket.close();
  if (address) held.delete(address);
  rmSync(notifyIdPath(stateDir, tag), { force: true });
}
