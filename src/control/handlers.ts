// What each control command does, in terms of the supervisor's actors
// (start, stop, restart and reload: actions.ts).
import { timestamp } from '../log/logger.js';
import { listServiceProcesses } from '../process/ps.js';
import { parseSignal } from '../profile/signals.js';
import { globToRegExp, isGlob } from '../profile/names.js';
import type { EventLog } from '../supervisor/event-log.js';
import { loggerTag } from '../vocabulary/tags.js';
import type { ServiceSnapshot } from '../machine/service-machine.js';
import { stateName, stateText } from '../machine/state-name.js';
import type { Unmet } from '../needs/graph.js';
import { UP } from '../vocabulary/state-tags.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import { actOn, result } from './actions.js';
import type { ActionResult, Request, ServiceStatus } from './protocol.js';
import type { Handler, Reply } from './server.js';

export interface HandlerDeps {
  supervisor: Supervisor;
  eventLog: EventLog;
  /** Stop everything (unless leaveRunning) and exit; called after the reply is sent. */
  quit(leaveRunning: boolean): void;
  /** Named in the status reply: where a fleet deploys profiles to (absolute paths). */
  dirs?: { stateDir: string; profilesDir: string };
}

export function controlHandler(deps: HandlerDeps): Handler {
  const { supervisor } = deps;
  return async (request: Request, reply: Reply) => {
    switch (request.command) {
      case 'status': {
        const { names, unmatched } = select(supervisor.names(), request.names, false);
        const services = names.map((name) => serviceStatus(name, supervisor.actor(name)!.getSnapshot(), supervisor.waitingFor(name)));
        return reply.end({ ok: true, services, unmatched, ...deps.dirs });
      }
      case 'start':
      case 'stop':
      case 'restart':
      case 'reload': {
        // Stopping everything (SIGTERM, quit): a `finish` asking to start another service must not undo that.
        if (supervisor.shuttingDown && request.command !== 'stop') return reply.end({ ok: false, error: `the supervisor is shutting down: ${request.command} refused` });
        const { names, unmatched } = select(supervisor.names(), request.names, request.all);
        if (unmatched.length > 0) return reply.end({ ok: false, error: noMatch(unmatched) });
        const results = await actOn(supervisor, names, request.command, request);
        return reply.end({ ok: results.every((r) => r.ok), results });
      }
      case 'signal': {
        const signal = parseSignal(request.signal);
        if (signal === null) return reply.end({ ok: false, error: `unknown signal ${JSON.stringify(request.signal.slice(0, 40))}` });
        const { names, unmatched } = select(supervisor.names(), request.names, request.all);
        if (unmatched.length > 0) return reply.end({ ok: false, error: noMatch(unmatched) });
        const results = names.map((name) => sendSignal(supervisor, name, signal));
        return reply.end({ ok: results.every((r) => r.ok), results });
      }
      case 'logs': {
        const config = supervisor.actor(request.name)?.getSnapshot().context.config;
        if (!config) return reply.end({ ok: false, error: supervisor.actor(request.name) ? `${request.name}: profile invalid, no log known` : noMatch([request.name]) });
        if (config.logPipe) return reply.end({ ok: false, error: `${request.name}: its output goes to its logger ${loggerTag(config.name)} (log/run), which keeps it where it was told to; \`proclaunch logs ${loggerTag(config.name)}\` shows the logger's own output` });
        return reply.end({ ok: true, stdout: config.stdout, stderr: config.stderr });
      }
      case 'events': {
        const since = request.since === null ? null : new Date(request.since);
        if (!request.follow) return reply.end({ ok: true, events: deps.eventLog.read(since) });
        // Subscribe before reading the history, so nothing falls in between.
        const live: object[] = [];
        let streaming = false;
        const unsubscribe = deps.eventLog.subscribe((event) => (streaming ? reply.send({ event }) : live.push(event)));
        reply.onClose(unsubscribe);
        reply.send({ ok: true, events: deps.eventLog.read(since) });
        for (const event of live) reply.send({ event });
        streaming = true;
        return; // streams until the client hangs up
      }
      case 'ps': {
        const groups = supervisor.names().flatMap((profile) => {
          const proc = supervisor.actor(profile)!.getSnapshot().context.proc;
          return proc ? [{ profile, pgid: proc.pgid, leaderPid: proc.pid }] : [];
        });
        return reply.end({ ok: true, processes: listServiceProcesses(groups) });
      }
      case 'rescan':
        await supervisor.rescan();
        return reply.end({ ok: true });
      case 'quit':
        reply.end({ ok: true, message: request.leaveRunning ? 'exiting; services left running' : 'stopping every service, then exiting' });
        // Let the reply reach the client before the stop begins.
        setImmediate(() => deps.quit(request.leaveRunning));
        return;
    }
  };
}

const noMatch = (patterns: string[]): string => `no profile matches ${patterns.map((p) => JSON.stringify(p)).join(', ')}`;

/** Profiles named or matched by the patterns (all of them when `all`, or none given for status). */
export function select(known: string[], patterns: string[], all: boolean): { names: string[]; unmatched: string[] } {
  if (all || patterns.length === 0) return { names: known, unmatched: [] };
  const chosen = new Set<string>();
  const unmatched: string[] = [];
  for (const pattern of patterns) {
    const re = globToRegExp(pattern);
    // A profile name stands for all its instances: `worker` is worker@1 … worker@N.
    const hits = known.filter((name) => re.test(name) || (!isGlob(pattern) && name.startsWith(`${pattern}@`)));
    if (hits.length === 0) unmatched.push(pattern);
    for (const hit of hits) chosen.add(hit);
  }
  return { names: known.filter((name) => chosen.has(name)), unmatched };
}

/** `waiting`: the need it was last told it waits for (shown only while it waits: starting.waiting). */
export function serviceStatus(name: string, snapshot: ServiceSnapshot, waiting: Unmet | null, now = Date.now()): ServiceStatus {
  const { context } = snapshot;
  const [state, substate] = stateName(snapshot);
  const running = snapshot.hasTag(UP);
  const exit = context.lastExit;
  // A probe that still fails: `ready` while awaiting readiness (its last failure stays in context after), `health` until it passes.
  const last = context.lastProbe;
  const failing = last && (last.probe === 'health' || substate === 'awaitingReady') ? last : null;
  return {
    name,
    state,
    substate,
    pid: context.proc?.pid ?? null,
    since: running && context.runningSince !== null ? timestamp(new Date(context.runningSince)) : null,
    uptimeMs: running && context.runningSince !== null ? Math.max(0, now - context.runningSince) : null,
    restarts: context.restarts,
    lastExit: exit ? { pid: exit.pid, code: exit.code, signal: exit.signal, at: timestamp(new Date(exit.at)) } : null,
    reason: context.problem,
    held: context.want === 'down',
    down: context.config?.down ?? false,
    startsInMs: context.startsAt === null ? null : Math.max(0, context.startsAt - now),
    ready: running && substate !== 'reloading',
    status: context.notifyStatus,
    notifyStopping: context.notifyStopping && context.proc !== null,
    probe: failing && { kind: failing.probe, reason: failing.reason, inARow: failing.inARow, output: failing.output },
    waitingFor: state === 'starting' && substate === 'waiting' && waiting ? { ...waiting } : null,
  };
}

function sendSignal(supervisor: Supervisor, name: string, signal: NodeJS.Signals): ActionResult {
  const snapshot = supervisor.actor(name)!.getSnapshot();
  const pid = snapshot.context.proc?.pid;
  if (pid === undefined) return result(name, snapshot, false, `not running (${stateText(snapshot)})`);
  supervisor.command(name, { type: 'SIGNAL', signal });
  return result(name, snapshot, true, `sent ${signal} to pid ${pid}`);
}
