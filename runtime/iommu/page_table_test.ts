import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { VHOST_ACCESS_RO, VHOST_ACCESS_RW, VHOST_ACCESS_WO } from "../memory/translator.ts";
import {
  IoPageTable,
  newWalkResult,
  PAGE_SIZE_1G,
  PAGE_SIZE_2M,
  PAGE_SIZE_4K,
} from "./page_table.ts";

Deno.test("IoPageTable.walk() reads one level per 9 address bits", async (t) => {
  for (const [width, levels] of [[39, 3], [48, 4], [57, 5]] as const) {
    await t.step(`${width}-bit tables have ${levels} levels`, () => {
      const pt = new IoPageTable(width);
      assert(pt.map(0x7000, 0x3000, PAGE_SIZE_4K, VHOST_ACCESS_RW).ok);
      const w = newWalkResult();
      assert(pt.walk(0x7fff, w));
      assertEquals(w, { pageIova: 0x7000, pageSize: PAGE_SIZE_4K, pa: 0x3000, perm: 3, levels });
      assertEquals(pt.tablePages, levels);
    });
  }
});

Deno.test("IoPageTable.walk() stops at the first empty slot and reports the depth", () => {
  const pt = new IoPageTable(48);
  const w = newWalkResult();
  assertEquals(pt.walk(0x1000, w), false);
  assertEquals(w.levels, 1);
  assert(pt.map(0x20_0000 * 3, 0, PAGE_SIZE_4K, VHOST_ACCESS_RO).ok);
  // Same 1 GiB region, different 2 MiB slot: L4 and L3 present, L2 slot empty.
  assertEquals(pt.walk(0x1000, w), false);
  assertEquals(w.levels, 3);
});

Deno.test("IoPageTable.map() uses 2 MiB and 1 GiB leaves when both addresses align", () => {
  const pt = new IoPageTable(48);
  const r = pt.map(PAGE_SIZE_1G, 2 * PAGE_SIZE_1G, PAGE_SIZE_1G + PAGE_SIZE_2M + 0x2000, 3);
  assert(r.ok);
  assertEquals(r.value, { pages1g: 1, pages2m: 1, pages4k: 2 });
  const w = newWalkResult();
  assert(pt.walk(PAGE_SIZE_1G + 0x1234_5678, w));
  assertEquals([w.pageSize, w.levels, w.pa], [PAGE_SIZE_1G, 2, 2 * PAGE_SIZE_1G]);
  assert(pt.walk(2 * PAGE_SIZE_1G + 0x1000, w));
  assertEquals([w.pageSize, w.levels, w.pageIova], [PAGE_SIZE_2M, 3, 2 * PAGE_SIZE_1G]);
  assert(pt.walk(2 * PAGE_SIZE_1G + PAGE_SIZE_2M + 0x1fff, w));
  assertEquals([w.pageSize, w.levels], [PAGE_SIZE_4K, 4]);
});

Deno.test("IoPageTable.map() falls back to 4 KiB when IOVA and PA disagree on 2 MiB alignment", () => {
  const pt = new IoPageTable(48);
  const r = pt.map(PAGE_SIZE_2M, PAGE_SIZE_2M + 0x1000, PAGE_SIZE_2M, 3);
  assert(r.ok);
  assertEquals(r.value, { pages1g: 0, pages2m: 0, pages4k: 512 });
});

Deno.test("IoPageTable with largePages off (sp_off) maps only 4 KiB leaves", () => {
  const pt = new IoPageTable(48, { largePages: false });
  const r = pt.map(0, 0, PAGE_SIZE_2M, 3);
  assert(r.ok);
  assertEquals(r.value.pages4k, 512);
});

Deno.test("IoPageTable.map() refuses what iommu_map refuses, changing nothing", async (t) => {
  const pt = new IoPageTable(39, { domain: 7 });
  assert(pt.map(0x10000, 0x10000, 0x4000, VHOST_ACCESS_RW).ok);
  await t.step("unaligned iova, pa or size", () => {
    for (const [iova, pa, size] of [[0x1001, 0, 0x1000], [0, 0x800, 0x1000], [0, 0, 0x1800]]) {
      const r = pt.map(iova as number, pa as number, size as number, 3);
      assert(!r.ok && r.error.kind === "unaligned");
    }
  });
  await t.step("no permission", () => {
    const r = pt.map(0x100000, 0, 0x1000, 0);
    assert(!r.ok && r.error.kind === "bad-perm");
  });
  await t.step("beyond the 39-bit aperture", () => {
    const r = pt.map(2 ** 39 - 0x1000, 0, 0x2000, 3);
    assertEquals(r.ok ? undefined : r.error, {
      kind: "out-of-range",
      iova: 2 ** 39 - 0x1000,
      size: 0x2000,
      limit: 2 ** 39,
    });
  });
  await t.step("overlap with the first existing page reported", () => {
    const r = pt.map(0xe000, 0x90000, 0x4000, 3);
    assertEquals(r.ok ? undefined : r.error, {
      kind: "overlap",
      domain: 7,
      iova: 0xe000,
      size: 0x4000,
      existing: 0x10000,
    });
  });
  assertEquals(pt.mappedBytes, 0x4000);
  assertEquals(pt.ranges().length, 1);
});

Deno.test("IoPageTable.unmap() stops at the first hole and frees empty tables", () => {
  const pt = new IoPageTable(48);
  assert(pt.map(0x1000, 0xa000, 0x2000, VHOST_ACCESS_RO).ok);
  assert(pt.map(0x4000, 0xd000, 0x1000, VHOST_ACCESS_RO).ok);
  const r = pt.unmap(0x1000, 0x4000);
  assert(r.ok);
  assertEquals(r.value, { bytes: 0x2000, start: 0x1000, end: 0x3000 });
  assertEquals(pt.ranges().map((m) => m.iova), [0x4000]);
  const r2 = pt.unmap(0x4000, 0x1000);
  assert(r2.ok && r2.value.bytes === 0x1000);
  assertEquals(pt.tablePages, 1);
  assertEquals(pt.mappedBytes, 0);
});

Deno.test("IoPageTable.unmap() of part of a 2 MiB leaf removes the whole leaf", () => {
  const pt = new IoPageTable(48);
  assert(pt.map(PAGE_SIZE_2M, 0, PAGE_SIZE_2M, VHOST_ACCESS_WO).ok);
  const r = pt.unmap(PAGE_SIZE_2M + 0x5000, 0x1000);
  assert(r.ok);
  assertEquals(r.value, { bytes: PAGE_SIZE_2M, start: PAGE_SIZE_2M, end: 2 * PAGE_SIZE_2M });
  assertEquals(pt.walk(PAGE_SIZE_2M, newWalkResult()), false);
});

Deno.test("IoPageTable.unmap() of nothing removes nothing", () => {
  const pt = new IoPageTable(48);
  const r = pt.unmap(0x5000, 0x1000);
  assert(r.ok);
  assertEquals(r.value.bytes, 0);
});

Deno.test("IoPageTable.ranges() merges only runs contiguous in IOVA, output and perm", () => {
  const pt = new IoPageTable(48);
  assert(pt.map(0x0, 0x100000, 0x3000, VHOST_ACCESS_RW).ok);
  assert(pt.map(0x3000, 0x103000, 0x1000, VHOST_ACCESS_RW).ok); // continues
  assert(pt.map(0x4000, 0x200000, 0x1000, VHOST_ACCESS_RW).ok); // PA jumps
  assert(pt.map(0x5000, 0x201000, 0x1000, VHOST_ACCESS_RO).ok); // perm differs
  assertEquals(pt.ranges().map((r) => [r.iova, r.size, r.pa, r.perm, r.pages4k]), [
    [0x0, 0x4000, 0x100000, 3, 4],
    [0x4000, 0x1000, 0x200000, 3, 1],
    [0x5000, 0x1000, 0x201000, 1, 1],
  ]);
});

Deno.test("IoPageTable.map() replaces an emptied table with a large leaf", () => {
  const pt = new IoPageTable(48);
  assert(pt.map(0x1000, 0, 0x1000, 3).ok);
  assert(pt.unmap(0x1000, 0x1000).ok);
  assert(pt.map(0, 0, PAGE_SIZE_2M, 3).ok);
  const w = newWalkResult();
  assert(pt.walk(0x1000, w));
  assertEquals(w.pageSize, PAGE_SIZE_2M);
  assertEquals(pt.tablePages, 3);
});
