/**
 * iproute2's `matches(prefix, keyword)`: true when `prefix` is a non-empty prefix of `keyword`.
 * The tools test keywords in a fixed order and take the first match, so `ip link s` means `set`
 * (tested before `show`); {@link firstMatch} reproduces that order.
 *
 * @example
 * ```ts
 * import { firstMatch, matches } from "./matches.ts";
 * if (!matches("sh", "show") || matches("showx", "show") || matches("", "show")) throw new Error("matches");
 * if (firstMatch("s", ["add", "set", "show"]) !== "set") throw new Error("first in order wins");
 * ```
 *
 * @module
 */

/** True when `prefix` is a non-empty prefix of `keyword` (iproute2 utils.c `matches() == 0`). */
export function matches(prefix: string, keyword: string): boolean {
  return prefix.length > 0 && keyword.startsWith(prefix);
}

/** The first keyword (in the tool's test order) that `word` abbreviates, if any. */
export function firstMatch<K extends string>(word: string, keywords: readonly K[]): K | undefined {
  return keywords.find((k) => matches(word, k));
}
