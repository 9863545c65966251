// The commands that drive a running supervisor through its control socket:
// parse the command line, send one request, print the answer.
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ask, converse, NoSupervisorError } from '../control/client.js';
import type { ActionResult, ServiceStatus } from '../control/protocol.js';
import { escapeValue } from '../log/escape.js';
import { parseSignal } from '../profile/signals.js';
import type { PsRow } from '../process/ps.js';
import { DEFAULT_PS_FORMAT, formatPs, parsePsFormat } from './ps-format.js';
import type { EventRecord } from '../supervisor/events.js';
import { CHECK_EXIT, evaluateCheck, parseThreshold } from './check.js';
import { formatEvent, formatResults, formatStatus, useColour } from './format.js';
import { follow, tail } from './tail.js';
import { EXIT, UsageError, firstSentence } from './usage.js';

export const CONTROL_COMMANDS = ['status', 'start', 'stop', 'restart', 'reload', 'signal', 'logs', 'events', 'ps', 'rescan', 'quit', 'check'] as const;
export type ControlCommand = (typeof CONTROL_COMMANDS)[number];

const COMMON = { state: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

const OPTIONS = {
  status: {},
  start: { all: { type: 'boolean' }, 'no-wait': { type: 'boolean' }, timeout: { type: 'string' } },
  stop: { all: { type: 'boolean' }, 'no-wait': { type: 'boolean' }, timeout: { type: 'string' } },
  restart: { all: { type: 'boolean' }, 'no-wait': { type: 'boolean' }, timeout: { type: 'string' }, rolling: { type: 'boolean' } },
  reload: { all: { type: 'boolean' } },
  signal: { all: { type: 'boolean' } },
  logs: { follow: { type: 'boolean', short: 'f' }, lines: { type: 'string', short: 'n' } },
  events: { follow: { type: 'boolean', short: 'f' }, since: { type: 'string' } },
  ps: { format: { type: 'string', short: 'o' } },
  rescan: {},
  quit: { 'leave-running': { type: 'boolean' } },
  check: { warning: { type: 'string', short: 'w' }, critical: { type: 'string', short: 'c' } },
} satisfies Record<ControlCommand, ParseArgsConfig['options']>;

export const CONTROL_USAGE = `Control commands (talk to the supervisor of --state DIR, else $PROCLAUNCH_STATE, else ./state):
  proclaunch status [NAME|GLOB ...] [--json]        exit 0 if every named profile runs, 3 if not
  proclaunch start|stop|restart NAME|GLOB ... | --all [--no-wait] [--timeout S]
                                                     start/restart: until ready
  proclaunch restart --rolling NAME|GLOB ...         one at a time, each ready first
  proclaunch reload NAME|GLOB ... | --all            send the profile's reload signal (default SIGHUP)
  proclaunch signal SIG NAME|GLOB ... | --all
  proclaunch logs NAME [-f] [-n LINES]               the service's captured output
  proclaunch events [-f] [--since TIME] [--json]     TIME: ISO 8601, or 30s, 10m, 2h, 1d ago
  proclaunch ps [-o pid,user,rss,pcpu,elapsed,args] [--json]
  proclaunch check [-w N|N%] [-c N|N%] [NAME|GLOB ...]   Nagios plugin; thresholds on services down
  proclaunch rescan
  proclaunch quit [--leave-running]
Exit codes: 0 done, 1 failed, 2 usage error, 3 no supervisor (status: not running).
`;

function stateDirOf(value: string | undefined): string {
  return resolve(value ?? process.env.PROCLAUNCH_STATE ?? './state');
}

function seconds(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`${what} must be a number of seconds, not ${JSON.stringify(text)}`);
  return value * 1000;
}

/** ISO 8601, or a duration ago: 90s, 10m, 2h, 1d. */
export function parseSince(text: string, now = Date.now()): string | null {
  const ago = /^(\d+)([smhd])$/.exec(text.trim());
  if (ago) return new Date(now - Number(ago[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2] as 's' | 'm' | 'h' | 'd']).toISOString();
  return Number.isNaN(Date.parse(text)) ? null : new Date(Date.parse(text)).toISOString();
}

const out = (text: string) => process.stdout.write(text);
const fail = (message: string) => process.stderr.write(`proclaunch: ${escapeValue(message)}\n`);

/** A reply with ok: false is a failed command: one line on stderr, exit 1. */
function failed(reply: Record<string, unknown>): boolean {
  if (reply.ok === false) {
    fail(String(reply.error ?? 'failed'));
    return true;
  }
  return false;
}

export async function control(command: ControlCommand, argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { ...COMMON, ...OPTIONS[command] } });
  } catch (error) {
    if (command === 'check') return checkUnknown(`usage: ${(error as Error).message}`);
    throw new UsageError(`${command}: ${firstSentence((error as Error).message)}`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) {
    out(CONTROL_USAGE);
    return EXIT.ok;
  }
  const stateDir = stateDirOf(values.state as string | undefined);
  const json = values.json === true;
  try {
    return await run(command, stateDir, parsed.positionals, values, json);
  } catch (error) {
    if (command === 'check') return checkUnknown((error as Error).message);
    if (error instanceof NoSupervisorError) {
      fail(error.message);
      return EXIT.noSupervisor;
    }
    throw error;
  }
}

function checkUnknown(message: string): number {
  out(`PROCLAUNCH UNKNOWN - ${escapeValue(message)}\n`);
  return CHECK_EXIT.UNKNOWN;
}

async function run(command: ControlCommand, stateDir: string, names: string[], values: Record<string, string | boolean | undefined>, json: boolean): Promise<number> {
  const colour = useColour(process.stdout);
  switch (command) {
    case 'status': {
      const reply = await ask(stateDir, { command, names });
      if (failed(reply)) return EXIT.failed;
      const services = reply.services as ServiceStatus[];
      const unmatched = reply.unmatched as string[];
      out(json ? `${JSON.stringify(services)}\n` : formatStatus(services, colour));
      for (const pattern of unmatched) fail(`no profile matches ${JSON.stringify(pattern)}`);
      // LSB: `status web || alert` — 3 when anything named is not running.
      if (names.length > 0 && (unmatched.length > 0 || services.some((s) => s.state !== 'running'))) return EXIT.noSupervisor;
      return EXIT.ok;
    }
    case 'start':
    case 'stop':
    case 'restart':
    case 'reload':
    case 'signal': {
      const all = values.all === true;
      let signal: string | undefined;
      if (command === 'signal') {
        signal = names.shift();
        if (!signal) throw new UsageError('signal: give a signal, then profile names (or --all)');
        if (!parseSignal(signal)) throw new UsageError(`signal: unknown signal ${JSON.stringify(signal)}`);
      }
      if (names.length === 0 && !all) throw new UsageError(`${command}: give profile names or globs, or --all`);
      if (all && names.length > 0) throw new UsageError(`${command}: give profile names or --all, not both`);
      const request: Record<string, unknown> = { command, names, all };
      if (signal !== undefined) request.signal = signal;
      if (command === 'start' || command === 'stop' || command === 'restart') {
        request.wait = values['no-wait'] !== true;
        if (values.rolling === true) {
          if (!request.wait) throw new UsageError('restart: --rolling waits for each instance to be ready: not with --no-wait');
          request.rolling = true;
        }
        const timeoutMs = seconds(values.timeout as string | undefined, '--timeout');
        if (timeoutMs !== undefined) request.timeoutMs = timeoutMs;
      }
      const reply = await ask(stateDir, request);
      if (!Array.isArray(reply.results)) return failed(reply) ? EXIT.failed : EXIT.ok;
      const results = reply.results as ActionResult[];
      out(json ? `${JSON.stringify(results)}\n` : formatResults(results, colour));
      return results.every((r) => r.ok) ? EXIT.ok : EXIT.failed;
    }
    case 'logs':
      return logs(stateDir, names, values);
    case 'events': {
      const since = values.since === undefined ? null : parseSince(values.since as string);
      if (since === null && values.since !== undefined) throw new UsageError(`events: --since takes an ISO 8601 time or 30s, 10m, 2h, 1d`);
      const print = (e: EventRecord) => out(json ? `${JSON.stringify(e)}\n` : formatEvent(e));
      let status: number = EXIT.ok;
      await converse(stateDir, { command, since, follow: values.follow === true }, (message) => {
        if (failed(message)) return (status = EXIT.failed), true;
        if (Array.isArray(message.events)) (message.events as EventRecord[]).forEach(print);
        if (message.event) print(message.event as EventRecord);
        return values.follow !== true;
      }).catch((error: Error) => {
        if (values.follow === true && !(error instanceof NoSupervisorError)) return; // the supervisor went away
        throw error;
      });
      return status;
    }
    case 'ps': {
      const columns = values.format === undefined ? DEFAULT_PS_FORMAT : parsePsFormat(values.format as string);
      if (typeof columns === 'string') throw new UsageError(`ps: ${columns}`);
      const reply = await ask(stateDir, { command });
      if (failed(reply)) return EXIT.failed;
      const rows = reply.processes as PsRow[];
      out(json ? `${JSON.stringify(rows)}\n` : formatPs(rows, columns));
      return EXIT.ok;
    }
    case 'rescan':
    case 'quit': {
      const reply = await ask(stateDir, command === 'quit' ? { command, leaveRunning: values['leave-running'] === true } : { command });
      if (failed(reply)) return EXIT.failed;
      if (typeof reply.message === 'string') out(`${escapeValue(reply.message)}\n`);
      return EXIT.ok;
    }
    case 'check': {
      const warning = values.warning === undefined ? { value: 0, percent: false } : parseThreshold(values.warning as string);
      const critical = values.critical === undefined ? null : parseThreshold(values.critical as string);
      if (!warning || (values.critical !== undefined && !critical)) return checkUnknown('usage: -w and -c take N or N% (services down)');
      const reply = await ask(stateDir, { command: 'status', names });
      if (reply.ok !== true) return checkUnknown(String(reply.error));
      if ((reply.unmatched as string[]).length > 0) return checkUnknown(`no profile matches ${(reply.unmatched as string[]).map((p) => JSON.stringify(p)).join(', ')}`);
      const { status, line } = evaluateCheck(reply.services as ServiceStatus[], warning, critical);
      out(`${line}\n`);
      return CHECK_EXIT[status];
    }
  }
}

async function logs(stateDir: string, names: string[], values: Record<string, string | boolean | undefined>): Promise<number> {
  if (names.length !== 1) throw new UsageError('logs: give exactly one profile name');
  const lines = values.lines === undefined ? 10 : Number(values.lines);
  if (!Number.isInteger(lines) || lines < 0) throw new UsageError(`logs: -n takes a number of lines, not ${JSON.stringify(values.lines)}`);
  const reply = await ask(stateDir, { command: 'logs', name: names[0] });
  if (failed(reply)) return EXIT.failed;
  // The supervisor only says where; we read the file ourselves (it never copies output).
  const path = reply.stdout as string;
  const { text, end } = await tail(path, lines);
  out(text);
  if (values.follow !== true) return EXIT.ok;
  const following = follow(path, end, (chunk) => process.stdout.write(chunk));
  await new Promise<void>((done) => {
    const stop = () => {
      following.stop();
      done();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    process.stdout.once('error', stop); // `| head` closed the pipe
  });
  return EXIT.ok;
}
