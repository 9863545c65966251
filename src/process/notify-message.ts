// What an sd_notify datagram says, read as systemd reads it: newline-separated
// KEY=VALUE lines, unknown keys ignored. Whatever arrives, nothing here
// throws: a datagram we cannot use becomes one `ignored` result with a reason.
import { quote } from '../log/escape.js';
import type { ProcRef } from '../vocabulary/proc-ref.js';
import { namedPid, strangerPid } from './pidfile.js';
import { descendsFrom, readStatDetail } from './proc.js';

export type NotifyResult =
  | { kind: 'ready' }
  | { kind: 'status'; text: string }
  | { kind: 'mainpid'; proc: ProcRef }
  | { kind: 'reloading' }
  | { kind: 'stopping' }
  | { kind: 'watchdog' }
  | { kind: 'ignored'; reason: string };

/** One datagram as the socket gives it. */
export interface NotifyDatagram {
  /** null when it was over the buffer (`truncated`): never half-read. */
  data: Buffer | null;
  size: number;
  truncated: boolean;
  /** The sender's credentials as the kernel checked them (pid 0: none came). */
  pid: number;
  uid: number;
}

/** A line as parsed, before any pid in it is looked at. */
export type NotifyLine = Exclude<NotifyResult, { kind: 'mainpid' }> | { kind: 'mainpid'; pid: number };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A short, quoted sample of what was sent, for a reason. */
const sample = (text: string): string => quote(text.length > 60 ? `${text.slice(0, 60)}...` : text);

/** Parse one datagram. MAINPID= comes first, as systemd applies it before READY=1 of the same datagram. */
export function parseNotify(data: Buffer): NotifyLine[] {
  if (data.includes(0)) return [{ kind: 'ignored', reason: `a datagram of ${data.length} bytes holds a NUL byte` }];
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    return [{ kind: 'ignored', reason: `a datagram of ${data.length} bytes is not UTF-8` }];
  }
  const lines: NotifyLine[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const equals = line.indexOf('=');
    if (equals <= 0) {
      lines.push({ kind: 'ignored', reason: `the line ${sample(line)} is not KEY=VALUE` });
      continue;
    }
    const parsed = parseLine(line.slice(0, equals), line.slice(equals + 1));
    if (parsed) lines.push(parsed);
  }
  return [...lines.filter((l) => l.kind === 'mainpid'), ...lines.filter((l) => l.kind !== 'mainpid')];
}

/** null: a key we do not use (FDSTORE=, ERRNO=, BARRIER=...), ignored quietly as systemd does. */
function parseLine(key: string, value: string): NotifyLine | null {
  const flag = (kind: 'ready' | 'reloading' | 'stopping' | 'watchdog'): NotifyLine | null =>
    value === '1' ? { kind } : { kind: 'ignored', reason: `${key}=${sample(value)}: only ${key}=1 means something` };
  switch (key) {
    case 'READY':
      return flag('ready');
    case 'RELOADING':
      return flag('reloading');
    case 'STOPPING':
      return flag('stopping');
    case 'WATCHDOG':
      return flag('watchdog');
    case 'STATUS':
      return { kind: 'status', text: value };
    case 'MAINPID':
      return /^\d{1,10}$/.test(value) ? { kind: 'mainpid', pid: Number(value) } : { kind: 'ignored', reason: `MAINPID=${sample(value)} is not a pid` };
    default:
      return null;
  }
}

/** Whose datagrams are believed: the service's, and those of a MAINPID= it gave. */
export interface NotifyTrust {
  /** The pid of `run` (the process we started). */
  pid: number;
  /** The profile's `user` (its uid), or null when the service runs as the supervisor. */
  uid: number | null;
  /** MAINPID= accepted so far: they and their descendants may notify too. */
  mainPids: number[];
}

const commOf = (pid: number): string => {
  const comm = readStatDetail(pid)?.comm;
  return comm === undefined ? '' : ` (${quote(comm)})`;
};

/** Why a sender is not believed, or null. Its process must still exist to be traced (as with systemd's cgroup lookup). */
function untrustedSender(pid: number, trust: NotifyTrust): string | null {
  if (pid <= 0) return 'a datagram without sender credentials';
  const roots = [trust.pid, ...trust.mainPids];
  if (roots.includes(pid) || roots.some((root) => descendsFrom(pid, root))) return null;
  const alive = readStatDetail(pid) !== null;
  return alive
    ? `a datagram from pid ${pid}${commOf(pid)}, which is neither the service (pid ${trust.pid}) nor one of its descendants`
    : `a datagram from pid ${pid}, which exited before it could be traced to the service (pid ${trust.pid})`;
}

/**
 * A pid file's rule: as root, a MAINPID= naming a process that is neither
 * the profile's user's nor from its run would let a service make us signal
 * any process.
 */
function mainPid(pid: number, trust: NotifyTrust): NotifyResult {
  const named = namedPid(pid, 'MAINPID=');
  if (!named.ok) return { kind: 'ignored', reason: named.reason };
  if (process.getuid?.() === 0) {
    const stranger = strangerPid(named.proc, { uid: trust.uid, runPid: trust.pid });
    if (stranger) return { kind: 'ignored', reason: `MAINPID= names ${stranger}${commOf(pid)}; not trusted` };
  }
  return { kind: 'mainpid', proc: named.proc };
}

/** Everything one datagram means for a service, sender checked. An accepted MAINPID= is added to trust.mainPids. */
export function interpretDatagram(datagram: NotifyDatagram, trust: NotifyTrust): NotifyResult[] {
  if (datagram.truncated || !datagram.data) {
    return [{ kind: 'ignored', reason: `a datagram of ${datagram.size} bytes from pid ${datagram.pid} is over the 4 KiB limit; dropped unread` }];
  }
  const lines = parseNotify(datagram.data);
  // Only keys we ignore quietly (BARRIER=1 of systemd-notify, whose sender may be gone the moment it is answered): nothing to trust.
  if (lines.length === 0) return [];
  const distrust = untrustedSender(datagram.pid, trust);
  if (distrust) return [{ kind: 'ignored', reason: distrust }];
  return lines.map((line) => {
    if (line.kind !== 'mainpid') return line;
    const result = mainPid(line.pid, trust);
    if (result.kind === 'mainpid' && !trust.mainPids.includes(result.proc.pid)) trust.mainPids.push(result.proc.pid);
    return result;
  });
}
