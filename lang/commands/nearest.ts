/**
 * The closest known name to a misspelt one, for "did you mean" help lines.
 *
 * @example
 * ```ts
 * import { nearest } from "./nearest.ts";
 * if (nearest("vdap", ["vdpa", "ip", "lsmod"]) !== "vdpa") throw new Error("vdpa expected");
 * if (nearest("zzzzzz", ["vdpa"]) !== undefined) throw new Error("no suggestion expected");
 * ```
 *
 * @module
 */

/**
 * Restricted Damerau–Levenshtein distance (one transposition of neighbours counts 1),
 * case-insensitive, with `-` and `_` treated alike.
 */
export function editDistance(a: string, b: string): number {
  const x = fold(a);
  const y = fold(b);
  const rows = x.length + 1;
  const cols = y.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let v = Math.min(
        (d[(i - 1) * cols + j] ?? 0) + 1,
        (d[i * cols + j - 1] ?? 0) + 1,
        (d[(i - 1) * cols + j - 1] ?? 0) + cost,
      );
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) {
        v = Math.min(v, (d[(i - 2) * cols + j - 2] ?? 0) + 1);
      }
      d[i * cols + j] = v;
    }
  }
  return d[rows * cols - 1] ?? 0;
}

function fold(s: string): string {
  return s.toLowerCase().replaceAll("_", "-");
}

/**
 * The candidate closest to `word` within a distance of a third of its length (at least 1), or
 * a candidate that `word` is a prefix of (3 characters or more); undefined if none is close.
 */
export function nearest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    if (c === word) continue;
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  if (best !== undefined && bestDistance <= limit) return best;
  if (word.length >= 3) {
    for (const c of candidates) if (fold(c).startsWith(fold(word)) && c !== word) return c;
  }
  return undefined;
}
