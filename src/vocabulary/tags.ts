// A service's tag: its profile NAME, NAME@N for an instance, NAME:log for its
// logger. `@` and `:` are never in a profile name, so a tag parses back.

export const LOGGER_SUFFIX = ':log';

/** `worker` + 3 → `worker@3`; no instance → the name itself. */
export const instanceTag = (name: string, instance: number | string | null): string => (instance === null ? name : `${name}@${instance}`);
export const loggerTag = (name: string): string => `${name}${LOGGER_SUFFIX}`;
export const isLoggerTag = (tag: string): boolean => tag.endsWith(LOGGER_SUFFIX);

/** `worker@3` → `worker`, and its logger `worker:log` → `worker`. */
export const profileOf = (tag: string): string => tag.split(/[@:]/, 1)[0]!;

/** `worker@3` → `3`; a plain or logger tag → null. */
export function instanceOf(tag: string): string | null {
  const at = tag.indexOf('@');
  return at === -1 ? null : tag.slice(at + 1);
}

/**
 * worker@2 before worker@10: runs of digits compare as numbers, the rest
 * case-insensitively (then by code unit, so that the order is total). Not
 * Intl.Collator: building one costs ~13 ms of ICU at start-up, on the way to
 * the first spawn; localeCompare builds one per call.
 */
export function byTag(a: string, b: string): number {
  if (a === b) return 0;
  const x = a.split(DIGIT_RUNS);
  const y = b.split(DIGIT_RUNS);
  for (let i = 0; i < x.length && i < y.length; i++) {
    const order = i % 2 === 1 ? byNumber(x[i]!, y[i]!) : byText(x[i]!, y[i]!);
    if (order !== 0) return order;
  }
  return x.length - y.length || (a < b ? -1 : 1);
}

const DIGIT_RUNS = /(\d+)/; // captured: odd indices of split() are the digit runs

function byNumber(p: string, q: string): number {
  const m = p.replace(/^0+(?=\d)/, '');
  const n = q.replace(/^0+(?=\d)/, '');
  return m.length - n.length || (m < n ? -1 : m > n ? 1 : 0);
}

function byText(p: string, q: string): number {
  if (p === q) return 0;
  const lp = p.toLowerCase();
  const lq = q.toLowerCase();
  return lp < lq ? -1 : lp > lq ? 1 : 0;
}
