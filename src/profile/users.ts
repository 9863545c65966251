import { readFileSync } from 'node:fs';
import { quote } from '../log/escape.js';

export interface ServiceUser {
  name: string;
  uid: number;
  gid: number;
  /** The group name or number given after `:`, else the user's primary group. */
  group: string | null;
  home: string;
  shell: string;
}

function readTable(path: string): string[][] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => line.split(':'));
  } catch {
    return [];
  }
}

/**
 * Resolve `USER` or `USER:GROUP` from /etc/passwd and /etc/group (numbers
 * accepted too). Local files only: we do not go through NSS (LDAP, sssd).
 */
export function resolveUser(spec: string): ServiceUser | string {
  const [userPart = '', groupPart] = spec.split(':', 2);
  const passwd = readTable('/etc/passwd');
  const entry = passwd.find((row) => row[0] === userPart) ?? (/^\d+$/.test(userPart) ? passwd.find((row) => row[2] === userPart) : undefined);
  if (!entry) return `unknown user ${quote(userPart)}`;
  let gid = Number(entry[3]);
  let group: string | null = null;
  if (groupPart !== undefined && groupPart !== '') {
    const groups = readTable('/etc/group');
    const row = groups.find((g) => g[0] === groupPart) ?? (/^\d+$/.test(groupPart) ? groups.find((g) => g[2] === groupPart) : undefined);
    if (!row && !/^\d+$/.test(groupPart)) return `unknown group ${quote(groupPart)}`;
    gid = row ? Number(row[2]) : Number(groupPart);
    group = groupPart;
  }
  return { name: entry[0] ?? userPart, uid: Number(entry[2]), gid, group, home: entry[5] || '/', shell: entry[6] || '/bin/sh' };
}

/** uid → login name from /etc/passwd (the first entry wins, as with getpwuid). Local file only, like resolveUser. */
export function userNames(): Map<number, string> {
  const names = new Map<number, string>();
  for (const row of readTable('/etc/passwd')) {
    const uid = Number(row[2]);
    if (row[0] && row[2] && Number.isInteger(uid) && !names.has(uid)) names.set(uid, row[0]);
  }
  return names;
}
