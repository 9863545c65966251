export const USAGE = `Usage:
  proclaunch supervise [--foreground] [--log-level LEVEL] [--log-path FILE] [--hooks DIR] [--reaper] STATE_DIR PROFILES_DIR
  proclaunch STATE_DIR PROFILES_DIR [options]     same as supervise (ProcLaunch style)
  proclaunch fleet [-f HOSTS] [-H HOST,...] [-g GROUP] ... COMMAND   on many hosts over ssh (fleet --help)
  proclaunch --version | --help

supervise options:
  --foreground        stay attached; log to stdout unless --log-path
  --log-level LEVEL   DEBUG, INFO (default), WARN, ERROR or FATAL
  --log-path FILE     the supervisor's log (default when daemonized: STATE_DIR/proclaunch.log)
  --rescan-interval S safety-net look at PROFILES_DIR every S seconds (default 300)
  --reaper            reap orphaned grandchildren (always on as PID 1)
  --hooks DIR         run every executable in DIR on each event, with PROCLAUNCH_EVENT,
                      PROCLAUNCH_PROFILE, PROCLAUNCH_PID, ... (output: STATE_DIR/hooks.log)
  --hook-timeout S    kill a hook's process group after S seconds (default 10)

Signals: TERM/INT stop every service then exit (a second one exits at once,
leaving services running); HUP reopens the log file and rescans.
`;

/** Exit codes of every command (SPEC). */
export const EXIT = { ok: 0, failed: 1, usage: 2, noSupervisor: 3 } as const;

export class UsageError extends Error {}

/** node:util parseArgs explains at length; the first sentence is the error. */
export const firstSentence = (message: string): string => message.replace(/(\.)\s.*$/s, '$1');
