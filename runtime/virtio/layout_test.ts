// Byte layouts checked against offsets computed by hand from virtio 1.2 §2.7 and §2.8, by
// reading the bytes each side wrote, not the code's own offset helpers.
import assert from "node:assert/strict";
import { GuestMemory } from "../memory/guest_memory.ts";
import { featureMask, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED } from "./features.ts";
import { PackedDevice } from "./packed_device.ts";
import { PackedDriver } from "./packed_driver.ts";
import {
  availEntryOffset,
  availEventOffset,
  availRingSize,
  checkSplitLayout,
  descTableSize,
  legacySplitLayout,
  legacyVringSize,
  usedEntryOffset,
  usedEventOffset,
  usedRingSize,
} from "./split_layout.ts";
import { SplitDevice } from "./split_device.ts";
import { SplitDriver } from "./split_driver.ts";
import { checkPackedLayout } from "./packed_layout.ts";

function memory(): GuestMemory {
  const mem = new GuestMemory();
  mem.addRegion({ name: "ram", gpa: 0, size: 1 << 20 });
  return mem;
}

Deno.test("split descriptor is 16 bytes: addr@0 le64, len@8 le32, flags@12 le16, next@14 le16", () => {
  const mem = memory();
  const desc = 0x1000;
  const drv = SplitDriver.create(mem, {
    size: 8,
    descTable: desc,
    availRing: 0x2000,
    usedRing: 0x3000,
  });
  assert.ok(drv.ok);
  // Two segments → descriptors 0 and 1 (fresh free list), 0 chained to 1.
  drv.value.add([{ addr: 0x1_2345_6789, len: 0x11223344, write: false }, {
    addr: 0xabc0,
    len: 7,
    write: true,
  }]);
  const bytes = new Uint8Array(32);
  mem.read(desc, bytes);
  assert.deepEqual(Array.from(bytes.subarray(0, 16)), [
    0x89,
    0x67,
    0x45,
    0x23,
    0x01,
    0,
    0,
    0, // addr 0x1_2345_6789
    0x44,
    0x33,
    0x22,
    0x11, // len
    0x01,
    0x00, // flags NEXT
    0x01,
    0x00, // next = 1
  ]);
  assert.deepEqual(Array.from(bytes.subarray(16, 32)), [
    0xc0,
    0xab,
    0,
    0,
    0,
    0,
    0,
    0,
    7,
    0,
    0,
    0,
    0x02,
    0x00, // flags WRITE, no NEXT
    0x00,
    0x00,
  ]);
});

Deno.test("split avail ring: flags@0, idx@2, ring[i]@4+2i, used_event@4+2N", () => {
  const mem = memory();
  const N = 8;
  const avail = 0x2000;
  const drv = SplitDriver.create(mem, {
    size: N,
    descTable: 0x1000,
    availRing: avail,
    usedRing: 0x3000,
    features: featureMask(VIRTIO_F_EVENT_IDX),
  });
  assert.ok(drv.ok);
  drv.value.addOutbuf(0x8000, 1);
  drv.value.addOutbuf(0x8000, 1);
  drv.value.addOutbuf(0x8000, 1);
  assert.equal(mem.getU16(avail + 2), 3, "idx");
  assert.deepEqual(
    [mem.getU16(avail + 4), mem.getU16(avail + 6), mem.getU16(avail + 8)],
    [0, 1, 2],
    "ring[0..2]",
  );
  drv.value.enableCallbacks(); // writes used_event = last_used (0) and clears flags
  mem.setU16(avail + 4 + 2 * N, 0xffff);
  drv.value.enableCallbacks();
  assert.equal(mem.getU16(avail + 4 + 2 * N), 0, "used_event sits right after ring[N-1]");
  assert.equal(mem.getU16(avail + 0), 0, "flags");
  assert.equal(availRingSize(N), 6 + 2 * N);
  assert.equal(availEntryOffset(5), 14);
  assert.equal(usedEventOffset(N), 20);
});

Deno.test("split used ring: flags@0, idx@2, ring[i]={id le32, len le32}@4+8i, avail_event@4+8N", () => {
  const mem = memory();
  const N = 4;
  const used = 0x3000;
  const rings = {
    size: N,
    descTable: 0x1000,
    availRing: 0x2000,
    usedRing: used,
    features: featureMask(VIRTIO_F_EVENT_IDX),
  };
  const drv = SplitDriver.create(mem, rings);
  const dev = SplitDevice.create(mem, rings);
  assert.ok(drv.ok && dev.ok);
  drv.value.addInbuf(0x8000, 0x100);
  drv.value.addInbuf(0x9000, 0x100);
  const h0 = dev.value.pop();
  const h1 = dev.value.pop();
  dev.value.fillUsed(h1, 0x44);
  dev.value.fillUsed(h0, 0x33);
  dev.value.flushUsed();
  assert.equal(mem.getU16(used + 2), 2, "idx");
  assert.deepEqual([mem.getU32(used + 4), mem.getU32(used + 8)], [h1, 0x44], "ring[0]");
  assert.deepEqual([mem.getU32(used + 12), mem.getU32(used + 16)], [h0, 0x33], "ring[1]");
  assert.equal(mem.getU16(used + 4 + 8 * N), 2, "avail_event (= next avail index) after ring[N-1]");
  assert.equal(usedRingSize(N), 6 + 8 * N);
  assert.equal(usedEntryOffset(3), 28);
  assert.equal(availEventOffset(N), 36);
  assert.equal(descTableSize(N), 64);
});

Deno.test("split parts must be aligned 16/2/4 and the size a power of 2 up to 32768", () => {
  const ok = { descTable: 0x1000, availRing: 0x2002, usedRing: 0x3004 };
  assert.equal(checkSplitLayout(256, ok), undefined);
  assert.deepEqual(checkSplitLayout(256, { ...ok, descTable: 0x1008 }), {
    kind: "misaligned",
    part: "descTable",
    addr: 0x1008,
    align: 16,
  });
  assert.equal(checkSplitLayout(256, { ...ok, availRing: 0x2001 })?.kind, "misaligned");
  assert.equal(checkSplitLayout(256, { ...ok, usedRing: 0x3002 })?.kind, "misaligned");
  for (const size of [0, 3, 384, 65536, 32768 * 2]) {
    assert.equal(checkSplitLayout(size, ok)?.kind, "bad-size", `size ${size}`);
  }
  assert.equal(checkSplitLayout(32768, ok), undefined);
  assert.equal(checkSplitLayout(1, ok), undefined);
});

Deno.test("legacy split layout follows Linux vring_size/vring_init", () => {
  // N = 256, align 4096: desc 4096 + avail 2*(3+256) = 4614 → 8192, + used 6 + 8*256 = 2054.
  assert.equal(legacyVringSize(256, 4096), 10246);
  assert.deepEqual(legacySplitLayout(0x10_0000, 256), {
    descTable: 0x10_0000,
    availRing: 0x10_1000,
    usedRing: 0x10_2000,
  });
  // N = 128: desc 2048 + avail 262 = 2310 → 4096.
  assert.equal(legacySplitLayout(0, 128).usedRing, 4096);
});

Deno.test("packed descriptor is 16 bytes: addr@0, len@8, id@12, flags@14", () => {
  const mem = memory();
  const ring = 0x4000;
  const drv = PackedDriver.create(mem, {
    size: 4,
    descRing: ring,
    driverEvent: 0x5000,
    deviceEvent: 0x5004,
  });
  assert.ok(drv.ok);
  const id = drv.value.add([{ addr: 0x2_0000_1000, len: 0x200, write: false }, {
    addr: 0x3000,
    len: 9,
    write: true,
  }]);
  const bytes = new Uint8Array(32);
  mem.read(ring, bytes);
  assert.deepEqual(Array.from(bytes.subarray(0, 16)), [
    0x00,
    0x10,
    0x00,
    0x00,
    0x02,
    0,
    0,
    0, // addr
    0x00,
    0x02,
    0,
    0, // len
    id,
    0, // id
    0x81,
    0x00, // AVAIL (1<<7) | NEXT, USED clear: first lap
  ]);
  assert.deepEqual(Array.from(bytes.subarray(16, 32)), [
    0x00,
    0x30,
    0,
    0,
    0,
    0,
    0,
    0,
    9,
    0,
    0,
    0,
    id,
    0, // the id is in the last descriptor of the list
    0x82,
    0x00, // AVAIL | WRITE
  ]);
});

Deno.test("packed used descriptor: AVAIL = USED = device wrap counter, WRITE when data was written", () => {
  const mem = memory();
  const ring = 0x4000;
  const rings = { size: 2, descRing: ring, driverEvent: 0x5000, deviceEvent: 0x5004 };
  const drv = PackedDriver.create(mem, rings);
  const dev = PackedDevice.create(mem, { ...rings, features: featureMask(VIRTIO_F_RING_PACKED) });
  assert.ok(drv.ok && dev.ok);
  drv.value.addInbuf(0x8000, 64, 0);
  const id = dev.value.pop();
  dev.value.addUsed(id, 20);
  assert.equal(mem.getU16(ring + 14), 0x8080 | 0x2, "lap 1: AVAIL|USED|WRITE");
  assert.equal(mem.getU32(ring + 8), 20);
  assert.equal(mem.getU16(ring + 12), id);
  assert.equal(drv.value.getUsed(), 0);
  // Second slot, then the ring wraps: lap 2 marks available with AVAIL=0, USED=1.
  drv.value.addOutbuf(0x8000, 8, 1);
  dev.value.addUsed(dev.value.pop(), 0);
  assert.equal(mem.getU16(ring + 16 + 14), 0x8080, "no WRITE: nothing written");
  drv.value.getUsed();
  drv.value.addOutbuf(0x8000, 8, 2);
  assert.equal(mem.getU16(ring + 14), 0x8000, "lap 2 available: USED=1, AVAIL=0");
  dev.value.addUsed(dev.value.pop(), 0);
  assert.equal(mem.getU16(ring + 14), 0x0000, "lap 2 used: AVAIL=USED=0");
});

Deno.test("packed event suppression: off_wrap@0 (off:15 | wrap:1), flags@2 (2 bits)", () => {
  const mem = memory();
  const rings = { size: 8, descRing: 0x4000, driverEvent: 0x5000, deviceEvent: 0x5004 };
  const features = featureMask(VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED);
  const drv = PackedDriver.create(mem, { ...rings, features });
  const dev = PackedDevice.create(mem, { ...rings, features });
  assert.ok(drv.ok && dev.ok);
  dev.value.disableNotifications();
  assert.equal(mem.getU16(0x5004 + 2), 1, "device area flags = DISABLE");
  for (let i = 0; i < 3; i++) drv.value.addOutbuf(0x8000, 4, i);
  for (let i = 0; i < 3; i++) dev.value.pop();
  dev.value.enableNotifications();
  assert.equal(mem.getU16(0x5004), 3 | (1 << 15), "off = next slot 3, wrap = 1");
  assert.equal(mem.getU16(0x5004 + 2), 2, "flags = DESC");
  drv.value.disableCallbacks();
  assert.equal(mem.getU16(0x5000 + 2), 1, "driver area flags = DISABLE");
  drv.value.enableCallbacks();
  assert.equal(mem.getU16(0x5000 + 2), 2, "driver area flags = DESC with EVENT_IDX");
  assert.equal(mem.getU16(0x5000), 0 | (1 << 15), "off = next used slot 0, wrap 1");
});

Deno.test("packed parts must be aligned 16/4/4; any size 1..32768", () => {
  const a = { descRing: 0x1000, driverEvent: 0x2000, deviceEvent: 0x2004 };
  assert.equal(checkPackedLayout(3, a), undefined, "packed sizes need not be powers of 2");
  assert.equal(checkPackedLayout(32768, a), undefined);
  assert.equal(checkPackedLayout(0, a)?.kind, "bad-size");
  assert.equal(checkPackedLayout(32769, a)?.kind, "bad-size");
  assert.equal(checkPackedLayout(8, { ...a, descRing: 0x1004 })?.kind, "misaligned");
  assert.equal(checkPackedLayout(8, { ...a, driverEvent: 0x2002 })?.kind, "misaligned");
  assert.equal(checkPackedLayout(8, { ...a, deviceEvent: 0x2006 })?.kind, "misaligned");
});
