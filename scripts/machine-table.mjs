#!/usr/bin/env node
// The service machine as a table: one row per transition, read from the
// machine itself (its state nodes and their transitions, `always` and
// `after`), so that it cannot drift from the code:
//
//   npm run build && node scripts/machine-table.mjs            # aligned columns
//   node scripts/machine-table.mjs --markdown                  # a Markdown table
//
// Columns: state | event | guard | target | actions. Rows are in the order
// xstate tries them: for one state and event, the first row whose guard holds
// is taken; an event a state does not handle goes to its parent's rows.
// `(tags)`, `(entry)`, `(exit)` and `(invoke)` rows say what a state is and
// does on its own; `always` rows are eventless (a transient state), `after X`
// rows are the delay X. An `(invoke)` row whose guard is `whereApplies` is
// an actor started only where its input applies (the machine's
// invokeWhereApplies: entry and exit actions that do what invoke does).
import { pathToFileURL } from 'node:url';

/** `and(startsOnConfigure, hasStartDelay)`, `not(wantsRun)`, `hasProcess`. */
function guardText(guard) {
  if (guard === undefined) return '';
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function' && guard.guards !== undefined) {
    const inner = Array.isArray(guard.guards) ? guard.guards : [guard.guards];
    return `${guard.name}(${inner.map(guardText).join(', ')})`;
  }
  if (typeof guard === 'object' && guard.type) return guard.params === undefined ? guard.type : `${guard.type}(${JSON.stringify(guard.params)})`;
  return guard.name || '(inline)';
}

/** The entry and exit actions of invokeWhereApplies: shown as `(invoke)` rows. */
const OPTIONAL_START = 'startWhereApplies';
const OPTIONAL_STOP = 'stopStarted';

/** Actions xstate adds itself to start and cancel `after` timers, and invokeWhereApplies': not part of the actions. */
const internal = (action) =>
  (typeof action === 'function' && [action.id, action.sendId].some((id) => typeof id === 'string' && id.startsWith('xstate.after.'))) ||
  [OPTIONAL_START, OPTIONAL_STOP].includes(action?.type);

/** `takeConfig`, `log(stopped)`. */
function actionText(action) {
  if (typeof action === 'string') return action;
  if (typeof action === 'function') return action.type ?? action.name ?? '(inline)';
  if (action.params === undefined) return action.type;
  if (action.type === 'log') return `log(${action.params.line})`;
  return `${action.type}(${typeof action.params === 'function' ? action.params.name : JSON.stringify(action.params)})`;
}

const stateOf = (node) => node.path.join('.') || '(root)';
const actionsText = (actions) => actions.filter((a) => !internal(a)).map(actionText).join(', ');
function targetText(transition) {
  if (!transition.target || transition.target.length === 0) return '';
  const targets = transition.target.map((n) => stateOf(n)).join(' + ');
  return transition.reenter ? `${targets} (re-entered)` : targets;
}

/** Every state node, parents before children, in document order. */
export function stateNodes(machine) {
  const all = [];
  const walk = (node) => {
    all.push(node);
    for (const child of Object.values(node.states)) walk(child);
  };
  walk(machine.root);
  return all;
}

/** The rows of the table: `{ state, event, guard, target, actions }`. */
export function machineRows(machine) {
  const rows = [];
  for (const node of stateNodes(machine)) {
    const state = stateOf(node);
    const row = (event, guard, target, actions) => rows.push({ state, event, guard, target, actions });
    const kind = node.type === 'parallel' ? 'parallel' : node.type === 'compound' ? `initial ${node.config.initial}` : node.type;
    row('(state)', '', '', [kind, node.tags.length > 0 ? `tags ${node.tags.join(', ')}` : ''].filter(Boolean).join('; '));
    if (actionsText(node.entry)) row('(entry)', '', '', actionsText(node.entry));
    if (actionsText(node.exit)) row('(exit)', '', '', actionsText(node.exit));
    for (const invoked of node.invoke) row('(invoke)', '', '', typeof invoked.src === 'string' ? invoked.src : invoked.src.id ?? '(inline)');
    for (const action of node.entry.filter((a) => a?.type === OPTIONAL_START)) {
      for (const actor of action.params.actors) row('(invoke)', 'whereApplies', '', actor.src);
    }
    for (const [event, transitions] of node.transitions) {
      if (event.startsWith('xstate.after.')) continue; // below, as `after DELAY`
      for (const t of transitions) row(event, guardText(t.guard), targetText(t), actionsText(t.actions));
    }
    for (const t of node.always ?? []) row('always', guardText(t.guard), targetText(t), actionsText(t.actions));
    for (const t of node.after) row(`after ${typeof t.delay === 'function' ? t.delay.name || '(delay)' : t.delay}`, guardText(t.guard), targetText(t), actionsText(t.actions));
  }
  return rows;
}

const COLUMNS = ['state', 'event', 'guard', 'target', 'actions'];

export function formatRows(rows, { markdown = false } = {}) {
  const cells = rows.map((r) => COLUMNS.map((c) => r[c]));
  if (markdown) {
    const line = (values) => `| ${values.map((v) => v.replaceAll('|', '\\|')).join(' | ')} |`;
    return [line(COLUMNS), line(COLUMNS.map(() => '---')), ...cells.map(line)].join('\n');
  }
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (values) => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]))).join(' | ').trimEnd();
  return [line(COLUMNS), widths.map((w) => '-'.repeat(w)).join('-|-'), ...cells.map(line)].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { serviceMachine } = await import('../dist/machine/service-machine.js').catch((error) => {
    console.error(`machine-table: cannot load dist/machine/service-machine.js (run \`npm run build\` first): ${error.message}`);
    process.exit(1);
  });
  console.log(formatRows(machineRows(serviceMachine), { markdown: process.argv.includes('--markdown') }));
}
