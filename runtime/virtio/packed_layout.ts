/**
 * Packed virtqueue byte layout (virtio 1.2 §2.8): the descriptor ring (16-byte `pvirtq_desc`
 * entries: addr, len, id, flags) and the two 4-byte event suppression structures; size and
 * alignment checks; the AVAIL/USED flag tests; raw access for tools and adversarial tests.
 *
 * @example Available vs used, by wrap counter
 * ```ts
 * import { isDescAvail, isDescUsed, packedAvailFlags } from "./packed_layout.ts";
 * const f = packedAvailFlags(1); // first lap: AVAIL=1, USED=0
 * if (!isDescAvail(f, 1) || isDescUsed(f, 1)) throw new Error("available on lap 1");
 * ```
 *
 * @module
 */

import type { GuestMemory } from "../memory/guest_memory.ts";
import {
  DESC_ADDR,
  DESC_LEN,
  PACKED_DESC_FLAGS,
  PACKED_DESC_ID,
  PACKED_F_AVAIL,
  PACKED_F_USED,
  PVIRTQ_DESC_ALIGN,
  PVIRTQ_EVENT_ALIGN,
  PVIRTQ_MAX_SIZE,
  VIRTQ_DESC_SIZE,
} from "./defs.ts";
import type { QueueFault } from "./queue_fault.ts";
import type { RawDesc } from "./split_layout.ts";

/** Where the three parts of a packed queue live. */
export interface PackedRingAddrs {
  /** Descriptor Area: the descriptor ring (16-byte aligned). */
  readonly descRing: number;
  /** Driver Area: Driver Event Suppression (4-byte aligned). */
  readonly driverEvent: number;
  /** Device Area: Device Event Suppression (4-byte aligned). */
  readonly deviceEvent: number;
}

/** Bytes of the descriptor ring: 16 × size. */
export function descRingSize(size: number): number {
  return VIRTQ_DESC_SIZE * size;
}

/** True when `size` is a valid packed queue size: 1..32768, any value (§2.8). */
export function isValidPackedSize(size: number): boolean {
  return Number.isInteger(size) && size >= 1 && size <= PVIRTQ_MAX_SIZE;
}

/** Checks size and alignment (§2.8.10.1 table); the first problem, if any. */
export function checkPackedLayout(size: number, a: PackedRingAddrs): QueueFault | undefined {
  if (!isValidPackedSize(size)) return { kind: "bad-size", size, layout: "packed" };
  if (a.descRing % PVIRTQ_DESC_ALIGN !== 0) {
    return { kind: "misaligned", part: "descTable", addr: a.descRing, align: PVIRTQ_DESC_ALIGN };
  }
  if (a.driverEvent % PVIRTQ_EVENT_ALIGN !== 0) {
    return {
      kind: "misaligned",
      part: "driverEvent",
      addr: a.driverEvent,
      align: PVIRTQ_EVENT_ALIGN,
    };
  }
  if (a.deviceEvent % PVIRTQ_EVENT_ALIGN !== 0) {
    return {
      kind: "misaligned",
      part: "deviceEvent",
      addr: a.deviceEvent,
      align: PVIRTQ_EVENT_ALIGN,
    };
  }
  return undefined;
}

/** Flags marking a descriptor available on a lap with driver wrap counter `wrap` (§2.8.1). */
export function packedAvailFlags(wrap: number): number {
  return wrap ? PACKED_F_AVAIL : PACKED_F_USED;
}

/** Flags marking a descriptor used with device wrap counter `wrap` (AVAIL = USED = wrap). */
export function packedUsedFlags(wrap: number): number {
  return wrap ? PACKED_F_AVAIL | PACKED_F_USED : 0;
}

/** Available for a reader expecting wrap counter `wrap`: AVAIL = wrap and USED ≠ AVAIL. */
export function isDescAvail(flags: number, wrap: number): boolean {
  const avail = (flags & PACKED_F_AVAIL) !== 0;
  const used = (flags & PACKED_F_USED) !== 0;
  return avail !== used && avail === (wrap === 1);
}

/** Used for a reader expecting wrap counter `wrap`: AVAIL = USED = wrap. */
export function isDescUsed(flags: number, wrap: number): boolean {
  const avail = (flags & PACKED_F_AVAIL) !== 0;
  const used = (flags & PACKED_F_USED) !== 0;
  return avail === used && used === (wrap === 1);
}

/** Writes packed descriptor `slot` exactly as given (`next` is the buffer id); false on a fault. */
export function writePackedDesc(mem: GuestMemory, ring: number, slot: number, d: RawDesc): boolean {
  const at = ring + VIRTQ_DESC_SIZE * slot;
  return mem.setU64(at + DESC_ADDR, d.addr) && mem.setU32(at + DESC_LEN, d.len) &&
    mem.setU16(at + PACKED_DESC_ID, d.next) && mem.setU16(at + PACKED_DESC_FLAGS, d.flags);
}

/** Reads packed descriptor `slot`; undefined on a fault. */
export function readPackedDesc(
  mem: GuestMemory,
  ring: number,
  slot: number,
): { addr: bigint; len: number; id: number; flags: number } | undefined {
  const at = ring + VIRTQ_DESC_SIZE * slot;
  if (!mem.check(at, VIRTQ_DESC_SIZE)) return undefined;
  return {
    addr: mem.getU64(at + DESC_ADDR),
    len: mem.getU32(at + DESC_LEN),
    id: mem.getU16(at + PACKED_DESC_ID),
    flags: mem.getU16(at + PACKED_DESC_FLAGS),
  };
}
