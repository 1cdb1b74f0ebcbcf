/**
 * Per-queue counters, plain objects of numbers that the hot path bumps in place. `show vq`
 * prints them; tests assert on them.
 *
 * @example
 * ```ts
 * import { newDeviceQueueCounters } from "./counters.ts";
 * const c = newDeviceQueueCounters();
 * c.popped++;
 * if (c.popped !== 1 || c.faults !== 0) throw new Error("counters");
 * ```
 *
 * @module
 */

/** What the device side of a queue did. */
export interface DeviceQueueCounters {
  /** Available-buffer notifications (kicks) received. */
  notifications: number;
  /** Chains popped. */
  popped: number;
  /** Buffers returned through the used ring. */
  used: number;
  /** Used-ring index publications (one per flush; a batch counts once). */
  usedFlushes: number;
  /** Interrupt decisions that said "notify the driver". */
  interrupts: number;
  /** Interrupt decisions suppressed by NO_INTERRUPT, used_event or DISABLE/DESC. */
  interruptsSuppressed: number;
  /** Pops refused because the device was not live (before DRIVER_OK, after NEEDS_RESET). */
  notReady: number;
  /** Malformed-ring faults found. */
  faults: number;
}

/** What the driver side of a queue did. */
export interface DriverQueueCounters {
  /** Buffers made available. */
  added: number;
  /** Chains that went through an indirect table. */
  indirect: number;
  /** Kick decisions that said "notify the device". */
  kicks: number;
  /** Kick decisions suppressed by NO_NOTIFY, avail_event or DISABLE/DESC. */
  kicksSuppressed: number;
  /** Buffers taken back from the used ring. */
  reclaimed: number;
  /** Used-buffer notifications (interrupts) received. */
  interrupts: number;
  /** Interrupts that found no new used buffer. */
  spuriousInterrupts: number;
  /** Adds refused because the ring was full. */
  full: number;
  /** Bad used-ring entries found. */
  faults: number;
}

/** Fresh device-side counters. */
export function newDeviceQueueCounters(): DeviceQueueCounters {
  return {
    notifications: 0,
    popped: 0,
    used: 0,
    usedFlushes: 0,
    interrupts: 0,
    interruptsSuppressed: 0,
    notReady: 0,
    faults: 0,
  };
}

/** Fresh driver-side counters. */
export function newDriverQueueCounters(): DriverQueueCounters {
  return {
    added: 0,
    indirect: 0,
    kicks: 0,
    kicksSuppressed: 0,
    reclaimed: 0,
    interrupts: 0,
    spuriousInterrupts: 0,
    full: 0,
    faults: 0,
  };
}
