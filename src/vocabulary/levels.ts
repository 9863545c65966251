// The levels of a log line, lowest first (SPEC § Logs).
export const LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
export type Level = (typeof LEVELS)[number];

export function parseLevel(text: string): Level | null {
  const upper = text.toUpperCase();
  return (LEVELS as readonly string[]).includes(upper) ? (upper as Level) : null;
}
