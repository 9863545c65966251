// The options of `supervise` (and of the ProcLaunch shorthand), in one table:
// the parser, `supervise --help` and `--help`'s synopsis are all made from it,
// so an option cannot be accepted and left out of the help. Kept apart from
// supervise.ts so that printing help loads nothing of the supervisor.
import type { ParseArgsConfig } from 'node:util';

interface OptionSpec {
  type: 'boolean' | 'string';
  short?: string;
  /** What the value is called in the synopsis (string options). */
  value?: string;
  /** One line (continued lines start with a newline). */
  help: string;
  /** Not for people: the daemon's own re-exec. */
  hidden?: boolean;
}

export const SUPERVISE_OPTIONS = {
  foreground: { type: 'boolean', short: 'f', help: 'stay attached; log to stdout unless --log-path' },
  'log-level': { type: 'string', value: 'LEVEL', help: 'DEBUG, INFO (default), WARN, ERROR or FATAL (any case)' },
  debug: { type: 'boolean', short: 'D', help: 'same as --log-level DEBUG (ProcLaunch)' },
  'log-path': { type: 'string', value: 'FILE', help: "the supervisor's log (default when daemonized: STATE_DIR/proclaunch.log)" },
  'rescan-interval': { type: 'string', value: 'S', help: 'safety-net look at PROFILES_DIR every S seconds (default 300)' },
  hooks: { type: 'string', value: 'DIR', help: 'run every executable in DIR on each event, with PROCLAUNCH_EVENT,\nPROCLAUNCH_PROFILE, PROCLAUNCH_PID, ... (output: STATE_DIR/hooks.log)' },
  'hook-timeout': { type: 'string', value: 'S', help: "kill a hook's process group after S seconds (default 10)" },
  reaper: { type: 'boolean', help: 'reap orphaned grandchildren (always on as PID 1)' },
  http: { type: 'string', value: 'ADDR', help: 'serve the web page, the JSON API and /metrics on HOST:PORT, :PORT\n(loopback) or unix:PATH; tokens in STATE_DIR/http.token (docs/http.md)' },
  'daemon-child': { type: 'boolean', help: '', hidden: true },
} satisfies Record<string, OptionSpec>;

type Name = keyof typeof SUPERVISE_OPTIONS;
const visible = (Object.entries(SUPERVISE_OPTIONS) as Array<[Name, OptionSpec]>).filter(([, spec]) => !spec.hidden);

/** For node:util parseArgs. */
export const SUPERVISE_PARSE: NonNullable<ParseArgsConfig['options']> = Object.fromEntries(
  Object.entries(SUPERVISE_OPTIONS).map(([name, spec]: [string, OptionSpec]) => [name, spec.short ? { type: spec.type, short: spec.short } : { type: spec.type }]),
);

/** Whether `--name` / `-x` takes a value (the next word, unless written `--name=value`). */
export function takesValue(word: string): boolean {
  const long = word.startsWith('--') ? word.slice(2) : null;
  if (long !== null) return (SUPERVISE_OPTIONS as Record<string, OptionSpec>)[long]?.type === 'string';
  return visible.some(([, spec]) => spec.short === word.slice(1) && spec.type === 'string');
}

const bracket = ([name, spec]: [Name, OptionSpec]): string => `[--${name}${spec.value ? ` ${spec.value}` : ''}]`;

/** `proclaunch supervise [--foreground] … STATE_DIR PROFILES_DIR`, wrapped under 100 columns. */
function synopsis(): string {
  const lead = 'proclaunch supervise ';
  const lines = [lead];
  for (const word of [...visible.map(bracket), 'STATE_DIR', 'PROFILES_DIR']) {
    if (lines.at(-1)!.length + word.length > 92) lines.push(' '.repeat(lead.length));
    lines[lines.length - 1] += `${word} `;
  }
  return lines.map((l) => `  ${l.trimEnd()}`).join('\n');
}

function optionLines(): string {
  return visible
    .map(([name, spec]) => {
      const left = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.value ? ` ${spec.value}` : ''}`;
      const [first, ...rest] = spec.help.split('\n');
      return [`  ${left.padEnd(26)}${first}`, ...rest.map((r) => `${' '.repeat(28)}${r}`)].join('\n');
    })
    .join('\n');
}

export const SUPERVISE_USAGE = `Usage:
${synopsis()}
  proclaunch STATE_DIR PROFILES_DIR [options]     same as supervise (ProcLaunch style;
                                                  options before or after, --opt=value too)
  proclaunch fleet [-f HOSTS] [-H HOST,...] [-g GROUP] ... COMMAND   on many hosts over ssh (fleet --help)
  proclaunch --version | --help | COMMAND --help

supervise options:
${optionLines()}

Signals: TERM/INT stop every service then exit (a second one exits at once,
leaving services running); HUP reopens the log file and rescans.
`;

export const SUPERVISE_HELP = `${SUPERVISE_USAGE}
Daemonizes (STATE_DIR/proclaunch.pid) unless --foreground; a second one on the same
STATE_DIR says "already running" and exits 0. A missing PROFILES_DIR is waited for.
Exit codes: 0 done (or already running), 1 failed, 2 usage error, 70 internal error
(one FATAL line; services are left running for the next supervisor to re-adopt).
Example: proclaunch supervise --hooks /etc/proclaunch/hooks /var/lib/proclaunch /etc/proclaunch
`;
