import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import { IotlbCache, psiRegion } from "./iotlb_cache.ts";
import { PAGE_SIZE_2M } from "./page_table.ts";

Deno.test("IotlbCache.lookup() counts hits and misses per (domain, page)", () => {
  const tlb = new IotlbCache(8);
  assertEquals(tlb.lookup(1, 0x1000), undefined);
  tlb.insert(1, 0x1000, 0x1000, 0xa000, 3);
  assertEquals(tlb.lookup(1, 0x1fff)?.pa, 0xa000);
  assertEquals(tlb.lookup(1, 0x2000), undefined); // next page
  assertEquals(tlb.lookup(2, 0x1000), undefined); // other domain, same IOVA
  const s = tlb.stats();
  assertEquals([s.hits, s.misses, s.inserts, s.entries], [1, 3, 1, 1]);
});

Deno.test("IotlbCache holds a 2 MiB leaf as one entry covering every 4 KiB page in it", () => {
  const tlb = new IotlbCache(1);
  tlb.insert(3, PAGE_SIZE_2M, PAGE_SIZE_2M, 0x4000_0000, 1);
  for (let off = 0; off < PAGE_SIZE_2M; off += 0x40000) {
    assertEquals(tlb.lookup(3, PAGE_SIZE_2M + off)?.size, PAGE_SIZE_2M);
  }
  assertEquals(tlb.lookup(3, 2 * PAGE_SIZE_2M), undefined);
  assertEquals(tlb.stats().hits, 8);
});

Deno.test("IotlbCache evicts the least recently used entry, hits refresh recency", () => {
  const evicted: number[] = [];
  const tlb = new IotlbCache(3, { onEvict: (e) => evicted.push(e.iova) });
  tlb.insert(1, 0x1000, 0x1000, 0, 3);
  tlb.insert(1, 0x2000, 0x1000, 0, 3);
  tlb.insert(1, 0x3000, 0x1000, 0, 3);
  assert(tlb.lookup(1, 0x1000)); // 0x1000 becomes most recent; 0x2000 is now LRU
  tlb.insert(1, 0x4000, 0x1000, 0, 3);
  tlb.insert(1, 0x5000, 0x1000, 0, 3);
  assertEquals(evicted, [0x2000, 0x3000]);
  assertEquals(tlb.entries().map((e) => e.iova), [0x5000, 0x4000, 0x1000]);
  assertEquals(tlb.stats().evictions, 2);
  assertEquals(tlb.lookup(1, 0x2000), undefined);
});

Deno.test("IotlbCache.insert() of a cached key refreshes it instead of adding a twin", () => {
  const tlb = new IotlbCache(2);
  tlb.insert(1, 0x1000, 0x1000, 0xa000, 1);
  tlb.insert(1, 0x1000, 0x1000, 0xb000, 3);
  assertEquals(tlb.size, 1);
  assertEquals(tlb.peek(1, 0x1000)?.pa, 0xb000);
});

Deno.test("IotlbCache with capacity 0 caches nothing", () => {
  const tlb = new IotlbCache(0);
  tlb.insert(1, 0, 0x1000, 0, 3);
  assertEquals(tlb.lookup(1, 0), undefined);
  assertEquals(tlb.stats().misses, 1);
  throws(() => new IotlbCache(-1), RangeError);
});

Deno.test("IotlbCache invalidation: global, domain-selective, page-selective", async (t) => {
  const fill = () => {
    const tlb = new IotlbCache(16);
    for (const d of [1, 2]) {
      for (const p of [0x0, 0x1000, 0x2000, 0x3000, 0x8000]) tlb.insert(d, p, 0x1000, p, 3);
    }
    return tlb;
  };
  await t.step("global drops all", () => {
    const tlb = fill();
    assertEquals(tlb.invalidateAll(), 10);
    assertEquals(tlb.size, 0);
    assertEquals(tlb.stats().invalidations, { global: 1, domain: 0, page: 0 });
  });
  await t.step("domain-selective drops one domain", () => {
    const tlb = fill();
    assertEquals(tlb.invalidateDomain(2), 5);
    assertEquals(tlb.entries().every((e) => e.domain === 1), true);
    assertEquals(tlb.stats().invalidations.domain, 1);
  });
  await t.step("page-selective widens to the aligned 2^AM block", () => {
    const tlb = fill();
    // 0x1000..0x3000 (2 pages, not aligned to 2 pages) needs AM=2: block 0x0..0x4000.
    assertEquals(tlb.invalidatePages(1, 0x1000, 0x2000), 4);
    assertEquals(tlb.entries().filter((e) => e.domain === 1).map((e) => e.iova), [0x8000]);
    const s = tlb.stats();
    assertEquals([s.invalidations.page, s.invalidatedEntries], [1, 4]);
  });
  await t.step("page-selective drops a large entry that overlaps", () => {
    const tlb = new IotlbCache(4);
    tlb.insert(1, 0, PAGE_SIZE_2M, 0, 3);
    assertEquals(tlb.invalidatePages(1, 0x5000, 0x1000), 1);
  });
});

Deno.test("psiRegion() is the smallest naturally aligned power-of-two block holding the range", () => {
  assertEquals(psiRegion(0x5000, 0x1000), { iova: 0x5000, size: 0x1000, am: 0 });
  assertEquals(psiRegion(0x4000, 0x2000), { iova: 0x4000, size: 0x2000, am: 1 });
  assertEquals(psiRegion(0x3000, 0x2000), { iova: 0x0, size: 0x8000, am: 3 });
  assertEquals(psiRegion(0x1000, 0x3000), { iova: 0x0, size: 0x4000, am: 2 });
});
