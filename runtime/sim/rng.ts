/**
 * A seeded pseudo-random generator for models that need randomness (jitter, random MACs,
 * drop probabilities): xoshiro128** (Blackman & Vigna, 2018) with its 128-bit state filled
 * by splitmix32 from a 32-bit seed. The runtime never uses `Math.random()`: same seed, same
 * stream, same trace.
 *
 * `fork(label)` derives an independent stream from the seed and a label only, so a model
 * that draws more numbers does not shift the numbers another model sees.
 *
 * @example
 * ```ts
 * import { Rng } from "./rng.ts";
 * const a = new Rng(42);
 * const b = new Rng(42);
 * if (a.next() !== b.next()) throw new Error("same seed, same stream");
 * const die = a.int(6);
 * if (die < 0 || die > 5) throw new Error("int(6) is in [0, 6)");
 * if (a.fork("wire").next() !== b.fork("wire").next()) throw new Error("forks are stable");
 * ```
 *
 * @module
 */

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** One splitmix32 step: returns the new state and a 32-bit output. */
function splitmix32(state: number): [number, number] {
  const s = (state + 0x9e3779b9) | 0;
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [s, z >>> 0];
}

/** FNV-1a over the UTF-16 code units of `s` (fork labels). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** xoshiro128** seeded through splitmix32. */
export class Rng {
  #s0 = 0;
  #s1 = 0;
  #s2 = 0;
  #s3 = 0;
  readonly #seed: number;

  /** A stream for a 32-bit `seed` (other numbers are truncated to 32 bits). */
  constructor(seed: number) {
    this.#seed = seed >>> 0;
    let st = this.#seed;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(st);
      st = next;
      words.push(out);
    }
    this.#set(words);
  }

  /** A generator with an explicit 128-bit state (four u32 words, not all zero). */
  static fromState(state: readonly [number, number, number, number]): Rng {
    if (state.every((w) => (w >>> 0) === 0)) {
      throw new RangeError("The xoshiro128** state must not be all zero");
    }
    const r = new Rng(0);
    r.#set(state);
    return r;
  }

  #set(w: readonly number[]): void {
    this.#s0 = (w[0] ?? 0) | 0;
    this.#s1 = (w[1] ?? 0) | 0;
    this.#s2 = (w[2] ?? 0) | 0;
    this.#s3 = (w[3] ?? 0) | 0;
  }

  /** The seed this stream was created from. */
  get seed(): number {
    return this.#seed;
  }

  /** The next 32-bit unsigned integer. */
  next(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9) >>> 0;
    const t = this.#s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /** A float in [0, 1) with 32 bits of randomness. */
  float(): number {
    return this.next() / 4294967296;
  }

  /** An unbiased integer in [0, n) for 1 ≤ n ≤ 2^32 (rejection sampling). */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296) {
      throw new RangeError(`Rng.int() needs an integer in [1, 2^32], got ${n}`);
    }
    // Reject the top sliver of the u32 range that would make some residues more likely.
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.next();
      if (x < limit) return x % n;
    }
  }

  /** True with probability `p` (0 ≤ p ≤ 1). */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** An independent stream derived from this stream's seed and `label` only. */
  fork(label: string): Rng {
    const [, mixed] = splitmix32((this.#seed ^ fnv1a(label)) | 0);
    return new Rng((mixed ^ Math.imul(fnv1a(label), 0x27d4eb2d)) >>> 0);
  }
}
