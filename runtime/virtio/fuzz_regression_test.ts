// Regressions found by the ring fuzzer (tests/fuzz_rings_test.ts): each test replays the
// smallest driver behaviour that broke a device promise, under every feature set it applies to.
import assert from "node:assert/strict";
import { GuestMemory } from "../memory/guest_memory.ts";
import { VdpaSimIotlb, type VringhTranslator } from "../iommu/vdpa_sim_iotlb.ts";
import { VIRTQ_DESC_F_NEXT as NEXT, VIRTQ_DESC_F_WRITE as WRITE, VIRTQ_DESC_SIZE } from "./defs.ts";
import {
  featureMask,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_IN_ORDER,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
} from "./features.ts";
import { PackedDevice } from "./packed_device.ts";
import { packedAvailFlags, writePackedDesc } from "./packed_layout.ts";
import { describeQueueFault } from "./queue_fault.ts";
import { checkQueueState } from "./queue_state.ts";
import { POP_FAULT, SplitDevice } from "./split_device.ts";
import { availEntryOffset, writeSplitDesc } from "./split_layout.ts";

const DESC = 0x1000;
const AVAIL = 0x2000;
const USED = 0x3000;
const DRIVER_EVENT = 0x2000;
const DEVICE_EVENT = 0x2100;
const DATA = 0x8000;

const E = featureMask(VIRTIO_F_EVENT_IDX);
const I = featureMask(VIRTIO_F_INDIRECT_DESC);
const O = featureMask(VIRTIO_F_IN_ORDER);
const FEATURE_SETS: readonly [string, bigint][] = [
  ["no features", 0n],
  ["EVENT_IDX", E],
  ["INDIRECT_DESC", I],
  ["IN_ORDER", O],
  ["EVENT_IDX+INDIRECT_DESC+IN_ORDER", E | I | O],
];

function memory(): GuestMemory {
  const mem = new GuestMemory();
  mem.addRegion({ name: "ram", gpa: 0, size: 0x10000 });
  return mem;
}

/** A packed driver that writes `count` descriptors from `slot` as one list with buffer `id`. */
function offerPacked(
  mem: GuestMemory,
  size: number,
  at: { slot: number; wrap: number },
  count: number,
  id: number,
): void {
  offerPackedAt(mem, DESC, size, at, count, id);
}

/** {@link offerPacked} on the ring at `ring`. */
function offerPackedAt(
  mem: GuestMemory,
  ring: number,
  size: number,
  at: { slot: number; wrap: number },
  count: number,
  id: number,
): void {
  const first = at.slot;
  let firstFlags = 0;
  for (let k = 0; k < count; k++) {
    const flags = packedAvailFlags(at.wrap) | (k < count - 1 ? NEXT : 0);
    if (k === 0) firstFlags = flags;
    writePackedDesc(mem, ring, at.slot, {
      addr: DATA + 0x100 * at.slot,
      len: 64,
      flags: k === 0 ? 0 : flags,
      next: id,
    });
    if (++at.slot === size) {
      at.slot = 0;
      at.wrap ^= 1;
    }
  }
  mem.setU16(ring + first * VIRTQ_DESC_SIZE + 14, firstFlags);
}

/** A split driver that makes head `head` (a one-descriptor chain) available at avail.idx `idx`. */
function offerSplit(mem: GuestMemory, size: number, idx: number, head: number): void {
  writeSplitDesc(mem, DESC, head, { addr: DATA + 0x100 * head, len: 64, flags: WRITE, next: 0 });
  mem.setU16(AVAIL + availEntryOffset(idx % size), head);
  mem.setU16(AVAIL + 2, (idx + 1) & 0xffff);
}

for (const [name, features] of FEATURE_SETS) {
  Deno.test(`PackedDevice regression: a list that would put more descriptors in flight than the ring has slots is a fault (${name})`, () => {
    const mem = memory();
    const size = 4;
    const dev = PackedDevice.create(mem, {
      size,
      descRing: DESC,
      driverEvent: DRIVER_EVENT,
      deviceEvent: DEVICE_EVENT,
      features: features | featureMask(VIRTIO_F_RING_PACKED),
    });
    assert.ok(dev.ok);
    const at = { slot: 0, wrap: 1 };
    offerPacked(mem, size, at, 3, 0);
    assert.equal(dev.value.pop(), 0);
    // Slots 3, 0 and 1: two of them still belong to buffer 0, which was never used.
    offerPacked(mem, size, at, 3, 1);
    assert.equal(dev.value.pop(), POP_FAULT);
    assert.deepEqual(dev.value.fault, { kind: "packed-ring-overrun", inUse: 3, slots: 3, size });
    const st = dev.value.toState();
    assert.equal(checkQueueState(st), undefined);
    assert.deepEqual(st.inFlight, [{ id: 0, descriptors: 3 }]);
  });

  Deno.test(`PackedDevice regression: descriptors filled but not flushed still occupy the ring (${name})`, () => {
    const mem = memory();
    const size = 4;
    const dev = PackedDevice.create(mem, {
      size,
      descRing: DESC,
      driverEvent: DRIVER_EVENT,
      deviceEvent: DEVICE_EVENT,
      features: features | featureMask(VIRTIO_F_RING_PACKED),
    });
    assert.ok(dev.ok);
    const at = { slot: 0, wrap: 1 };
    offerPacked(mem, size, at, 2, 0);
    offerPacked(mem, size, at, 2, 1);
    assert.equal(dev.value.pop(), 0);
    assert.equal(dev.value.pop(), 1);
    dev.value.fillUsed(0, 0); // staged, not yet visible: the driver cannot reuse slots 0 and 1
    offerPacked(mem, size, at, 1, 2);
    assert.equal(dev.value.pop(), POP_FAULT);
    assert.equal(dev.value.fault?.kind, "packed-ring-overrun");
    assert.equal(checkQueueState(dev.value.toState()), undefined);
  });

  Deno.test(`SplitDevice regression: buffers filled but not flushed still count against the queue size (${name})`, () => {
    const mem = memory();
    const size = 2;
    const dev = SplitDevice.create(mem, {
      size,
      descTable: DESC,
      availRing: AVAIL,
      usedRing: USED,
      features,
    });
    assert.ok(dev.ok);
    offerSplit(mem, size, 0, 0);
    offerSplit(mem, size, 1, 1);
    assert.equal(dev.value.pop(), 0);
    assert.equal(dev.value.pop(), 1);
    dev.value.fillUsed(0, 0); // QEMU virtqueue_fill: inuse drops only at the flush
    offerSplit(mem, size, 2, 0); // the driver cannot have head 0 back yet
    assert.equal(dev.value.pop(), POP_FAULT);
    assert.deepEqual(dev.value.fault, { kind: "in-flight-overflow", size });
    assert.equal(checkQueueState(dev.value.toState()), undefined);
  });

  Deno.test(`SplitDevice regression: a restored queue counts every popped, unused buffer against its size (${name})`, () => {
    const mem = memory();
    const size = 2;
    // One buffer popped and not used, but not in flight either (vhost-net saves no in-flight
    // list): QEMU's virtio_load recomputes inuse = last_avail_idx - used_idx.
    const dev = SplitDevice.fromState(mem, {
      layout: "split",
      size,
      descTable: DESC,
      availRing: AVAIL,
      usedRing: USED,
      nextAvail: 1,
      nextUsed: 0,
      signalledUsed: 0,
      signalledUsedValid: false,
      notifications: true,
      inFlight: [],
    }, { features });
    assert.ok(dev.ok);
    offerSplit(mem, size, 1, 0);
    offerSplit(mem, size, 2, 1);
    assert.equal(dev.value.pop(), 0);
    assert.equal(dev.value.pop(), POP_FAULT);
    assert.equal(dev.value.fault?.kind, "in-flight-overflow");
    assert.equal(checkQueueState(dev.value.toState()), undefined);
  });
}

Deno.test("checkQueueState regression: a split state with more heads in flight than popped-and-unused buffers is refused", () => {
  const bad = checkQueueState({
    layout: "split",
    size: 4,
    descTable: DESC,
    availRing: AVAIL,
    usedRing: USED,
    nextAvail: 7,
    nextUsed: 6,
    signalledUsed: 0,
    signalledUsedValid: false,
    notifications: true,
    inFlight: [0, 1],
  });
  assert.deepEqual(bad, { kind: "bad-state", field: "inFlight", value: 2 });
});

/**
 * Guest memory whose ring region (RINGS) can be hot-unplugged and plugged back at the same
 * address. The region fills one 64 KiB backing chunk of its own, so its bytes go with it; a
 * ROM after it shares nothing.
 */
const RINGS = 0x20000;

function hotplugMemory(): GuestMemory {
  const mem = new GuestMemory();
  mem.addRegion({ name: "ram", gpa: 0, size: 0x10000 });
  mem.addRegion({ name: "rings", gpa: RINGS, size: 0x10000 });
  mem.addRegion({ name: "rom", gpa: 0x30000, size: 0x1000, kind: "rom" });
  return mem;
}

function replug(mem: GuestMemory): void {
  mem.removeRegion("rings");
  mem.addRegion({ name: "rings", gpa: RINGS, size: 0x10000 });
}

for (const [name, features] of FEATURE_SETS) {
  Deno.test(`SplitDevice regression: used entries after a memory hot-replug land in the new memory (${name})`, () => {
    const mem = hotplugMemory();
    const size = 4;
    const rings = {
      size,
      descTable: RINGS,
      availRing: RINGS + 0x400,
      usedRing: RINGS + 0x800,
      features,
    };
    const dev = SplitDevice.create(mem, rings);
    assert.ok(dev.ok);
    writeSplitDesc(mem, RINGS, 0, { addr: DATA, len: 64, flags: WRITE, next: 0 });
    mem.setU16(RINGS + 0x400 + availEntryOffset(0), 0);
    mem.setU16(RINGS + 0x402, 1);
    assert.equal(dev.value.pop(), 0);
    replug(mem); // QEMU's memory listener re-inits the region caches; vhost re-walks its rings
    dev.value.addUsed(0, 10);
    assert.equal(mem.getU16(RINGS + 0x802), 1, "used.idx is in the memory the guest now has");
    assert.equal(mem.getU32(RINGS + 0x804), 0, "used.ring[0].id");
    assert.equal(mem.getU32(RINGS + 0x808), 10, "used.ring[0].len");
  });

  Deno.test(`SplitDevice regression: a queue whose ring memory was unplugged faults instead of writing into the void (${name})`, () => {
    const mem = hotplugMemory();
    const rings = {
      size: 4,
      descTable: RINGS,
      availRing: RINGS + 0x400,
      usedRing: RINGS + 0x800,
      features,
    };
    const dev = SplitDevice.create(mem, rings);
    assert.ok(dev.ok);
    mem.removeRegion("rings");
    dev.value.disableNotifications();
    assert.equal(dev.value.needsInterrupt(), false);
    assert.equal(dev.value.fault?.kind, "ring-unmapped");
    mem.addRegion({ name: "rings", gpa: RINGS, size: 0x10000 });
    assert.equal(mem.getU16(RINGS + 0x800), 0, "nothing was written while the memory was gone");
  });

  Deno.test(`PackedDevice regression: used descriptors after a memory hot-replug land in the new memory (${name})`, () => {
    const mem = hotplugMemory();
    const size = 4;
    const dev = PackedDevice.create(mem, {
      size,
      descRing: RINGS,
      driverEvent: RINGS + 0x400,
      deviceEvent: RINGS + 0x404,
      features: features | featureMask(VIRTIO_F_RING_PACKED),
    });
    assert.ok(dev.ok);
    const at = { slot: 0, wrap: 1 };
    offerPackedAt(mem, RINGS, size, at, 1, 2);
    assert.equal(dev.value.pop(), 2);
    replug(mem);
    dev.value.addUsed(2, 10);
    assert.equal(mem.getU16(RINGS + 12), 2, "the used descriptor's id");
    assert.equal(mem.getU32(RINGS + 8), 10, "the used descriptor's len");
  });

  Deno.test(`PackedDevice regression: a queue whose ring memory was unplugged faults instead of writing into the void (${name})`, () => {
    const mem = hotplugMemory();
    const dev = PackedDevice.create(mem, {
      size: 4,
      descRing: RINGS,
      driverEvent: RINGS + 0x400,
      deviceEvent: RINGS + 0x404,
      features: features | featureMask(VIRTIO_F_RING_PACKED),
    });
    assert.ok(dev.ok);
    mem.removeRegion("rings");
    dev.value.disableNotifications();
    assert.equal(dev.value.hasAvail(), false);
    assert.equal(dev.value.fault?.kind, "ring-unmapped");
    mem.addRegion({ name: "rings", gpa: RINGS, size: 0x10000 });
    assert.equal(mem.getU16(RINGS + 0x404 + 2), 0, "nothing was written while the memory was gone");
  });
}

for (const [name, features] of FEATURE_SETS) {
  Deno.test(`PackedDevice regression: a staged used descriptor keeps the slot count its buffer was popped with (${name})`, () => {
    const mem = memory();
    const size = 8;
    const dev = PackedDevice.create(mem, {
      size,
      descRing: DESC,
      driverEvent: DRIVER_EVENT,
      deviceEvent: DEVICE_EVENT,
      features: features | featureMask(VIRTIO_F_RING_PACKED),
    });
    assert.ok(dev.ok);
    const at = { slot: 0, wrap: 1 };
    offerPacked(mem, size, at, 2, 1);
    assert.equal(dev.value.pop(), 1);
    dev.value.fillUsed(1, 10);
    // A driver that reuses id 1 before it sees it used: the device may take it again, but the
    // staged entry still stands for the two slots the first buffer took.
    offerPacked(mem, size, at, 1, 1);
    assert.equal(dev.value.pop(), 1);
    dev.value.fillUsed(1, 20);
    dev.value.flushUsed();
    assert.deepEqual(dev.value.nextUsed, { slot: 3, wrap: 1 });
    assert.equal(
      mem.getU16(DESC + 2 * VIRTQ_DESC_SIZE + 12),
      1,
      "second used descriptor at slot 2",
    );
    assert.equal(mem.getU32(DESC + 2 * VIRTQ_DESC_SIZE + 8), 20);
    assert.equal(checkQueueState(dev.value.toState()), undefined);
  });
}

/** A vdpa_sim IOTLB that maps 64 MiB of guest memory one 4 KiB page at a time. */
function pagedTranslator(): VringhTranslator {
  const sim = new VdpaSimIotlb({ nas: 1 });
  for (let p = 0; p < 0x4000; p++) sim.dmaMap(0, p * 0x1000, 0x1000, p * 0x1000, 3);
  return sim.translatorFor(0);
}

function bigMemory(): GuestMemory {
  const mem = new GuestMemory();
  mem.addRegion({ name: "ram", gpa: 0, size: 64 << 20 });
  return mem;
}

Deno.test("SplitDevice regression: a buffer that maps to more than 1024 segments is a fault, not a 4096-segment chain", () => {
  const mem = bigMemory();
  const translator = pagedTranslator();
  const dev = SplitDevice.create(mem, {
    size: 4,
    descTable: DESC,
    availRing: AVAIL,
    usedRing: USED,
    translator,
  });
  assert.ok(dev.ok);
  // 1024 pages is the most QEMU (VIRTQUEUE_MAX_SIZE iovecs) and vhost (UIO_MAXIOV) accept.
  writeSplitDesc(mem, DESC, 0, { addr: 0x10_0000, len: 1024 * 0x1000, flags: WRITE, next: 0 });
  writeSplitDesc(mem, DESC, 1, { addr: 0x10_0000, len: 16 << 20, flags: WRITE, next: 0 });
  mem.setU16(AVAIL + availEntryOffset(0), 0);
  mem.setU16(AVAIL + availEntryOffset(1), 1);
  mem.setU16(AVAIL + 2, 2);
  assert.equal(dev.value.pop(), 0);
  assert.equal(dev.value.chain.count, 1024);
  assert.equal(dev.value.pop(), POP_FAULT);
  const f = dev.value.fault;
  assert.ok(f?.kind === "buffer-unmapped" && f.cause.via === "segments", JSON.stringify(f));
  assert.match(describeQueueFault(f), /more than 1024 memory segments/);
  assert.equal(checkQueueState(dev.value.toState()), undefined);
});

Deno.test("PackedDevice regression: a buffer that maps to more than 1024 segments is a fault, not a 4096-segment chain", () => {
  const mem = bigMemory();
  const dev = PackedDevice.create(mem, {
    size: 4,
    descRing: DESC,
    driverEvent: DRIVER_EVENT,
    deviceEvent: DEVICE_EVENT,
    features: featureMask(VIRTIO_F_RING_PACKED),
    translator: pagedTranslator(),
  });
  assert.ok(dev.ok);
  writePackedDesc(mem, DESC, 0, {
    addr: 0x10_0000,
    len: 16 << 20,
    flags: packedAvailFlags(1) | WRITE,
    next: 0,
  });
  assert.equal(dev.value.pop(), POP_FAULT);
  const f = dev.value.fault;
  assert.ok(f?.kind === "buffer-unmapped" && f.cause.via === "segments", JSON.stringify(f));
  assert.equal(checkQueueState(dev.value.toState()), undefined);
});
