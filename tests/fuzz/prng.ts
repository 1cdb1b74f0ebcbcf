/**
 * A small seeded PRNG for the fuzzers (splitmix32): the same seed gives the same inputs on
 * every machine, so a failure is reproduced from the seed it prints.
 *
 * @example
 * ```ts
 * import { Prng } from "./prng.ts";
 * const a = new Prng(7);
 * const b = new Prng(7);
 * if (a.int(1000) !== b.int(1000)) throw new Error("same seed, same numbers");
 * ```
 *
 * @module
 */

/** A deterministic random stream; see the module documentation. */
export class Prng {
  #state: number;

  /** A stream seeded with `seed` (any integer; only the low 32 bits matter). */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** The next 32 random bits, as an unsigned integer. */
  u32(): number {
    // splitmix32: a Weyl sequence through a 32-bit finaliser.
    this.#state = (this.#state + 0x9e3779b9) >>> 0;
    let z = this.#state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** An integer in `[0, n)` (0 when `n` ≤ 0). */
  int(n: number): number {
    if (n <= 1) return 0;
    if (n <= 0x1_0000_0000) return Math.floor((this.u32() / 0x1_0000_0000) * n);
    return Math.floor(((this.u32() * 0x1_0000_0000 + this.u32()) / 2 ** 64) * n);
  }

  /** An integer in `[lo, hi]`. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.u32() < p * 0x1_0000_0000;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("Cannot pick from an empty list");
    return items[this.int(items.length)] as T;
  }

  /** One of `choices` by weight (`[weight, value]` pairs; weights > 0, fractions allowed). */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of choices) total += w;
    let r = (this.u32() / 0x1_0000_0000) * total;
    for (const [w, v] of choices) {
      if (r < w) return v;
      r -= w;
    }
    return (choices[choices.length - 1] as readonly [number, T])[1];
  }

  /** A seed for a sub-stream (so that one input's draws do not shift the next input's). */
  fork(): Prng {
    return new Prng(this.u32());
  }
}
