/**
 * "Did you mean" suggestions: candidates ranked by a case-insensitive restricted
 * Damerau–Levenshtein distance (insert, delete, substitute, swap two adjacent characters),
 * kept when the distance is small relative to the length of the name (Elm's `Suggest`).
 *
 * @example The confusions users of vdpa_sim actually make
 * ```ts
 * import { suggest } from "./suggest.ts";
 * const modules = ["vdpa", "vdpa_sim", "vdpa_sim_net", "vhost_vdpa", "virtio_vdpa"];
 * if (suggest("vhost_vpda", modules)[0] !== "vhost_vdpa") throw new Error("swap missed");
 * if (suggest("vdpasim_net", modules)[0] !== "vdpa_sim_net") throw new Error("missing _");
 * ```
 *
 * @module
 */

/** Options of {@link suggest}. */
export interface SuggestOptions {
  /** Treat `-` and `_` as the same character (kernel module names, QEMU properties). */
  readonly dashUnderscore?: boolean;
  /** At most this many suggestions (default 3). */
  readonly limit?: number;
  /**
   * Largest accepted distance as a fraction of the longer of the two names (default 0.34:
   * one edit per three characters), never below 1 edit.
   */
  readonly ratio?: number;
}

function normalize(s: string, dashUnderscore: boolean): string {
  const lower = s.toLowerCase();
  return dashUnderscore ? lower.replaceAll("-", "_") : lower;
}

/**
 * The restricted Damerau–Levenshtein (optimal string alignment) distance between `a` and
 * `b`: the fewest insertions, deletions, substitutions and swaps of adjacent characters
 * that turn one into the other, where no substring is edited twice. Case-sensitive; see
 * {@link suggest} for the case-insensitive ranking.
 *
 * @example
 * ```ts
 * import { editDistance } from "./suggest.ts";
 * if (editDistance("vpda", "vdpa") !== 1) throw new Error("a swap is one edit");
 * if (editDistance("ca", "abc") !== 3) throw new Error("restricted: no edit inside a swap");
 * ```
 */
export function editDistance(a: string, b: string): number {
  const n = a.length;
  const m = b.length;
  if (n === 0) return m;
  if (m === 0) return n;
  // Three rolling rows: the swap rule looks two rows back.
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  let cur = new Array<number>(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(
        (prev[j] ?? 0) + 1,
        (cur[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, (prev2[j - 2] ?? 0) + 1);
      }
      cur[j] = d;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[m] ?? 0;
}

/**
 * The candidates closest to `name`, best first (ties keep the candidates' order). A
 * candidate equal to `name` (after case folding) is returned first; an empty list means
 * nothing is close enough to be worth suggesting.
 *
 * @example
 * ```ts
 * import { suggest } from "./suggest.ts";
 * const devices = ["virtio-net-pci", "virtio-blk-pci", "vfio-pci"];
 * if (suggest("vitrio-net-pci", devices)[0] !== "virtio-net-pci") throw new Error("swap");
 * if (suggest("e1000e", devices).length !== 0) throw new Error("nothing close");
 * if (suggest("virtio_net_pci", devices, { dashUnderscore: true })[0] !== "virtio-net-pci") {
 *   throw new Error("dashes and underscores should match");
 * }
 * ```
 */
export function suggest(
  name: string,
  candidates: Iterable<string>,
  options: SuggestOptions = {},
): string[] {
  const dashUnderscore = options.dashUnderscore ?? false;
  const limit = options.limit ?? 3;
  const ratio = options.ratio ?? 0.34;
  const target = normalize(name, dashUnderscore);
  const scored: { candidate: string; distance: number; order: number }[] = [];
  const seen = new Set<string>();
  let order = 0;
  for (const candidate of candidates) {
    if (seen.has(candidate)) continue;
    seen.add(candidate);
    const c = normalize(candidate, dashUnderscore);
    const threshold = Math.max(1, Math.floor(Math.max(c.length, target.length) * ratio));
    // The distance is at least the difference in length: skip hopeless candidates cheaply.
    if (Math.abs(c.length - target.length) > threshold) continue;
    const distance = editDistance(target, c);
    if (distance <= threshold) scored.push({ candidate, distance, order: order++ });
  }
  scored.sort((x, y) => x.distance - y.distance || x.order - y.order);
  return scored.slice(0, limit).map((s) => s.candidate);
}

/**
 * A help line for the best suggestion (`` did you mean `vdpa_sim_net`? ``), or undefined
 * when nothing is close.
 *
 * @example
 * ```ts
 * import { didYouMean } from "./suggest.ts";
 * if (didYouMean("nn", ["n", "name"]) !== "did you mean `n`?") throw new Error("wrong help");
 * ```
 */
export function didYouMean(
  name: string,
  candidates: Iterable<string>,
  options: SuggestOptions = {},
): string | undefined {
  const best = suggest(name, candidates, { ...options, limit: 1 })[0];
  return best === undefined ? undefined : `did you mean \`${best}\`?`;
}
