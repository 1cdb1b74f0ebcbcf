import assert from "node:assert/strict";
import { Viommu } from "../iommu/viommu.ts";
import {
  newTranslateResult,
  VHOST_ACCESS_RO,
  VHOST_ACCESS_RW,
  VHOST_ACCESS_WO,
} from "../memory/translator.ts";
import { VhostNetIotlb } from "./vhost_net_iotlb.ts";

const RID = "0000:00:03.0";
const HVA = 0x7f00_0000_0000;
const RAM = 0x4000_0000;

function setup(deviceIotlb = false) {
  const vi = new Viommu({ model: "intel-iommu", cachingMode: true, deviceIotlb });
  vi.addDevice(RID, { ats: deviceIotlb });
  const iotlb = new VhostNetIotlb({
    viommu: vi,
    rid: RID,
    gpaToHva: (gpa) => gpa < RAM ? { hva: HVA + gpa, len: RAM - gpa } : undefined,
    hvaToGpa: (hva) => hva >= HVA && hva < HVA + RAM ? hva - HVA : undefined,
  });
  assert.ok(iotlb.start().ok);
  return { vi, iotlb, out: newTranslateResult() };
}

Deno.test("VhostNetIotlb: a miss costs one round trip, then the range hits until the guest unmaps it", () => {
  const { vi, iotlb, out } = setup();
  vi.map(RID, 0x1000, 0x30_0000, 0x2000, VHOST_ACCESS_RW);
  const tr = iotlb.translatorFor(0);
  assert.ok(tr.translate(0x1800, 0x100, VHOST_ACCESS_WO, out));
  assert.equal(out.addr, 0x30_0800);
  assert.equal(iotlb.takeRoundTrips(), 1);
  assert.ok(tr.translate(0x1900, 0x100, VHOST_ACCESS_RO, out));
  assert.equal(iotlb.takeRoundTrips(), 0, "the same 4 KiB entry");
  // The guest unmaps: QEMU's notifier invalidates, the next access misses again and fails.
  vi.unmap(RID, 0x1000, 0x1000);
  assert.equal(tr.translate(0x1800, 0x10, VHOST_ACCESS_RO, out), false);
  assert.equal(iotlb.takeRoundTrips(), 1, "asked QEMU, which has nothing");
  assert.equal(out.fault?.kind, "unmapped");
  assert.equal(iotlb.dev.stats().invalidates, 1);
});

Deno.test("VhostNetIotlb: a TX buffer the guest mapped read-only cannot be written", () => {
  const { vi, iotlb, out } = setup();
  vi.map(RID, 0x5000, 0x10_0000, 0x1000, VHOST_ACCESS_RO);
  const tr = iotlb.translatorFor(1);
  assert.ok(tr.translate(0x5000, 64, VHOST_ACCESS_RO, out));
  assert.equal(tr.translate(0x5000, 64, VHOST_ACCESS_WO, out), false);
  assert.equal(out.fault?.kind, "permission");
});

Deno.test("VhostNetIotlb with device-iotlb=on and ats=on: the invalidation comes as DEVIOTLB_UNMAP", () => {
  const { vi, iotlb, out } = setup(true);
  vi.map(RID, 0x1000, 0x30_0000, 0x1000, VHOST_ACCESS_RW);
  const tr = iotlb.translatorFor(0);
  assert.ok(tr.translate(0x1000, 8, VHOST_ACCESS_RO, out));
  vi.unmap(RID, 0x1000, 0x1000);
  assert.equal(iotlb.dev.stats().invalidates, 1);
  iotlb.stop();
  vi.map(RID, 0x1000, 0x30_0000, 0x1000, VHOST_ACCESS_RW);
  assert.ok(tr.translate(0x1000, 8, VHOST_ACCESS_RO, out));
  vi.unmap(RID, 0x1000, 0x1000);
  assert.equal(iotlb.dev.stats().invalidates, 1, "stopped: QEMU no longer relays unmaps");
});
