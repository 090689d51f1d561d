/** Suggestions for a name someone mistyped: the known name closest to it, when one is close enough. */

/** Edits (insertions, deletions, substitutions) between two strings. */
export function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

/** The known name nearest to `got` (case and - vs _ ignored), if within a third of its length (at least 2 edits). */
export function closestName(got: string, known: readonly string[]): string | undefined {
  const normalized = got.toLowerCase().replace(/-/g, '_');
  const best = known.map((name) => ({ name, distance: levenshtein(normalized, name) })).sort((a, b) => a.distance - b.distance)[0];
  return best && best.distance <= Math.max(2, Math.floor(got.length / 3)) ? best.name : undefined;
}
