import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { MAX_IOTLB_ENTRIES, VhostIotlb, type VhostIotlbMap } from "./vhost_iotlb.ts";

const span = (m: VhostIotlbMap | undefined) => (m === undefined ? undefined : [m.start, m.last]);

Deno.test("VhostIotlb.first() returns the overlapping range with the lowest start", () => {
  const tlb = new VhostIotlb();
  tlb.addRange(0x3000, 0x3fff, 0, 3);
  tlb.addRange(0x1000, 0x1fff, 0, 3);
  tlb.addRange(0x0000, 0x8fff, 0, 1); // overlaps both: the tree accepts it
  assertEquals(span(tlb.first(0x3800, 0x3800)), [0x0000, 0x8fff]);
  assertEquals(span(tlb.first(0x9000, 0x9fff)), undefined);
  assertEquals(tlb.overlapping(0x1800, 0x3000).map(span), [[0, 0x8fff], [0x1000, 0x1fff], [
    0x3000,
    0x3fff,
  ]]);
});

Deno.test("VhostIotlb.first() finds a long range hidden behind later short ones", () => {
  const tlb = new VhostIotlb();
  tlb.addRange(0x0, 0xf_ffff, 0xa, 3);
  for (let i = 1; i < 10; i++) tlb.addRange(i * 0x1000, i * 0x1000 + 0xff, 0, 3);
  // 0x9800 lies past every short range but inside the first long one.
  assertEquals(span(tlb.first(0x9800, 0x9800)), [0x0, 0xf_ffff]);
  assertEquals(tlb.size, 10);
});

Deno.test("VhostIotlb keeps equal starts in insertion order, as the rb-tree does", () => {
  const tlb = new VhostIotlb();
  tlb.addRange(0x1000, 0x1fff, 0xa000, 3);
  tlb.addRange(0x1000, 0x3fff, 0xb000, 3);
  assertEquals(tlb.first(0x1000, 0x1000)?.addr, 0xa000);
});

Deno.test("VhostIotlb.addRange() refuses a range that ends before it starts (EFAULT)", () => {
  const r = new VhostIotlb().addRange(0x2000, 0x1fff, 0, 3);
  assert(!r.ok && r.error.kind === "bad-range");
});

Deno.test("VhostIotlb.delRange() removes every overlapping range whole", () => {
  const tlb = new VhostIotlb();
  tlb.addRange(0x0000, 0x1fff, 0, 3);
  tlb.addRange(0x2000, 0x2fff, 0, 3);
  tlb.addRange(0x5000, 0x5fff, 0, 3);
  assertEquals(tlb.delRange(0x1fff, 0x2000).map(span), [[0x0, 0x1fff], [0x2000, 0x2fff]]);
  assertEquals(tlb.maps().map(span), [[0x5000, 0x5fff]]);
  assertEquals(span(tlb.first(0x0, 0x4fff)), undefined);
});

Deno.test("VhostIotlb with RETIRE evicts the oldest range at max_iotlb_entries", () => {
  const evicted: number[] = [];
  const tlb = new VhostIotlb({
    limit: MAX_IOTLB_ENTRIES,
    retire: true,
    onEvict: (m) => evicted.push(m.start),
  });
  // Insert in descending IOVA order so "oldest" differs from "lowest".
  for (let i = MAX_IOTLB_ENTRIES; i > 0; i--) tlb.addRange(i * 0x1000, i * 0x1000 + 0xfff, 0, 3);
  assertEquals(tlb.size, 2048);
  tlb.addRange(0x0, 0xfff, 0, 3);
  tlb.addRange(0x80_0000_0000, 0x80_0000_0fff, 0, 3);
  assertEquals(evicted, [2048 * 0x1000, 2047 * 0x1000]);
  assertEquals(tlb.size, 2048);
  assertEquals(span(tlb.first(2048 * 0x1000, 2048 * 0x1000)), undefined);
  assertEquals(span(tlb.first(0x0, 0x0)), [0x0, 0xfff]);
});

Deno.test("VhostIotlb with a limit but no RETIRE does not bound the table (kernel behaviour)", () => {
  const tlb = new VhostIotlb({ limit: 2 });
  for (let i = 0; i < 5; i++) assert(tlb.addRange(i * 0x1000, i * 0x1000 + 0xfff, 0, 3).ok);
  assertEquals(tlb.size, 5);
});

Deno.test("VhostIotlb.free() removes one range and only a range of this IOTLB", () => {
  const a = new VhostIotlb();
  const b = new VhostIotlb();
  const r = a.addRange(0, 0xfff, 0, 3);
  assert(r.ok);
  assertEquals(b.free(r.value), false);
  assertEquals(a.free(r.value), true);
  assertEquals(a.size, 0);
});
