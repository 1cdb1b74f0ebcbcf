import assert from "node:assert/strict";
import { Viommu } from "../iommu/viommu.ts";
import { newTranslateResult, VHOST_ACCESS_RW, VHOST_ACCESS_WO } from "../memory/translator.ts";
import { viommuTranslator } from "./viommu_translator.ts";

const RID = "0000:00:03.0";

Deno.test("viommuTranslator: page by page, faults recorded for the guest, nothing for a pass-through guest", async (t) => {
  await t.step("a run stops at the page's end; two pages may land anywhere", () => {
    const vi = new Viommu({ model: "virtio-iommu" });
    vi.addDevice(RID);
    vi.map(RID, 0x8000, 0x50_0000, 0x1000, VHOST_ACCESS_RW);
    vi.map(RID, 0x9000, 0x30_0000, 0x1000, VHOST_ACCESS_RW);
    const tr = viommuTranslator(vi, RID);
    const out = newTranslateResult();
    assert.ok(tr.translate(0x8f00, 0x200, VHOST_ACCESS_WO, out));
    assert.deepEqual([out.addr, out.len], [0x50_0f00, 0x100]);
    assert.ok(tr.translate(0x9000, 0x100, VHOST_ACCESS_WO, out));
    assert.equal(out.addr, 0x30_0000);
  });
  await t.step("an IOVA the guest never mapped is a DMA fault", () => {
    const vi = new Viommu({ model: "intel-iommu" });
    vi.addDevice(RID);
    const out = newTranslateResult();
    assert.equal(viommuTranslator(vi, RID).translate(0x1000, 8, VHOST_ACCESS_RW, out), false);
    assert.equal(out.fault?.kind, "unmapped");
    assert.equal(vi.faults.total, 1);
  });
  await t.step("iommu=pt: the address is the guest-physical one", () => {
    const vi = new Viommu({ model: "intel-iommu", guestPassthrough: true });
    vi.addDevice(RID);
    const out = newTranslateResult();
    assert.ok(viommuTranslator(vi, RID).translate(0x12_3456, 8, VHOST_ACCESS_RW, out));
    assert.equal(out.addr, 0x12_3456);
  });
});
