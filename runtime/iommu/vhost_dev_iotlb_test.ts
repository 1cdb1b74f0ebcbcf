import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  newTranslateResult,
  VHOST_ACCESS_RO,
  VHOST_ACCESS_RW,
  VHOST_ACCESS_WO,
} from "../memory/translator.ts";
import { formatIommuEvent, type IommuEvent } from "./event.ts";
import { VhostDevIotlb } from "./vhost_dev_iotlb.ts";
import {
  formatVhostIotlbMsg,
  VHOST_IOTLB_BATCH_BEGIN,
  VHOST_IOTLB_INVALIDATE,
  VHOST_IOTLB_UPDATE,
} from "./vhost_iotlb_msg.ts";

const update = (iova: number, size: number, uaddr: number, perm: 1 | 2 | 3 = 3) =>
  ({
    type: VHOST_IOTLB_UPDATE,
    iova,
    size,
    uaddr,
    perm,
  }) as const;

Deno.test("VhostDevIotlb: a miss stalls the vq until QEMU reads it and writes an update", () => {
  const events: IommuEvent[] = [];
  const dev = new VhostDevIotlb({ sink: (e) => events.push(e) });
  const tx = dev.translatorFor(1);
  const out = newTranslateResult();
  assertEquals(tx.translate(0x10_0040, 64, VHOST_ACCESS_RO, out), false);
  assertEquals([tx.lastOutcome, dev.readable], ["miss", true]);
  assertEquals(out.fault, { kind: "unmapped", iova: 0x10_0040, access: 1 });
  const msg = dev.read();
  assertEquals(msg === undefined ? "" : formatVhostIotlbMsg(msg), "MISS iova=0x100040 perm=ro");
  assertEquals([dev.readable, dev.pending()], [false, [{ vq: 1, iova: 0x10_0040, perm: 1 }]]);
  const r = dev.process(update(0x10_0000, 0x1000, 0x7f12_3000));
  assert(r.ok);
  assertEquals(r.value, {
    resolved: [{ vq: 1, iova: 0x10_0040, perm: 1 }],
    requeue: [1],
    removed: 0,
  });
  assert(tx.translate(0x10_0040, 64, VHOST_ACCESS_RO, out));
  assertEquals([out.addr, out.len, tx.lastOutcome], [0x7f12_3040, 64, "hit"]);
  assertEquals(events.map(formatIommuEvent), [
    "vhost-iotlb-miss vq=1 iova=0x100040 perm=ro",
    "vhost-iotlb-read type=miss iova=0x100040 perm=ro",
    "vhost-iotlb-update asid=0 iova=0x100000 size=0x1000 uaddr=0x7f123000 perm=rw",
    "vhost-iotlb-resolved vq=1 iova=0x100040",
  ]);
});

Deno.test("VhostDevIotlb: an update resolves only read misses whose iova it covers", () => {
  const dev = new VhostDevIotlb();
  const out = newTranslateResult();
  dev.translatorFor(0).translate(0x1000, 8, VHOST_ACCESS_WO, out);
  dev.translatorFor(1).translate(0x5000, 8, VHOST_ACCESS_RO, out);
  dev.translatorFor(2).translate(0x1800, 8, VHOST_ACCESS_RO, out);
  dev.read();
  dev.read(); // the third MISS stays unread on the read list
  // Covers vq 0's miss only (vq 2's is unread, vq 1's outside).
  const r = dev.process(update(0x0, 0x2000, 0xa0000));
  assert(r.ok);
  assertEquals(r.value.requeue, [0]);
  assertEquals(dev.pending().map((p) => p.vq), [1]);
  assert(dev.readable);
  // An update before the miss is read does not resolve it; reading it later then waits for
  // the next update, as in the kernel.
  dev.read();
  const again = dev.process(update(0x1000, 0x1000, 0xb1000));
  assert(again.ok && again.value.requeue[0] === 2);
});

Deno.test("VhostDevIotlb: a translation crosses ranges one run at a time", () => {
  const dev = new VhostDevIotlb();
  assert(dev.process(update(0x0, 0x1000, 0x7000_0000)).ok);
  assert(dev.process(update(0x1000, 0x1000, 0x6000_0000)).ok);
  const t = dev.translatorFor(0);
  const out = newTranslateResult();
  assert(t.translate(0xf00, 0x200, VHOST_ACCESS_RO, out));
  assertEquals([out.addr, out.len], [0x7000_0f00, 0x100]);
  assert(t.translate(0x1000, 0x100, VHOST_ACCESS_RO, out));
  assertEquals([out.addr, out.len], [0x6000_0000, 0x100]);
  assertEquals(dev.stats().hits, 2);
});

Deno.test("VhostDevIotlb: a wrong permission is EPERM without a message (kernel vhost)", () => {
  const dev = new VhostDevIotlb();
  assert(dev.process(update(0x0, 0x1000, 0x9000, VHOST_ACCESS_RO)).ok);
  const t = dev.translatorFor(0);
  const out = newTranslateResult();
  assertEquals(t.translate(0x10, 8, VHOST_ACCESS_WO, out), false);
  assertEquals([t.lastOutcome, dev.readable, dev.stats().denied], ["denied", false, 1]);
  assertEquals(out.fault, { kind: "permission", iova: 0x10, access: 2, allowed: 1 });
  // translate_desc checks map->perm & access: RW on an RO range passes.
  assert(t.translate(0x10, 8, VHOST_ACCESS_RW, out));
});

Deno.test("VhostDevIotlb with accessFail queues VHOST_IOTLB_ACCESS_FAIL (vhost-user flavour)", () => {
  const dev = new VhostDevIotlb({ accessFail: true });
  assert(dev.process(update(0x0, 0x1000, 0x9000, VHOST_ACCESS_WO)).ok);
  dev.translatorFor(3).translate(0x10, 8, VHOST_ACCESS_RO, newTranslateResult());
  const m = dev.read();
  assertEquals(m === undefined ? "" : formatVhostIotlbMsg(m), "ACCESS_FAIL iova=0x10 perm=ro");
  assertEquals(dev.pending(), []);
});

Deno.test("VhostDevIotlb.process() rejects what vhost_chr_write_iter rejects", () => {
  const dev = new VhostDevIotlb();
  const kinds = [
    dev.process(update(0x0, 0, 0x1000)),
    dev.process({ type: VHOST_IOTLB_INVALIDATE, iova: 0x0, size: 0, uaddr: 0, perm: 0 }),
    dev.process({ type: VHOST_IOTLB_BATCH_BEGIN, iova: 0, size: 0, uaddr: 0, perm: 0 }),
    dev.process(update(0x0, 0x1000, 0x1000), 1),
    new VhostDevIotlb({ enabled: false }).process(update(0x0, 0x1000, 0x1000)),
  ].map((r) => (r.ok ? "ok" : r.error.kind));
  assertEquals(kinds, ["zero-size", "zero-size", "bad-type", "bad-asid", "no-iotlb"]);
});

Deno.test("VhostDevIotlb: INVALIDATE removes overlapping ranges, the next access misses", () => {
  const dev = new VhostDevIotlb();
  assert(dev.process(update(0x0, 0x2000, 0x9000)).ok);
  assert(dev.process(update(0x4000, 0x1000, 0xf000)).ok);
  const r = dev.process({
    type: VHOST_IOTLB_INVALIDATE,
    iova: 0x1000,
    size: 0x1000,
    uaddr: 0,
    perm: 0,
  });
  assert(r.ok && r.value.removed === 1);
  const out = newTranslateResult();
  // The whole 8 KiB range went, including the page not named by the invalidation.
  assertEquals(dev.translatorFor(0).translate(0x0, 8, VHOST_ACCESS_RO, out), false);
  assert(dev.translatorFor(0).translate(0x4000, 8, VHOST_ACCESS_RO, out));
});

Deno.test("VhostDevIotlb evicts the oldest range beyond max_iotlb_entries", () => {
  const events: IommuEvent[] = [];
  const dev = new VhostDevIotlb({ maxEntries: 3, sink: (e) => events.push(e) });
  for (let p = 0; p < 5; p++) {
    assert(dev.process(update(p * 0x1000, 0x1000, 0xa0_0000 + p * 0x1000)).ok);
  }
  assertEquals(dev.stats().evictions, 2);
  assertEquals(events.filter((e) => e.kind === "vhost-iotlb-evict").map(formatIommuEvent), [
    "vhost-iotlb-evict start=0x0 last=0xfff",
    "vhost-iotlb-evict start=0x1000 last=0x1fff",
  ]);
  const out = newTranslateResult();
  assertEquals(dev.translatorFor(0).translate(0x0, 8, VHOST_ACCESS_RO, out), false);
  assert(dev.translatorFor(0).translate(0x4000, 8, VHOST_ACCESS_RO, out));
});

Deno.test("VhostDevIotlb.accessOk() prefetch queues a miss for the first hole only", () => {
  const dev = new VhostDevIotlb();
  assert(dev.process(update(0x0, 0x1000, 0x9000)).ok);
  assertEquals(dev.accessOk(0, 0x0, 0x1000, VHOST_ACCESS_RO), true);
  assertEquals(dev.accessOk(0, 0x800, 0x1000, VHOST_ACCESS_RO), false);
  assertEquals(dev.read()?.iova, 0x1000);
  assertEquals(dev.readable, false);
});

Deno.test("VhostDevIotlb.init() starts over with an empty IOTLB and no queued messages", () => {
  const dev = new VhostDevIotlb();
  assert(dev.process(update(0x0, 0x1000, 0x9000)).ok);
  dev.translatorFor(0).translate(0x5000, 8, VHOST_ACCESS_RO, newTranslateResult());
  dev.init();
  assertEquals([dev.iotlb?.size, dev.readable], [0, false]);
});
