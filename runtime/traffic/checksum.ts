/**
 * The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of
 * 16-bit big-endian words, used by the IPv4 header, UDP (over a pseudo-header, RFC 768) and
 * ICMP. Sums are kept unfolded in a JS number (exact up to 2^53, i.e. for any frame) and
 * folded once at the end; nothing is allocated. Pass a `subarray` to checksum a part of a
 * buffer.
 *
 * @example The IPv4 header from RFC 1071's usual worked example
 * ```ts
 * import { internetChecksum } from "./checksum.ts";
 * // 45 00 00 73 00 00 40 00 40 11 [b8 61] c0 a8 00 01 c0 a8 00 c7, checksum field zeroed:
 * const h = new Uint8Array([0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0,
 *   0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7]);
 * if (internetChecksum(h) !== 0xb861) throw new Error("expected 0xb861");
 * ```
 *
 * @module
 */

import { checksumRange, fold, pseudoSum, sumRange } from "./_ones_sum.ts";

/** Adds the 16-bit big-endian words of `bytes` to `sum` (an odd last byte is padded). */
export function onesSum(bytes: Uint8Array, sum = 0): number {
  return sumRange(bytes, 0, bytes.length, sum);
}

/** Folds a sum to 16 bits (end-around carry). */
export function foldSum(sum: number): number {
  return fold(sum);
}

/** The checksum field value for `bytes` on top of a partial `sum` (e.g. a pseudo-header). */
export function internetChecksum(bytes: Uint8Array, sum = 0): number {
  return checksumRange(bytes, 0, bytes.length, sum);
}

/** The fields of the UDP/TCP IPv4 pseudo-header (RFC 768). */
export interface PseudoHeader {
  /** Source IPv4 address (u32). */
  readonly src: number;
  /** Destination IPv4 address (u32). */
  readonly dst: number;
  /** IP protocol number (17 for UDP). */
  readonly protocol: number;
  /** The UDP length (header and data). */
  readonly length: number;
}

/** The partial sum of the pseudo-header. */
export function pseudoHeaderSum(h: PseudoHeader): number {
  return pseudoSum(h.src, h.dst, h.protocol, h.length);
}
