// `events --since TIME`: exactly ISO 8601 (extended format) or a duration
// ago. Date.parse would take `10` for October 2001 and "March 7" for
// 2001-03-07; anything else here is a usage error.

/** 2026-03-07, 2026-03-07T10:15, 2026-03-07T10:15:30.250, each with an optional Z or ±HH:MM (±HHMM, ±HH) after a time. */
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;
const AGO = /^(\d+)([smhd])$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** The time meant (ms since the epoch), or null. Without an offset it is local time (a date alone: local midnight), as an operator means it. */
export function parseSince(text: string, now = Date.now()): number | null {
  const ago = AGO.exec(text);
  if (ago) return now - Number(ago[1]) * UNIT_MS[ago[2] as keyof typeof UNIT_MS];
  const iso = ISO_8601.exec(text);
  if (!iso) return null;
  const [year, month, day, hour = 0, minute = 0, second = 0] = iso.slice(1, 7).map((part) => (part === undefined ? undefined : Number(part))) as number[];
  const ms = iso[7] === undefined ? 0 : Math.floor(Number(`0.${iso[7]}`) * 1000);
  // Out of range (month 13, February 30, 25:00) is refused, not carried over.
  const check = new Date(Date.UTC(year!, month! - 1, day!, hour, minute, second));
  const fields = [check.getUTCFullYear(), check.getUTCMonth() + 1, check.getUTCDate(), check.getUTCHours(), check.getUTCMinutes(), check.getUTCSeconds()];
  if (fields.join() !== [year, month, day, hour, minute, second].join()) return null;
  const zone = iso[8];
  if (zone === undefined) return new Date(year!, month! - 1, day!, hour, minute, second, ms).getTime();
  const [, sign, hh, mm] = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone) ?? [];
  const offsetMinutes = zone === 'Z' ? 0 : (sign === '-' ? -1 : 1) * (Number(hh) * 60 + Number(mm ?? 0));
  if (Math.abs(offsetMinutes) > 18 * 60) return null;
  return check.getTime() + ms - offsetMinutes * 60_000;
}

export const SINCE_FORMS = 'an ISO 8601 time (2026-03-07, 2026-03-07T10:15:00, 2026-03-07T10:15:00+01:00) or 30s, 10m, 2h, 1d ago';
