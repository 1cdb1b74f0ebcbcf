/**
 * Per-queue counters. Queues count in plain private fields on the hot path and hand out a
 * snapshot object through their `counters` getter; `show vq` prints it, tests assert on it.
 *
 * @example
 * ```ts
 * import { GuestMemory } from "../memory/guest_memory.ts";
 * import { SplitDriver } from "./split_driver.ts";
 * const mem = new GuestMemory();
 * mem.addRegion({ name: "ram", gpa: 0, size: 1 << 20 });
 * const q = SplitDriver.create(mem, { size: 4, descTable: 0x1000, availRing: 0x2000, usedRing: 0x3000 });
 * if (!q.ok) throw new Error("setup");
 * q.value.addOutbuf(0x8000, 64);
 * q.value.kickPrepare();
 * const c = q.value.counters;
 * if (c.added !== 1 || c.kicks !== 1 || c.kicksSuppressed !== 0) throw new Error("counters");
 * ```
 *
 * @module
 */

/** What the device side of a queue did. */
export interface DeviceQueueCounters {
  /** Available-buffer notifications (kicks) received. */
  readonly notifications: number;
  /** Chains popped. */
  readonly popped: number;
  /** Buffers returned through the used ring. */
  readonly used: number;
  /** Used-ring publications (one per flush; a batch counts once). */
  readonly usedFlushes: number;
  /** Interrupt decisions that said "notify the driver". */
  readonly interrupts: number;
  /** Interrupt decisions suppressed by NO_INTERRUPT, used_event or DISABLE/DESC. */
  readonly interruptsSuppressed: number;
  /** Pops refused because the device was not live (before DRIVER_OK, after NEEDS_RESET). */
  readonly notReady: number;
  /** Malformed-ring faults found. */
  readonly faults: number;
}

/** What the driver side of a queue did. */
export interface DriverQueueCounters {
  /** Buffers made available. */
  readonly added: number;
  /** Chains that went through an indirect table. */
  readonly indirect: number;
  /** Kick decisions that said "notify the device". */
  readonly kicks: number;
  /** Kick decisions suppressed by NO_NOTIFY, avail_event or DISABLE/DESC. */
  readonly kicksSuppressed: number;
  /** Buffers taken back from the used ring. */
  readonly reclaimed: number;
  /** Used-buffer notifications (interrupts) received. */
  readonly interrupts: number;
  /** Interrupts that found no new used buffer. */
  readonly spuriousInterrupts: number;
  /** Adds refused because the ring was full. */
  readonly full: number;
  /** Bad used-ring entries found. */
  readonly faults: number;
}
