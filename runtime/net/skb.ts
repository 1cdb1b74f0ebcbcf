/**
 * A frame outside guest memory: an skb in the host kernel, a QEMU buffer, an mbuf. It owns a
 * copy of the bytes (made by whoever copied them out of guest memory, and charged there) and
 * knows which packet it is — identified once, from the payload header, when it was made.
 *
 * @example
 * ```ts
 * import { Skb } from "./skb.ts";
 * const skb = Skb.copyOf(new Uint8Array([1, 2, 3, 4]), 1, 2, undefined, 0);
 * if (skb.len !== 2 || skb.data[0] !== 2) throw new Error("a copy of bytes 1..2");
 * ```
 *
 * @module
 */

import type { TrafficFlow } from "../datapath/flow_table.ts";

/** A host-side frame. */
export class Skb {
  /** The frame bytes (no FCS, no virtio-net header). */
  readonly data: Uint8Array;
  /** The traffic it belongs to (undefined: not one of the lab's). */
  readonly flow: TrafficFlow | undefined;
  /** Sequence number in its traffic. */
  readonly seq: number;
  /** Receive-side steering hash (multi-queue tap, RSS). */
  hash = 0;
  /**
   * A copy a bridge flooded besides the one that counts: it costs what it costs wherever it
   * goes, but its loss is not the packet's loss.
   */
  shadow = false;

  constructor(data: Uint8Array, flow: TrafficFlow | undefined, seq: number) {
    this.data = data;
    this.flow = flow;
    this.seq = seq;
  }

  /** Frame length. */
  get len(): number {
    return this.data.length;
  }

  /** An skb holding a copy of `src[off, off+len)`. */
  static copyOf(
    src: Uint8Array,
    off: number,
    len: number,
    flow: TrafficFlow | undefined,
    seq: number,
  ): Skb {
    return new Skb(src.slice(off, off + len), flow, seq);
  }

  /** A shadow copy of this skb (a bridge flooding to several ports). */
  clone(): Skb {
    const c = new Skb(this.data.slice(), this.flow, this.seq);
    c.hash = this.hash;
    c.shadow = true;
    return c;
  }

  /** Destination MAC as a 48-bit number. */
  get dstKey(): number {
    return macKey(this.data, 0);
  }

  /** Source MAC as a 48-bit number. */
  get srcKey(): number {
    return macKey(this.data, 6);
  }
}

/** Six bytes at `off` as a 48-bit number (FDB keys). */
export function macKey(b: Uint8Array, off: number): number {
  return ((b[off] as number) * 0x10000000000) + ((b[off + 1] as number) * 0x100000000) +
    ((((b[off + 2] as number) << 24) | ((b[off + 3] as number) << 16) |
      ((b[off + 4] as number) << 8) | (b[off + 5] as number)) >>> 0);
}

/** True for a group (multicast/broadcast) destination: bit 0 of the first byte. */
export function isGroupKey(key: number): boolean {
  return Math.floor(key / 0x10000000000) % 2 === 1;
}
