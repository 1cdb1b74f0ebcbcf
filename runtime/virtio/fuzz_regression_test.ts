// Regressions found by the ring fuzzer (tests/fuzz_rings_test.ts): each test replays the
// smallest driver behaviour that broke a device promise, under every feature set it applies to.
import assert from "node:assert/strict";
import { GuestMemory } from "../memory/guest_memory.ts";
import { VIRTQ_DESC_F_WRITE as WRITE } from "./defs.ts";
import {
  featureMask,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_IN_ORDER,
  VIRTIO_F_INDIRECT_DESC,
} from "./features.ts";
import { checkQueueState } from "./queue_state.ts";
import { POP_FAULT, SplitDevice } from "./split_device.ts";
import { availEntryOffset, writeSplitDesc } from "./split_layout.ts";

const DESC = 0x1000;
const AVAIL = 0x2000;
const USED = 0x3000;
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

/** A split driver that makes head `head` (a one-descriptor chain) available at avail.idx `idx`. */
function offerSplit(mem: GuestMemory, size: number, idx: number, head: number): void {
  writeSplitDesc(mem, DESC, head, { addr: DATA + 0x100 * head, len: 64, flags: WRITE, next: 0 });
  mem.setU16(AVAIL + availEntryOffset(idx % size), head);
  mem.setU16(AVAIL + 2, (idx + 1) & 0xffff);
}

for (const [name, features] of FEATURE_SETS) {
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
