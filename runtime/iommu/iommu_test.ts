import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  type Access,
  newTranslateResult,
  type TranslateResult,
  VHOST_ACCESS_RO,
  VHOST_ACCESS_RW,
  VHOST_ACCESS_WO,
} from "../memory/translator.ts";
import { formatIommuEvent, type IommuEvent } from "./event.ts";
import { formatDmaFault } from "./fault_log.ts";
import { type DeviceTranslator, Iommu, type IommuConfig } from "./iommu.ts";
import { PAGE_SIZE_2M } from "./page_table.ts";

const NIC = "0000:3b:00.2";
const TRANSLATED: IommuConfig = {
  enabled: true,
  passthrough: false,
  addressWidth: 48,
  iotlbEntries: 64,
};

function unwrap<T>(r: { ok: true; value: T } | { ok: false; error: unknown }): T {
  if (!r.ok) throw new Error(`unexpected error: ${JSON.stringify(r.error)}`);
  return r.value;
}

/** A device in its own group, attached to a fresh unmanaged domain. */
function vfioSetup(config: Partial<IommuConfig> = {}, events?: IommuEvent[]) {
  const mmu = new Iommu(
    { ...TRANSLATED, ...config },
    events === undefined ? {} : { sink: (e) => events.push(e) },
  );
  const group = unwrap(mmu.addDevice(NIC));
  const dom = unwrap(mmu.allocDomain("unmanaged", { owner: "vfio" }));
  unwrap(mmu.attachGroup(group, dom));
  const dma = unwrap(mmu.translatorFor(NIC));
  return { mmu, dom, group, dma };
}

/** Translates `[addr, addr + len)` run by run, as a datapath does. */
function runs(t: DeviceTranslator, addr: number, len: number, access: Access = VHOST_ACCESS_RO) {
  const out = newTranslateResult();
  const got: [number, number, string][] = [];
  let off = 0;
  while (off < len) {
    if (!t.translate(addr + off, len - off, access, out)) throw new Error("fault");
    got.push([out.addr, out.len, t.lastOutcome]);
    off += out.len;
  }
  return got;
}

Deno.test("Iommu with intel_iommu off: no groups, DMA addresses are physical", () => {
  const mmu = new Iommu({ ...TRANSLATED, enabled: false });
  assertEquals(mmu.mode, "off");
  const r = mmu.addDevice(NIC);
  assert(!r.ok && r.error.kind === "iommu-disabled");
  assert(!mmu.allocDomain("unmanaged").ok);
  const dma = unwrap(mmu.translatorFor(NIC));
  const out = newTranslateResult();
  assert(dma.translate(0x1234_5000, 9000, VHOST_ACCESS_WO, out));
  assertEquals([out.addr, out.len, dma.lastOutcome], [0x1234_5000, 9000, "identity"]);
  assertEquals(mmu.iotlb.stats().misses, 0);
});

Deno.test("Iommu in iommu=pt mode: host devices share the identity domain, no walks", () => {
  const mmu = new Iommu({ ...TRANSLATED, passthrough: true });
  assertEquals(mmu.mode, "passthrough");
  unwrap(mmu.addDevice(NIC));
  unwrap(mmu.addDevice("0000:00:1f.6"));
  assertEquals(mmu.domainOf(NIC), mmu.domainOf("0000:00:1f.6"));
  const d = mmu.domains();
  assertEquals(d.map((x) => [x.type, x.groups]), [["identity", [0, 1]]]);
  const dma = unwrap(mmu.translatorFor(NIC));
  const out = newTranslateResult();
  assert(dma.translate(0xdead_0000, 1500, VHOST_ACCESS_RW, out));
  assertEquals([out.addr, out.len, dma.lastOutcome], [0xdead_0000, 1500, "identity"]);
  const s = mmu.iotlb.stats();
  assertEquals([s.hits, s.misses, mmu.stats().walks], [0, 0, 0]);
  // The identity domain has no page table to map into.
  const m = mmu.map(d[0]?.id ?? 0, 0, 0, 0x1000, VHOST_ACCESS_RW);
  assert(!m.ok && m.error.kind === "not-paging");
});

Deno.test("Iommu in iommu=pt mode still translates a group given to VFIO", () => {
  const { mmu, dom, dma } = vfioSetup({ passthrough: true });
  unwrap(mmu.map(dom, 0x0, 0x4000_0000, 0x1000, VHOST_ACCESS_RW));
  assertEquals(runs(dma, 0x10, 16), [[0x4000_0010, 16, "iotlb-miss"]]);
  assertEquals(dma.lastWalk, 4);
});

Deno.test("Iommu translates a 4 KiB page: miss walks 4 levels, then hits", () => {
  const { mmu, dom, dma } = vfioSetup();
  unwrap(mmu.map(dom, 0x10000, 0x7f000, 0x1000, VHOST_ACCESS_RW));
  assertEquals(runs(dma, 0x10100, 64), [[0x7f100, 64, "iotlb-miss"]]);
  assertEquals(dma.lastWalk, 4);
  assertEquals(runs(dma, 0x10f00, 256), [[0x7ff00, 256, "iotlb-hit"]]);
  assertEquals(dma.lastWalk, 0);
  const s = mmu.iotlb.stats();
  assertEquals([s.hits, s.misses, s.entries], [1, 1, 1]);
  assertEquals(mmu.stats().walkLevels, 4);
});

Deno.test("Iommu translates within a 2 MiB leaf: one 3-level walk, run bounded by the leaf", () => {
  const { mmu, dom, dma } = vfioSetup();
  unwrap(mmu.map(dom, PAGE_SIZE_2M, 0x8000_0000, PAGE_SIZE_2M, VHOST_ACCESS_RW));
  assertEquals(runs(dma, PAGE_SIZE_2M + 0x1000, 0x1000), [[0x8000_1000, 0x1000, "iotlb-miss"]]);
  assertEquals(dma.lastWalk, 3);
  // A run across pages inside the leaf stays one run; it stops at the leaf's end.
  const out = newTranslateResult();
  assert(dma.translate(2 * PAGE_SIZE_2M - 0x100, 0x10000, VHOST_ACCESS_RO, out));
  assertEquals([out.addr, out.len, dma.lastOutcome], [
    0x8000_0000 + PAGE_SIZE_2M - 0x100,
    0x100,
    "iotlb-hit",
  ]);
  assertEquals(mmu.iotlb.stats().entries, 1);
});

Deno.test("Iommu splits a DMA crossing 4 KiB pages into one run per page", () => {
  const { mmu, dom, dma } = vfioSetup();
  // Three IOVA-contiguous pages backed by scattered physical pages.
  unwrap(mmu.map(dom, 0x20000, 0x90000, 0x1000, VHOST_ACCESS_RO));
  unwrap(mmu.map(dom, 0x21000, 0x50000, 0x1000, VHOST_ACCESS_RO));
  unwrap(mmu.map(dom, 0x22000, 0x51000, 0x1000, VHOST_ACCESS_RO));
  assertEquals(runs(dma, 0x20800, 0x2000), [
    [0x90800, 0x800, "iotlb-miss"],
    [0x50000, 0x1000, "iotlb-miss"],
    [0x51000, 0x800, "iotlb-miss"],
  ]);
  assertEquals(runs(dma, 0x20800, 0x2000).map((r) => r[2]), [
    "iotlb-hit",
    "iotlb-hit",
    "iotlb-hit",
  ]);
  const s = mmu.iotlb.stats();
  assertEquals([s.hits, s.misses], [3, 3]);
});

Deno.test("Iommu permission faults are recorded, counted and never thrown", async (t) => {
  const { mmu, dom, dma } = vfioSetup();
  unwrap(mmu.map(dom, 0x1000, 0xa000, 0x1000, VHOST_ACCESS_RO));
  unwrap(mmu.map(dom, 0x2000, 0xb000, 0x1000, VHOST_ACCESS_WO));
  const out: TranslateResult = newTranslateResult();
  await t.step("a write to a read-only page", () => {
    assertEquals(dma.translate(0x1010, 4, VHOST_ACCESS_WO, out), false);
    assertEquals(out.fault, { kind: "permission", iova: 0x1010, access: 2, allowed: 1 });
    assertEquals(dma.lastOutcome, "fault");
  });
  await t.step("a read from a write-only page", () => {
    assertEquals(dma.translate(0x2020, 4, VHOST_ACCESS_RO, out), false);
    assertEquals(out.fault, { kind: "permission", iova: 0x2020, access: 1, allowed: 2 });
  });
  await t.step("read+write on a read-only page is a write fault", () => {
    assertEquals(dma.translate(0x1000, 4, VHOST_ACCESS_RW, out), false);
  });
  await t.step("the allowed direction still works after a fault", () => {
    assert(dma.translate(0x1010, 4, VHOST_ACCESS_RO, out));
    assertEquals(out.fault, undefined);
    assertEquals(out.addr, 0xa010);
  });
  assertEquals(mmu.faults.total, 3);
  assertEquals(mmu.faults.count("write-to-read-only"), 2);
  assertEquals(mmu.faults.count("read-from-write-only"), 1);
  assertEquals(mmu.faults.records().map(formatDmaFault), [
    "DMAR: [DMA Write NO_PASID] Request device [3b:00.2] fault addr 0x1010 [fault reason 0x05] PTE Write access is not set",
    "DMAR: [DMA Read NO_PASID] Request device [3b:00.2] fault addr 0x2020 [fault reason 0x06] PTE Read access is not set",
    "DMAR: [DMA Write NO_PASID] Request device [3b:00.2] fault addr 0x1000 [fault reason 0x05] PTE Write access is not set",
  ]);
});

Deno.test("Iommu faults an unmapped IOVA, an address beyond the width and an unknown requester", () => {
  const { mmu, dma } = vfioSetup({ addressWidth: 39 });
  const out = newTranslateResult();
  assertEquals(dma.translate(0x5000, 8, VHOST_ACCESS_RO, out), false);
  assertEquals(out.fault, { kind: "unmapped", iova: 0x5000, access: 1 });
  assertEquals(dma.lastWalk, 1);
  assertEquals(dma.translate(2 ** 39, 8, VHOST_ACCESS_RO, out), false);
  assertEquals(out.fault, { kind: "out-of-range", iova: 2 ** 39, limit: 2 ** 39 });
  assertEquals(mmu.translate("0000:af:00.0", 0x0, 8, VHOST_ACCESS_WO, out), false);
  assertEquals(mmu.faults.records().map((f) => [f.reason, f.rid, f.domain]), [
    ["not-present", NIC, 2],
    ["beyond-address-width", NIC, 2],
    ["no-context", "0000:af:00.0", undefined],
  ]);
  assertEquals(
    formatDmaFault(mmu.faults.records()[2] as never),
    "DMAR: [DMA Write NO_PASID] Request device [af:00.0] fault addr 0x0 [fault reason 0x02] Present bit in context entry is clear",
  );
  // Faulting walks are not cached: the IOTLB holds nothing.
  assertEquals(mmu.iotlb.stats().entries, 0);
});

Deno.test("Iommu.map() enforces the iommu_map rules", () => {
  const { mmu, dom } = vfioSetup();
  unwrap(mmu.map(dom, 0x10000, 0x10000, 0x2000, VHOST_ACCESS_RW));
  const fail = (r: { ok: boolean; error?: { kind: string } }) => (r.ok ? "ok" : r.error?.kind);
  assertEquals(fail(mmu.map(dom, 0x11000, 0x0, 0x1000, 3)), "overlap");
  assertEquals(fail(mmu.map(dom, 0x13001, 0x0, 0x1000, 3)), "unaligned");
  assertEquals(fail(mmu.map(dom, 2 ** 48, 0x0, 0x1000, 3)), "out-of-range");
  assertEquals(fail(mmu.map(dom, 0x20000, 0x0, 0x1000, 0)), "bad-perm");
  assertEquals(fail(mmu.map(99, 0x20000, 0x0, 0x1000, 3)), "unknown-domain");
  assertEquals(fail(mmu.unmap(dom, 0x30000, 0x1000)), "not-mapped");
  assertEquals(mmu.domains().find((d) => d.id === dom)?.mappedBytes, 0x2000);
});

Deno.test("Iommu.unmap() flushes exactly the IOTLB pages it unmapped", () => {
  const events: IommuEvent[] = [];
  const { mmu, dom, dma } = vfioSetup({}, events);
  unwrap(mmu.map(dom, 0x0, 0x100000, 0x4000, VHOST_ACCESS_RW));
  for (let p = 0; p < 4; p++) runs(dma, p * 0x1000, 8);
  assertEquals(mmu.iotlb.stats().entries, 4);
  events.length = 0;
  assertEquals(unwrap(mmu.unmap(dom, 0x2000, 0x2000)), 0x2000);
  assertEquals(events.map(formatIommuEvent), [
    "unmap domain=2 iova=0x2000 size=0x2000",
    "invalidate scope=page domain=2 iova=0x2000 size=0x2000 dropped=2",
  ]);
  const out = newTranslateResult();
  assertEquals(dma.translate(0x2000, 8, VHOST_ACCESS_RO, out), false); // stale entry is gone
  assertEquals(runs(dma, 0x1000, 8), [[0x101000, 8, "iotlb-hit"]]);
  const s = mmu.iotlb.stats();
  assertEquals([s.hits, s.misses, s.invalidations.page, s.invalidatedEntries], [1, 5, 1, 2]);
});

Deno.test("Iommu IOTLB evicts the least recently used page when the working set exceeds it", () => {
  const { mmu, dom, dma } = vfioSetup({ iotlbEntries: 2 });
  unwrap(mmu.map(dom, 0x0, 0x100000, 0x3000, VHOST_ACCESS_RW));
  // Cycling 3 pages through 2 entries: LRU misses every time.
  for (let round = 0; round < 3; round++) for (let p = 0; p < 3; p++) runs(dma, p * 0x1000, 8);
  const s = mmu.iotlb.stats();
  assertEquals([s.hits, s.misses, s.evictions], [0, 9, 7]);
  // The same working set as one 2 MiB leaf fits in one entry.
  const big = vfioSetup({ iotlbEntries: 2 });
  unwrap(big.mmu.map(big.dom, 0x0, 0x0, PAGE_SIZE_2M, VHOST_ACCESS_RW));
  for (let round = 0; round < 3; round++) for (let p = 0; p < 3; p++) runs(big.dma, p * 0x1000, 8);
  const b = big.mmu.iotlb.stats();
  assertEquals([b.hits, b.misses, b.evictions], [8, 1, 0]);
});

Deno.test("Iommu group ownership: attach, busy, detach to the default domain, flush on switch", () => {
  const events: IommuEvent[] = [];
  const { mmu, dom, group, dma } = vfioSetup({}, events);
  unwrap(mmu.map(dom, 0x0, 0x0, 0x1000, VHOST_ACCESS_RW));
  runs(dma, 0x0, 8);
  const other = unwrap(mmu.allocDomain("unmanaged"));
  const busy = mmu.attachGroup(group, other);
  assert(!busy.ok && busy.error.kind === "group-busy" && busy.error.domain === dom);
  const inUse = mmu.freeDomain(dom);
  assert(!inUse.ok && inUse.error.kind === "domain-busy");
  events.length = 0;
  unwrap(mmu.detachGroup(group));
  assertEquals(events.map(formatIommuEvent), [
    "attach group=0 domain=1 from=2",
    "invalidate scope=domain domain=2 dropped=1",
  ]);
  assertEquals(mmu.domainOf(NIC), 1);
  const again = mmu.detachGroup(group);
  assert(!again.ok && again.error.kind === "not-attached");
  unwrap(mmu.freeDomain(dom));
  assertEquals(mmu.domains().map((d) => d.id), [1, 3]);
  // Back in the default DMA domain, which maps nothing: the DMA faults.
  assertEquals(dma.translate(0x0, 8, VHOST_ACCESS_RO, newTranslateResult()), false);
});

Deno.test("Iommu.addDevice() joins an existing group and refuses a duplicate", () => {
  const mmu = new Iommu(TRANSLATED);
  assertEquals(unwrap(mmu.addDevice("0000:3b:00.0")), 0);
  assertEquals(unwrap(mmu.addDevice("0000:3b:00.1", { group: 0 })), 0);
  assertEquals(unwrap(mmu.addDevice("0000:5e:00.0", { group: 7 })), 7);
  assertEquals(unwrap(mmu.addDevice("0000:5e:00.1")), 1);
  const dup = mmu.addDevice("0000:3b:00.1");
  assert(!dup.ok && dup.error.kind === "device-exists" && dup.error.group === 0);
  assertEquals(mmu.groups().map((g) => [g.id, g.devices.length]), [[0, 2], [1, 1], [7, 1]]);
});

Deno.test("Iommu emits map, translate and fault events in order", () => {
  const events: IommuEvent[] = [];
  const { mmu, dom, dma } = vfioSetup({}, events);
  unwrap(mmu.map(dom, 0x4000, 0x9000, 0x1000, VHOST_ACCESS_RO));
  const out = newTranslateResult();
  dma.translate(0x4008, 8, VHOST_ACCESS_RO, out);
  dma.translate(0x4010, 8, VHOST_ACCESS_RO, out);
  dma.translate(0x4010, 8, VHOST_ACCESS_WO, out);
  assertEquals(events.map(formatIommuEvent), [
    "domain-alloc domain=1 type=dma",
    "attach group=0 domain=1",
    "domain-alloc domain=2 type=unmanaged",
    "attach group=0 domain=2 from=1",
    "invalidate scope=domain domain=1 dropped=0",
    "map domain=2 iova=0x4000 pa=0x9000 size=0x1000 perm=ro",
    "translate-miss rid=0000:3b:00.2 domain=2 iova=0x4008 pa=0x9008 len=8 walk=4",
    "translate-hit rid=0000:3b:00.2 domain=2 iova=0x4010 pa=0x9010 len=8",
    "fault DMAR: [DMA Write NO_PASID] Request device [3b:00.2] fault addr 0x4010 [fault reason 0x05] PTE Write access is not set",
  ]);
});
