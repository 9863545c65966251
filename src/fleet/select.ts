// Which hosts a fleet command runs on: the hosts file (-f, else $PROCLAUNCH_HOSTS, else
// ./hosts), narrowed to groups (-g), and/or hosts named on the command line (-H).
import { readFileSync } from 'node:fs';
import { parseHostSpec, parseHostsFile, type Host, type HostsFile } from './hosts-file.js';

export class SelectionError extends Error {}

export interface Selection {
  /** -f FILE, if given. */
  file?: string;
  /** -H HOST,HOST,... */
  hosts?: string[];
  /** -g GROUP,GROUP,... */
  groups?: string[];
}

function readHostsFile(path: string, explicit: boolean): HostsFile | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) return null;
    throw new SelectionError(`cannot read the hosts file ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message} (give -f FILE, $PROCLAUNCH_HOSTS, or -H HOST,...)`);
  }
  return parseHostsFile(text, path);
}

const list = (values: string[] | undefined): string[] => (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);

/** The hosts to run on, in hosts-file order, then those of -H that the file does not list. */
export function selectHosts(selection: Selection, env: NodeJS.ProcessEnv = process.env): Host[] {
  const named = list(selection.hosts);
  const groups = list(selection.groups);
  const path = selection.file ?? (env.PROCLAUNCH_HOSTS || './hosts');
  // A missing default file is fine when -H says which hosts; -f or -g need one.
  const file = readHostsFile(path, selection.file !== undefined || groups.length > 0 || named.length === 0);
  const known = file?.hosts ?? [];
  if (named.length === 0 && groups.length === 0) {
    if (known.length === 0) throw new SelectionError(`no hosts in ${path}`);
    return known;
  }
  const allGroups = new Set(known.flatMap((h) => h.groups));
  const missing = groups.filter((g) => !allGroups.has(g));
  if (missing.length > 0) {
    const have = [...allGroups].sort().join(', ') || 'none';
    throw new SelectionError(`no host in group ${missing.map((g) => JSON.stringify(g)).join(', ')} in ${path} (groups: ${have})`);
  }
  const chosen = known.filter((h) => h.groups.some((g) => groups.includes(g)));
  for (const spec of named) {
    const listed = known.find((h) => h.label === spec || h.hostname === spec);
    if (listed) {
      if (!chosen.includes(listed)) chosen.push(listed);
      continue;
    }
    const parsed = parseHostSpec(spec);
    if (typeof parsed === 'string') throw new SelectionError(`-H: ${parsed}`);
    if (chosen.some((h) => h.label === parsed.label)) continue;
    chosen.push({ ...parsed, groups: [], state: null, profiles: null, bin: null, line: null });
  }
  return chosen;
}
