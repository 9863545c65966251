// `events --since`: exactly ISO 8601 or a duration ago (Date.parse took `10` for October 2001).
import { describe, expect, it } from 'vitest';
import { parseSince } from '../src/vocabulary/since.js';

describe('parseSince', () => {
  const now = Date.UTC(2026, 2, 7, 12, 0, 0);
  it('30s, 10m, 2h, 1d ago', () => {
    expect(parseSince('30s', now)).toBe(now - 30_000);
    expect(parseSince('10m', now)).toBe(now - 600_000);
    expect(parseSince('2h', now)).toBe(now - 7_200_000);
    expect(parseSince('1d', now)).toBe(now - 86_400_000);
  });

  it('ISO 8601: with Z or an offset as written; without, local time (a date alone: local midnight)', () => {
    expect(parseSince('2026-03-07T10:15:30Z')).toBe(Date.UTC(2026, 2, 7, 10, 15, 30));
    expect(parseSince('2026-03-07T10:15:30.250+01:00')).toBe(Date.UTC(2026, 2, 7, 9, 15, 30, 250));
    expect(parseSince('2026-03-07T10:15-0230')).toBe(Date.UTC(2026, 2, 7, 12, 45));
    expect(parseSince('2026-03-07T10:15:30,5+05')).toBe(Date.UTC(2026, 2, 7, 5, 15, 30, 500));
    expect(parseSince('2026-03-07T10:15')).toBe(new Date(2026, 2, 7, 10, 15).getTime());
    expect(parseSince('2026-03-07')).toBe(new Date(2026, 2, 7).getTime());
  });

  it.each(['10', 'March 7', '2026', '2026-3-7', '2026-03-07 10:15', '2026-02-30', '2026-13-01', '2026-03-07T25:00', '2026-03-07T10:60', '2026-03-07Z',
    '2026-03-07T10:15+19:00', ' 1d', '1d ', '1.5h', '-5m', '5 m', '1w', ''])('%j is refused', (text) => {
    expect(parseSince(text, now)).toBeNull();
  });
});
