/**
 * Everything a virtqueue can find wrong with what the other side put in memory, as one
 * closed union with one formatter. Device-side faults (a malformed ring from the driver) make
 * the queue stop, like QEMU's `virtio_error` or vhost's `vq_err`; driver-side faults (a
 * device that returns nonsense in the used ring) mark the queue broken, like Linux's
 * `BAD_RING`. Setup faults (bad size, misaligned or unmapped rings) come from
 * `create`/`fromState`.
 *
 * @example
 * ```ts
 * import { describeQueueFault } from "./queue_fault.ts";
 * const t = describeQueueFault({ kind: "head-out-of-range", head: 300, size: 256 });
 * if (t !== "avail ring offers head 300, queue size is 256") throw new Error(t);
 * ```
 *
 * @module
 */

import { describeMemoryFault, type MemoryFault } from "../memory/faults.ts";
import { describeTranslateFault, type TranslateFault } from "../memory/translator.ts";

/** A ring part, as the spec names it (split: desc/avail/used; packed: desc/driver/device). */
export type RingPart = "descTable" | "availRing" | "usedRing" | "driverEvent" | "deviceEvent";

/** Why an address could not be reached: the translator refused it, or memory has no bytes there. */
export type AccessCause =
  | { readonly via: "translate"; readonly fault: TranslateFault }
  | { readonly via: "memory"; readonly fault: MemoryFault }
  /** The translation exists but is split where one contiguous mapping is required. */
  | { readonly via: "discontiguous"; readonly mapped: number }
  /** The chain would need more memory segments than a device can hold (iovec limit). */
  | { readonly via: "segments"; readonly max: number };

/** Everything that can be wrong with a virtqueue. */
export type QueueFault =
  // --- setup ---
  /** Split sizes must be a power of 2 in 1..32768; packed sizes in 1..32768. */
  | { readonly kind: "bad-size"; readonly size: number; readonly layout: "split" | "packed" }
  | {
    readonly kind: "misaligned";
    readonly part: RingPart;
    readonly addr: number;
    readonly align: number;
  }
  | {
    readonly kind: "ring-unmapped";
    readonly part: RingPart;
    readonly addr: number;
    readonly len: number;
    readonly cause: AccessCause;
  }
  /** A saved state that cannot be restored (index past the ring, bad wrap counter …). */
  | { readonly kind: "bad-state"; readonly field: string; readonly value: number }
  // --- device side: what the driver wrote ---
  /** avail.idx moved more than the queue size past the device's position. */
  | {
    readonly kind: "avail-idx-jump";
    readonly lastAvail: number;
    readonly availIdx: number;
    readonly size: number;
  }
  | { readonly kind: "head-out-of-range"; readonly head: number; readonly size: number }
  /** The avail ring offers a head whose chain the device still holds. */
  | { readonly kind: "head-in-use"; readonly head: number }
  /** More buffers in flight than the queue size (QEMU: "Virtqueue size exceeded"). */
  | { readonly kind: "in-flight-overflow"; readonly size: number }
  | {
    readonly kind: "next-out-of-range";
    readonly index: number;
    readonly next: number;
    readonly max: number;
    readonly indirect: boolean;
  }
  /** Following `next` visited more descriptors than the table holds. */
  | {
    readonly kind: "chain-loop";
    readonly head: number;
    readonly max: number;
    readonly indirect: boolean;
  }
  /** A chain longer than the queue size (§2.7.5.3.1, §2.8.19). */
  | {
    readonly kind: "chain-too-long";
    readonly head: number;
    readonly length: number;
    readonly size: number;
  }
  /** More than 2^32 bytes in one chain (§2.7.5.1). */
  | { readonly kind: "chain-too-large"; readonly head: number; readonly bytes: number }
  | { readonly kind: "zero-length"; readonly index: number; readonly indirect: boolean }
  /** A device-readable descriptor after a device-writable one (§2.7.4.2). */
  | { readonly kind: "readable-after-writable"; readonly index: number; readonly indirect: boolean }
  | { readonly kind: "nested-indirect"; readonly index: number }
  | { readonly kind: "indirect-with-next"; readonly index: number }
  | { readonly kind: "indirect-not-negotiated"; readonly index: number }
  /** Indirect table length 0 or not a multiple of 16. */
  | { readonly kind: "indirect-bad-length"; readonly index: number; readonly len: number }
  | {
    readonly kind: "indirect-unmapped";
    readonly index: number;
    readonly addr: number;
    readonly len: number;
    readonly cause: AccessCause;
  }
  /** A descriptor `addr` at or beyond 2^53 (high word given). */
  | {
    readonly kind: "addr-out-of-range";
    readonly index: number;
    readonly addrHigh: number;
    readonly indirect: boolean;
  }
  | {
    readonly kind: "buffer-unmapped";
    readonly index: number;
    readonly addr: number;
    readonly len: number;
    readonly write: boolean;
    readonly cause: AccessCause;
  }
  /** Packed: a buffer id at or beyond the queue size. */
  | { readonly kind: "packed-id-out-of-range"; readonly id: number; readonly size: number }
  /** Packed: a buffer id the device still holds. */
  | { readonly kind: "packed-id-in-use"; readonly id: number }
  /** Packed: a list reaches ring slots whose buffers the device has not used yet. */
  | {
    readonly kind: "packed-ring-overrun";
    readonly inUse: number;
    readonly slots: number;
    readonly size: number;
  }
  /** Packed: a descriptor in the middle of a chain is not marked available. */
  | { readonly kind: "packed-desc-not-available"; readonly slot: number; readonly flags: number }
  // --- driver side: what the device wrote ---
  | {
    readonly kind: "used-idx-jump";
    readonly lastUsed: number;
    readonly usedIdx: number;
    readonly size: number;
  }
  | { readonly kind: "used-id-out-of-range"; readonly id: number; readonly size: number }
  /** The used ring returns an id that is not an outstanding buffer (Linux: "id %u is not a head!"). */
  | { readonly kind: "used-id-not-in-flight"; readonly id: number }
  /** The device claims to have written more than the buffer's writable bytes. */
  | {
    readonly kind: "used-len-too-big";
    readonly id: number;
    readonly len: number;
    readonly max: number;
  }
  /** IN_ORDER: one used entry stands for `batch` buffers but used idx moved by only `published`. */
  | {
    readonly kind: "used-batch-incomplete";
    readonly id: number;
    readonly batch: number;
    readonly published: number;
  };

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function describeCause(c: AccessCause): string {
  switch (c.via) {
    case "translate":
      return describeTranslateFault(c.fault);
    case "memory":
      return describeMemoryFault(c.fault);
    case "discontiguous":
      return `only ${c.mapped} bytes are mapped contiguously`;
    case "segments":
      return `the chain needs more than ${c.max} memory segments`;
  }
}

const PART_NAMES: Record<RingPart, string> = {
  descTable: "descriptor table",
  availRing: "available ring",
  usedRing: "used ring",
  driverEvent: "driver event suppression area",
  deviceEvent: "device event suppression area",
};

function where(indirect: boolean): string {
  return indirect ? "indirect descriptor" : "descriptor";
}

/** One lowercase line describing a queue fault, for traces and diagnostics. */
export function describeQueueFault(f: QueueFault): string {
  switch (f.kind) {
    case "bad-size":
      return f.layout === "split"
        ? `queue size ${f.size} is not a power of 2 between 1 and 32768`
        : `queue size ${f.size} is not between 1 and 32768`;
    case "misaligned":
      return `${PART_NAMES[f.part]} at ${hex(f.addr)} is not ${f.align}-byte aligned`;
    case "ring-unmapped":
      return `cannot map ${PART_NAMES[f.part]} at ${hex(f.addr)} (${f.len} bytes): ${
        describeCause(f.cause)
      }`;
    case "bad-state":
      return `saved queue state has an invalid ${f.field} (${f.value})`;
    case "avail-idx-jump":
      return `guest moved avail index from ${f.lastAvail} to ${f.availIdx} (queue size ${f.size})`;
    case "head-out-of-range":
      return `avail ring offers head ${f.head}, queue size is ${f.size}`;
    case "head-in-use":
      return `avail ring offers head ${f.head}, which the device has not returned yet`;
    case "in-flight-overflow":
      return `more than ${f.size} buffers in flight`;
    case "next-out-of-range":
      return `${where(f.indirect)} ${f.index} has next ${f.next}, beyond ${f.max} entries`;
    case "chain-loop":
      return `descriptor chain from head ${f.head} loops (more than ${f.max} ${
        where(f.indirect)
      }s)`;
    case "chain-too-long":
      return `descriptor chain from head ${f.head} has ${f.length} descriptors, queue size is ${f.size}`;
    case "chain-too-large":
      return `descriptor chain from head ${f.head} holds ${f.bytes} bytes, more than 2^32`;
    case "zero-length":
      return `${where(f.indirect)} ${f.index} has length 0`;
    case "readable-after-writable":
      return `${where(f.indirect)} ${f.index} is device-readable but follows a device-writable one`;
    case "nested-indirect":
      return `indirect descriptor ${f.index} points to another indirect table`;
    case "indirect-with-next":
      return `descriptor ${f.index} sets both INDIRECT and NEXT`;
    case "indirect-not-negotiated":
      return `descriptor ${f.index} is INDIRECT but RING_INDIRECT_DESC was not negotiated`;
    case "indirect-bad-length":
      return `descriptor ${f.index} points to an indirect table of ${f.len} bytes (not a non-zero multiple of 16)`;
    case "indirect-unmapped":
      return `cannot map the indirect table of descriptor ${f.index} at ${
        hex(f.addr)
      } (${f.len} bytes): ${describeCause(f.cause)}`;
    case "addr-out-of-range":
      return `${where(f.indirect)} ${f.index} has an address beyond 2^53 (high word ${
        hex(f.addrHigh)
      })`;
    case "buffer-unmapped":
      return `cannot map the ${
        f.write ? "device-writable" : "device-readable"
      } buffer of descriptor ${f.index} at ${hex(f.addr)} (${f.len} bytes): ${
        describeCause(f.cause)
      }`;
    case "packed-id-out-of-range":
      return `packed ring offers buffer id ${f.id}, queue size is ${f.size}`;
    case "packed-id-in-use":
      return `packed ring offers buffer id ${f.id}, which the device has not returned yet`;
    case "packed-ring-overrun":
      return `packed ring offers a list of ${f.slots} descriptors while ${f.inUse} of its ${f.size} slots are still in use`;
    case "packed-desc-not-available":
      return `packed descriptor ${f.slot} in the middle of a chain is not available (flags ${
        hex(f.flags)
      })`;
    case "used-idx-jump":
      return `device moved used index from ${f.lastUsed} to ${f.usedIdx} (queue size ${f.size})`;
    case "used-id-out-of-range":
      return `used ring returns id ${f.id}, queue size is ${f.size}`;
    case "used-id-not-in-flight":
      return `used ring returns id ${f.id}, which is not an outstanding buffer`;
    case "used-len-too-big":
      return `used ring returns ${f.len} bytes for id ${f.id}, the buffer holds ${f.max} writable bytes`;
    case "used-batch-incomplete":
      return `used entry for id ${f.id} completes ${f.batch} in-order buffers but used idx moved by ${f.published}`;
  }
}
