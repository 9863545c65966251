import { constants } from 'node:os';

// The first name of each number: SIGABRT, not its alias SIGIOT.
const BY_NUMBER = new Map<number, NodeJS.Signals>();
for (const [name, num] of Object.entries(constants.signals)) if (!BY_NUMBER.has(num)) BY_NUMBER.set(num, name as NodeJS.Signals);

/** `TERM`, `SIGTERM`, `term` or `15` → `SIGTERM`; null when it names no signal. */
export function parseSignal(text: string): NodeJS.Signals | null {
  const value = text.trim();
  if (/^\d+$/.test(value)) return BY_NUMBER.get(Number(value)) ?? null;
  const upper = value.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  return name in constants.signals ? (name as NodeJS.Signals) : null;
}

export function signalName(signal: NodeJS.Signals | number | null): string {
  if (signal === null) return 'none';
  return typeof signal === 'number' ? (BY_NUMBER.get(signal) ?? String(signal)) : signal;
}

export function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal];
}
