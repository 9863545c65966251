// Start order as data, without processes: unmet needs, cycles, dependents.
import { describe, expect, it } from 'vitest';
import { dependentsIndex, dependentsOf, findCycles, needsClosure, unmetNeed, type NeedPhase, type ServiceView } from '../src/needs/graph.js';
import type { Need } from '../src/profile/readiness.js';

const view = (tag: string, phase: NeedPhase = 'ready'): ServiceView => ({ tag, name: tag.split('@')[0]!, phase });
const need = (text: string): Need => {
  const [name, instance] = text.split('@');
  return { name: name!, instance: instance === undefined ? null : Number(instance) };
};

describe('unmetNeed', () => {
  it.each<[string, string[], ServiceView[], string | null]>([
    ['every need ready', ['db', 'cache'], [view('db'), view('cache')], null],
    ['no needs', [], [], null],
    ['a missing need (it may be added later)', ['db'], [], 'waiting for db (missing)'],
    ['a need stopped by command', ['db'], [view('db', 'stopped by command')], 'waiting for db (stopped by command)'],
    ['a failed need', ['db'], [view('db', 'failed')], 'waiting for db (failed)'],
    ['a need with a down file', ['db'], [view('db', 'down')], 'waiting for db (down)'],
    ['a need still starting', ['db'], [view('db', 'not ready')], 'waiting for db (not ready)'],
    ['the first unmet need is named', ['db', 'cache'], [view('db', 'not ready')], 'waiting for db (not ready)'],
    ['`db` means every instance', ['db'], [view('db@1'), view('db@2', 'not ready')], 'waiting for db@2 (not ready)'],
    ['every instance ready', ['db'], [view('db@1'), view('db@2')], null],
    ['`db@1` means that one', ['db@1'], [view('db@1'), view('db@2', 'failed')], null],
    ['`db@3` that is not there', ['db@3'], [view('db@1')], 'waiting for db@3 (missing)'],
    ['instances in numeric order', ['db'], [view('db@10', 'failed'), view('db@2', 'failed')], 'waiting for db@2 (failed)'],
  ])('%s', (_what, needs, services, expected) => {
    expect(unmetNeed(needs.map(need), services)).toBe(expected);
  });
});

describe('findCycles', () => {
  it('finds none in a chain or a diamond', () => {
    expect(findCycles(new Map([['a', ['b']], ['b', ['c']], ['c', []]])).size).toBe(0);
    expect(findCycles(new Map([['top', ['l', 'r']], ['l', ['base']], ['r', ['base']], ['base', []]])).size).toBe(0);
  });

  it('names a cycle of 3 in the reason of each profile in it, and only those', () => {
    const reasons = findCycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]));
    expect(Object.fromEntries(reasons)).toEqual({
      a: 'needs form a cycle: a → b → c → a',
      b: 'needs form a cycle: b → c → a → b',
      c: 'needs form a cycle: c → a → b → c',
    });
  });

  it('ignores needs of profiles that do not exist', () => {
    expect(findCycles(new Map([['a', ['ghost']]])).size).toBe(0);
  });

  it('handles two cycles and a long chain without recursion', () => {
    const graph = new Map<string, string[]>([['x', ['y']], ['y', ['x']], ['p', ['q']], ['q', ['p']]]);
    for (let i = 0; i < 50_000; i++) graph.set(`n${i}`, [`n${i + 1}`]);
    graph.set('n50000', []);
    expect([...findCycles(graph).keys()].sort()).toEqual(['p', 'q', 'x', 'y']);
  });
});

describe('dependents and closure', () => {
  const needsByTag = new Map<string, Need[]>([['web', [need('db')]], ['api@1', [need('db@1'), need('cache')]], ['cache', [need('db')]]]);

  it('dependentsOf: who needs this instance', () => {
    expect(dependentsOf({ tag: 'db@1', name: 'db' }, needsByTag).sort()).toEqual(['api@1', 'cache', 'web']);
    expect(dependentsOf({ tag: 'db@2', name: 'db' }, needsByTag).sort()).toEqual(['cache', 'web']);
  });

  it('dependentsIndex: the same answer for every tag at once (what stops before what)', () => {
    const all = new Map<string, Need[]>([...needsByTag, ['db@1', []], ['db@2', []]]);
    expect(Object.fromEntries(dependentsIndex(all))).toEqual({ 'db@1': ['api@1', 'cache', 'web'], 'db@2': ['cache', 'web'], cache: ['api@1'] });
    // Only among the tags given: `stop db@2 web` orders those two, whoever else needs db.
    expect(Object.fromEntries(dependentsIndex(new Map([['db@2', []], ['web', [need('db')]]])))).toEqual({ 'db@2': ['web'] });
  });

  it('needsClosure: needs of needs', () => {
    const services = [view('db@1'), view('db@2'), view('cache'), view('web')];
    expect(needsClosure([need('cache')], services, needsByTag)).toEqual(['cache', 'db@1', 'db@2']);
  });
});
