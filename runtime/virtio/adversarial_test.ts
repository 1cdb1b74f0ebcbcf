// The adversarial catalogue: one named test per malformed ring, each run under every feature
// set it applies to. A malicious or buggy driver writes raw bytes; the device must not throw,
// must report the fault, and must end consistent: nothing consumed or published, the queue
// stopped, the device in NEEDS_RESET (QEMU's virtio_error), and a reset must recover it.
import assert from "node:assert/strict";
import { GuestMemory } from "../memory/guest_memory.ts";
import { MemTable } from "../memory/mem_table.ts";
import {
  PACKED_F_AVAIL,
  PACKED_F_USED,
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_CONFIG_S_NEEDS_RESET,
  VIRTQ_DESC_F_INDIRECT as INDIRECT,
  VIRTQ_DESC_F_NEXT as NEXT,
  VIRTQ_DESC_F_WRITE as WRITE,
} from "./defs.ts";
import {
  featureMask,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_IN_ORDER,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_VERSION_1,
} from "./features.ts";
import { PackedDevice } from "./packed_device.ts";
import { writePackedDesc } from "./packed_layout.ts";
import { describeQueueFault, type QueueFault } from "./queue_fault.ts";
import { POP_EMPTY, POP_FAULT, SplitDevice } from "./split_device.ts";
import { type RawDesc, writeSplitDesc } from "./split_layout.ts";
import { DeviceStatus } from "./status.ts";

const SIZE = 8;
const DESC = 0x1000;
const AVAIL = 0x2000;
const USED = 0x3000;
const TABLE = 0x5000;
const TABLE2 = 0x6000;
const DATA = 0x10_0000;
const RAM = 16 << 20;
const HOLE = 0x4000_0000; // not backed by any region
const LIVE = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
  VIRTIO_CONFIG_S_DRIVER_OK;

const E = featureMask(VIRTIO_F_EVENT_IDX);
const I = featureMask(VIRTIO_F_INDIRECT_DESC);
const O = featureMask(VIRTIO_F_IN_ORDER);
const ALL_SETS: readonly [string, bigint][] = [
  ["no features", 0n],
  ["EVENT_IDX", E],
  ["INDIRECT_DESC", I],
  ["EVENT_IDX+INDIRECT_DESC", E | I],
  ["IN_ORDER", O],
  ["EVENT_IDX+INDIRECT_DESC+IN_ORDER", E | I | O],
];
const WITH_INDIRECT = ALL_SETS.filter(([, f]) => (f & I) !== 0n);
const WITHOUT_INDIRECT = ALL_SETS.filter(([, f]) => (f & I) === 0n);

function liveStatus(features: bigint): DeviceStatus {
  const offered = features | featureMask(VIRTIO_F_VERSION_1);
  const st = new DeviceStatus({ deviceFeatures: offered });
  st.write(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
  st.setDriverFeatures(offered);
  assert.ok(st.write(LIVE).ok);
  return st;
}

// ------------------------------------------------------------------------------------------
// Split rings

interface SplitRig {
  mem: GuestMemory;
  dev: SplitDevice;
  st: DeviceStatus;
  availIdx: number;
  good: number;
}

/** A live device that already completed one good buffer, with one more good one in flight. */
function splitRig(features: bigint, memory?: GuestMemory): SplitRig {
  const mem = memory ?? new GuestMemory();
  if (!memory) mem.addRegion({ name: "ram", gpa: 0, size: RAM });
  const dev = SplitDevice.create(mem, {
    size: SIZE,
    descTable: DESC,
    availRing: AVAIL,
    usedRing: USED,
    features,
  });
  assert.ok(dev.ok);
  const st = liveStatus(features);
  st.attachQueue(dev.value);
  const rig: SplitRig = { mem, dev: dev.value, st, availIdx: 0, good: -1 };
  writeSplitDesc(mem, DESC, 0, { addr: DATA, len: 64, flags: 0, next: 0 });
  publish(rig, 0);
  const h = rig.dev.pop();
  assert.equal(h, 0);
  rig.dev.addUsed(h, 0);
  writeSplitDesc(mem, DESC, 1, { addr: DATA, len: 64, flags: WRITE, next: 0 });
  publish(rig, 1);
  rig.good = rig.dev.pop();
  assert.equal(rig.good, 1);
  return rig;
}

function publish(rig: SplitRig, head: number): void {
  rig.mem.setU16(AVAIL + 4 + 2 * (rig.availIdx % SIZE), head);
  rig.availIdx = (rig.availIdx + 1) & 0xffff;
  rig.mem.setU16(AVAIL + 2, rig.availIdx);
}

function chain(mem: GuestMemory, table: number, descs: readonly RawDesc[], first = 0): void {
  descs.forEach((d, i) => writeSplitDesc(mem, table, first + i, d));
}

/** Pops, and checks the fault and the consistent state the device must end in. */
function expectSplitFault(rig: SplitRig, kind: QueueFault["kind"]): QueueFault {
  const { dev, mem, st } = rig;
  const before = { nextAvail: dev.nextAvail, used: mem.getU16(USED + 2), inFlight: dev.inFlight };
  let r = 0;
  try {
    r = dev.pop();
  } catch (e) {
    assert.fail(`pop() threw: ${e}`);
  }
  assert.equal(r, POP_FAULT);
  const f = dev.fault;
  assert.ok(f, "the fault is recorded");
  assert.equal(f.kind, kind, describeQueueFault(f));
  assert.ok(describeQueueFault(f).length > 10);
  assert.deepEqual(
    { nextAvail: dev.nextAvail, used: mem.getU16(USED + 2), inFlight: dev.inFlight },
    before,
  );
  assert.equal(dev.chain.count, 0, "no half-walked chain is left behind");
  // QEMU virtio_error: NEEDS_RESET, device stopped, config interrupt since DRIVER_OK was set.
  assert.equal(st.value & VIRTIO_CONFIG_S_NEEDS_RESET, VIRTIO_CONFIG_S_NEEDS_RESET);
  assert.equal(st.live, false);
  assert.equal(st.configChanges, 1);
  assert.equal(st.error, f);
  assert.equal(dev.pop(), POP_FAULT, "the queue stays stopped");
  assert.equal(dev.needsInterrupt(), false);
  assert.equal(dev.enableNotifications(), false);
  dev.addUsed(rig.good, 64);
  assert.equal(mem.getU16(USED + 2), before.used, "a broken device publishes nothing");
  assert.equal(dev.counters.faults, 1);
  // Reset recovers the queue (the driver re-initialises; the bad ring is not looked at again).
  st.write(0);
  assert.equal(dev.broken, false);
  assert.equal(dev.nextAvail, 0);
  assert.equal(dev.inFlight, 0);
  return f;
}

function forEachSet(sets: readonly [string, bigint][], body: (features: bigint) => void) {
  return async (t: Deno.TestContext) => {
    for (const [name, f] of sets) await t.step(name, () => body(f));
  };
}

Deno.test(
  "split: a head index beyond the queue size",
  forEachSet(ALL_SETS, (f) => {
    const rig = splitRig(f);
    publish(rig, SIZE);
    const fault = expectSplitFault(rig, "head-out-of-range");
    assert.deepEqual(fault, { kind: "head-out-of-range", head: SIZE, size: SIZE });
  }),
);

Deno.test(
  "split: a head the device still holds",
  forEachSet(ALL_SETS, (f) => {
    const rig = splitRig(f);
    publish(rig, rig.good);
    expectSplitFault(rig, "head-in-use");
  }),
);

Deno.test(
  "split: avail.idx jumping more than the queue size",
  forEachSet(ALL_SETS, (f) => {
    const rig = splitRig(f);
    rig.mem.setU16(AVAIL + 2, (rig.availIdx + SIZE + 1) & 0xffff);
    expectSplitFault(rig, "avail-idx-jump");
  }),
);

Deno.test(
  "split: avail.idx jumping backwards (a driver decrementing it)",
  forEachSet(ALL_SETS, (f) => {
    const rig = splitRig(f);
    rig.mem.setU16(AVAIL + 2, (rig.availIdx - 3) & 0xffff);
    expectSplitFault(rig, "avail-idx-jump");
  }),
);

Deno.test(
  "split: a next index beyond the table",
  forEachSet(ALL_SETS, (f) => {
    const rig = splitRig(f);
    chain(rig.mem, DESC, [{ addr: DATA, len: 8, flags: NEXT, next: SIZE + 3 }], 2);
    publish(rig, 2);
    expectSplitFault(rig, "next-out-of-range");
  }),
);

Deno.test(
  "split: a chain that loops back on itself (TTL of the queue size)",
  forEachSet(ALL_SETS, (f) => {
    const rig = splitRig(f);
    chain(rig.mem, DESC, [
      { addr: DATA, len: 8, flags: NEXT, next: 3 },
      { addr: DATA, len: 8, flags: NEXT, next: 4 },
      { addr: DATA, len: 8, flags: NEXT, next: 2 },
    ], 2);
    publish(rig, 2);
    const fault = expectSplitFault(rig, "chain-loop");
    assert.deepEqual(fault, { kind: "chain-loop", head: 2, max: SIZE, indirect: false });
  }),
);

Deno.test(
  "split: a descriptor chained to itself",
  forEachSet(ALL_SETS, (f) => {
    const rig = splitRig(f);
    chain(rig.mem, DESC, [{ addr: DATA, len: 8, flags: NEXT, next: 5 }], 5);
    publish(rig, 5);
    expectSplitFault(rig, "chain-loop");
  }),
);

Deno.test(
  "split: a buffer outside guest memory",
  forEachSet(ALL_SETS, (f) => {
    const rig = splitRig(f);
    chain(rig.mem, DESC, [{ addr: HOLE, len: 64, flags: 0, next: 0 }], 2);
    publish(rig, 2);
    const fault = expectSplitFault(rig, "buffer-unmapped");
    assert.ok(fault.kind === "buffer-unmapped" && fault.cause.via === "memory");
  }),
);

Deno.test(
  "split: a buffer running off the end of guest memory",
  forEachSet(ALL_SETS, (f) => {
    const rig = splitRig(f);
    chain(rig.mem, DESC, [{ addr: RAM - 16, len: 64, flags: WRITE, next: 0 }], 2);
    publish(rig, 2);
    expectSplitFault(rig, "buffer-unmapped");
  }),
);

Deno.test(
  "split: a buffer address at or beyond 2^53",
  forEachSet(ALL_SETS, (f) => {
    const rig = splitRig(f);
    chain(rig.mem, DESC, [{ addr: 0xffff_ffff_ffff_f000n, len: 64, flags: 0, next: 0 }], 2);
    publish(rig, 2);
    expectSplitFault(rig, "addr-out-of-range");
  }),
);

Deno.test(
  "split: a buffer the vhost memory table does not cover",
  forEachSet(ALL_SETS, (f) => {
    const mem = new GuestMemory();
    mem.addRegion({ name: "ram", gpa: 0, size: RAM });
    mem.addRegion({ name: "extra", gpa: 0x1_0000_0000, size: 0x10_0000 });
    // The table only maps the first region (as if the second were never sent to vhost).
    const t = MemTable.create([{
      guestPhysAddr: 0,
      memorySize: RAM,
      userspaceAddr: 0x7f00_0000_0000,
    }]);
    assert.ok(t.ok);
    const dev = SplitDevice.create(mem, {
      size: SIZE,
      descTable: DESC,
      availRing: AVAIL,
      usedRing: USED,
      features: f,
      translator: t.value.gpaToGuestMemory,
    });
    assert.ok(dev.ok);
    const st = liveStatus(f);
    st.attachQueue(dev.value);
    const rig: SplitRig = { mem, dev: dev.value, st, availIdx: 0, good: -1 };
    chain(mem, DESC, [{ addr: DATA, len: 64, flags: 0, next: 0 }], 1);
    publish(rig, 1);
    rig.good = rig.dev.pop();
    chain(mem, DESC, [{ addr: 0x1_0000_0000, len: 64, flags: 0, next: 0 }], 2);
    publish(rig, 2);
    const fault = expectSplitFault(rig, "buffer-unmapped");
    assert.ok(fault.kind === "buffer-unmapped" && fault.cause.via === "translate");
  }),
);

Deno.test(
  "split: a zero-length buffer",
  forEachSet(ALL_SETS, (f) => {
    const rig = splitRig(f);
    chain(rig.mem, DESC, [
      { addr: DATA, len: 8, flags: NEXT, next: 3 },
      { addr: DATA, len: 0, flags: WRITE, next: 0 },
    ], 2);
    publish(rig, 2);
    expectSplitFault(rig, "zero-length");
  }),
);

Deno.test(
  "split: a device-readable descriptor after a device-writable one",
  forEachSet(ALL_SETS, (f) => {
    const rig = splitRig(f);
    chain(rig.mem, DESC, [
      { addr: DATA, len: 8, flags: WRITE | NEXT, next: 3 },
      { addr: DATA, len: 8, flags: 0, next: 0 },
    ], 2);
    publish(rig, 2);
    expectSplitFault(rig, "readable-after-writable");
  }),
);

Deno.test(
  "split: more than 2^32 bytes in one chain",
  forEachSet(ALL_SETS, (f) => {
    const mem = new GuestMemory();
    mem.addRegion({ name: "ram", gpa: 0, size: 16 * 2 ** 30 }); // sparse: costs nothing
    const rig = splitRig(f, mem);
    chain(mem, DESC, [
      { addr: 0x1_0000_0000, len: 0xffff_ffff, flags: NEXT, next: 3 },
      { addr: 0x2_0000_0000, len: 2, flags: 0, next: 0 },
    ], 2);
    publish(rig, 2);
    expectSplitFault(rig, "chain-too-large");
    assert.equal(mem.allocatedBytes <= 3 * 65536, true, "nothing was copied or allocated");
  }),
);

Deno.test(
  "split: INDIRECT when it was not negotiated",
  forEachSet(WITHOUT_INDIRECT, (f) => {
    const rig = splitRig(f);
    chain(rig.mem, TABLE, [{ addr: DATA, len: 8, flags: 0, next: 0 }]);
    chain(rig.mem, DESC, [{ addr: TABLE, len: 16, flags: INDIRECT, next: 0 }], 2);
    publish(rig, 2);
    expectSplitFault(rig, "indirect-not-negotiated");
  }),
);

Deno.test(
  "split: an indirect table inside an indirect table",
  forEachSet(WITH_INDIRECT, (f) => {
    const rig = splitRig(f);
    chain(rig.mem, TABLE2, [{ addr: DATA, len: 8, flags: 0, next: 0 }]);
    chain(rig.mem, TABLE, [
      { addr: DATA, len: 8, flags: NEXT, next: 1 },
      { addr: TABLE2, len: 16, flags: INDIRECT, next: 0 },
    ]);
    chain(rig.mem, DESC, [{ addr: TABLE, len: 32, flags: INDIRECT, next: 0 }], 2);
    publish(rig, 2);
    expectSplitFault(rig, "nested-indirect");
  }),
);

Deno.test(
  "split: INDIRECT together with NEXT",
  forEachSet(WITH_INDIRECT, (f) => {
    const rig = splitRig(f);
    chain(rig.mem, TABLE, [{ addr: DATA, len: 8, flags: 0, next: 0 }]);
    chain(rig.mem, DESC, [
      { addr: TABLE, len: 16, flags: INDIRECT | NEXT, next: 3 },
      { addr: DATA, len: 8, flags: 0, next: 0 },
    ], 2);
    publish(rig, 2);
    expectSplitFault(rig, "indirect-with-next");
  }),
);

Deno.test(
  "split: an indirect table whose length is not a multiple of 16",
  forEachSet(WITH_INDIRECT, (f) => {
    const rig = splitRig(f);
    chain(rig.mem, DESC, [{ addr: TABLE, len: 24, flags: INDIRECT, next: 0 }], 2);
    publish(rig, 2);
    assert.deepEqual(expectSplitFault(rig, "indirect-bad-length"), {
      kind: "indirect-bad-length",
      index: 2,
      len: 24,
    });
  }),
);

Deno.test(
  "split: an indirect table of 0 entries",
  forEachSet(WITH_INDIRECT, (f) => {
    const rig = splitRig(f);
    chain(rig.mem, DESC, [{ addr: TABLE, len: 0, flags: INDIRECT, next: 0 }], 2);
    publish(rig, 2);
    expectSplitFault(rig, "indirect-bad-length");
  }),
);

Deno.test(
  "split: an indirect table outside guest memory",
  forEachSet(WITH_INDIRECT, (f) => {
    const rig = splitRig(f);
    chain(rig.mem, DESC, [{ addr: HOLE, len: 32, flags: INDIRECT, next: 0 }], 2);
    publish(rig, 2);
    expectSplitFault(rig, "indirect-unmapped");
  }),
);

Deno.test(
  "split: an indirect next index beyond the table",
  forEachSet(WITH_INDIRECT, (f) => {
    const rig = splitRig(f);
    chain(rig.mem, TABLE, [
      { addr: DATA, len: 8, flags: NEXT, next: 1 },
      { addr: DATA, len: 8, flags: NEXT, next: 2 }, // the table has 2 entries
    ]);
    chain(rig.mem, DESC, [{ addr: TABLE, len: 32, flags: INDIRECT, next: 0 }], 2);
    publish(rig, 2);
    const fault = expectSplitFault(rig, "next-out-of-range");
    assert.ok(fault.kind === "next-out-of-range" && fault.indirect && fault.max === 2);
  }),
);

Deno.test(
  "split: a loop inside an indirect table",
  forEachSet(WITH_INDIRECT, (f) => {
    const rig = splitRig(f);
    chain(rig.mem, TABLE, [
      { addr: DATA, len: 8, flags: NEXT, next: 1 },
      { addr: DATA, len: 8, flags: NEXT, next: 0 },
    ]);
    chain(rig.mem, DESC, [{ addr: TABLE, len: 32, flags: INDIRECT, next: 0 }], 2);
    publish(rig, 2);
    const fault = expectSplitFault(rig, "chain-loop");
    assert.ok(fault.kind === "chain-loop" && fault.indirect);
  }),
);

Deno.test(
  "split: an indirect chain longer than the queue size",
  forEachSet(WITH_INDIRECT, (f) => {
    const rig = splitRig(f);
    const n = SIZE + 1;
    chain(
      rig.mem,
      TABLE,
      Array.from({ length: n }, (_, i) => ({
        addr: DATA,
        len: 8,
        flags: i + 1 < n ? NEXT : 0,
        next: i + 1,
      })),
    );
    chain(rig.mem, DESC, [{ addr: TABLE, len: 16 * n, flags: INDIRECT, next: 0 }], 2);
    publish(rig, 2);
    expectSplitFault(rig, "chain-too-long");
  }),
);

Deno.test(
  "split: a device-readable entry after a device-writable one inside an indirect table",
  forEachSet(WITH_INDIRECT, (f) => {
    const rig = splitRig(f);
    chain(rig.mem, TABLE, [
      { addr: DATA, len: 8, flags: WRITE | NEXT, next: 1 },
      { addr: DATA, len: 8, flags: 0, next: 0 },
    ]);
    chain(rig.mem, DESC, [{ addr: TABLE, len: 32, flags: INDIRECT, next: 0 }], 2);
    publish(rig, 2);
    expectSplitFault(rig, "readable-after-writable");
  }),
);

Deno.test(
  "split: the ring's memory is unplugged while the queue runs",
  forEachSet(ALL_SETS, (f) => {
    const mem = new GuestMemory();
    mem.addRegion({ name: "ram", gpa: 0, size: 0x4000 });
    mem.addRegion({ name: "data", gpa: DATA, size: 0x10_0000 });
    const rig = splitRig(f, mem);
    mem.removeRegion("ram");
    const dev = rig.dev;
    assert.equal(dev.pop(), POP_FAULT);
    assert.equal(dev.fault?.kind, "ring-unmapped");
    assert.equal(rig.st.value & VIRTIO_CONFIG_S_NEEDS_RESET, VIRTIO_CONFIG_S_NEEDS_RESET);
  }),
);

Deno.test(
  "split: notifications before DRIVER_OK consume nothing",
  forEachSet(ALL_SETS, (f) => {
    const mem = new GuestMemory();
    mem.addRegion({ name: "ram", gpa: 0, size: RAM });
    const dev = SplitDevice.create(mem, {
      size: SIZE,
      descTable: DESC,
      availRing: AVAIL,
      usedRing: USED,
      features: f,
    });
    assert.ok(dev.ok);
    const st = new DeviceStatus({ deviceFeatures: f | featureMask(VIRTIO_F_VERSION_1) });
    st.attachQueue(dev.value);
    st.write(VIRTIO_CONFIG_S_ACKNOWLEDGE);
    const rig: SplitRig = { mem, dev: dev.value, st, availIdx: 0, good: -1 };
    chain(mem, DESC, [{ addr: DATA, len: 8, flags: 0, next: 0 }]);
    publish(rig, 0);
    rig.dev.notified();
    assert.equal(rig.dev.pop(), POP_EMPTY);
    assert.equal(rig.dev.needsInterrupt(), false);
    assert.equal(rig.dev.nextAvail, 0);
    assert.equal(rig.dev.broken, false);
    assert.equal(mem.getU16(USED + 2), 0);
  }),
);

Deno.test("split: rings that cannot be set up are refused at creation", async (t) => {
  const mem = new GuestMemory();
  mem.addRegion({ name: "ram", gpa: 0, size: 0x10_0000 });
  const base = { size: SIZE, descTable: DESC, availRing: AVAIL, usedRing: USED };
  const cases: [string, Parameters<typeof SplitDevice.create>[1], QueueFault["kind"]][] = [
    ["queue size not a power of 2", { ...base, size: 6 }, "bad-size"],
    ["queue size 0", { ...base, size: 0 }, "bad-size"],
    ["queue size above 32768", { ...base, size: 65536 }, "bad-size"],
    ["descriptor table misaligned", { ...base, descTable: DESC + 8 }, "misaligned"],
    ["avail ring misaligned", { ...base, availRing: AVAIL + 1 }, "misaligned"],
    ["used ring misaligned", { ...base, usedRing: USED + 2 }, "misaligned"],
    ["used ring in unmapped memory", { ...base, usedRing: HOLE }, "ring-unmapped"],
    [
      "descriptor table running off the end of memory",
      { ...base, descTable: 0x10_0000 - 0x40 },
      "ring-unmapped",
    ],
    ["avail ring beyond 2^53", { ...base, availRing: 2 ** 53 - 2 }, "ring-unmapped"],
  ];
  for (const [name, opts, kind] of cases) {
    await t.step(name, () => {
      const r = SplitDevice.create(mem, opts);
      assert.ok(!r.ok);
      assert.equal(r.error.kind, kind, describeQueueFault(r.error));
    });
  }
});

// ------------------------------------------------------------------------------------------
// Packed rings

const RING = 0x1000;
const DRV_EVT = 0x3000;
const DEV_EVT = 0x3004;
const PACKED_SETS = ALL_SETS.map(([n, f]) =>
  [n, f | featureMask(VIRTIO_F_RING_PACKED)] as [string, bigint]
);
const P_WITH_INDIRECT = PACKED_SETS.filter(([, f]) => (f & I) !== 0n);
const P_WITHOUT_INDIRECT = PACKED_SETS.filter(([, f]) => (f & I) === 0n);

interface PackedRig {
  mem: GuestMemory;
  dev: PackedDevice;
  st: DeviceStatus;
  /** Next slot the (raw) driver writes; lap 1. */
  slot: number;
  good: number;
}

const AV = PACKED_F_AVAIL; // lap 1: AVAIL = 1, USED = 0

function packedRig(features: bigint): PackedRig {
  const mem = new GuestMemory();
  mem.addRegion({ name: "ram", gpa: 0, size: RAM });
  const dev = PackedDevice.create(mem, {
    size: SIZE,
    descRing: RING,
    driverEvent: DRV_EVT,
    deviceEvent: DEV_EVT,
    features,
  });
  assert.ok(dev.ok);
  const st = liveStatus(features);
  st.attachQueue(dev.value);
  const rig: PackedRig = { mem, dev: dev.value, st, slot: 0, good: -1 };
  putPacked(rig, [{ addr: DATA, len: 64, flags: AV, next: 0 }]);
  assert.equal(rig.dev.pop(), 0);
  rig.dev.addUsed(0, 0);
  putPacked(rig, [{ addr: DATA, len: 64, flags: AV | WRITE, next: 1 }]);
  rig.good = rig.dev.pop();
  assert.equal(rig.good, 1);
  return rig;
}

/** Writes a list at the next slots, first descriptor's flags last (as a driver would). */
function putPacked(rig: PackedRig, descs: readonly RawDesc[]): void {
  const first = rig.slot;
  descs.forEach((d, i) => {
    if (i > 0) writePackedDesc(rig.mem, RING, (first + i) % SIZE, d);
  });
  const d0 = descs[0] as RawDesc;
  writePackedDesc(rig.mem, RING, first, { ...d0, flags: 0 });
  rig.mem.setU16(RING + 16 * first + 14, d0.flags);
  rig.slot = (first + descs.length) % SIZE;
}

function expectPackedFault(rig: PackedRig, kind: QueueFault["kind"]): QueueFault {
  const { dev, st } = rig;
  const before = dev.toState();
  let r = 0;
  try {
    r = dev.pop();
  } catch (e) {
    assert.fail(`pop() threw: ${e}`);
  }
  assert.equal(r, POP_FAULT);
  const f = dev.fault;
  assert.ok(f);
  assert.equal(f.kind, kind, describeQueueFault(f));
  assert.deepEqual(dev.toState(), before, "no position moved, nothing became in flight");
  assert.equal(st.value & VIRTIO_CONFIG_S_NEEDS_RESET, VIRTIO_CONFIG_S_NEEDS_RESET);
  assert.equal(st.configChanges, 1);
  assert.equal(dev.pop(), POP_FAULT);
  assert.equal(dev.needsInterrupt(), false);
  const usedFlags = rig.mem.getU16(RING + 16 * 1 + 14);
  dev.addUsed(rig.good, 0);
  assert.equal(rig.mem.getU16(RING + 16 * 1 + 14), usedFlags, "a broken device marks nothing used");
  st.write(0);
  assert.equal(dev.broken, false);
  assert.deepEqual(dev.nextAvail, { slot: 0, wrap: 1 });
  return f;
}

Deno.test(
  "packed: a buffer id beyond the queue size",
  forEachSet(PACKED_SETS, (f) => {
    const rig = packedRig(f);
    putPacked(rig, [{ addr: DATA, len: 8, flags: AV, next: SIZE + 5 }]);
    expectPackedFault(rig, "packed-id-out-of-range");
  }),
);

Deno.test(
  "packed: a buffer id the device still holds",
  forEachSet(PACKED_SETS, (f) => {
    const rig = packedRig(f);
    putPacked(rig, [{ addr: DATA, len: 8, flags: AV, next: rig.good }]);
    expectPackedFault(rig, "packed-id-in-use");
  }),
);

Deno.test(
  "packed: a list without an end (NEXT all around the ring)",
  forEachSet(PACKED_SETS, (f) => {
    const rig = packedRig(f);
    // Every slot available with NEXT, including the wrapped ones (lap 2 flags after the wrap).
    const descs: RawDesc[] = [];
    for (let i = 0; i < SIZE; i++) {
      const slot = rig.slot + i;
      descs.push({ addr: DATA, len: 8, flags: (slot < SIZE ? AV : PACKED_F_USED) | NEXT, next: 3 });
    }
    const first = rig.slot;
    descs.forEach((d, i) => writePackedDesc(rig.mem, RING, (first + i) % SIZE, d));
    expectPackedFault(rig, "chain-too-long");
  }),
);

Deno.test(
  "packed: a list whose middle descriptor is not available",
  forEachSet(PACKED_SETS, (f) => {
    const rig = packedRig(f);
    putPacked(rig, [
      { addr: DATA, len: 8, flags: AV | NEXT, next: 3 },
      { addr: DATA, len: 8, flags: PACKED_F_USED, next: 3 }, // lap-2 marking on lap 1
    ]);
    expectPackedFault(rig, "packed-desc-not-available");
  }),
);

Deno.test(
  "packed: a zero-length buffer",
  forEachSet(PACKED_SETS, (f) => {
    const rig = packedRig(f);
    putPacked(rig, [{ addr: DATA, len: 0, flags: AV, next: 3 }]);
    expectPackedFault(rig, "zero-length");
  }),
);

Deno.test(
  "packed: a device-readable descriptor after a device-writable one",
  forEachSet(PACKED_SETS, (f) => {
    const rig = packedRig(f);
    putPacked(rig, [
      { addr: DATA, len: 8, flags: AV | WRITE | NEXT, next: 3 },
      { addr: DATA, len: 8, flags: AV, next: 3 },
    ]);
    expectPackedFault(rig, "readable-after-writable");
  }),
);

Deno.test(
  "packed: a buffer outside guest memory",
  forEachSet(PACKED_SETS, (f) => {
    const rig = packedRig(f);
    putPacked(rig, [{ addr: HOLE, len: 8, flags: AV, next: 3 }]);
    expectPackedFault(rig, "buffer-unmapped");
  }),
);

Deno.test(
  "packed: a buffer address beyond 2^53",
  forEachSet(PACKED_SETS, (f) => {
    const rig = packedRig(f);
    putPacked(rig, [{ addr: 1n << 60n, len: 8, flags: AV, next: 3 }]);
    expectPackedFault(rig, "addr-out-of-range");
  }),
);

Deno.test(
  "packed: INDIRECT when it was not negotiated",
  forEachSet(P_WITHOUT_INDIRECT, (f) => {
    const rig = packedRig(f);
    writePackedDesc(rig.mem, TABLE, 0, { addr: DATA, len: 8, flags: 0, next: 0 });
    putPacked(rig, [{ addr: TABLE, len: 16, flags: AV | INDIRECT, next: 3 }]);
    expectPackedFault(rig, "indirect-not-negotiated");
  }),
);

Deno.test(
  "packed: INDIRECT together with NEXT",
  forEachSet(P_WITH_INDIRECT, (f) => {
    const rig = packedRig(f);
    writePackedDesc(rig.mem, TABLE, 0, { addr: DATA, len: 8, flags: 0, next: 0 });
    putPacked(rig, [
      { addr: TABLE, len: 16, flags: AV | INDIRECT | NEXT, next: 3 },
      { addr: DATA, len: 8, flags: AV, next: 3 },
    ]);
    expectPackedFault(rig, "indirect-with-next");
  }),
);

Deno.test(
  "packed: an INDIRECT descriptor inside a NEXT list",
  forEachSet(P_WITH_INDIRECT, (f) => {
    const rig = packedRig(f);
    writePackedDesc(rig.mem, TABLE, 0, { addr: DATA, len: 8, flags: 0, next: 0 });
    putPacked(rig, [
      { addr: DATA, len: 8, flags: AV | NEXT, next: 3 },
      { addr: TABLE, len: 16, flags: AV | INDIRECT, next: 3 },
    ]);
    expectPackedFault(rig, "indirect-with-next");
  }),
);

Deno.test(
  "packed: an indirect table whose length is not a multiple of 16",
  forEachSet(P_WITH_INDIRECT, (f) => {
    const rig = packedRig(f);
    putPacked(rig, [{ addr: TABLE, len: 40, flags: AV | INDIRECT, next: 3 }]);
    expectPackedFault(rig, "indirect-bad-length");
  }),
);

Deno.test(
  "packed: an indirect table of 0 entries",
  forEachSet(P_WITH_INDIRECT, (f) => {
    const rig = packedRig(f);
    putPacked(rig, [{ addr: TABLE, len: 0, flags: AV | INDIRECT, next: 3 }]);
    expectPackedFault(rig, "indirect-bad-length");
  }),
);

Deno.test(
  "packed: an indirect table longer than the queue size",
  forEachSet(P_WITH_INDIRECT, (f) => {
    const rig = packedRig(f);
    for (let i = 0; i <= SIZE; i++) {
      writePackedDesc(rig.mem, TABLE, i, { addr: DATA, len: 8, flags: 0, next: 0 });
    }
    putPacked(rig, [{ addr: TABLE, len: 16 * (SIZE + 1), flags: AV | INDIRECT, next: 3 }]);
    expectPackedFault(rig, "chain-too-long");
  }),
);

Deno.test(
  "packed: an indirect table outside guest memory",
  forEachSet(P_WITH_INDIRECT, (f) => {
    const rig = packedRig(f);
    putPacked(rig, [{ addr: HOLE, len: 32, flags: AV | INDIRECT, next: 3 }]);
    expectPackedFault(rig, "indirect-unmapped");
  }),
);

Deno.test(
  "packed: a zero-length entry inside an indirect table",
  forEachSet(P_WITH_INDIRECT, (f) => {
    const rig = packedRig(f);
    writePackedDesc(rig.mem, TABLE, 0, { addr: DATA, len: 8, flags: 0, next: 0 });
    writePackedDesc(rig.mem, TABLE, 1, { addr: DATA, len: 0, flags: WRITE, next: 0 });
    putPacked(rig, [{ addr: TABLE, len: 32, flags: AV | INDIRECT, next: 3 }]);
    expectPackedFault(rig, "zero-length");
  }),
);

Deno.test(
  "packed: notifications before DRIVER_OK consume nothing",
  forEachSet(PACKED_SETS, (f) => {
    const mem = new GuestMemory();
    mem.addRegion({ name: "ram", gpa: 0, size: RAM });
    const dev = PackedDevice.create(mem, {
      size: SIZE,
      descRing: RING,
      driverEvent: DRV_EVT,
      deviceEvent: DEV_EVT,
      features: f,
    });
    assert.ok(dev.ok);
    const st = new DeviceStatus({ deviceFeatures: f });
    st.attachQueue(dev.value);
    const rig: PackedRig = { mem, dev: dev.value, st, slot: 0, good: -1 };
    putPacked(rig, [{ addr: DATA, len: 8, flags: AV, next: 0 }]);
    assert.equal(rig.dev.pop(), POP_EMPTY);
    assert.deepEqual(rig.dev.nextAvail, { slot: 0, wrap: 1 });
    assert.equal(rig.dev.counters.notReady, 1);
  }),
);

Deno.test("packed: rings that cannot be set up are refused at creation", async (t) => {
  const mem = new GuestMemory();
  mem.addRegion({ name: "ram", gpa: 0, size: 0x10_0000 });
  const base = { size: SIZE, descRing: RING, driverEvent: DRV_EVT, deviceEvent: DEV_EVT };
  const cases: [string, Parameters<typeof PackedDevice.create>[1], QueueFault["kind"]][] = [
    ["queue size 0", { ...base, size: 0 }, "bad-size"],
    ["queue size above 32768", { ...base, size: 32769 }, "bad-size"],
    ["descriptor ring misaligned", { ...base, descRing: RING + 4 }, "misaligned"],
    ["driver event area misaligned", { ...base, driverEvent: DRV_EVT + 2 }, "misaligned"],
    ["device event area in unmapped memory", { ...base, deviceEvent: HOLE }, "ring-unmapped"],
  ];
  for (const [name, opts, kind] of cases) {
    await t.step(name, () => {
      const r = PackedDevice.create(mem, opts);
      assert.ok(!r.ok);
      assert.equal(r.error.kind, kind);
    });
  }
  assert.ok(
    PackedDevice.create(mem, { ...base, size: 5 }).ok,
    "a size that is not a power of 2 is fine",
  );
});
