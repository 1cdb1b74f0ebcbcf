import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { newTranslateResult, VHOST_ACCESS_RO, VHOST_ACCESS_WO } from "../memory/translator.ts";
import { formatIommuEvent, type IommuEvent } from "./event.ts";
import { Iommu } from "./iommu.ts";

const NIC = "0000:3b:00.2";

function setup(events: IommuEvent[] = [], passthrough = false) {
  const mmu = new Iommu(
    { enabled: true, passthrough, addressWidth: 48, iotlbEntries: 64 },
    { sink: (e) => events.push(e) },
  );
  mmu.addDevice(NIC);
  const dom = mmu.allocDomain("unmanaged");
  if (!dom.ok) throw new Error("alloc");
  mmu.attachGroup(0, dom.value);
  const atc = mmu.enableAts(NIC, { entries: 4 });
  const dma = mmu.translatorFor(NIC);
  if (!atc.ok || !dma.ok) throw new Error("setup");
  return { mmu, dom: dom.value, atc: atc.value, dma: dma.value };
}

Deno.test("ATS: an ATC miss sends a translation request, the completion is cached", () => {
  const events: IommuEvent[] = [];
  const { mmu, dom, atc, dma } = setup(events);
  mmu.map(dom, 0x10000, 0x7f000, 0x2000, VHOST_ACCESS_RO);
  events.length = 0;
  const out = newTranslateResult();
  assert(dma.translate(0x10040, 64, VHOST_ACCESS_RO, out));
  assertEquals([out.addr, out.len, dma.lastOutcome, dma.lastWalk], [0x7f040, 64, "ats-miss", 4]);
  assert(dma.translate(0x10080, 64, VHOST_ACCESS_RO, out));
  assertEquals([out.addr, dma.lastOutcome, dma.lastWalk], [0x7f080, "atc-hit", 0]);
  assertEquals(events.map(formatIommuEvent), [
    "ats-request rid=0000:3b:00.2 iova=0x10040 read",
    "ats-completion rid=0000:3b:00.2 iova=0x10000 pa=0x7f000 size=0x1000 perm=ro",
    "atc-hit rid=0000:3b:00.2 iova=0x10080 pa=0x7f080 len=64",
  ]);
  const s = atc.stats();
  assertEquals([s.hits, s.misses, s.requests, s.entries], [1, 1, 1, 1]);
  // Translated requests bypass the IOMMU: its IOTLB saw only the translation request.
  const i = mmu.iotlb.stats();
  assertEquals([i.hits, i.misses, mmu.stats().atsRequests], [0, 1, 1]);
});

Deno.test("ATS: unmap sends an invalidate request and waits for its completion", () => {
  const events: IommuEvent[] = [];
  const { mmu, dom, atc, dma } = setup(events);
  mmu.map(dom, 0x0, 0x100000, 0x3000, VHOST_ACCESS_RO);
  const out = newTranslateResult();
  for (const a of [0x0, 0x1000, 0x2000]) assert(dma.translate(a, 8, VHOST_ACCESS_RO, out));
  events.length = 0;
  mmu.unmap(dom, 0x1000, 0x1000);
  assertEquals(events.map(formatIommuEvent), [
    "unmap domain=2 iova=0x1000 size=0x1000",
    "invalidate scope=page domain=2 iova=0x1000 size=0x1000 dropped=1",
    "ats-invalidate rid=0000:3b:00.2 iova=0x1000 size=0x1000 dropped=1",
    "ats-invalidate-completion rid=0000:3b:00.2",
  ]);
  const s = atc.stats();
  assertEquals([s.invalidateRequests, s.invalidateCompletions, s.invalidatedEntries, s.entries], [
    1,
    1,
    1,
    2,
  ]);
  // The unmapped page now gets an R=W=0 completion: no access, no DMAR fault record.
  assertEquals(dma.translate(0x1000, 8, VHOST_ACCESS_RO, out), false);
  assertEquals(out.fault, { kind: "unmapped", iova: 0x1000, access: 1 });
  assertEquals([atc.stats().failedCompletions, mmu.faults.total], [1, 0]);
  // The neighbours are still in the ATC.
  assert(dma.translate(0x2000, 8, VHOST_ACCESS_RO, out));
  assertEquals(dma.lastOutcome, "atc-hit");
});

Deno.test("ATS: the ATC enforces the completion's permissions", () => {
  const { mmu, dom, dma } = setup();
  mmu.map(dom, 0x0, 0x0, 0x1000, VHOST_ACCESS_RO);
  const out = newTranslateResult();
  assertEquals(dma.translate(0x10, 8, VHOST_ACCESS_WO, out), false);
  assertEquals(out.fault, { kind: "permission", iova: 0x10, access: 2, allowed: 1 });
  // The read-only completion was cached: a read now hits.
  assert(dma.translate(0x10, 8, VHOST_ACCESS_RO, out));
  assertEquals(dma.lastOutcome, "atc-hit");
});

Deno.test("ATS: a domain switch invalidates the whole ATC", () => {
  const { mmu, dom, atc, dma } = setup();
  mmu.map(dom, 0x0, 0x0, 0x2000, VHOST_ACCESS_RO);
  const out = newTranslateResult();
  dma.translate(0x0, 8, VHOST_ACCESS_RO, out);
  dma.translate(0x1000, 8, VHOST_ACCESS_RO, out);
  mmu.detachGroup(0);
  const s = atc.stats();
  assertEquals([s.invalidateRequests, s.invalidatedEntries, s.entries], [1, 2, 0]);
});

Deno.test("ATS is not used for a device in the identity domain", () => {
  const mmu = new Iommu({ enabled: true, passthrough: true, addressWidth: 48, iotlbEntries: 8 });
  mmu.addDevice(NIC);
  const atc = mmu.enableAts(NIC);
  const dma = mmu.translatorFor(NIC);
  assert(atc.ok && dma.ok);
  const out = newTranslateResult();
  assert(dma.value.translate(0x1234, 8, VHOST_ACCESS_WO, out));
  assertEquals([out.addr, dma.value.lastOutcome, atc.value.stats().requests], [
    0x1234,
    "identity",
    0,
  ]);
});

Deno.test("ATS: the ATC evicts its least recently used translation", () => {
  const { mmu, dom, atc, dma } = setup();
  mmu.map(dom, 0x0, 0x0, 0x5000, VHOST_ACCESS_RO);
  const out = newTranslateResult();
  for (let p = 0; p < 5; p++) dma.translate(p * 0x1000, 8, VHOST_ACCESS_RO, out);
  dma.translate(0x0, 8, VHOST_ACCESS_RO, out); // evicted by page 4
  const s = atc.stats();
  assertEquals([s.misses, s.hits, s.evictions, s.requests], [6, 0, 2, 6]);
});
