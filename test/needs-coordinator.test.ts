// The needs coordinator without processes: fake snapshots in, NEEDS out.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NeedsCoordinator, phaseOf, type NeedSnapshot, type NeedsEvent } from '../src/needs/coordinator.js';
import { NeedCycles } from '../src/needs/cycles.js';
import { findCycles } from '../src/needs/graph.js';
import type { Need } from '../src/profile/readiness.js';
import type { ServiceConfig } from '../src/profile/types.js';
import { DOWN, FAILED, UP } from '../src/vocabulary/state-tags.js';
import { profileOf } from '../src/vocabulary/tags.js';

type Fake = { tags: string[]; want: 'run' | 'down' | 'removed'; down: boolean };
const snapshot = ({ tags, want, down }: Fake): NeedSnapshot => ({ hasTag: (t) => tags.includes(t), context: { want, config: { down } } });

/** A world of fake actors, and every NEEDS each received. */
function world() {
  const actors = new Map<string, { state: Fake; getSnapshot(): NeedSnapshot }>();
  const sent: Array<[string, string | null]> = [];
  const invalid = new Set<string>();
  const coordinator = new NeedsCoordinator({
    actor: (tag) => actors.get(tag),
    tagsOf: (name) => [...actors.keys()].filter((tag) => profileOf(tag) === name),
    invalid: (tag) => invalid.has(tag),
    send: (tag, event: NeedsEvent) => sent.push([tag, event.unmet]),
  });
  const set = (tag: string, state: Partial<Fake>) => {
    const old = actors.get(tag)?.state ?? { tags: [DOWN], want: 'run', down: false };
    const next = { ...old, ...state };
    actors.set(tag, { state: next, getSnapshot: () => snapshot(next) });
    coordinator.changed(tag);
  };
  const remove = (tag: string) => {
    actors.delete(tag);
    coordinator.changed(tag);
  };
  /** A reading of `profile`, as the supervisor applies it: its needs, then (valid) a CONFIGURE of each of its tags. */
  const read = (profile: string, list: Need[] | null) => {
    coordinator.setNeeds(profile, list);
    if (list) for (const tag of [...actors.keys()].filter((t) => profileOf(t) === profile)) coordinator.configuring(tag);
  };
  /** What was sent since the last call. */
  const take = () => sent.splice(0);
  return { coordinator, set, remove, take, read, actors, invalid };
}

const needs = (...texts: string[]): Need[] => texts.map((t) => ({ name: t.split('@')[0]!, instance: t.includes('@') ? Number(t.split('@')[1]) : null }));

describe('start-up: nothing with needs is told they are met before every profile is read', () => {
  it('while reading, a dependent whose need runs waits (`not read yet`); once all are read it is told they are met', () => {
    const { coordinator, set, read, take } = world();
    coordinator.holdUntilRead();
    set('db', { tags: [UP] }); // re-adopted: running and ready
    set('app', {});
    read('app', needs('db'));
    expect(take()).toEqual([['app', 'waiting for db (not read yet)']]);
    set('db', { tags: [UP], want: 'run' }); // db's snapshots change meanwhile: still nothing
    expect(take()).toEqual([]);
    coordinator.allRead();
    expect(take()).toEqual([['app', null]]);
    coordinator.allRead(); // once only
    expect(take()).toEqual([]);
  });
});

describe('phaseOf', () => {
  it.each<[string, Fake, string]>([
    ['up', { tags: [UP], want: 'run', down: false }, 'ready'],
    ['up with a down file (started by hand)', { tags: [UP], want: 'run', down: true }, 'ready'],
    ['stopped by command', { tags: [DOWN], want: 'down', down: false }, 'stopped by command'],
    ['failed', { tags: [DOWN, FAILED], want: 'run', down: false }, 'failed'],
    ['a down file, not running', { tags: [DOWN], want: 'run', down: true }, 'down'],
    ['a down file, started by hand and starting', { tags: ['transitional'], want: 'run', down: true }, 'not ready'],
    ['starting', { tags: ['transitional'], want: 'run', down: false }, 'not ready'],
  ])('%s', (_what, fake, phase) => {
    expect(phaseOf(snapshot(fake))).toBe(phase);
  });
});

describe('NeedsCoordinator', () => {
  it('tells a dependent before its CONFIGURE, then only when its verdict changes', () => {
    const w = world();
    w.set('web', {});
    w.coordinator.setNeeds('web', needs('db'));
    expect(w.take()).toEqual([]); // told at its CONFIGURE, not before: it would act on the profile it had
    w.coordinator.configuring('web');
    expect(w.take()).toEqual([['web', 'waiting for db (missing)']]);
    w.coordinator.configuring('web');
    expect(w.take()).toEqual([]); // this actor knows already
    w.set('db', { tags: ['transitional'] });
    expect(w.take()).toEqual([['web', 'waiting for db (not ready)']]);
    w.set('db', { tags: ['transitional'] }); // a snapshot that changes nothing db's dependents see
    expect(w.take()).toEqual([]);
    w.set('db', { tags: [UP] });
    expect(w.take()).toEqual([['web', null]]);
    w.set('db', { want: 'down', tags: [DOWN] });
    expect(w.take()).toEqual([['web', 'waiting for db (stopped by command)']]);
    expect(w.coordinator.unmet('web')).toEqual({ need: 'db', phase: 'stopped by command' });
    w.remove('db');
    expect(w.take()).toEqual([['web', 'waiting for db (missing)']]);
  });

  it('a new actor of the same tag (re-created after an internal error) is told again at its CONFIGURE', () => {
    const w = world();
    w.set('db', { tags: [UP] });
    w.set('web', {});
    w.read('web', needs('db'));
    expect(w.take()).toEqual([['web', null]]);
    w.set('web', {}); // a new fake object: another actor
    w.coordinator.configuring('web');
    expect(w.take()).toEqual([['web', null]]);
  });

  it('re-evaluates only the dependents of the service that changed', () => {
    const w = world();
    for (const tag of ['a', 'b', 'x', 'y']) w.set(tag, {});
    w.read('x', needs('a'));
    w.read('y', needs('b'));
    w.take();
    w.set('a', { tags: [UP] });
    expect(w.take()).toEqual([['x', null]]);
    w.set('b', { tags: [DOWN, FAILED] });
    expect(w.take()).toEqual([['y', 'waiting for b (failed)']]);
  });

  it('`needs db` waits for every instance; `needs db@1` only for that one', () => {
    const w = world();
    w.set('db@1', { tags: [UP] });
    w.set('db@2', {});
    w.set('all', {});
    w.set('one', {});
    w.read('all', needs('db'));
    w.read('one', needs('db@1'));
    expect(w.take()).toEqual([['all', 'waiting for db@2 (not ready)'], ['one', null]]);
    w.set('db@2', { tags: [UP] });
    expect(w.take()).toEqual([['all', null]]);
    w.set('db@1', { tags: [DOWN, FAILED] });
    expect(w.take()).toEqual([['all', 'waiting for db@1 (failed)'], ['one', 'waiting for db@1 (failed)']]);
  });

  it('dependentsOf: who needs a tag, by the index (an instance need only for that instance)', () => {
    const w = world();
    for (const tag of ['db@1', 'db@2', 'web@2', 'web@1', 'one']) w.set(tag, {});
    w.read('web', needs('db'));
    w.read('one', needs('db@1'));
    expect(w.coordinator.dependentsOf('db@1')).toEqual(['one', 'web@1', 'web@2']);
    expect(w.coordinator.dependentsOf('db@2')).toEqual(['web@1', 'web@2']);
    expect(w.coordinator.dependentsOf('web@1')).toEqual([]);
  });

  it('every instance of a dependent is told', () => {
    const w = world();
    w.set('web@1', {});
    w.set('web@2', {});
    w.read('web', needs('db'));
    expect(w.take()).toEqual([['web@1', 'waiting for db (missing)'], ['web@2', 'waiting for db (missing)']]);
  });

  it('needs taken away: told once that nothing is unmet, then left alone', () => {
    const w = world();
    w.set('web', {});
    w.read('web', needs('db'));
    w.take();
    w.read('web', []);
    expect(w.take()).toEqual([['web', null]]);
    w.coordinator.configuring('web');
    w.set('db', { tags: [UP] });
    expect(w.take()).toEqual([]);
    expect(w.coordinator.counts()).toEqual({ needs: 0, neededBy: 0, phases: 0, told: 0 });
  });

  it('a dependent whose profile turns invalid (or is removed) is told nothing: "met" would start it on its old profile', () => {
    const w = world();
    w.set('web', {});
    w.read('web', needs('db'));
    w.take();
    w.read('web', null);
    w.set('db', { tags: [UP] });
    expect(w.take()).toEqual([]);
    // Valid again: told where its needs stand now.
    w.read('web', needs('db'));
    expect(w.take()).toEqual([['web', null]]);
  });

  it('a need whose profile is invalid is failed to its dependents, even while it waits or runs on', () => {
    const w = world();
    w.set('a', { tags: ['transitional'] });
    w.set('d', {});
    w.read('d', needs('a'));
    expect(w.take()).toEqual([['d', 'waiting for a (not ready)']]);
    w.invalid.add('a');
    w.coordinator.changed('a');
    expect(w.take()).toEqual([['d', 'waiting for a (failed)']]);
  });

  it('a profile that never had needs is never told anything', () => {
    const w = world();
    w.set('plain', {});
    w.coordinator.configuring('plain');
    w.read('plain', null);
    expect(w.take()).toEqual([]);
  });

  it('forgets a released tag', () => {
    const w = world();
    w.set('db', { tags: [UP] });
    w.set('web', {});
    w.read('web', needs('db'));
    w.read('web', []);
    w.remove('web');
    w.coordinator.forget('web');
    w.remove('db');
    w.coordinator.forget('db');
    expect(w.coordinator.counts()).toEqual({ needs: 0, neededBy: 0, phases: 0, told: 0 });
  });
});

describe('NeedCycles', () => {
  const configs = (name: string, ...need: string[]) => [{ tag: name, needs: needs(...need) } as unknown as ServiceConfig];

  it('a cycle of 3 makes each invalid with the cycle; breaking it gives back their last valid readings', () => {
    const cycles = new NeedCycles();
    expect(cycles.read('a', configs('a', 'b'))).toEqual(new Map());
    expect(cycles.read('b', configs('b', 'c'))).toEqual(new Map());
    expect(cycles.read('c', configs('c', 'a'))).toEqual(new Map([
      ['a', 'needs form a cycle: a → b → c → a'],
      ['b', 'needs form a cycle: b → c → a → b'],
      ['c', 'needs form a cycle: c → a → b → c'],
    ]));
    expect(cycles.lastValid('a')).toEqual(configs('a', 'b'));
    // Touched again, the same needs: the graph is not searched again, nothing changes.
    expect(cycles.read('b', configs('b', 'c'))).toEqual(new Map());
    expect(cycles.reason('b')).toBe('needs form a cycle: b → c → a → b');
    expect(cycles.read('c', configs('c'))).toEqual(new Map([['a', null], ['b', null], ['c', null]]));
    expect(cycles.reason('a')).toBeUndefined();
  });

  it('searching only when a cycle through the profile read may have changed: the same reasons and changes as a search of the whole graph at every reading', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    // A reading: a profile, and its needs (null: invalid or removed).
    const reading = fc.tuple(fc.constantFrom(...names), fc.option(fc.subarray(names), { nil: null }));
    fc.assert(fc.property(fc.array(reading, { maxLength: 30 }), (readings) => {
      const cycles = new NeedCycles();
      const graph = new Map<string, string[]>();
      let reasons = new Map<string, string>();
      for (const [name, need] of readings) {
        const own = (need ?? []).filter((n) => n !== name); // a self-need is refused when the profile is read
        const changes = cycles.read(name, need === null ? null : configs(name, ...own));
        if (own.length > 0) graph.set(name, [...own].sort());
        else graph.delete(name);
        const before = reasons;
        reasons = findCycles(graph);
        const expected = new Map<string, string | null>();
        for (const [profile, reason] of reasons) if (before.get(profile) !== reason) expected.set(profile, reason);
        for (const profile of before.keys()) if (!reasons.has(profile)) expected.set(profile, null);
        expect(changes).toEqual(expected);
        for (const n of names) expect(cycles.reason(n)).toBe(reasons.get(n));
      }
    }), { numRuns: 300 });
  });

  it('a member removed (or made invalid) breaks the cycle', () => {
    const cycles = new NeedCycles();
    cycles.read('a', configs('a', 'b'));
    cycles.read('b', configs('b', 'a'));
    expect(cycles.read('b', null)).toEqual(new Map([['a', null], ['b', null]]));
    expect(cycles.size).toBe(1);
  });
});
