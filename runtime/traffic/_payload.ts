/**
 * The payload pattern of our frames (see `frame.ts`): a 16-byte header — marker "vdpa",
 * flow id, 64-bit sequence, all big-endian — then bytes that are a function of (flow id,
 * sequence, offset). Offset-based and allocation-free for the per-packet paths; private to
 * `runtime/traffic/`.
 *
 * @module
 */

/** The payload marker "vdpa". */
export const PAYLOAD_MAGIC = 0x76647061;
/** Marker + flow id + 64-bit sequence. */
export const PAYLOAD_HEADER_LEN = 16;

/** The payload byte at `offset` (from the start of the payload) of packet (flow, seq). */
export function payloadByte(flowId: number, seq: number, offset: number): number {
  // Mixing seq in makes a stale buffer of another packet fail the check.
  return (offset * 167 + (seq % 0x10000) * 13 + flowId * 7 + (offset >>> 8)) & 0xff;
}

/** Writes the payload header and pattern of packet (flow, seq) into `buf[off, off+len)`. */
export function writePayload(
  buf: Uint8Array,
  off: number,
  len: number,
  flowId: number,
  seq: number,
): void {
  const hi = Math.floor(seq / 4294967296) >>> 0;
  const lo = seq >>> 0;
  const n = Math.min(len, PAYLOAD_HEADER_LEN);
  for (let i = 0; i < n; i++) {
    const w = i < 4 ? PAYLOAD_MAGIC : i < 8 ? flowId >>> 0 : i < 12 ? hi : lo;
    buf[off + i] = (w >>> (24 - 8 * (i & 3))) & 0xff;
  }
  for (let i = PAYLOAD_HEADER_LEN; i < len; i++) buf[off + i] = payloadByte(flowId, seq, i);
}

/** Reads a big-endian u32. */
export function readBe32(buf: Uint8Array, off: number): number {
  return (((buf[off] as number) << 24) | ((buf[off + 1] as number) << 16) |
    ((buf[off + 2] as number) << 8) | (buf[off + 3] as number)) >>> 0;
}
