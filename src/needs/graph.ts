// Start order as data: which need a service is waiting for, which profiles
// form a cycle, and who depends on whom. Pure: the supervisor feeds it what
// its actors' snapshots say (needs/coordinator.ts).
import { needText, type Need } from '../profile/readiness.js';
import { byTag, instanceOf, profileOf } from '../vocabulary/tags.js';

/** What a service is, as far as the services that need it care. */
export type NeedPhase = 'ready' | 'not ready' | 'stopped by command' | 'failed' | 'down';

export interface ServiceView {
  tag: string;
  /** Its profile's name (the tag without `@N`). */
  name: string;
  phase: NeedPhase;
}

/** Does `service` answer `need`? `db` is every instance of db; `db@2` only that one. */
const answers = (need: Need, service: ServiceView): boolean =>
  service.name === need.name && (need.instance === null || instanceOf(service.tag) === String(need.instance));

/** The need a service waits for, and why: `db@2` is `not ready`, `cache` is `missing`. */
export interface Unmet {
  /** A tag (`db`, `db@2`), or the need as written when nothing answers it. */
  need: string;
  /** `not read yet`: the supervisor is still reading the profiles at start-up (a cycle among them is known only once all are read). */
  phase: NeedPhase | 'missing' | 'not read yet';
}

/** The first need that is not running and ready; null when every need is. */
export function firstUnmet(needs: readonly Need[], services: readonly ServiceView[]): Unmet | null {
  for (const need of needs) {
    const matching = services.filter((s) => answers(need, s)).sort((a, b) => byTag(a.tag, b.tag));
    if (matching.length === 0) return { need: needText(need), phase: 'missing' };
    const blocked = matching.find((s) => s.phase !== 'ready');
    if (blocked) return { need: blocked.tag, phase: blocked.phase };
  }
  return null;
}

/** `waiting for db (stopped by command)`: an unmet need as `status` shows it. */
export const unmetText = (unmet: Unmet): string => `waiting for ${unmet.need} (${unmet.phase})`;

/**
 * The first need that is not running and ready, as `status` shows it:
 * `waiting for db (stopped by command)`; null when every need is ready.
 */
export function unmetNeed(needs: readonly Need[], services: readonly ServiceView[]): string | null {
  const unmet = firstUnmet(needs, services);
  return unmet && unmetText(unmet);
}

/**
 * Every profile that is part of a cycle of needs, with the cycle as its
 * reason (`needs form a cycle: a → b → c → a`). `needsOf`: profile name → the
 * names it needs. Tarjan's strongly connected components, iteratively.
 */
export function findCycles(needsOf: ReadonlyMap<string, readonly string[]>): Map<string, string> {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const reasons = new Map<string, string>();
  let next = 0;
  const edges = (name: string): string[] => [...new Set(needsOf.get(name) ?? [])].filter((n) => needsOf.has(n));

  for (const root of [...needsOf.keys()].sort()) {
    if (index.has(root)) continue;
    // Each frame: a node and how many of its edges have been followed.
    const frames: Array<{ name: string; edge: number }> = [{ name: root, edge: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const out = edges(frame.name);
      if (frame.edge < out.length) {
        const to = out[frame.edge++]!;
        if (!index.has(to)) {
          index.set(to, next);
          low.set(to, next++);
          stack.push(to);
          onStack.add(to);
          frames.push({ name: to, edge: 0 });
        } else if (onStack.has(to)) low.set(frame.name, Math.min(low.get(frame.name)!, index.get(to)!));
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent) low.set(parent.name, Math.min(low.get(parent.name)!, low.get(frame.name)!));
      if (low.get(frame.name) !== index.get(frame.name)) continue;
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== frame.name);
      if (component.length < 2) continue; // a self-need is refused when the profile is read
      const members = new Set(component);
      for (const name of component) reasons.set(name, `needs form a cycle: ${cyclePath(name, members, edges).join(' → ')}`);
    }
  }
  return reasons;
}

/** One way round the cycle from `start`, back to it, within `members`. */
function cyclePath(start: string, members: Set<string>, edges: (name: string) => string[]): string[] {
  // Breadth-first: the shortest way back, so the reason stays short in a large component.
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const at = queue.shift()!;
    for (const to of edges(at)) {
      if (!members.has(to)) continue;
      if (to === start) {
        const path = [start];
        for (let n: string | undefined = at; n !== undefined && n !== start; n = cameFrom.get(n)) path.splice(1, 0, n);
        return [...path, start];
      }
      if (!cameFrom.has(to)) {
        cameFrom.set(to, at);
        queue.push(to);
      }
    }
  }
  return [start, start];
}

/** The tags whose needs `service` answers: they stop before it does, and wait for it to start. */
export function dependentsOf(service: Pick<ServiceView, 'tag' | 'name'>, needsByTag: ReadonlyMap<string, readonly Need[]>): string[] {
  const view = { ...service, phase: 'ready' as const };
  return [...needsByTag].filter(([, needs]) => needs.some((need) => answers(need, view))).map(([tag]) => tag);
}

/** What `start NAME` also starts: the needs of `needs`, transitively, among `services`. */
export function needsClosure(needs: readonly Need[], services: readonly ServiceView[], needsByTag: ReadonlyMap<string, readonly Need[]>): string[] {
  const found = new Set<string>();
  const todo = [...needs];
  while (todo.length > 0) {
    const need = todo.pop()!;
    for (const service of services) {
      if (!answers(need, service) || found.has(service.tag)) continue;
      found.add(service.tag);
      todo.push(...(needsByTag.get(service.tag) ?? []));
    }
  }
  return [...found].sort(byTag);
}

/**
 * Who stops before whom: for each tag among the keys of `needsByTag`, the
 * tags among them that need it. One pass over every need, through an index
 * by profile name, not a scan of every tag for each.
 */
export function dependentsIndex(needsByTag: ReadonlyMap<string, readonly Need[]>): Map<string, string[]> {
  const tagsOf = new Map<string, string[]>();
  for (const tag of needsByTag.keys()) tagsOf.set(profileOf(tag), [...(tagsOf.get(profileOf(tag)) ?? []), tag]);
  const dependents = new Map<string, Set<string>>();
  for (const [dependent, needs] of needsByTag) {
    for (const need of needs) {
      for (const tag of tagsOf.get(need.name) ?? []) {
        if (tag === dependent || !answers(need, { tag, name: need.name, phase: 'ready' })) continue;
        dependents.set(tag, (dependents.get(tag) ?? new Set()).add(dependent));
      }
    }
  }
  return new Map([...dependents].map(([tag, set]) => [tag, [...set].sort(byTag)]));
}
