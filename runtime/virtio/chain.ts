/**
 * A descriptor chain as the device sees it after popping it: a list of guest-memory
 * segments, device-readable ones first, then device-writable ones (vhost's `out` and `in`
 * iovecs), each already translated to guest-physical addresses of the {@link GuestMemory}
 * backing. The arrays are owned by the queue and reused for every pop, so popping allocates
 * nothing; copy what you need before the next pop.
 *
 * @example Copy the readable bytes out, write a reply into the writable part
 * ```ts
 * import { GuestMemory } from "../memory/guest_memory.ts";
 * import { Chain } from "./chain.ts";
 * const mem = new GuestMemory();
 * mem.addRegion({ name: "ram", gpa: 0, size: 1 << 20 });
 * mem.write(0x100, new Uint8Array([1, 2, 3]));
 * const c = new Chain(mem, 4);
 * c.push(0x100, 3, false);
 * c.push(0x200, 8, true);
 * const out = new Uint8Array(3);
 * if (c.copyOut(out) !== 3 || out[2] !== 3) throw new Error("copyOut");
 * if (c.copyIn(new Uint8Array([9, 9])) !== 2 || mem.getU8(0x201) !== 9) throw new Error("copyIn");
 * ```
 *
 * @module
 */

import type { GuestMemory } from "../memory/guest_memory.ts";

/** One segment, for inspection (`show vq`, tests). */
export interface ChainSegment {
  /** Guest-physical address. */
  readonly addr: number;
  /** Length in bytes. */
  readonly len: number;
  /** Device-writable (otherwise device-readable). */
  readonly write: boolean;
}

/** The walked chain; see the module documentation. */
export class Chain {
  /** Split: the head descriptor index. Packed: the buffer id. -1 when empty. */
  head: number = -1;
  /** Descriptors the chain occupies in the ring itself (packed: slots to skip). */
  descriptors = 0;
  /** Number of segments. */
  count = 0;
  /** The first `readable` segments are device-readable; the rest device-writable. */
  readable = 0;
  /** Total device-readable bytes. */
  readableBytes = 0;
  /** Total device-writable bytes. */
  writableBytes = 0;
  /** Guest-physical address of each segment. */
  addr: Float64Array;
  /** Length of each segment. */
  len: Uint32Array;
  #mem: GuestMemory;
  /** Memory layout generation the segments were validated against. */
  #gen = -1;

  /** An empty chain with room for `capacity` segments (it grows when needed). */
  constructor(mem: GuestMemory, capacity: number) {
    this.#mem = mem;
    this.addr = new Float64Array(Math.max(1, capacity));
    this.len = new Uint32Array(Math.max(1, capacity));
  }

  /** Empties the chain (segments pushed next belong to the current memory layout). */
  clear(): void {
    this.#gen = this.#mem.layoutGeneration;
    this.head = -1;
    this.descriptors = 0;
    this.count = 0;
    this.readable = 0;
    this.readableBytes = 0;
    this.writableBytes = 0;
  }

  /** Makes this a one-segment chain from descriptor `head` (the fast path of a pop). */
  setSingle(head: number, addr: number, len: number, write: boolean): void {
    this.#gen = this.#mem.layoutGeneration;
    this.head = head;
    this.descriptors = 1;
    this.count = 1;
    this.addr[0] = addr;
    this.len[0] = len;
    if (write) {
      this.readable = 0;
      this.readableBytes = 0;
      this.writableBytes = len;
    } else {
      this.readable = 1;
      this.readableBytes = len;
      this.writableBytes = 0;
    }
  }

  /**
   * Appends a segment. The queues push segments they validated against memory, readable ones
   * first; `copyOut`/`copyIn` rely on that.
   */
  push(addr: number, len: number, write: boolean): void {
    const n = this.count;
    if (n === this.addr.length) this.#grow();
    this.addr[n] = addr;
    this.len[n] = len;
    this.count = n + 1;
    if (write) this.writableBytes += len;
    else {
      this.readable++;
      this.readableBytes += len;
    }
  }

  #grow(): void {
    const a = new Float64Array(this.addr.length * 2);
    a.set(this.addr);
    this.addr = a;
    const l = new Uint32Array(this.len.length * 2);
    l.set(this.len);
    this.len = l;
  }

  /** Segment `i`, as an object (inspection only; the hot path reads the arrays). */
  segment(i: number): ChainSegment {
    return { addr: this.addr[i] as number, len: this.len[i] as number, write: i >= this.readable };
  }

  /** All segments, as objects (inspection only). */
  segments(): ChainSegment[] {
    const out: ChainSegment[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.segment(i));
    return out;
  }

  /**
   * Copies device-readable bytes, skipping the first `skip`, into `dst` from `dstOffset`.
   * Returns the number of bytes copied (stops at the end of `dst` or of the readable part).
   */
  copyOut(dst: Uint8Array, dstOffset = 0, skip = 0): number {
    if (skip === 0 && this.readable === 1 && this.#gen === this.#mem.layoutGeneration) {
      // The common case: one readable segment, validated when it was popped.
      const room = dst.length - dstOffset;
      const len = this.len[0] as number;
      const n = len < room ? len : room;
      if (n > 0) this.#mem.readChecked(this.addr[0] as number, dst, dstOffset, n);
      return n > 0 ? n : 0;
    }
    let copied = 0;
    let room = dst.length - dstOffset;
    for (let i = 0; i < this.readable && room > 0; i++) {
      let len = this.len[i] as number;
      let addr = this.addr[i] as number;
      if (skip >= len) {
        skip -= len;
        continue;
      }
      addr += skip;
      len -= skip;
      skip = 0;
      const n = len < room ? len : room;
      if (!this.#mem.read(addr, dst, dstOffset + copied, n)) break;
      copied += n;
      room -= n;
    }
    return copied;
  }

  /**
   * Copies `len` bytes of `src` from `srcOffset` into the device-writable part, skipping its
   * first `skip` bytes. Returns the number of bytes written.
   */
  copyIn(src: Uint8Array, srcOffset = 0, len = src.length - srcOffset, skip = 0): number {
    let written = 0;
    for (let i = this.readable; i < this.count && len > 0; i++) {
      let seg = this.len[i] as number;
      let addr = this.addr[i] as number;
      if (skip >= seg) {
        skip -= seg;
        continue;
      }
      addr += skip;
      seg -= skip;
      skip = 0;
      const n = seg < len ? seg : len;
      if (!this.#mem.write(addr, src, srcOffset + written, n)) break;
      written += n;
      len -= n;
    }
    return written;
  }
}
