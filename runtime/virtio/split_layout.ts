/**
 * Split virtqueue byte layout (virtio 1.2 §2.7): part sizes, field offsets, the legacy
 * contiguous layout, checks of size and alignment, and raw descriptor access for tools and
 * tests that need to write exactly the bytes a (possibly malicious) driver would.
 *
 * @example Sizes for a 256-entry queue
 * ```ts
 * import { availRingSize, descTableSize, legacyVringSize, usedRingSize } from "./split_layout.ts";
 * if (descTableSize(256) !== 4096 || availRingSize(256) !== 518 || usedRingSize(256) !== 2054) {
 *   throw new Error("sizes");
 * }
 * if (legacyVringSize(256, 4096) !== 10246) throw new Error("Linux vring_size");
 * ```
 *
 * @module
 */

import type { GuestMemory } from "../memory/guest_memory.ts";
import {
  DESC_ADDR,
  DESC_FLAGS,
  DESC_LEN,
  DESC_NEXT,
  RING_ENTRIES,
  VIRTQ_AVAIL_ALIGN,
  VIRTQ_AVAIL_ELEM_SIZE,
  VIRTQ_AVAIL_EVENT_SIZE,
  VIRTQ_AVAIL_HEADER_SIZE,
  VIRTQ_DESC_ALIGN,
  VIRTQ_DESC_SIZE,
  VIRTQ_MAX_SIZE,
  VIRTQ_USED_ALIGN,
  VIRTQ_USED_ELEM_SIZE,
  VIRTQ_USED_EVENT_SIZE,
  VIRTQ_USED_HEADER_SIZE,
} from "./defs.ts";
import type { QueueFault } from "./queue_fault.ts";

/** Where the three parts of a split queue live. */
export interface SplitRingAddrs {
  /** Descriptor Area (16-byte aligned). */
  readonly descTable: number;
  /** Driver Area (2-byte aligned). */
  readonly availRing: number;
  /** Device Area (4-byte aligned). */
  readonly usedRing: number;
}

/** Bytes of the descriptor table: 16 × size. */
export function descTableSize(size: number): number {
  return VIRTQ_DESC_SIZE * size;
}

/** Bytes of the available ring including `used_event`: 6 + 2 × size. */
export function availRingSize(size: number): number {
  return VIRTQ_AVAIL_HEADER_SIZE + VIRTQ_AVAIL_ELEM_SIZE * size + VIRTQ_USED_EVENT_SIZE;
}

/** Bytes of the used ring including `avail_event`: 6 + 8 × size. */
export function usedRingSize(size: number): number {
  return VIRTQ_USED_HEADER_SIZE + VIRTQ_USED_ELEM_SIZE * size + VIRTQ_AVAIL_EVENT_SIZE;
}

/** Offset of `avail.ring[i]`. */
export function availEntryOffset(i: number): number {
  return RING_ENTRIES + VIRTQ_AVAIL_ELEM_SIZE * i;
}

/** Offset of `used_event` (= `avail.ring[size]`, Linux `vring_used_event`). */
export function usedEventOffset(size: number): number {
  return RING_ENTRIES + VIRTQ_AVAIL_ELEM_SIZE * size;
}

/** Offset of `used.ring[i]` (`id` at +0, `len` at +4). */
export function usedEntryOffset(i: number): number {
  return RING_ENTRIES + VIRTQ_USED_ELEM_SIZE * i;
}

/** Offset of `avail_event` (after `used.ring[size]`, Linux `vring_avail_event`). */
export function availEventOffset(size: number): number {
  return RING_ENTRIES + VIRTQ_USED_ELEM_SIZE * size;
}

/**
 * Linux `vring_size(num, align)`: the legacy contiguous block, desc + avail padded to
 * `align`, then the used ring (unpadded).
 */
export function legacyVringSize(size: number, align: number): number {
  return alignUp(descTableSize(size) + 2 * (3 + size), align) + 2 * 3 + VIRTQ_USED_ELEM_SIZE * size;
}

/** Linux `vring_init`: the three parts of a legacy ring starting at `base`. */
export function legacySplitLayout(base: number, size: number, align = 4096): SplitRingAddrs {
  const availRing = base + descTableSize(size);
  return {
    descTable: base,
    availRing,
    usedRing: alignUp(availRing + availEntryOffset(size) + VIRTQ_USED_EVENT_SIZE, align),
  };
}

function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

/** True when `size` is a valid split queue size: a power of 2 in 1..32768 (§2.7). */
export function isValidSplitSize(size: number): boolean {
  return Number.isInteger(size) && size >= 1 && size <= VIRTQ_MAX_SIZE && (size & (size - 1)) === 0;
}

/** Checks size and the alignment of each part (§2.7 table); the first problem, if any. */
export function checkSplitLayout(size: number, addrs: SplitRingAddrs): QueueFault | undefined {
  if (!isValidSplitSize(size)) return { kind: "bad-size", size, layout: "split" };
  if (addrs.descTable % VIRTQ_DESC_ALIGN !== 0) {
    return {
      kind: "misaligned",
      part: "descTable",
      addr: addrs.descTable,
      align: VIRTQ_DESC_ALIGN,
    };
  }
  if (addrs.availRing % VIRTQ_AVAIL_ALIGN !== 0) {
    return {
      kind: "misaligned",
      part: "availRing",
      addr: addrs.availRing,
      align: VIRTQ_AVAIL_ALIGN,
    };
  }
  if (addrs.usedRing % VIRTQ_USED_ALIGN !== 0) {
    return { kind: "misaligned", part: "usedRing", addr: addrs.usedRing, align: VIRTQ_USED_ALIGN };
  }
  return undefined;
}

/** A descriptor as plain data. `addr` may be a bigint to express addresses beyond 2^53. */
export interface RawDesc {
  /** Buffer address (a bigint reaches beyond 2^53). */
  readonly addr: number | bigint;
  /** Buffer length. */
  readonly len: number;
  /** Descriptor flags, written as given. */
  readonly flags: number;
  /** Split: next index. Packed: buffer id. */
  readonly next: number;
}

/** Writes descriptor `i` of the table at `table` exactly as given (no checks); false on a fault. */
export function writeSplitDesc(mem: GuestMemory, table: number, i: number, d: RawDesc): boolean {
  const at = table + VIRTQ_DESC_SIZE * i;
  return mem.setU64(at + DESC_ADDR, d.addr) && mem.setU32(at + DESC_LEN, d.len) &&
    mem.setU16(at + DESC_FLAGS, d.flags) && mem.setU16(at + DESC_NEXT, d.next);
}

/** Reads descriptor `i` of the table at `table`; undefined on a fault. */
export function readSplitDesc(
  mem: GuestMemory,
  table: number,
  i: number,
): { addr: bigint; len: number; flags: number; next: number } | undefined {
  const at = table + VIRTQ_DESC_SIZE * i;
  if (!mem.check(at, VIRTQ_DESC_SIZE)) return undefined;
  return {
    addr: mem.getU64(at + DESC_ADDR),
    len: mem.getU32(at + DESC_LEN),
    flags: mem.getU16(at + DESC_FLAGS),
    next: mem.getU16(at + DESC_NEXT),
  };
}
