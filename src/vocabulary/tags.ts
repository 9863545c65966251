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
 * worker@2 before worker@10. One collator for every comparison: localeCompare
 * with options builds one per call (sorting 1,000 tags for one `status` took
 * ~75 ms of CPU that way).
 */
export const byTag: (a: string, b: string) => number = new Intl.Collator('en', { numeric: true }).compare;
