// Bounded service output: what bounds one output file, and its defaults
// (SPEC § Service output). Shared by profile reading, the drains and the
// supervisor's own logs.

/** Rotated at maxBytes to PATH.1 … PATH.keep (so at most maxBytes × (keep + 1) on disk); timestamps on each line. */
export interface OutputBounds {
  maxBytes: number;
  keep: number;
  timestamps: boolean;
}

export const OUTPUT_DEFAULTS: OutputBounds = { maxBytes: 10 * 1024 * 1024, keep: 5, timestamps: false };

/** Below this a file could not hold one cut line with its mark and timestamp (native/output-sink.h too). */
export const MIN_OUTPUT_BYTES = 4096;
export const MAX_OUTPUT_KEEP = 1000;

/** A line longer than this is cut (the mark ends the piece, the rest goes on as the next line). */
export const LINE_LIMIT = 64 * 1024;
export const CUT_MARK = ' [proclaunch: line cut]\n';
/**
 * What one output may move per second (SINK_RATE in native/output-sink.h):
 * beyond it, it waits for the next 100 ms window and its writer blocks on the
 * full FIFO. A flood then costs a bounded share of a core, and the drain stays
 * quick to wake for the other services (measured: README, "Service output").
 */
export const RATE_BYTES_PER_SECOND = 32 * 1024 * 1024;
export const RATE_WINDOW_MS = 100;

/** How long a partial line near the end of a file may wait for the rest before it starts a new file (SINK_DEFER_MS). */
export const DEFER_MS = 50;
/** `2026-11-22T07:41:03.127+00:00 `: what log_timestamps puts before each line. */
export const STAMP_LENGTH = 30;

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `10M`, `512k`, `1.5G`, `65536` (k/M/G: 1024-based, either case): bytes, or null. */
export function parseSize(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)([kmg]?)$/i.exec(text.trim());
  if (!match) return null;
  const bytes = Math.floor(Number(match[1]) * UNITS[match[2]!.toLowerCase()]!);
  return Number.isSafeInteger(bytes) ? bytes : null;
}
