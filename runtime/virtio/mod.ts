/**
 * The virtio core, exact to virtio 1.x: constants and feature bits, the device status
 * machine, split and packed virtqueues (driver side like Linux `virtio_ring`, device side like
 * vhost/QEMU, every malformed ring a fault value), notification suppression, saved queue
 * state, and the virtio-net header, config space and queue numbering.
 *
 * Both sides of a queue work on the same bytes in a {@link GuestMemory}, so a test (or another
 * virtio implementation) can drive either side alone and read what the other side wrote.
 *
 * @example One round trip on a split ring with EVENT_IDX
 * ```ts
 * import { GuestMemory } from "../memory/mod.ts";
 * import { featureMask, SplitDevice, SplitDriver, VIRTIO_F_EVENT_IDX } from "./mod.ts";
 * const mem = new GuestMemory();
 * mem.addRegion({ name: "ram", gpa: 0, size: 1 << 20 });
 * const q = { size: 256, descTable: 0x1000, availRing: 0x2000, usedRing: 0x3000, features: featureMask(VIRTIO_F_EVENT_IDX) };
 * const drv = SplitDriver.create(mem, q);
 * const dev = SplitDevice.create(mem, q);
 * if (!drv.ok || !dev.ok) throw new Error("setup");
 * drv.value.addInbuf(0x10000, 1514, 1);
 * if (!drv.value.kickPrepare()) throw new Error("kick");
 * const head = dev.value.pop();
 * dev.value.chain.copyIn(new Uint8Array(60).fill(7));
 * dev.value.addUsed(head, 60);
 * if (!dev.value.needsInterrupt()) throw new Error("interrupt");
 * if (drv.value.getUsed() !== 1 || drv.value.lastLen !== 60) throw new Error("used");
 * ```
 *
 * @module
 */

export * from "./defs.ts";
export * from "./features.ts";
export * from "./status.ts";
export * from "./queue_fault.ts";
export * from "./queue_state.ts";
export * from "./counters.ts";
export * from "./chain.ts";
export * from "./event_suppression.ts";
export * from "./split_layout.ts";
export * from "./split_driver.ts";
export * from "./split_device.ts";
export * from "./packed_layout.ts";
export * from "./packed_driver.ts";
export * from "./packed_device.ts";
export * from "./net_hdr.ts";
export * from "./net_config.ts";
export * from "./net_queues.ts";
export type { Result } from "../result.ts";
