// The report's arithmetic and number formats, shared by bench.mjs and its sections.
export const sorted = (xs) => [...xs].sort((a, b) => a - b);
export const median = (xs) => {
  const s = sorted(xs);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
export const p95 = (xs) => sorted(xs)[Math.max(0, Math.ceil(0.95 * xs.length) - 1)]; // nearest rank
export const fmtMs = (x) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : x >= 100 ? `${x.toFixed(0)} ms` : x >= 10 ? `${x.toFixed(1)} ms` : `${x.toFixed(2)} ms`);
/** ours ÷ theirs, as the ratio columns show it (below 1: proclaunch is faster or smaller). */
export const fmtRatio = (ours, theirs) => {
  if (ours === undefined || theirs === undefined) return '';
  if (!(theirs > 0)) return ours > 0 ? '∞' : '—';
  const r = ours / theirs;
  return r === 0 ? '0' : r.toFixed(r < 0.1 ? 3 : 2);
};
/** min / median / max of samples, formatted with `fmt`. */
export const spread = (xs, fmt = fmtMs) => (xs.length > 1 ? `${fmt(Math.min(...xs))} / ${fmt(median(xs))} / ${fmt(Math.max(...xs))}` : xs.length ? fmt(xs[0]) : '—');
export const fmtMiB = (x) => `${x.toFixed(1)} MiB`;
/** CPU time: tenths of a ms below 10 ms. */
export const fmtCpu = (x) => `${x.toFixed(x < 10 ? 1 : 0)} ms`;
