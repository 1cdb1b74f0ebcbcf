/**
 * "Did you mean" for names the runtime owns (cost keys, metric paths): the candidate with
 * the smallest edit distance, if it is close enough to be a plausible typo (Elm's
 * `Suggest.hs` idea: distance at most a third of the name, at least 1).
 *
 * The runtime cannot import `lang/`, so it keeps this small helper of its own.
 *
 * @example
 * ```ts
 * import { didYouMean } from "./suggest.ts";
 * if (didYouMean("vmexit_lite", ["vmexit_light", "syscall"]) !== "vmexit_light") {
 *   throw new Error("expected vmexit_light");
 * }
 * if (didYouMean("zzz", ["vmexit_light"]) !== undefined) throw new Error("too far");
 * ```
 *
 * @module
 */

/**
 * Optimal-string-alignment distance (Levenshtein plus adjacent transposition), case
 * sensitive.
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  const w = b.length + 1;
  // Three rows suffice for the transposition rule.
  let prev2 = new Array<number>(w).fill(0);
  let prev = new Array<number>(w);
  let cur = new Array<number>(w);
  for (let j = 0; j < w; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j < w; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, (prev2[j - 2] ?? 0) + 1);
      }
      cur[j] = d;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[b.length] ?? 0;
}

/**
 * The closest candidate to `input` when it is a plausible typo, else undefined. Ties go to
 * the earliest candidate, so the answer is deterministic.
 */
export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(1, Math.floor(input.length / 3));
  const lower = input.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    // A case-only difference is always a typo worth naming.
    const d = c.toLowerCase() === lower ? 0.5 : editDistance(input, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return bestD <= limit ? best : undefined;
}
