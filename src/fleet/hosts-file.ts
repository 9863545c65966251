// The hosts file: one host per line, `[USER@]HOST[:PORT] [GROUP ...] [state=DIR]
// [profiles=DIR] [bin=PATH]`, `#` comments (minos's groups of heterogeneous machines).
// Every bad line is reported with its number and the reason; nothing is guessed.
import { PROFILE_NAME } from '../profile/names.js';

export interface Host {
  /** As written (`deploy@web1:2222`): the HOST column, and how -H names it. */
  label: string;
  user: string | null;
  /** A name, an address, or an ssh_config alias. */
  hostname: string;
  port: number | null;
  groups: string[];
  /** The remote STATE_DIR (`--state`), else the remote's own default. */
  state: string | null;
  /** The remote PROFILES_DIR for deploy, else asked of the remote supervisor. */
  profiles: string | null;
  /** The remote proclaunch command (else `proclaunch`). */
  bin: string | null;
  /** Where it was read (line number), for messages; null for a host given with -H. */
  line: number | null;
}

const SETTINGS = ['state', 'profiles', 'bin'] as const;
type Setting = (typeof SETTINGS)[number];

const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const USER = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const IPV6 = /^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$/;

/** `[USER@]HOST[:PORT]`, `[USER@][V6ADDR]:PORT`: the host's fields, or why not. */
export function parseHostSpec(spec: string): Pick<Host, 'label' | 'user' | 'hostname' | 'port'> | string {
  let rest = spec;
  let user: string | null = null;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!USER.test(user)) return `bad user name ${JSON.stringify(user)} in ${JSON.stringify(spec)}`;
  }
  let hostname = rest;
  let portText: string | null = null;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) return `unclosed [ in ${JSON.stringify(spec)}`;
    hostname = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return `unexpected ${JSON.stringify(after)} after ] in ${JSON.stringify(spec)}`;
    if (after) portText = after.slice(1);
    if (!IPV6.test(hostname)) return `bad address ${JSON.stringify(hostname)} in ${JSON.stringify(spec)}`;
  } else {
    const colon = rest.indexOf(':');
    if (colon >= 0) {
      hostname = rest.slice(0, colon);
      portText = rest.slice(colon + 1);
    }
    if (!NAME.test(hostname)) return hostname === '' ? `no host name in ${JSON.stringify(spec)}` : `bad host name ${JSON.stringify(hostname)} (letters, digits, . _ -; an IPv6 address goes in [ ])`;
  }
  let port: number | null = null;
  if (portText !== null) {
    port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535)) return `bad port ${JSON.stringify(portText)} in ${JSON.stringify(spec)} (1 to 65535)`;
  }
  return { label: spec, user, hostname, port };
}

export interface HostsFile {
  path: string;
  hosts: Host[];
}

export class HostsFileError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

/** Parse the text of a hosts file; throws HostsFileError with one `PATH:LINE: reason` per bad line. */
export function parseHostsFile(text: string, path: string): HostsFile {
  const hosts: Host[] = [];
  const problems: string[] = [];
  const seen = new Map<string, number>();
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const problem = (reason: string) => problems.push(`${path}:${line}: ${reason}`);
    const words = raw.replace(/#.*$/, '').trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) return;
    const spec = parseHostSpec(words[0]!);
    if (typeof spec === 'string') return problem(spec);
    const host: Host = { ...spec, groups: [], state: null, profiles: null, bin: null, line };
    for (const word of words.slice(1)) {
      const eq = word.indexOf('=');
      if (eq < 0) {
        if (!PROFILE_NAME.test(word)) return problem(`bad group name ${JSON.stringify(word)} (letters, digits, . _ -)`);
        if (!host.groups.includes(word)) host.groups.push(word);
        continue;
      }
      const key = word.slice(0, eq);
      const value = word.slice(eq + 1);
      if (!(SETTINGS as readonly string[]).includes(key)) return problem(`unknown setting ${JSON.stringify(`${key}=`)} (known: state=, profiles=, bin=)`);
      if (value === '') return problem(`${key}= needs a value`);
      if (host[key as Setting] !== null) return problem(`${key}= given twice`);
      host[key as Setting] = value;
    }
    const first = seen.get(host.label);
    if (first !== undefined) return problem(`${host.label} is already on line ${first}`);
    seen.set(host.label, line);
    hosts.push(host);
  });
  if (problems.length > 0) throw new HostsFileError(problems);
  return { path, hosts };
}
