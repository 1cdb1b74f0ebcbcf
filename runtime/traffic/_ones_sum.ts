/**
 * The allocation-free core of the Internet checksum, over a byte range given by offset and
 * length, for the per-packet paths of the frame builders and verifiers (a `subarray` view
 * per call would allocate). Private to `runtime/traffic/`; the public API is `checksum.ts`.
 *
 * @module
 */

/** Adds the 16-bit big-endian words of `buf[off, off+len)` to `sum` (odd tail padded). */
export function sumRange(buf: Uint8Array, off: number, len: number, sum: number): number {
  let s = sum;
  const end = off + len;
  let i = off;
  for (; i + 1 < end; i += 2) s += ((buf[i] as number) << 8) | (buf[i + 1] as number);
  // RFC 1071 §4.1: an odd trailing byte is padded with a zero byte on the right.
  if (i < end) s += (buf[i] as number) << 8;
  return s;
}

/**
 * {@link sumRange} four bytes at a time, for a sum that is only folded: the big-endian u32
 * `hi·2^16 + lo` is congruent to `hi + lo` modulo 2^16 − 1, so the folded result is the same
 * (the raw sum is not). Exact while the sum stays below 2^53 (any frame).
 */
export function sumRangeWide(buf: Uint8Array, off: number, len: number, sum: number): number {
  let s = sum;
  const end = off + len;
  let i = off;
  for (; i + 3 < end; i += 4) {
    s += (((buf[i] as number) << 24) | ((buf[i + 1] as number) << 16) |
      ((buf[i + 2] as number) << 8) | (buf[i + 3] as number)) >>> 0;
  }
  if (i + 1 < end) {
    s += ((buf[i] as number) << 8) | (buf[i + 1] as number);
    i += 2;
  }
  // RFC 1071 §4.1: an odd trailing byte is padded with a zero byte on the right.
  if (i < end) s += (buf[i] as number) << 8;
  return s;
}

/** Folds a sum to 16 bits (end-around carry). */
export function fold(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}

/** The checksum field value for `buf[off, off+len)` on top of a partial `sum`. */
export function checksumRange(buf: Uint8Array, off: number, len: number, sum: number): number {
  return ~fold(sumRange(buf, off, len, sum)) & 0xffff;
}

/** The RFC 768 pseudo-header sum: addresses, protocol, length. */
export function pseudoSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}
