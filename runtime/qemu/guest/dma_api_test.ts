import assert from "node:assert/strict";
import { Viommu } from "../../iommu/viommu.ts";
import { GuestDmaApi, IOVA_FQ_SIZE, IOVA_FQ_TIMEOUT_NS } from "./dma_api.ts";

const RID = "0000:00:03.0";

function setup(
  model: "intel-iommu" | "virtio-iommu",
  o: { cachingMode?: boolean; strict?: boolean } = {},
) {
  const vi = new Viommu({ model, cachingMode: o.cachingMode ?? true });
  vi.addDevice(RID);
  const timers: number[] = [];
  const dma = new GuestDmaApi(vi, RID, {
    strict: o.strict ?? false,
    armFlushTimer: (d) => timers.push(d),
  });
  const unmapped: number[] = [];
  vi.addNotifier(RID, ["unmap"], (n) => unmapped.push(n.iova));
  return { vi, dma, timers, unmapped };
}

Deno.test("GuestDmaApi.map: an IOVA below 4 GiB, the buffer's page offset kept, the device's permission", () => {
  const { vi, dma } = setup("intel-iommu");
  const tx = dma.map(0x10_0800, 0x900, false); // crosses into the next page
  assert.equal(tx & 0xfff, 0x800);
  assert.ok(tx < 0x1_0000_0000);
  assert.equal(vi.translate(RID, tx + 0x8ff, false)?.translatedAddr, 0x10_1000, "second page");
  assert.equal(vi.translate(RID, tx, true), undefined, "DMA_TO_DEVICE: the device cannot write");
  const rx = dma.map(0x20_0000, 1536, true);
  assert.notEqual(rx >> 12, tx >> 12);
  assert.equal(vi.translate(RID, rx, true)?.translatedAddr, 0x20_0000);
});

Deno.test("GuestDmaApi: which maps and unmaps cost an exit", async (t) => {
  await t.step("intel-iommu with caching mode: every map invalidates", () => {
    const { dma } = setup("intel-iommu", { cachingMode: true });
    dma.map(0x1000, 64, false);
    dma.map(0x2000, 64, false);
    assert.equal(dma.takeExits(), 2);
    assert.equal(dma.takeExits(), 0, "taken once");
  });
  await t.step("intel-iommu without caching mode: a map is a page-table write", () => {
    const { dma } = setup("intel-iommu", { cachingMode: false });
    dma.map(0x1000, 64, false);
    assert.equal(dma.takeExits(), 0);
  });
  await t.step("virtio-iommu: a MAP request and its wait", () => {
    const { dma } = setup("virtio-iommu");
    dma.map(0x1000, 64, false);
    assert.equal(dma.takeExits(), 1);
  });
  await t.step("strict unmaps invalidate one by one; QEMU hears each at once", () => {
    const { dma, unmapped } = setup("intel-iommu", { strict: true });
    const a = dma.map(0x1000, 64, false);
    const b = dma.map(0x2000, 64, false);
    dma.takeExits();
    dma.unmap(a, 64);
    assert.equal(unmapped.length, 1);
    dma.unmap(b, 64);
    assert.equal(dma.takeExits(), 2);
    assert.equal(dma.queued, 0);
  });
});

Deno.test("GuestDmaApi lazy unmaps: the flush queue holds IOVAs (still translated, not reused) until one invalidation", () => {
  const { vi, dma, timers, unmapped } = setup("intel-iommu", { cachingMode: false });
  const first = dma.map(0x5000, 64, false);
  dma.unmap(first, 64);
  assert.deepEqual(timers, [IOVA_FQ_TIMEOUT_NS], "the 10 ms timer is armed by the first entry");
  assert.equal(vi.translate(RID, first, false)?.translatedAddr, 0x5000, "stale but valid");
  assert.equal(unmapped.length, 0, "QEMU has not heard of it");
  const second = dma.map(0x6000, 64, false);
  assert.notEqual(second, first, "a queued IOVA is not reused");
  dma.unmap(second, 64);
  assert.equal(timers.length, 1, "one timer per non-empty queue");
  assert.equal(dma.flush(), 2);
  assert.equal(dma.takeExits(), 1, "one global invalidation for both");
  assert.equal(unmapped.length, 2);
  assert.equal(vi.translate(RID, first, false), undefined);
  assert.equal(dma.map(0x7000, 64, false) & ~0xfff, second & ~0xfff, "freed IOVAs come back");
  assert.equal(dma.flush(), 0, "an empty queue costs nothing");
});

Deno.test("GuestDmaApi: a full flush queue flushes itself", () => {
  const { dma } = setup("intel-iommu", { cachingMode: false });
  for (let i = 0; i < IOVA_FQ_SIZE; i++) dma.unmap(dma.map(0x1_0000 + i * 0x1000, 64, false), 64);
  assert.equal(dma.queued, 0);
  assert.equal(dma.flushes, 1);
  assert.equal(dma.takeExits(), 1);
});

Deno.test("GuestDmaApi.map answers -1 when the IOVA space is gone, and recovers what it freed", () => {
  const { dma } = setup("intel-iommu", { cachingMode: false, strict: true });
  const big = 0x4000_0000; // 1 GiB at a time: the 4 GiB space holds three below IOVA 0x1000
  const got = [0, 1, 2, 3].map((i) => dma.map(i * big, big, false));
  assert.equal(got[3], -1);
  assert.ok(got.slice(0, 3).every((x) => x > 0));
  dma.unmap(got[0] as number, big);
  assert.equal(dma.map(0, big, false), got[0]);
});
