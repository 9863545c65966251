// Which profiles a cycle of needs makes invalid, kept up to date reading by
// reading. Only a change to some profile's needs can make or break a cycle,
// and only one through that profile: the graph is searched again only then —
// not on every reading, nor for every new profile that needs another.
import type { ServiceConfig } from '../profile/types.js';
import { findCycles } from './graph.js';

export class NeedCycles {
  /** The needs (profile names) of every profile whose last reading is valid and has needs. */
  private readonly needsOf = new Map<string, string[]>();
  /** The last valid reading of each such profile: what applies again once its cycle is broken. */
  private readonly readings = new Map<string, ServiceConfig[]>();
  private reasons = new Map<string, string>();

  /**
   * Profile `name` was read: its configs if valid, else null (invalid or
   * removed). Returns the profiles whose cycle changed: name → the cycle as
   * a reason, or null when it is no longer in one.
   */
  read(name: string, configs: ServiceConfig[] | null): Map<string, string | null> {
    const needs = configs ? [...new Set(configs[0]?.needs.map((n) => n.name) ?? [])].sort() : [];
    if (needs.length > 0) this.readings.set(name, configs!);
    else this.readings.delete(name);
    if ((this.needsOf.get(name) ?? []).join('\n') === needs.join('\n')) return new Map();
    if (needs.length > 0) this.needsOf.set(name, needs);
    else this.needsOf.delete(name);
    // Only its own needs changed: a cycle without `name` is untouched, so nothing changes unless
    // it was in one or its needs now lead back to it. (Searching the whole graph at every
    // reading cost 84 ms of start-up at 500 profiles that each need one other, 270 ms for a chain of 500.)
    if (!this.reasons.has(name) && !this.leadsBack(name)) return new Map();
    const before = this.reasons;
    this.reasons = findCycles(this.needsOf);
    const changes = new Map<string, string | null>();
    for (const [profile, reason] of this.reasons) if (before.get(profile) !== reason) changes.set(profile, reason);
    for (const profile of before.keys()) if (!this.reasons.has(profile)) changes.set(profile, null);
    return changes;
  }

  /** Do the needs of `name`, followed through the profiles with needs, lead back to it? */
  private leadsBack(name: string): boolean {
    const seen = new Set<string>();
    const todo = [...(this.needsOf.get(name) ?? [])];
    while (todo.length > 0) {
      const at = todo.pop()!;
      if (at === name) return true;
      if (seen.has(at)) continue;
      seen.add(at);
      todo.push(...(this.needsOf.get(at) ?? []));
    }
    return false;
  }

  /** The cycle `name` is in, or undefined. */
  reason(name: string): string | undefined {
    return this.reasons.get(name);
  }

  /** The last valid reading of a profile with needs. */
  lastValid(name: string): ServiceConfig[] | undefined {
    return this.readings.get(name);
  }

  get size(): number {
    return this.readings.size;
  }
}
