/**
 * Line-rate arithmetic. On the wire every Ethernet frame (FCS included) is preceded by a
 * 7-byte preamble and a 1-byte start delimiter and followed by a 12-byte inter-frame gap:
 * 20 bytes that carry no data but take time. So a 64 B frame occupies 84 byte times, and a
 * 10 Gbit/s link carries at most 10^10 / (84 · 8) = 14,880,952 frames/s ("14.88 Mpps").
 *
 * @example
 * ```ts
 * import { linePps, serializationNs } from "./line_rate.ts";
 * if (Math.round(linePps(10e9, 64)) !== 14_880_952) throw new Error("14.88 Mpps at 10G");
 * if (serializationNs(64, 10e9) !== 67.2) throw new Error("84 B at 10G take 67.2 ns");
 * ```
 *
 * @module
 */

/** Preamble (7) + start frame delimiter (1) + inter-frame gap (12), IEEE 802.3. */
export const WIRE_OVERHEAD_BYTES = 20;

/** Frames per second a link of `linkBps` carries at `frameBytes` (FCS included). */
export function linePps(linkBps: number, frameBytes: number): number {
  return linkBps / ((frameBytes + WIRE_OVERHEAD_BYTES) * 8);
}

/** ns one frame of `frameBytes` (FCS included) occupies a link of `linkBps`. */
export function serializationNs(frameBytes: number, linkBps: number): number {
  return ((frameBytes + WIRE_OVERHEAD_BYTES) * 8 * 1e9) / linkBps;
}

/** Frames per second for a wire bit rate (`rate=5Gbps`, preamble and gap included). */
export function ppsForWireBps(bps: number, frameBytes: number): number {
  return linePps(bps, frameBytes);
}
