/**
 * Property tests: random operation sequences against simple reference models.
 * - The host IOMMU (4 KiB pages) against a page → (frame, perm) map.
 * - The host IOMMU with large pages against a list of whole mappings.
 * - The vhost software IOTLB against a brute-force list of ranges.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import fc from "fast-check";
import { type Access, newTranslateResult } from "../memory/translator.ts";
import { Iommu } from "./iommu.ts";
import { PAGE_SIZE_1G, PAGE_SIZE_2M, PAGE_SIZE_4K } from "./page_table.ts";
import { VhostIotlb } from "./vhost_iotlb.ts";

const NIC = "0000:3b:00.2";
const PAGES = 12; // a small IOVA space, so maps collide and unmaps hit holes

type Op =
  | { op: "map"; page: number; frame: number; pages: number; perm: Access }
  | { op: "unmap"; page: number; pages: number }
  | { op: "translate"; addr: number; len: number; access: Access }
  | { op: "flush" };

const perm = fc.constantFrom<Access>(1, 2, 3);
const access = fc.constantFrom<Access>(1, 2, 3);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.constant<Op>({ op: "flush" }), weight: 1 },
  {
    arbitrary: fc.record({
      op: fc.constant("map" as const),
      page: fc.integer({ min: 0, max: PAGES - 1 }),
      frame: fc.integer({ min: 0, max: 4096 }),
      pages: fc.integer({ min: 1, max: 6 }),
      perm,
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      op: fc.constant("unmap" as const),
      page: fc.integer({ min: 0, max: PAGES - 1 }),
      pages: fc.integer({ min: 1, max: 6 }),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      op: fc.constant("translate" as const),
      addr: fc.integer({ min: 0, max: PAGES * PAGE_SIZE_4K - 1 }),
      len: fc.integer({ min: 1, max: 3 * PAGE_SIZE_4K }),
      access,
    }),
    weight: 6,
  },
);

function setup(iotlbEntries: number, largePages: boolean) {
  const mmu = new Iommu({
    enabled: true,
    passthrough: false,
    addressWidth: 48,
    iotlbEntries,
    largePages,
  });
  mmu.addDevice(NIC);
  const dom = mmu.allocDomain("unmanaged");
  if (!dom.ok) throw new Error("alloc");
  mmu.attachGroup(0, dom.value);
  const dma = mmu.translatorFor(NIC);
  if (!dma.ok) throw new Error("translator");
  return { mmu, dom: dom.value, dma: dma.value };
}

Deno.test("Iommu with 4 KiB pages agrees with a page-map model under random map/unmap/translate", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 6 }),
      fc.array(opArb, { maxLength: 80, size: "max" }),
      (entries, ops) => {
        const { mmu, dom, dma } = setup(entries, false);
        const model = new Map<number, { frame: number; perm: Access }>();
        const out = newTranslateResult();
        let lookups = 0;
        for (const o of ops) {
          if (o.op === "map") {
            const clash = [...Array(o.pages).keys()].some((i) => model.has(o.page + i));
            const r = mmu.map(
              dom,
              o.page * PAGE_SIZE_4K,
              o.frame * PAGE_SIZE_4K,
              o.pages * PAGE_SIZE_4K,
              o.perm,
            );
            assertEquals(r.ok ? "ok" : r.error.kind, clash ? "overlap" : "ok");
            if (!clash) {
              for (let i = 0; i < o.pages; i++) {
                model.set(o.page + i, {
                  frame: o.frame + i,
                  perm: o.perm,
                });
              }
            }
          } else if (o.op === "unmap") {
            let n = 0;
            while (n < o.pages && model.has(o.page + n)) model.delete(o.page + n++);
            const r = mmu.unmap(dom, o.page * PAGE_SIZE_4K, o.pages * PAGE_SIZE_4K);
            assertEquals(r.ok ? r.value : r.error.kind, n === 0 ? "not-mapped" : n * PAGE_SIZE_4K);
          } else if (o.op === "translate") {
            const page = Math.floor(o.addr / PAGE_SIZE_4K);
            const m = model.get(page);
            const okay = dma.translate(o.addr, o.len, o.access, out);
            lookups++;
            if (m === undefined) {
              assertEquals([okay, out.fault?.kind], [false, "unmapped"]);
            } else if ((o.access & ~m.perm & 3) !== 0) {
              assertEquals([okay, out.fault?.kind], [false, "permission"]);
            } else {
              const off = o.addr % PAGE_SIZE_4K;
              assertEquals([okay, out.addr, out.len], [
                true,
                m.frame * PAGE_SIZE_4K + off,
                Math.min(o.len, PAGE_SIZE_4K - off),
              ]);
            }
          } else {
            mmu.invalidateIotlb();
          }
        }
        const s = mmu.iotlb.stats();
        assertEquals(s.hits + s.misses, lookups);
        assertEquals(s.entries <= entries, true);
        assertEquals(
          mmu.faults.total,
          mmu.faults.count("not-present") +
            mmu.faults.count("write-to-read-only") + mmu.faults.count("read-from-write-only"),
        );
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("Iommu with large pages agrees with a whole-mapping model", () => {
  const sizes = [
    PAGE_SIZE_4K,
    3 * PAGE_SIZE_4K,
    PAGE_SIZE_2M,
    PAGE_SIZE_2M + PAGE_SIZE_4K,
    2 * PAGE_SIZE_2M,
    PAGE_SIZE_1G,
  ];
  const starts = [
    0,
    PAGE_SIZE_4K,
    PAGE_SIZE_2M,
    3 * PAGE_SIZE_2M,
    PAGE_SIZE_1G,
    PAGE_SIZE_1G + PAGE_SIZE_2M,
  ];
  const bigOp = fc.oneof(
    fc.record({
      op: fc.constant("map" as const),
      iova: fc.constantFrom(...starts),
      pa: fc.constantFrom(0, PAGE_SIZE_4K, PAGE_SIZE_2M, 5 * PAGE_SIZE_1G),
      size: fc.constantFrom(...sizes),
      perm,
    }).filter((m) => m.size < PAGE_SIZE_1G || m.pa % PAGE_SIZE_2M === 0), // bound 4 KiB leaf counts
    fc.record({ op: fc.constant("unmap" as const), which: fc.nat() }),
    fc.record({
      op: fc.constant("translate" as const),
      addr: fc.integer({ min: 0, max: 2 * PAGE_SIZE_1G }),
      access,
    }),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }),
      fc.array(bigOp, { maxLength: 40, size: "max" }),
      (entries, ops) => {
        const { mmu, dom, dma } = setup(entries, true);
        const maps: { iova: number; pa: number; size: number; perm: Access }[] = [];
        const out = newTranslateResult();
        for (const o of ops) {
          if (o.op === "map") {
            const clash = maps.some((m) => m.iova < o.iova + o.size && o.iova < m.iova + m.size);
            const r = mmu.map(dom, o.iova, o.pa, o.size, o.perm);
            assertEquals(r.ok ? "ok" : r.error.kind, clash ? "overlap" : "ok");
            if (!clash) maps.push({ iova: o.iova, pa: o.pa, size: o.size, perm: o.perm });
          } else if (o.op === "unmap") {
            if (maps.length === 0) continue;
            const [m] = maps.splice(o.which % maps.length, 1);
            if (m === undefined) continue;
            const r = mmu.unmap(dom, m.iova, m.size);
            assertEquals(r.ok ? r.value : r.error.kind, m.size);
          } else {
            const m = maps.find((x) => o.addr >= x.iova && o.addr < x.iova + x.size);
            const okay = dma.translate(o.addr, 64, o.access, out);
            if (m === undefined) assertEquals(okay, false);
            else if ((o.access & ~m.perm & 3) !== 0) {
              assertEquals([okay, out.fault?.kind], [
                false,
                "permission",
              ]);
            } else assertEquals([okay, out.addr], [true, m.pa + (o.addr - m.iova)]);
          }
        }
        const mapped = maps.reduce((a, m) => a + m.size, 0);
        assertEquals(mmu.domains().find((d) => d.id === dom)?.mappedBytes, mapped);
      },
    ),
    { numRuns: 120 },
  );
});

Deno.test("VhostIotlb first/overlapping/delRange agree with a brute-force list", () => {
  const rangeOp = fc.oneof(
    fc.record({
      op: fc.constant("add" as const),
      start: fc.integer({ min: 0, max: 200 }),
      len: fc.integer({ min: 1, max: 60 }),
    }),
    fc.record({
      op: fc.constant("del" as const),
      start: fc.integer({ min: 0, max: 260 }),
      len: fc.integer({ min: 1, max: 40 }),
    }),
    fc.record({
      op: fc.constant("first" as const),
      start: fc.integer({ min: 0, max: 260 }),
      len: fc.integer({ min: 1, max: 40 }),
    }),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 5 }),
      fc.array(rangeOp, { maxLength: 60, size: "max" }),
      (limit, ops) => {
        const tlb = new VhostIotlb({ limit, retire: true });
        let model: { start: number; last: number; seq: number }[] = [];
        let seq = 0;
        const byStart = (a: { start: number; seq: number }, b: { start: number; seq: number }) =>
          a.start - b.start || a.seq - b.seq;
        for (const o of ops) {
          const last = o.start + o.len - 1;
          if (o.op === "add") {
            if (limit > 0 && model.length >= limit) {
              const oldest = model.reduce((a, b) => (a.seq < b.seq ? a : b));
              model = model.filter((m) => m !== oldest);
            }
            model.push({ start: o.start, last, seq: seq++ });
            tlb.addRange(o.start, last, seq, 3);
          } else if (o.op === "del") {
            const gone = model.filter((m) => m.start <= last && m.last >= o.start).sort(byStart);
            model = model.filter((m) => !gone.includes(m));
            assertEquals(
              tlb.delRange(o.start, last).map((m) => [m.start, m.last]),
              gone.map((m) => [m.start, m.last]),
            );
          } else {
            const hit = model.filter((m) => m.start <= last && m.last >= o.start).sort(byStart)[0];
            const got = tlb.first(o.start, last);
            assertEquals(
              got === undefined ? undefined : [got.start, got.last, got.addr],
              hit === undefined ? undefined : [hit.start, hit.last, hit.seq + 1],
            );
          }
          assertEquals(tlb.size, model.length);
        }
      },
    ),
    { numRuns: 300 },
  );
});
