import assert from "node:assert/strict";
import { GuestMemory } from "../memory/guest_memory.ts";
import { MemTable } from "../memory/mem_table.ts";
import { newTranslateResult, VHOST_ACCESS_RO } from "../memory/translator.ts";
import {
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_USED_F_NO_NOTIFY,
} from "./defs.ts";
import {
  featureMask,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_IN_ORDER,
  VIRTIO_F_INDIRECT_DESC,
} from "./features.ts";
import { decodeVringBase, encodeVringBase } from "./queue_state.ts";
import { POP_EMPTY, SplitDevice } from "./split_device.ts";
import { SplitDriver, USED_FAULT, USED_NONE } from "./split_driver.ts";
import { readSplitDesc } from "./split_layout.ts";

const DESC = 0x1000;
const AVAIL = 0x2000;
const USED = 0x3000;
const POOL = 0x4_0000;
const DATA = 0x10_0000;

function setup(size: number, features = 0n, extra: { callbacks?: boolean } = {}) {
  const mem = new GuestMemory();
  mem.addRegion({ name: "ram", gpa: 0, size: 4 << 20 });
  const rings = { size, descTable: DESC, availRing: AVAIL, usedRing: USED, features };
  const drv = SplitDriver.create(mem, {
    ...rings,
    ...extra,
    indirectPool: { gpa: POOL, entries: 16 },
  });
  const dev = SplitDevice.create(mem, rings);
  assert.ok(drv.ok && dev.ok);
  return { mem, drv: drv.value, dev: dev.value };
}

Deno.test("SplitDevice.pop() sees exactly the chain the driver wrote, readable part first", () => {
  const { mem, drv, dev } = setup(8);
  mem.write(DATA, new TextEncoder().encode("headerpayload"));
  drv.add([
    { addr: DATA, len: 6, write: false },
    { addr: DATA + 6, len: 7, write: false },
    { addr: DATA + 0x100, len: 32, write: true },
  ], 99);
  const head = dev.pop();
  assert.equal(head, 0);
  assert.deepEqual(dev.chain.segments(), [
    { addr: DATA, len: 6, write: false },
    { addr: DATA + 6, len: 7, write: false },
    { addr: DATA + 0x100, len: 32, write: true },
  ]);
  assert.equal(dev.chain.readableBytes, 13);
  assert.equal(dev.chain.writableBytes, 32);
  const out = new Uint8Array(13);
  assert.equal(dev.chain.copyOut(out), 13);
  assert.equal(new TextDecoder().decode(out), "headerpayload");
  assert.equal(
    dev.chain.copyIn(new Uint8Array([1, 2, 3]), 0, 3, 30),
    2,
    "skip 30 leaves room for 2",
  );
  assert.equal(mem.getU8(DATA + 0x100 + 31), 2);
  dev.addUsed(head, 32);
  assert.equal(drv.getUsed(), 99);
  assert.equal(drv.lastLen, 32);
  assert.equal(drv.numFree, 8, "all three descriptors are back on the free list");
  assert.equal(dev.pop(), POP_EMPTY);
});

Deno.test("SplitDriver reuses freed descriptors LIFO like Linux and never re-reads next from the ring", () => {
  const { mem, drv, dev } = setup(4);
  const a = drv.add(
    [{ addr: DATA, len: 1, write: false }, { addr: DATA, len: 1, write: false }],
    1,
  );
  const b = drv.addOutbuf(DATA, 1, 2);
  assert.deepEqual([a, b], [0, 2]);
  dev.pop();
  dev.pop();
  dev.addUsed(a, 0);
  assert.equal(drv.getUsed(), 1);
  // A hostile device scribbles over descriptor 0's next field: the driver must not care.
  mem.setU16(DESC + 14, 3);
  const c = drv.add(
    [{ addr: DATA, len: 1, write: false }, { addr: DATA, len: 1, write: false }],
    3,
  );
  assert.equal(c, 0, "head of the freed chain comes first");
  assert.equal(
    readSplitDesc(mem, DESC, 0)?.next,
    1,
    "and the chain is rewritten from the private list",
  );
  assert.equal(drv.numFree, 1);
  const two = [{ addr: DATA, len: 1, write: false }, { addr: DATA, len: 1, write: false }];
  assert.equal(drv.add(two, 4), -1, "two descriptors do not fit in one");
  assert.equal(drv.counters.full, 1);
});

Deno.test("SplitDriver puts multi-segment buffers in an indirect table when negotiated (Linux's rule)", () => {
  const { mem, drv, dev } = setup(4, featureMask(VIRTIO_F_INDIRECT_DESC));
  const head = drv.add([{ addr: DATA, len: 12, write: false }, {
    addr: DATA + 12,
    len: 50,
    write: false,
  }], 5);
  const d = readSplitDesc(mem, DESC, head);
  assert.ok(d);
  assert.equal(d.flags, VIRTQ_DESC_F_INDIRECT);
  assert.equal(d.len, 32, "two 16-byte entries");
  assert.equal(d.addr, BigInt(POOL + head * 16 * 16));
  assert.equal(drv.numFree, 3, "one ring descriptor for the whole buffer");
  assert.equal(dev.pop(), head);
  assert.deepEqual(dev.chain.segments().map((x) => x.len), [12, 50]);
  assert.equal(dev.chain.descriptors, 1);
  dev.addUsed(head, 0);
  assert.equal(drv.getUsed(), 5);
  assert.equal(drv.numFree, 4);
  assert.equal(drv.counters.indirect, 1);
});

Deno.test("SplitDevice walks indirect tables, including a direct prefix before the indirect descriptor", () => {
  const f = featureMask(VIRTIO_F_INDIRECT_DESC);
  const mem = new GuestMemory();
  mem.addRegion({ name: "ram", gpa: 0, size: 4 << 20 });
  const rings = { size: 8, descTable: DESC, availRing: AVAIL, usedRing: USED, features: f };
  const dev = SplitDevice.create(mem, rings);
  assert.ok(dev.ok);
  // desc 0 (direct, readable) → desc 1 (INDIRECT, table of 2: readable, writable).
  const table = 0x5000;
  mem.setU64(DESC, DATA);
  mem.setU32(DESC + 8, 10);
  mem.setU16(DESC + 12, 1);
  mem.setU16(DESC + 14, 1);
  mem.setU64(DESC + 16, table);
  mem.setU32(DESC + 24, 32);
  mem.setU16(DESC + 28, VIRTQ_DESC_F_INDIRECT | 2); // WRITE on the pointer is ignored
  mem.setU64(table, DATA + 0x100);
  mem.setU32(table + 8, 20);
  mem.setU16(table + 12, 1);
  mem.setU16(table + 14, 1);
  mem.setU64(table + 16, DATA + 0x200);
  mem.setU32(table + 24, 30);
  mem.setU16(table + 28, 2);
  mem.setU16(AVAIL + 4, 0);
  mem.setU16(AVAIL + 2, 1);
  assert.equal(dev.value.pop(), 0);
  assert.deepEqual(dev.value.chain.segments().map((s) => [s.addr - DATA, s.len, s.write]), [
    [0, 10, false],
    [0x100, 20, false],
    [0x200, 30, true],
  ]);
  assert.equal(dev.value.chain.descriptors, 2);
});

Deno.test("split indices wrap at 65536 on both sides", () => {
  const { mem, drv, dev } = setup(4);
  let kicks = 0;
  for (let i = 0; i < 70000; i++) {
    drv.addOutbuf(DATA, 8, i);
    if (drv.kickPrepare()) kicks++;
    const h = dev.pop();
    assert.ok(h >= 0);
    dev.addUsed(h, 0);
    assert.equal(drv.getUsed(), i);
  }
  assert.equal(mem.getU16(AVAIL + 2), 70000 & 0xffff);
  assert.equal(mem.getU16(USED + 2), 70000 & 0xffff);
  assert.equal(dev.nextAvail, 70000 & 0xffff);
  assert.equal(kicks, 70000, "no suppression requested: every publish kicks");
});

Deno.test("without EVENT_IDX the driver honours NO_NOTIFY and the device honours NO_INTERRUPT", () => {
  const { mem, drv, dev } = setup(8);
  dev.disableNotifications();
  assert.equal(mem.getU16(USED) & VIRTQ_USED_F_NO_NOTIFY, 1);
  drv.addOutbuf(DATA, 8);
  assert.equal(drv.kickPrepare(), false);
  assert.equal(dev.enableNotifications(), true, "re-check finds the buffer published meanwhile");
  assert.equal(mem.getU16(USED), 0);
  drv.addOutbuf(DATA, 8);
  assert.equal(drv.kickPrepare(), true);
  drv.disableCallbacks();
  assert.equal(mem.getU16(AVAIL) & VIRTQ_AVAIL_F_NO_INTERRUPT, 1);
  dev.addUsed(dev.pop(), 0);
  assert.equal(dev.needsInterrupt(), false);
  assert.equal(drv.enableCallbacks(), false, "re-check: a used buffer is already there");
  assert.equal(mem.getU16(AVAIL), 0);
  dev.addUsed(dev.pop(), 0);
  assert.equal(dev.needsInterrupt(), true);
  assert.deepEqual([dev.counters.interrupts, dev.counters.interruptsSuppressed], [1, 1]);
});

Deno.test("with EVENT_IDX the driver kicks only when avail_event is crossed", () => {
  const { mem, drv, dev } = setup(16, featureMask(VIRTIO_F_EVENT_IDX));
  // Fresh ring: avail_event = 0, so the first publish (index 0) kicks.
  drv.addOutbuf(DATA, 8, 0);
  assert.equal(drv.kickPrepare(), true);
  // The device does not pop; avail_event stays 0: publishing 1 and 2 does not kick.
  drv.addOutbuf(DATA, 8, 1);
  drv.addOutbuf(DATA, 8, 2);
  assert.equal(drv.kickPrepare(), false);
  // The device pops all three; with notifications on, avail_event follows last_avail (3).
  for (let i = 0; i < 3; i++) dev.pop();
  assert.equal(mem.getU16(USED + 4 + 8 * 16), 3);
  drv.addOutbuf(DATA, 8, 3);
  drv.addOutbuf(DATA, 8, 4);
  assert.equal(drv.kickPrepare(), true, "entry 3 was published in this batch");
  dev.disableNotifications();
  dev.pop();
  dev.pop();
  assert.equal(mem.getU16(USED + 4 + 8 * 16), 3, "disabled: avail_event no longer advances");
  drv.addOutbuf(DATA, 8, 5);
  assert.equal(drv.kickPrepare(), false);
  assert.equal(dev.enableNotifications(), true, "avail_event = avail.idx, and entry 5 is waiting");
  assert.equal(mem.getU16(USED + 4 + 8 * 16), 6);
});

Deno.test("with EVENT_IDX the device interrupts only when used_event is crossed", () => {
  const { mem, drv, dev } = setup(16, featureMask(VIRTIO_F_EVENT_IDX));
  for (let i = 0; i < 6; i++) drv.addOutbuf(DATA, 8, i);
  const heads = Array.from({ length: 6 }, () => dev.pop());
  dev.addUsed(heads[0] as number, 0);
  assert.equal(
    dev.needsInterrupt(),
    true,
    "the first decision always notifies (signalled_used invalid)",
  );
  // Driver has used_event = 0 (never reclaimed): entry 0 is behind; entries 1, 2 do not cross it.
  dev.addUsed(heads[1] as number, 0);
  dev.addUsed(heads[2] as number, 0);
  assert.equal(dev.needsInterrupt(), false);
  // The driver reclaims two: used_event = 2 → the device's next batch (used idx 3 → 4) crossed 2? No: 2 was published already.
  assert.equal(drv.getUsed(), 0);
  assert.equal(drv.getUsed(), 1);
  assert.equal(mem.getU16(AVAIL + 4 + 2 * 16), 2);
  dev.addUsed(heads[3] as number, 0);
  assert.equal(dev.needsInterrupt(), false, "event 2 lies before [3, 4)");
  assert.equal(
    drv.enableCallbacks(),
    false,
    "used_event = last_used (2), and more are used already",
  );
  assert.equal(drv.getUsed(), 2);
  assert.equal(drv.getUsed(), 3);
  assert.equal(drv.getUsed(), USED_NONE);
  assert.equal(mem.getU16(AVAIL + 4 + 2 * 16), 4);
  dev.addUsed(heads[4] as number, 0);
  assert.equal(dev.needsInterrupt(), true, "entry 4 is the one the driver waits for");
  drv.disableCallbacks();
  assert.equal(
    mem.getU16(AVAIL + 4 + 2 * 16),
    0,
    "Linux writes used_event = 0 on disable with EVENT_IDX",
  );
  dev.addUsed(heads[5] as number, 0);
  assert.equal(dev.needsInterrupt(), false);
});

Deno.test("enableCallbacksDelayed() sets used_event three quarters into the outstanding buffers", () => {
  const { mem, drv, dev } = setup(16, featureMask(VIRTIO_F_EVENT_IDX));
  for (let i = 0; i < 8; i++) drv.addOutbuf(DATA, 8, i);
  drv.disableCallbacks();
  assert.equal(drv.enableCallbacksDelayed(), true);
  assert.equal(mem.getU16(AVAIL + 4 + 2 * 16), 6, "0 + 8 * 3 / 4");
  for (let i = 0; i < 7; i++) dev.addUsed(dev.pop(), 0);
  assert.equal(drv.enableCallbacksDelayed(), false, "7 used > 6: process them now");
});

Deno.test("interrupt() counts spurious notifications", () => {
  const { drv, dev } = setup(8);
  assert.equal(drv.interrupt(), false);
  drv.addOutbuf(DATA, 8);
  dev.addUsed(dev.pop(), 0);
  assert.equal(drv.interrupt(), true);
  assert.deepEqual([drv.counters.interrupts, drv.counters.spuriousInterrupts], [2, 1]);
});

Deno.test("IN_ORDER: sequential descriptors, and one used entry completes a batch", () => {
  const { mem, drv, dev } = setup(8, featureMask(VIRTIO_F_IN_ORDER));
  const heads = [
    drv.add([{ addr: DATA, len: 4, write: false }, { addr: DATA, len: 4, write: true }], 10),
    drv.addInbuf(DATA + 0x100, 64, 11),
    drv.add([{ addr: DATA, len: 4, write: true }, { addr: DATA, len: 4, write: true }], 12),
  ];
  assert.deepEqual(heads, [0, 2, 3], "descriptors in ring order");
  assert.equal(readSplitDesc(mem, DESC, 0)?.next, 1, "next = x + 1");
  for (let i = 0; i < 3; i++) dev.pop();
  assert.throws(() => dev.addUsed(2, 0), RangeError, "out of order is a device bug");
  dev.addUsedInOrder(3, 5);
  assert.equal(mem.getU16(USED + 2), 3, "used idx moved by the batch size");
  assert.equal(mem.getU32(USED + 4), 3, "the single entry carries the last head");
  assert.deepEqual([drv.getUsed(), drv.lastLen], [10, 4], "skipped buffers count as fully written");
  assert.deepEqual([drv.getUsed(), drv.lastLen], [11, 64]);
  assert.deepEqual([drv.getUsed(), drv.lastLen], [12, 5]);
  assert.equal(drv.getUsed(), USED_NONE);
  // Wrap: descriptors continue at 5, 6, 7, then 0.
  const more = [
    drv.addOutbuf(DATA, 1),
    drv.addOutbuf(DATA, 1),
    drv.addOutbuf(DATA, 1),
    drv.addOutbuf(DATA, 1),
  ];
  assert.deepEqual(more, [5, 6, 7, 0]);
});

Deno.test("a vhost-style device reads rings by HVA and descriptors through the memory table", () => {
  const mem = new GuestMemory();
  mem.addRegion({ name: "pc.ram", gpa: 0, size: 4 << 20 });
  const table = MemTable.fromGuestMemory(mem, { hvaBase: 0x7f00_0000_0000 });
  assert.ok(table.ok);
  const t = table.value;
  const drv = SplitDriver.create(mem, {
    size: 8,
    descTable: DESC,
    availRing: AVAIL,
    usedRing: USED,
  });
  assert.ok(drv.ok);
  // QEMU hands the back-end HVAs for the rings (SET_VRING_ADDR).
  const hva = (gpa: number) => {
    const o = newTranslateResult();
    assert.ok(t.gpaToHva.translate(gpa, 1, VHOST_ACCESS_RO, o));
    return o.addr;
  };
  const dev = SplitDevice.create(mem, {
    size: 8,
    descTable: hva(DESC),
    availRing: hva(AVAIL),
    usedRing: hva(USED),
    translator: t.gpaToGuestMemory,
    ringTranslator: t.hvaToGpa,
  });
  assert.ok(dev.ok);
  assert.deepEqual(dev.value.ringGpas(), { descTable: DESC, availRing: AVAIL, usedRing: USED });
  drv.value.addOutbuf(DATA, 100, 1);
  assert.equal(dev.value.pop(), 0);
  assert.equal(dev.value.chain.addr[0], DATA);
  drv.value.addOutbuf(5 << 20, 100, 2); // beyond the table
  assert.equal(dev.value.pop(), -2);
  assert.equal(dev.value.fault?.kind, "buffer-unmapped");
});

Deno.test("SplitDriver survives a device that writes nonsense in the used ring", async (t) => {
  const cases: [string, (mem: GuestMemory) => void, string][] = [
    ["id out of range", (mem) => mem.setU32(USED + 4, 99), "used-id-out-of-range"],
    ["id not a head", (mem) => mem.setU32(USED + 4, 5), "used-id-not-in-flight"],
    ["len beyond the writable bytes", (mem) => mem.setU32(USED + 8, 65), "used-len-too-big"],
    ["used idx jumping past the ring", (mem) => mem.setU16(USED + 2, 40), "used-idx-jump"],
  ];
  for (const [name, corrupt, kind] of cases) {
    await t.step(name, () => {
      const { mem, drv, dev } = setup(8);
      drv.addInbuf(DATA, 64, 1);
      dev.addUsed(dev.pop(), 64);
      corrupt(mem);
      assert.equal(drv.getUsed(), USED_FAULT);
      assert.equal(drv.fault?.kind, kind);
      assert.equal(drv.broken, true);
      assert.equal(drv.getUsed(), USED_FAULT, "a broken queue stays broken");
      assert.equal(drv.moreUsed(), false);
    });
  }
});

Deno.test("SplitDevice state survives toState/fromState mid-flight, and the vhost base encodes it", () => {
  const { mem, drv, dev } = setup(8, featureMask(VIRTIO_F_EVENT_IDX));
  for (let i = 0; i < 5; i++) drv.addOutbuf(DATA, 8, i);
  const h = [dev.pop(), dev.pop(), dev.pop()];
  dev.addUsed(h[1] as number, 0);
  dev.needsInterrupt();
  const state = dev.toState();
  assert.deepEqual(state.inFlight, [h[0], h[2]]);
  assert.equal(state.nextAvail, 3);
  assert.equal(state.nextUsed, 1);
  const copy = JSON.parse(JSON.stringify(state));
  const back = SplitDevice.fromState(mem, copy, { features: featureMask(VIRTIO_F_EVENT_IDX) });
  assert.ok(back.ok);
  assert.deepEqual(back.value.toState(), state);
  assert.equal(back.value.pop(), 3, "continues where the old one stopped");
  back.value.addUsed(h[0] as number, 0);
  assert.equal(
    encodeVringBase({
      layout: "split",
      nextAvail: 0x1_0003,
      availWrap: 0,
      nextUsed: 0,
      usedWrap: 0,
    }),
    3,
  );
  assert.equal(
    decodeVringBase("split", encodeVringBase({ ...state, availWrap: 0, usedWrap: 0 })).nextAvail,
    3,
  );
  const bad = SplitDevice.fromState(mem, { ...state, inFlight: [1, 1] });
  assert.ok(!bad.ok && bad.error.kind === "bad-state");
  const jump = SplitDevice.fromState(mem, { ...state, nextAvail: 100, nextUsed: 0 });
  assert.ok(!jump.ok && jump.error.kind === "bad-state");
});

Deno.test("SplitDevice.rewind() gives staged chains back: popped again in order, nothing published", async (t) => {
  for (
    const [name, features] of [["plain", 0n], ["IN_ORDER", featureMask(VIRTIO_F_IN_ORDER)]] as const
  ) {
    await t.step(name, () => {
      const { drv, dev } = setup(4, features);
      for (let k = 0; k < 3; k++) drv.addInbuf(DATA + k * 0x100, 64, 10 + k);
      // A mergeable receive takes two buffers, finds no third, and gives both back.
      const a = dev.pop();
      dev.fillUsed(a, 64);
      const b = dev.pop();
      dev.fillUsed(b, 64);
      dev.rewind(2);
      assert.equal(dev.nextAvail, 0);
      assert.equal(dev.inFlight, 0);
      dev.flushUsed();
      assert.equal(dev.nextUsed, 0, "nothing was published");
      assert.equal(drv.getUsed(), USED_NONE);
      // The same chains come back, in the same order, and complete normally.
      assert.deepEqual([dev.pop(), dev.pop(), dev.pop()], [a, b, 2]);
      dev.fillUsed(a, 10);
      dev.fillUsed(b, 20);
      dev.fillUsed(2, 30);
      dev.flushUsed();
      assert.deepEqual([drv.getUsed(), drv.lastLen, drv.getUsed(), drv.getUsed()], [
        10,
        10,
        11,
        12,
      ]);
    });
  }
  await t.step("more than are staged is a bug of the caller", () => {
    const { drv, dev } = setup(4);
    drv.addInbuf(DATA, 64, 1);
    dev.fillUsed(dev.pop(), 64);
    dev.flushUsed();
    assert.throws(() => dev.rewind(1), RangeError);
  });
});
