// What each control command does, in terms of the supervisor's actors
// (start, stop, restart and reload: actions.ts).
import { timestamp } from '../log/logger.js';
import { listServiceProcesses } from '../process/ps.js';
import { parseSignal } from '../profile/signals.js';
import { noProfileMatches, PatternError, selectNames } from '../profile/names.js';
import { logSourceOf } from '../output/log-source.js';
import { eventFilter, selectEvents, type EventLog } from '../supervisor/event-log.js';
import type { EventRecord } from '../supervisor/events.js';
import { loggerTag } from '../vocabulary/tags.js';
import type { ServiceSnapshot } from '../machine/service-machine.js';
import { stateName, stateText } from '../machine/state-name.js';
import type { Unmet } from '../needs/graph.js';
import { UP } from '../vocabulary/state-tags.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import { actOn, result } from './actions.js';
import { groupOf, skippedRow, withExtras } from './status-extras.js';
import type { ActionResult, Request, ServiceStatus } from './protocol.js';
import type { Handler, Reply } from './server.js';

export interface HandlerDeps {
  supervisor: Supervisor;
  eventLog: EventLog;
  /** Stop everything (unless leaveRunning) and exit; called after the reply is sent. `by`: who asked. */
  quit(leaveRunning: boolean, by: string): void;
  /** Named in the status reply: where a fleet deploys profiles to (absolute paths). */
  dirs?: { stateDir: string; profilesDir: string };
}

export function controlHandler(deps: HandlerDeps): Handler {
  return async (request: Request, reply: Reply, by: string) => {
    try {
      await handle(deps, request, reply, by);
    } catch (error) {
      // `stop 'web['`: the request names nothing; say why (anything else is the server's internal error).
      if (!(error instanceof PatternError)) throw error;
      reply.end({ ok: false, error: error.message });
    }
  };
}

async function handle(deps: HandlerDeps, request: Request, reply: Reply, by: string): Promise<void> {
  const { supervisor } = deps;
  switch (request.command) {
    case 'status': {
      const { names, unmatched } = select([...supervisor.names(), ...supervisor.badNames()], request.names, false);
      const rows = names.map((name) => {
        const actor = supervisor.actor(name);
        return actor ? serviceStatus(name, actor.getSnapshot(), supervisor.waitingFor(name)) : skippedRow(name);
      });
      return reply.end({ ok: true, services: withExtras(supervisor, rows, { usage: request.usage !== false, detail: request.detail === true }), unmatched, ...deps.dirs });
    }
    case 'start':
    case 'stop':
    case 'restart':
    case 'reload': {
      // Stopping everything (SIGTERM, quit): a `finish` asking to start another service must not undo that.
      if (supervisor.shuttingDown && request.command !== 'stop') return reply.end({ ok: false, error: `the supervisor is shutting down: ${request.command} refused` });
      const { names, unmatched } = select(supervisor.names(), request.names, request.all);
      if (unmatched.length > 0) return reply.end({ ok: false, error: noProfileMatches(unmatched), unmatched });
      const results = await actOn(supervisor, names, request.command, { ...request, by });
      return reply.end({ ok: results.every((r) => r.ok), results });
    }
    case 'signal': {
      const signal = parseSignal(request.signal);
      if (signal === null) return reply.end({ ok: false, error: `unknown signal ${JSON.stringify(request.signal.slice(0, 40))}` });
      const { names, unmatched } = select(supervisor.names(), request.names, request.all);
      if (unmatched.length > 0) return reply.end({ ok: false, error: noProfileMatches(unmatched), unmatched });
      const results = names.map((name) => sendSignal(supervisor, name, signal, by));
      return reply.end({ ok: results.every((r) => r.ok), results });
    }
    case 'logs': {
      if (request.name === null) {
        const { names, unmatched } = select(supervisor.names(), request.names ?? [], false);
        if (unmatched.length > 0) return reply.end({ ok: false, error: noProfileMatches(unmatched), unmatched });
        const services = names.map((name) => {
          const { context } = supervisor.actor(name)!.getSnapshot();
          return logSourceOf(name, context.config, context.problem);
        });
        return reply.end({ ok: true, services });
      }
      const config = supervisor.actor(request.name)?.getSnapshot().context.config;
      if (!config) return reply.end(supervisor.actor(request.name) ? { ok: false, error: `${request.name}: profile invalid, no log known` } : { ok: false, error: noProfileMatches([request.name]), unmatched: [request.name] });
      if (config.logPipe) return reply.end({ ok: false, error: `${request.name}: its output goes to its logger ${loggerTag(config.name)} (log/run), which keeps it where it was told to; \`proclaunch logs ${loggerTag(config.name)}\` shows the logger's own output` });
      return reply.end({ ok: true, stdout: config.stdout, stderr: config.stderr });
    }
    case 'events': {
      const since = request.since === null ? null : new Date(request.since);
      const query = { names: request.names ?? [], since, last: request.last ?? null };
      const wanted = eventFilter(query.names);
      // Subscribe before reading the history, so nothing falls in between.
      const live: EventRecord[] = [];
      let streaming = false;
      const unsubscribe = request.follow
        ? deps.eventLog.subscribe((event) => {
            if (!wanted(event)) return;
            if (streaming) reply.send({ event });
            else live.push(event);
          })
        : () => undefined;
      const { events, unmatched } = selectEvents(deps.eventLog.read(), query, supervisor.names());
      if (unmatched.length > 0) {
        unsubscribe();
        return reply.end({ ok: false, error: noProfileMatches(unmatched), unmatched });
      }
      if (!request.follow) return reply.end({ ok: true, events });
      reply.onClose(unsubscribe);
      reply.send({ ok: true, events });
      for (const event of live) reply.send({ event });
      streaming = true;
      return; // streams until the client hangs up
    }
    case 'ps': {
      const { names, unmatched } = select(supervisor.names(), request.names ?? [], false);
      if (unmatched.length > 0) return reply.end({ ok: false, error: noProfileMatches(unmatched), unmatched });
      const groups = names.flatMap((name) => groupOf(supervisor, name) ?? []);
      return reply.end({ ok: true, processes: listServiceProcesses(groups) });
    }
    case 'rescan':
      await supervisor.rescan();
      return reply.end({ ok: true });
    case 'quit':
      reply.end({ ok: true, message: request.leaveRunning ? 'exiting; services left running' : 'stopping every service, then exiting' });
      // Let the reply reach the client before the stop begins.
      setImmediate(() => deps.quit(request.leaveRunning, by));
      return;
  }
}

/** Profiles named or matched by the patterns (all of them when `all`, or none given for status). Throws PatternError. */
export function select(known: string[], patterns: string[], all: boolean): { names: string[]; unmatched: string[] } {
  return selectNames(known, all ? [] : patterns);
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
    // Filled in by the status request (one /proc scan for all): withExtras.
    rssBytes: null,
    cpuSeconds: null,
  };
}

function sendSignal(supervisor: Supervisor, name: string, signal: NodeJS.Signals, by: string): ActionResult {
  const snapshot = supervisor.actor(name)!.getSnapshot();
  const pid = snapshot.context.proc?.pid;
  if (pid === undefined) return result(name, snapshot, false, `not running (${stateText(snapshot)})`);
  supervisor.command(name, { type: 'SIGNAL', signal }, by);
  return result(name, snapshot, true, `sent ${signal} to pid ${pid}`);
}
