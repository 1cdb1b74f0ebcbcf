/**
 * A deterministic log-linear histogram for latencies (HDR-histogram style): values below
 * 2^{@link HISTOGRAM_PRECISION_BITS} ns are counted exactly; above, each power of two is
 * split into 2^(bits−1) equal bins. A bin is at most 1/128 of its lower bound wide, and a
 * percentile is reported as the midpoint of its bin clamped to [min, max], so the reported
 * value is within 1/256 (**0.39 %**, relative) of the exact nearest-rank percentile, and
 * within 1 ns below 256 ns. Memory is fixed (one Float64Array of 7,296 counters), so `count=1e12` costs no
 * more than `count=10`; `record` allocates nothing.
 *
 * Values are ns ≥ 0; fractions of a ns are dropped before binning (min, max and mean use
 * the exact values).
 *
 * @example
 * ```ts
 * import { Histogram } from "./histogram.ts";
 * const h = new Histogram();
 * for (let v = 1; v <= 1000; v++) h.record(v * 10);
 * const p50 = h.percentile(50);
 * if (Math.abs(p50 - 5000) / 5000 > 0.004) throw new Error(`p50 ${p50}`);
 * if (h.max !== 10000 || h.count !== 1000) throw new Error("exact max and count");
 * ```
 *
 * @module
 */

/** Bits of precision: 8 → 128 bins per power of two above 256. */
export const HISTOGRAM_PRECISION_BITS = 8;
/** Documented bound on the relative error of {@link Histogram.percentile}. */
export const HISTOGRAM_RELATIVE_ERROR = 1 / 2 ** HISTOGRAM_PRECISION_BITS;

const P = HISTOGRAM_PRECISION_BITS;
const LINEAR = 1 << P; // 256 exact bins
const HALF = 1 << (P - 1); // 128 bins per octave
const MAX_EXP = 63; // values up to 2^63 ns (≈ 292 years)
const BINS = LINEAR + (MAX_EXP - P + 1) * HALF;

/** floor(log2(v)) for an integer v ≥ 1 (exact beyond 2^32 too). */
function log2Floor(v: number): number {
  if (v < 4294967296) return 31 - Math.clz32(v);
  let e = 32;
  let x = Math.floor(v / 4294967296);
  while (x >= 2) {
    x = Math.floor(x / 2);
    e++;
  }
  return e;
}

/** The bin of an integer value. */
function binOf(v: number): number {
  if (v < LINEAR) return v;
  if (v < 4294967296) {
    // Integer fast path (the common case: latencies below 4.3 s).
    const e = 31 - Math.clz32(v);
    const m = v >>> (e - P + 1);
    return LINEAR + (e - P) * HALF + (m - HALF);
  }
  const e = log2Floor(v);
  if (e > MAX_EXP) return BINS - 1;
  const shift = e - P + 1; // keep the top P bits
  const m = Math.floor(v / 2 ** shift); // in [HALF, LINEAR)
  return LINEAR + (e - P) * HALF + (m - HALF);
}

/** Inclusive lower bound and exclusive upper bound of a bin. */
function binRange(b: number): [number, number] {
  if (b < LINEAR) return [b, b + 1];
  const i = b - LINEAR;
  const e = P + Math.floor(i / HALF);
  const m = HALF + (i % HALF);
  const width = 2 ** (e - P + 1);
  return [m * width, (m + 1) * width];
}

/** Streamed latency statistics with a fixed memory footprint. */
export class Histogram {
  readonly #bins = new Float64Array(BINS);
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = -Infinity;

  /** Records one value (ns, ≥ 0; negatives and NaN count as 0). */
  record(ns: number): void {
    const v = ns > 0 ? ns : 0;
    const b = binOf(Math.floor(v));
    this.#bins[b] = (this.#bins[b] as number) + 1;
    this.#count++;
    this.#sum += v;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
  }

  /** Adds every sample of `other`. */
  merge(other: Histogram): void {
    const ob = other.#bins;
    for (let i = 0; i < BINS; i++) {
      const c = ob[i] as number;
      if (c !== 0) this.#bins[i] = (this.#bins[i] as number) + c;
    }
    this.#count += other.#count;
    this.#sum += other.#sum;
    if (other.#min < this.#min) this.#min = other.#min;
    if (other.#max > this.#max) this.#max = other.#max;
  }

  /** Samples recorded. */
  get count(): number {
    return this.#count;
  }

  /** Exact smallest value (0 when empty). */
  get min(): number {
    return this.#count === 0 ? 0 : this.#min;
  }

  /** Exact largest value (0 when empty). */
  get max(): number {
    return this.#count === 0 ? 0 : this.#max;
  }

  /** Exact mean (0 when empty). */
  get mean(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }

  /**
   * The nearest-rank percentile `p` (0 < p ≤ 100): the smallest recorded value with at
   * least p % of the samples at or below it, to within {@link HISTOGRAM_RELATIVE_ERROR}
   * (relative) or 1 ns. 0 when empty.
   */
  percentile(p: number): number {
    if (!(p > 0 && p <= 100)) throw new RangeError(`Percentile must be in (0, 100], got ${p}`);
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    let seen = 0;
    for (let b = 0; b < BINS; b++) {
      seen += this.#bins[b] as number;
      if (seen >= rank) {
        const [lo, hi] = binRange(b);
        const mid = hi - lo === 1 ? lo : (lo + hi) / 2;
        return Math.min(this.#max, Math.max(this.#min, mid));
      }
    }
    return this.#max;
  }
}
