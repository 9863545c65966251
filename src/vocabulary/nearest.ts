// "Did you mean …?": the known word nearest to a mistyped one — for a
// command (`stauts` → status) and a profile file (`stop_sigal` → stop_signal).

/**
 * Edits between two words: insertions, deletions, substitutions, and the
 * swap of two neighbours (`restrat` → `restart` is one edit: the commonest
 * typo is a transposition). Optimal string alignment distance.
 */
export function editDistance(a: string, b: string): number {
  // Rows of the table: two before and the current one.
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, before[j - 2]! + 1);
      current.push(best);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The known word within `maxEdits` of `word` (the nearest; the first listed
 * on a tie), or null. A short known word allows fewer edits — under half its
 * length — so that `out` or `db` are not taken for `run` or `down`.
 */
export function nearest(word: string, known: readonly string[], maxEdits = 2): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of known) {
    if (candidate === word) return candidate;
    const distance = editDistance(word, candidate);
    if (distance > maxEdits || distance * 2 >= candidate.length) continue;
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}
