import assert from "node:assert/strict";
import { Lab } from "../../lab.ts";
import { COST_KEYS, type CostEntry, type CostKey } from "../../sim/cost.ts";
import { Viommu } from "../../iommu/viommu.ts";
import { IOVA_FQ_TIMEOUT_NS } from "./dma_api.ts";
import { NicDma } from "./nic_dma.ts";

const RID = "0000:00:03.0";

function lab(): Lab {
  const l = new Lab({ hostCatalog: { modules: {}, nicModels: {} } });
  const entries = Object.fromEntries(
    COST_KEYS.map((k): [CostKey, CostEntry] => [k, {
      ns: k === "vmexit_to_userspace" ? 5000 : 10,
      cycles: false,
      charge: "cpu",
      basis: "test",
    }]),
  ) as Record<CostKey, CostEntry>;
  l.setCostProfile({ name: "test", referenceGhz: 3, entries });
  return l;
}

function translated(model: "intel-iommu" | "virtio-iommu", strict = false) {
  const l = lab();
  const vi = new Viommu({ model, cachingMode: true });
  vi.addDevice(RID);
  const vcpu = l.context("vcpu", "vm1:vcpu0");
  const dma = NicDma.translated({ lab: l, viommu: vi, rid: RID, strict, timerCpu: vcpu });
  return { l, vi, vcpu, dma };
}

Deno.test("NicDma: each TX buffer mapped read-only for the device, its exit charged on the vCPU", () => {
  const { vi, vcpu, dma } = translated("intel-iommu");
  const iova = dma.tx(1, 7, 0x20_0040, 72);
  assert.notEqual(iova, 0x20_0040);
  assert.equal(vi.translate(RID, iova, false)?.translatedAddr, 0x20_0000);
  assert.equal(vi.translate(RID, iova, true), undefined, "DMA_TO_DEVICE");
  assert.equal(dma.charge(vcpu, 1000, undefined, 0), 6000, "one exit to QEMU (caching mode)");
  assert.equal(dma.charge(vcpu, 6000, undefined, 0), 6000, "charged once");
});

Deno.test("NicDma: rings and receive areas are mapped once, read-write", () => {
  const { vi, dma } = translated("virtio-iommu");
  const ring = dma.coherent(0x1_0000, 0x3000);
  const rx = dma.rxArea(0x40_0000, 256 * 1536);
  assert.equal(vi.translate(RID, ring + 0x2ff8, true)?.translatedAddr, 0x1_2000);
  assert.equal(vi.translate(RID, rx + 255 * 1536, true)?.translatedAddr !== undefined, true);
  assert.equal(dma.api?.maps, 2);
});

Deno.test("NicDma: completed TX buffers are unmapped lazily; the 10 ms timer flushes on vCPU 0", () => {
  const { l, vi, vcpu, dma } = translated("intel-iommu");
  const a = dma.tx(1, 0, 0x30_0000, 64);
  dma.charge(vcpu, 0, undefined, 0);
  dma.txDone(1, 0);
  dma.txDone(1, 0); // a second reclaim of the same slot unmaps nothing
  assert.equal(dma.api?.unmaps, 1);
  assert.ok(vi.translate(RID, a, false) !== undefined, "still mapped until the flush");
  const busy = vcpu.busyUntil;
  l.run();
  assert.equal(l.now, IOVA_FQ_TIMEOUT_NS);
  assert.equal(vi.translate(RID, a, false), undefined);
  assert.equal(dma.api?.flushes, 1);
  assert.ok(vcpu.busyUntil > busy, "the flush's exit ran on vCPU 0");
});

Deno.test("NicDma.identity: guest-physical addresses and nothing to charge", () => {
  const dma = NicDma.identity();
  const l = lab();
  const vcpu = l.context("vcpu", "vm1:vcpu0");
  assert.equal(dma.tx(1, 0, 0x1234, 64), 0x1234);
  dma.txDone(1, 0);
  assert.equal(dma.coherent(0x5000, 0x1000), 0x5000);
  assert.equal(dma.charge(vcpu, 100, undefined, 0), 100);
  assert.equal(dma.api, undefined);
});
