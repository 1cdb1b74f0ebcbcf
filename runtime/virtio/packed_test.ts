import assert from "node:assert/strict";
import { GuestMemory } from "../memory/guest_memory.ts";
import {
  PACKED_F_AVAIL,
  PACKED_F_USED,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_WRITE,
} from "./defs.ts";
import {
  featureMask,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_IN_ORDER,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
} from "./features.ts";
import { PackedDevice } from "./packed_device.ts";
import { PackedDriver } from "./packed_driver.ts";
import { readPackedDesc } from "./packed_layout.ts";
import { decodeVringBase, encodeVringBase } from "./queue_state.ts";
import { POP_EMPTY } from "./split_device.ts";
import { USED_FAULT, USED_NONE } from "./split_driver.ts";

const RING = 0x1000;
const DRV_EVT = 0x3000;
const DEV_EVT = 0x3004;
const POOL = 0x4_0000;
const DATA = 0x10_0000;

function setup(size: number, features = 0n) {
  const mem = new GuestMemory();
  mem.addRegion({ name: "ram", gpa: 0, size: 4 << 20 });
  const f = features | featureMask(VIRTIO_F_RING_PACKED);
  const rings = { size, descRing: RING, driverEvent: DRV_EVT, deviceEvent: DEV_EVT, features: f };
  const drv = PackedDriver.create(mem, { ...rings, indirectPool: { gpa: POOL, entries: 16 } });
  const dev = PackedDevice.create(mem, rings);
  assert.ok(drv.ok && dev.ok);
  return { mem, drv: drv.value, dev: dev.value };
}

Deno.test("PackedDevice.pop() reads a list in ring order and takes the id from its last descriptor", () => {
  const { mem, drv, dev } = setup(8);
  mem.write(DATA, new TextEncoder().encode("packed!"));
  const id = drv.add([
    { addr: DATA, len: 3, write: false },
    { addr: DATA + 3, len: 4, write: false },
    { addr: DATA + 0x100, len: 16, write: true },
  ], 77);
  assert.equal(dev.pop(), id);
  assert.equal(dev.chain.descriptors, 3);
  assert.deepEqual(dev.chain.segments().map((s) => [s.addr - DATA, s.len, s.write]), [
    [0, 3, false],
    [3, 4, false],
    [0x100, 16, true],
  ]);
  const buf = new Uint8Array(7);
  dev.chain.copyOut(buf);
  assert.equal(new TextDecoder().decode(buf), "packed!");
  dev.addUsed(id, 16);
  assert.equal(drv.getUsed(), 77);
  assert.equal(drv.lastLen, 16);
  assert.equal(dev.nextUsed.slot, 3, "the device skipped the whole list");
  assert.equal(drv.numFree, 8);
  assert.equal(dev.pop(), POP_EMPTY);
});

Deno.test("packed rings wrap: counters toggle, and lap 2 uses the inverted AVAIL/USED bits", () => {
  const { mem, drv, dev } = setup(3); // not a power of 2
  for (let i = 0; i < 10; i++) {
    const segs = i % 2 === 0
      ? [{ addr: DATA, len: 8, write: false }]
      : [{ addr: DATA, len: 8, write: false }, { addr: DATA + 8, len: 8, write: true }];
    drv.add(segs, i);
    const id = dev.pop();
    assert.ok(id >= 0, `pop ${i}`);
    dev.addUsed(id, i % 2 === 0 ? 0 : 8);
    assert.equal(drv.getUsed(), i);
  }
  // 15 slots consumed on a 3-slot ring: positions 15 % 3 = 0, wrap toggled 5 times → 0.
  assert.deepEqual(dev.nextAvail, { slot: 0, wrap: 0 });
  assert.deepEqual(dev.nextUsed, { slot: 0, wrap: 0 });
  // The last buffer (2 slots at positions 13, 14 = slots 1, 2 of lap 5, wrap 1): its used
  // descriptor overwrote slot 1; slot 2 still holds the driver's available descriptor.
  const mask = PACKED_F_AVAIL | PACKED_F_USED;
  assert.equal(
    (readPackedDesc(mem, RING, 1)?.flags ?? 0) & mask,
    mask,
    "used on lap 5: AVAIL = USED = 1",
  );
  assert.equal(
    (readPackedDesc(mem, RING, 2)?.flags ?? 0) & mask,
    PACKED_F_AVAIL,
    "available on lap 5",
  );
});

Deno.test("packed indirect: one ring slot, entries read in table order", () => {
  const { mem, drv, dev } = setup(4, featureMask(VIRTIO_F_INDIRECT_DESC));
  const id = drv.add([
    { addr: DATA, len: 12, write: false },
    { addr: DATA + 0x40, len: 100, write: true },
    { addr: DATA + 0x100, len: 100, write: true },
  ], 3);
  const d = readPackedDesc(mem, RING, 0);
  assert.ok(d);
  assert.equal(d.flags & VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_INDIRECT);
  assert.equal(d.len, 48);
  assert.equal(drv.numFree, 3);
  assert.equal(dev.pop(), id);
  assert.deepEqual(dev.chain.segments().map((s) => s.len), [12, 100, 100]);
  assert.equal(dev.chain.descriptors, 1);
  dev.addUsed(id, 150);
  assert.equal(drv.getUsed(), 3);
  assert.equal(drv.lastLen, 150);
});

Deno.test("packed devices may complete out of order; the driver skips by each id's list length", () => {
  const { drv, dev } = setup(8);
  const a = drv.add(
    [{ addr: DATA, len: 1, write: false }, { addr: DATA, len: 1, write: false }],
    100,
  );
  const b = drv.addOutbuf(DATA, 1, 101);
  const c = drv.add(
    [{ addr: DATA, len: 1, write: false }, { addr: DATA, len: 1, write: false }],
    102,
  );
  assert.deepEqual([dev.pop(), dev.pop(), dev.pop()], [a, b, c]);
  dev.addUsed(b, 0); // written at slot 0, skips 1
  dev.addUsed(c, 0); // slot 1, skips 2
  dev.addUsed(a, 0); // slot 3, skips 2
  assert.deepEqual([drv.getUsed(), drv.getUsed(), drv.getUsed()], [101, 102, 100]);
  assert.equal(drv.getUsed(), USED_NONE);
  assert.deepEqual(dev.nextUsed, { slot: 5, wrap: 1 });
  // Freed ids come back LIFO.
  assert.equal(drv.addOutbuf(DATA, 1), a);
});

Deno.test("packed batched flush writes the first used descriptor's flags last", () => {
  const { mem, drv, dev } = setup(8);
  drv.addOutbuf(DATA, 1, 0);
  drv.addOutbuf(DATA, 1, 1);
  const x = dev.pop();
  const y = dev.pop();
  dev.fillUsed(x, 0);
  dev.fillUsed(y, 0);
  assert.equal(drv.getUsed(), USED_NONE, "nothing is visible before the flush");
  assert.equal(
    readPackedDesc(mem, RING, 0)?.flags,
    PACKED_F_AVAIL,
    "still the available descriptor",
  );
  dev.flushUsed();
  assert.deepEqual([drv.getUsed(), drv.getUsed()], [0, 1]);
});

Deno.test("packed kick suppression: DISABLE, ENABLE and DESC at (off, wrap)", () => {
  const { mem, drv, dev } = setup(4, featureMask(VIRTIO_F_EVENT_IDX));
  drv.addOutbuf(DATA, 1, 0);
  assert.equal(drv.kickPrepare(), true, "fresh ring: flags 0 = ENABLE");
  dev.disableNotifications();
  drv.addOutbuf(DATA, 1, 1);
  assert.equal(drv.kickPrepare(), false, "DISABLE");
  dev.pop();
  dev.pop();
  assert.equal(dev.enableNotifications(), false, "nothing waiting");
  assert.equal(mem.getU16(DEV_EVT), 2 | (1 << 15));
  drv.addOutbuf(DATA, 1, 2); // slot 2
  assert.equal(drv.kickPrepare(), true, "slot 2 on lap 1 is the event");
  drv.addOutbuf(DATA, 1, 3); // slot 3
  assert.equal(drv.kickPrepare(), false, "past the event: DESC is one-shot");
  dev.pop();
  dev.pop();
  dev.enableNotifications(); // off = 0, wrap = 0 (lap 2)
  assert.equal(mem.getU16(DEV_EVT), 0);
  for (const id of [0, 1, 2, 3]) dev.addUsed(id, 0);
  for (let i = 0; i < 4; i++) drv.getUsed();
  drv.addOutbuf(DATA, 1, 4); // slot 0, lap 2
  assert.equal(drv.kickPrepare(), true, "the event names the next lap");
});

Deno.test("packed interrupt suppression: the driver's DESC event after re-enabling", () => {
  const { mem, drv, dev } = setup(8, featureMask(VIRTIO_F_EVENT_IDX));
  for (let i = 0; i < 4; i++) drv.addOutbuf(DATA, 1, i);
  const ids = [dev.pop(), dev.pop(), dev.pop(), dev.pop()];
  dev.addUsed(ids[0] as number, 0);
  assert.equal(dev.needsInterrupt(), true, "flags ENABLE");
  drv.disableCallbacks();
  dev.addUsed(ids[1] as number, 0);
  assert.equal(dev.needsInterrupt(), false, "flags DISABLE");
  assert.equal(drv.enableCallbacks(), false, "two used are waiting");
  assert.equal(mem.getU16(DRV_EVT + 2), 2, "DESC");
  assert.equal(mem.getU16(DRV_EVT), 0 | (1 << 15), "off = last used slot 0");
  assert.deepEqual([drv.getUsed(), drv.getUsed()], [0, 1]);
  assert.equal(mem.getU16(DRV_EVT), 2 | (1 << 15), "get_buf keeps the event at the next used slot");
  dev.addUsed(ids[2] as number, 0);
  assert.equal(dev.needsInterrupt(), true, "slot 2 was the event");
  dev.addUsed(ids[3] as number, 0);
  assert.equal(dev.needsInterrupt(), false, "slot 3 is past it");
});

Deno.test("packed IN_ORDER: one used descriptor over the batch's first slot", () => {
  const { mem, drv, dev } = setup(8, featureMask(VIRTIO_F_IN_ORDER));
  const ids = [
    drv.add([{ addr: DATA, len: 4, write: true }, { addr: DATA, len: 4, write: true }], 10),
    drv.addInbuf(DATA, 32, 11),
    drv.addInbuf(DATA, 32, 12),
  ];
  for (let i = 0; i < 3; i++) dev.pop();
  assert.throws(() => dev.addUsed(ids[1] as number, 0), RangeError);
  dev.addUsedInOrder(3, 7);
  const used = readPackedDesc(mem, RING, 0);
  assert.ok(used);
  assert.equal(used.id, ids[2]);
  assert.equal(used.flags, PACKED_F_AVAIL | PACKED_F_USED | VIRTQ_DESC_F_WRITE);
  assert.deepEqual(dev.nextUsed, { slot: 4, wrap: 1 }, "skips 2 + 1 + 1 slots");
  assert.deepEqual([drv.getUsed(), drv.lastLen], [10, 8]);
  assert.deepEqual([drv.getUsed(), drv.lastLen], [11, 32]);
  assert.deepEqual([drv.getUsed(), drv.lastLen], [12, 7]);
  assert.equal(drv.getUsed(), USED_NONE);
});

Deno.test("PackedDriver survives a device that writes nonsense", async (t) => {
  const cases: [string, (mem: GuestMemory) => void, string][] = [
    ["id out of range", (mem) => mem.setU16(RING + 12, 50), "used-id-out-of-range"],
    ["id not in flight", (mem) => mem.setU16(RING + 12, 6), "used-id-not-in-flight"],
    ["len beyond the buffer", (mem) => mem.setU32(RING + 8, 1000), "used-len-too-big"],
  ];
  for (const [name, corrupt, kind] of cases) {
    await t.step(name, () => {
      const { mem, drv, dev } = setup(8);
      drv.addInbuf(DATA, 64, 1);
      dev.addUsed(dev.pop(), 64);
      corrupt(mem);
      assert.equal(drv.getUsed(), USED_FAULT);
      assert.equal(drv.fault?.kind, kind);
      assert.equal(drv.getUsed(), USED_FAULT);
    });
  }
});

Deno.test("PackedDevice state survives toState/fromState and encodes as a vhost ring base", () => {
  const { mem, drv, dev } = setup(4);
  for (let i = 0; i < 3; i++) drv.addOutbuf(DATA, 1, i);
  dev.pop();
  dev.pop();
  dev.addUsed(0, 0);
  drv.getUsed();
  drv.addOutbuf(DATA, 1, 3);
  drv.addOutbuf(DATA, 1, 4); // slot 0 of lap 2
  dev.pop();
  dev.pop();
  const s = dev.toState();
  assert.deepEqual([s.nextAvail, s.availWrap, s.nextUsed, s.usedWrap], [0, 0, 1, 1]);
  assert.deepEqual(s.inFlight.map((e) => e.descriptors), [1, 1, 1]);
  const num = encodeVringBase(s);
  assert.equal(num, (0 | (0 << 15) | ((1 | (1 << 15)) << 16)) >>> 0);
  assert.deepEqual(decodeVringBase("packed", num), {
    layout: "packed",
    nextAvail: 0,
    availWrap: 0,
    nextUsed: 1,
    usedWrap: 1,
  });
  const back = PackedDevice.fromState(mem, JSON.parse(JSON.stringify(s)));
  assert.ok(back.ok);
  assert.deepEqual(back.value.toState(), s);
  assert.equal(
    back.value.pop(),
    3,
    "the restored queue pops the buffer waiting at slot 0 of lap 2",
  );
  assert.equal(back.value.inFlight, 4);
  const bad = PackedDevice.fromState(mem, { ...s, availWrap: 2 });
  assert.ok(!bad.ok && bad.error.kind === "bad-state");
  const ids = PackedDevice.fromState(mem, { ...s, inFlight: [{ id: 9, descriptors: 1 }] });
  assert.ok(!ids.ok && ids.error.kind === "bad-state");
});

Deno.test("PackedDevice.rewind() gives staged buffers back across the wrap, nothing written", () => {
  const { drv, dev } = setup(4);
  // Move both sides to slot 3 so the next buffers straddle the wrap.
  for (let k = 0; k < 3; k++) {
    drv.addInbuf(DATA, 64, k);
    dev.addUsed(dev.pop(), 0);
    drv.getUsed();
  }
  drv.addInbuf(DATA, 64, 7);
  drv.add([{ addr: DATA, len: 32, write: true }, { addr: DATA + 32, len: 32, write: true }], 8);
  const before = { ...dev.nextAvail };
  const a = dev.pop();
  dev.fillUsed(a, 64);
  const b = dev.pop();
  dev.fillUsed(b, 64);
  assert.notDeepEqual(dev.nextAvail, before, "two buffers, three slots, past the wrap");
  dev.rewind(2);
  assert.deepEqual(dev.nextAvail, before);
  dev.flushUsed();
  assert.equal(drv.getUsed(), USED_NONE, "nothing was written");
  assert.deepEqual([dev.pop(), dev.pop()], [a, b]);
  assert.throws(() => dev.rewind(1), RangeError);
});
