/**
 * Saved device-side queue state: plain, untrusted data, separate from the checked queue
 * objects (rust-vmm's `QueueState` vs `Queue`). `show vq` prints it, snapshots store it, and
 * `fromState` on a queue validates it before use. Also the vhost `GET/SET_VRING_BASE`
 * encodings (linux/vhost.h; vhost-user §"Ring states").
 *
 * @example vhost ring base for a packed queue
 * ```ts
 * import { decodeVringBase, encodeVringBase } from "./queue_state.ts";
 * const num = encodeVringBase({ layout: "packed", nextAvail: 3, availWrap: 1, nextUsed: 2, usedWrap: 0 });
 * if (num !== (3 | 1 << 15 | 2 << 16)) throw new Error("encoding");
 * const back = decodeVringBase("packed", num);
 * if (back.availWrap !== 1 || back.nextUsed !== 2) throw new Error("decoding");
 * ```
 *
 * @module
 */

import { isValidSplitSize } from "./split_layout.ts";
import type { QueueFault } from "./queue_fault.ts";
import { PVIRTQ_MAX_SIZE } from "./defs.ts";

/** Device-side state of a split queue. Addresses are device-visible (before translation). */
export interface SplitQueueState {
  /** Ring layout. */
  readonly layout: "split";
  /** Queue size. */
  readonly size: number;
  /** Descriptor table, device-visible address. */
  readonly descTable: number;
  /** Driver Area (available ring), device-visible address. */
  readonly availRing: number;
  /** Device Area (used ring), device-visible address. */
  readonly usedRing: number;
  /** vhost `last_avail_idx`: the next avail ring index to pop (u16, free-running). */
  readonly nextAvail: number;
  /** The used index the device publishes next (u16, free-running). */
  readonly nextUsed: number;
  /** Used index at the last interrupt decision (vhost `signalled_used`). */
  readonly signalledUsed: number;
  /** Whether `signalledUsed` holds a decision (false after reset). */
  readonly signalledUsedValid: boolean;
  /** Whether the device currently wants kicks (NO_NOTIFY clear / avail_event maintained). */
  readonly notifications: boolean;
  /** Heads popped and not yet used, oldest first. */
  readonly inFlight: readonly number[];
}

/** Device-side state of a packed queue. */
export interface PackedQueueState {
  /** Ring layout. */
  readonly layout: "packed";
  /** Queue size. */
  readonly size: number;
  /** Descriptor ring, device-visible address. */
  readonly descRing: number;
  /** Driver Event Suppression structure (written by the driver). */
  readonly driverEvent: number;
  /** Device Event Suppression structure (written by the device). */
  readonly deviceEvent: number;
  /** Next ring slot to read, in `[0, size)`. */
  readonly nextAvail: number;
  /** Driver ring wrap counter the device expects at `nextAvail` (0 or 1). */
  readonly availWrap: number;
  /** Next ring slot to mark used, in `[0, size)`. */
  readonly nextUsed: number;
  /** Device ring wrap counter (0 or 1). */
  readonly usedWrap: number;
  /** Ring position (slot | wrap << 15) at the last interrupt decision. */
  readonly signalledUsed: number;
  /** Whether `signalledUsed` holds a decision (false after reset). */
  readonly signalledUsedValid: boolean;
  /** Whether the device currently wants kicks. */
  readonly notifications: boolean;
  /** Buffers popped and not yet used, oldest first, with the ring slots each occupies. */
  readonly inFlight: readonly { readonly id: number; readonly descriptors: number }[];
}

/** Either layout. */
export type QueueState = SplitQueueState | PackedQueueState;

function isU16(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffff;
}

function isAddr(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** Checks a saved state; the first problem, if any. Ring alignment is checked by the queue. */
export function checkQueueState(s: QueueState): QueueFault | undefined {
  const bad = (field: string, value: number): QueueFault => ({ kind: "bad-state", field, value });
  if (s.layout === "split") {
    if (!isValidSplitSize(s.size)) return { kind: "bad-size", size: s.size, layout: "split" };
    for (
      const [k, v] of [["descTable", s.descTable], ["availRing", s.availRing], [
        "usedRing",
        s.usedRing,
      ]] as const
    ) {
      if (!isAddr(v)) return bad(k, v);
    }
    for (
      const [k, v] of [["nextAvail", s.nextAvail], ["nextUsed", s.nextUsed], [
        "signalledUsed",
        s.signalledUsed,
      ]] as const
    ) {
      if (!isU16(v)) return bad(k, v);
    }
    const outstanding = (s.nextAvail - s.nextUsed) & 0xffff;
    if (outstanding > s.size) return bad("nextAvail", s.nextAvail);
    // A head in flight was popped and not used: there cannot be more than are outstanding.
    if (s.inFlight.length > outstanding) return bad("inFlight", s.inFlight.length);
    const seen = new Set<number>();
    for (const h of s.inFlight) {
      if (!Number.isInteger(h) || h < 0 || h >= s.size || seen.has(h)) return bad("inFlight", h);
      seen.add(h);
    }
    return undefined;
  }
  if (!Number.isInteger(s.size) || s.size < 1 || s.size > PVIRTQ_MAX_SIZE) {
    return { kind: "bad-size", size: s.size, layout: "packed" };
  }
  for (
    const [k, v] of [["descRing", s.descRing], ["driverEvent", s.driverEvent], [
      "deviceEvent",
      s.deviceEvent,
    ]] as const
  ) {
    if (!isAddr(v)) return bad(k, v);
  }
  for (const [k, v] of [["nextAvail", s.nextAvail], ["nextUsed", s.nextUsed]] as const) {
    if (!Number.isInteger(v) || v < 0 || v >= s.size) return bad(k, v);
  }
  for (const [k, v] of [["availWrap", s.availWrap], ["usedWrap", s.usedWrap]] as const) {
    if (v !== 0 && v !== 1) return bad(k, v);
  }
  if (!isU16(s.signalledUsed)) return bad("signalledUsed", s.signalledUsed);
  let slots = 0;
  const seen = new Set<number>();
  for (const e of s.inFlight) {
    if (!Number.isInteger(e.id) || e.id < 0 || e.id >= s.size || seen.has(e.id)) {
      return bad("inFlight", e.id);
    }
    if (!Number.isInteger(e.descriptors) || e.descriptors < 1) {
      return bad("inFlight", e.descriptors);
    }
    seen.add(e.id);
    slots += e.descriptors;
  }
  if (slots > s.size) return bad("inFlight", slots);
  return undefined;
}

/** The ring positions carried by a vhost ring base. */
export interface VringBase {
  /** Ring layout. */
  readonly layout: "split" | "packed";
  /** Next position to read from the ring. */
  readonly nextAvail: number;
  /** Packed only (0 for split). */
  readonly availWrap: number;
  /** Packed only (split re-reads used idx from memory). */
  readonly nextUsed: number;
  /** Packed only. */
  readonly usedWrap: number;
}

/**
 * The u32 `num` of `VHOST_GET_VRING_BASE`: split → `last_avail_idx`; packed →
 * `last_avail_idx | avail_wrap << 15 | (last_used_idx | used_wrap << 15) << 16`.
 */
export function encodeVringBase(b: VringBase): number {
  if (b.layout === "split") return b.nextAvail & 0xffff;
  return ((b.nextAvail & 0x7fff) | (b.availWrap << 15) |
    (((b.nextUsed & 0x7fff) | (b.usedWrap << 15)) << 16)) >>> 0;
}

/** Inverse of {@link encodeVringBase}. */
export function decodeVringBase(layout: "split" | "packed", num: number): VringBase {
  if (layout === "split") {
    return { layout, nextAvail: num & 0xffff, availWrap: 0, nextUsed: 0, usedWrap: 0 };
  }
  return {
    layout,
    nextAvail: num & 0x7fff,
    availWrap: (num >>> 15) & 1,
    nextUsed: (num >>> 16) & 0x7fff,
    usedWrap: (num >>> 31) & 1,
  };
}
