// Which profiles a cycle of needs makes invalid, kept up to date reading by
// reading. Only a change to some profile's needs can make or break a cycle,
// so the graph is searched again only then — not on every reading.
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
    const before = this.reasons;
    this.reasons = findCycles(this.needsOf);
    const changes = new Map<string, string | null>();
    for (const [profile, reason] of this.reasons) if (before.get(profile) !== reason) changes.set(profile, reason);
    for (const profile of before.keys()) if (!this.reasons.has(profile)) changes.set(profile, null);
    return changes;
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
