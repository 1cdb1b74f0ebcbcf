/**
 * The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of
 * 16-bit big-endian words, used by the IPv4 header, UDP (over a pseudo-header, RFC 768) and
 * ICMP. Sums are kept unfolded in a JS number (exact up to 2^53, i.e. for any frame) and
 * folded once at the end; nothing is allocated.
 *
 * @example The IPv4 header from RFC 1071's usual worked example
 * ```ts
 * import { internetChecksum } from "./checksum.ts";
 * // 45 00 00 73 00 00 40 00 40 11 [b8 61] c0 a8 00 01 c0 a8 00 c7, checksum field zeroed:
 * const h = new Uint8Array([0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0,
 *   0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7]);
 * if (internetChecksum(h, 0, 20) !== 0xb861) throw new Error("expected 0xb861");
 * ```
 *
 * @module
 */

/** Adds the 16-bit big-endian words of `buf[off, off+len)` to `sum` (odd tail padded). */
export function onesSum(buf: Uint8Array, off: number, len: number, sum = 0): number {
  let s = sum;
  const end = off + len;
  let i = off;
  for (; i + 1 < end; i += 2) s += ((buf[i] as number) << 8) | (buf[i + 1] as number);
  // RFC 1071 §4.1: an odd trailing byte is padded with a zero byte on the right.
  if (i < end) s += (buf[i] as number) << 8;
  return s;
}

/** Folds a sum to 16 bits (end-around carry). */
export function foldSum(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}

/** The checksum field value for `buf[off, off+len)` plus an initial partial `sum`. */
export function internetChecksum(buf: Uint8Array, off: number, len: number, sum = 0): number {
  return ~foldSum(onesSum(buf, off, len, sum)) & 0xffff;
}

/**
 * The partial sum of the UDP/TCP IPv4 pseudo-header (RFC 768): source and destination
 * address, zero, protocol, and the UDP length.
 */
export function pseudoHeaderSum(
  src: number,
  dst: number,
  protocol: number,
  length: number,
): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}
