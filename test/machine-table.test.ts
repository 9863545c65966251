// scripts/machine-table.mjs prints the service machine as rows read from the
// machine itself; this checks that the rows cover the whole chart — every
// state, every event the machine handles, every named guard, action and log
// line — so that the table a newcomer prints is the code.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs script, without type declarations
import { formatRows, machineRows, stateNodes } from '../scripts/machine-table.mjs';
import { actions } from '../src/machine/actions.js';
import { guards } from '../src/machine/guards.js';
import { LINES } from '../src/machine/log-lines.js';
import { serviceMachine, type ServiceEventType } from '../src/machine/service-machine.js';

interface Row {
  state: string;
  event: string;
  guard: string;
  target: string;
  actions: string;
}
interface StateNodeLike {
  path: string[];
}

const rows = machineRows(serviceMachine) as Row[];

/** Every event of ServiceEvent: the machine must handle each somewhere. */
const EVENTS: Record<ServiceEventType, true> = {
  CONFIGURE: true, INVALID: true, REMOVE: true, START: true, STOP: true, RESTART: true, RELOAD: true, SIGNAL: true,
  SPAWNED: true, SPAWN_FAILED: true, PID_FOUND: true, ADOPT: true, PID_MISSING: true, PID_PROBLEM: true, EXITED: true, FINISHED: true,
  NEEDS: true, READY: true, NOTIFY_STATUS: true, NOTIFY_MAINPID: true, NOTIFY_RELOADING: true, NOTIFY_STOPPING: true, NOTIFY_IGNORED: true,
  PROBE_FAILED: true, PROBE_PASSED: true, UNHEALTHY: true, READINESS_PROBLEM: true,
};

describe('scripts/machine-table.mjs', () => {
  it('lists every state of the machine, with a (state) row saying what it is', () => {
    const states = (stateNodes(serviceMachine) as StateNodeLike[]).map((n) => n.path.join('.') || '(root)');
    expect(states.length).toBeGreaterThan(30);
    for (const state of states) expect(rows.filter((r) => r.state === state && r.event === '(state)'), state).toHaveLength(1);
    expect(new Set(rows.map((r) => r.state))).toEqual(new Set(states));
  });

  it('lists every event the machine handles, and those are exactly the ServiceEvent types', () => {
    const handled = serviceMachine.root.events.filter((e) => !e.startsWith('xstate.'));
    expect(new Set(handled)).toEqual(new Set(Object.keys(EVENTS)));
    const listed = new Set(rows.map((r) => r.event));
    for (const event of handled) expect(listed, event).toContain(event);
  });

  it('lists every delay, eventless transition, invoked actor and tag', () => {
    const events = rows.map((r) => r.event);
    for (const delay of ['backoff', 'startTimeout', 'stopTimeout', 'killGrace', 'startDelay', 'finishTimeout']) expect(events).toContain(`after ${delay}`);
    expect(rows.filter((r) => r.event === 'always').map((r) => r.state)).toEqual(expect.arrayContaining(['stopped.exited', 'stopped.deciding', 'starting.choosing']));
    const invoked = rows.filter((r) => r.event === '(invoke)').map((r) => r.actions);
    expect(new Set(invoked)).toEqual(new Set(['probePidFile', 'awaitPidFile', 'watchPid', 'runFinish', 'awaitReadyFd', 'probeReady', 'listenNotify', 'probeHealth']));
    const tagged = rows.filter((r) => r.event === '(state)').map((r) => r.actions).join(' ');
    for (const tag of ['up', 'awaitingReady', 'down', 'transitional', 'stopping', 'finishing', 'failed']) expect(tagged).toContain(tag);
  });

  it('uses every named guard, action and log line, and names nothing else', () => {
    const guardNames = new Set(rows.flatMap((r) => r.guard.match(/\w+/g) ?? []).filter((w) => !['and', 'or', 'not', 'whereApplies'].includes(w)));
    expect(guardNames).toEqual(new Set(Object.keys(guards)));
    const actionNames = new Set(rows.filter((r) => !r.event.startsWith('(invoke)') && r.event !== '(state)').flatMap((r) => r.actions.split(', ').filter(Boolean)).map((a) => a.replace(/\(.*\)$/, '')));
    expect(actionNames).toEqual(new Set(Object.keys(actions)));
    const lines = new Set(rows.flatMap((r) => [...r.actions.matchAll(/log\((\w+)\)/g)].map((m) => m[1])));
    expect(lines).toEqual(new Set(Object.keys(LINES)));
  });

  it('prints one line per row from the built machine (aligned, and as Markdown)', () => {
    const out = execFileSync(process.execPath, ['scripts/machine-table.mjs'], { encoding: 'utf8' }).trimEnd().split('\n');
    expect(out[0]).toMatch(/^state\s+\| event\s+\| guard\s+\| target\s+\| actions$/);
    expect(out).toHaveLength(rows.length + 2);
    expect(out.join('\n')).toBe(formatRows(rows));
    const markdown = execFileSync(process.execPath, ['scripts/machine-table.mjs', '--markdown'], { encoding: 'utf8' });
    expect(markdown).toContain('| stopping.next.restart | EXITED | hasFinish | stopped.finishing.restarting | killGroup, log(stopped), noteStoppedExit |');
  });
});
