import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  newTranslateResult,
  VHOST_ACCESS_RO,
  VHOST_ACCESS_RW,
  VHOST_ACCESS_WO,
} from "../memory/translator.ts";
import { Iommu } from "./iommu.ts";
import { PAGE_SIZE_2M } from "./page_table.ts";
import { formatBytes, showIommu } from "./show.ts";
import { VhostDevIotlb } from "./vhost_dev_iotlb.ts";
import { VHOST_IOTLB_UPDATE } from "./vhost_iotlb_msg.ts";
import { Viommu } from "./viommu.ts";

/** A host with iommu=pt, a VF given to VFIO with ATS, some traffic and two faults. */
function busyHost() {
  const mmu = new Iommu({ enabled: true, passthrough: true, addressWidth: 48, iotlbEntries: 4 });
  mmu.addDevice("0000:3b:00.0");
  mmu.addDevice("0000:3b:00.2");
  mmu.addDevice("0000:3b:00.3", { group: 1 });
  const dom = mmu.allocDomain("unmanaged", { owner: "vfio" });
  assert(dom.ok);
  assert(mmu.attachGroup(1, dom.value).ok);
  assert(mmu.map(dom.value, 0x0, 0x1_0000_0000, 2 * PAGE_SIZE_2M, VHOST_ACCESS_RW).ok);
  assert(mmu.map(dom.value, 2 * PAGE_SIZE_2M, 0x1_0040_0000, 0x3000, VHOST_ACCESS_RW).ok);
  assert(mmu.map(dom.value, 0x1000_0000, 0x2_0000_0000, 0x1000, VHOST_ACCESS_RO).ok);
  assert(mmu.enableAts("0000:3b:00.3", { entries: 8 }).ok);
  const out = newTranslateResult();
  const vf = mmu.translatorFor("0000:3b:00.2");
  const vf2 = mmu.translatorFor("0000:3b:00.3");
  assert(vf.ok && vf2.ok);
  for (const a of [0x0, 0x1000, 0x40_0000, 0x40_1000, 0x0, 0x1000_0000]) {
    vf.value.translate(a, 64, VHOST_ACCESS_RO, out);
  }
  vf2.value.translate(0x40_2000, 64, VHOST_ACCESS_WO, out);
  vf2.value.translate(0x40_2010, 64, VHOST_ACCESS_WO, out);
  vf.value.translate(0x1000_0000, 64, VHOST_ACCESS_WO, out); // fault: read-only
  vf.value.translate(0x2000_0000, 64, VHOST_ACCESS_RO, out); // fault: not present
  assert(mmu.unmap(dom.value, 2 * PAGE_SIZE_2M + 0x2000, 0x1000).ok);
  return mmu;
}

Deno.test("showIommu() prints mode, groups, domains, IOTLB, ATS and faults", async (t) => {
  await t.assertSnapshot(showIommu(busyHost()), { serializer: String });
});

Deno.test("showIommu() prints a guest vIOMMU and vhost IOTLBs when given", async (t) => {
  const mmu = new Iommu({ enabled: true, passthrough: false, addressWidth: 39, iotlbEntries: 64 });
  const vi = new Viommu({ model: "intel-iommu", cachingMode: true, deviceIotlb: true });
  vi.addDevice("0000:00:03.0", { ats: true });
  vi.map("0000:00:03.0", 0xffff_0000, 0x1234_0000, 0x2000, VHOST_ACCESS_RO);
  vi.translate("0000:00:03.0", 0x5000, false);
  const vhost = new VhostDevIotlb();
  vhost.process({
    type: VHOST_IOTLB_UPDATE,
    iova: 0xffff_0000,
    size: 0x1000,
    uaddr: 0x7f00_0000,
    perm: 1,
  });
  vhost.translatorFor(0).translate(0x10, 8, VHOST_ACCESS_RO, newTranslateResult());
  vhost.read();
  const text = showIommu(mmu, {
    viommu: { name: "vm1", viommu: vi },
    vhost: [{ name: "vm1.net0", iotlb: vhost }],
  });
  await t.assertSnapshot(text, { serializer: String });
});

Deno.test("showIommu() is deterministic and shows only the most recent faults", () => {
  const a = busyHost();
  assertEquals(showIommu(a), showIommu(busyHost()));
  const text = showIommu(a, { maxFaults: 1 });
  assert(text.includes("faults: 2 (1 not shown)"));
  assertEquals(text.split("\n").filter((l) => l.includes("DMAR:")).length, 1);
});

Deno.test("showIommu() with the IOMMU off says so", () => {
  const text = showIommu(
    new Iommu({ enabled: false, passthrough: false, addressWidth: 48, iotlbEntries: 8 }),
  );
  assertEquals(
    text,
    "iommu: off (no intel_iommu=on): device DMA addresses are physical\nfaults: 0",
  );
});

Deno.test("formatBytes() uses the largest binary unit that is exact", () => {
  assertEquals([0, 4096, 0x30_0000, 1536 * 1024, 2 ** 30, 0x40_2000, 1500].map(formatBytes), [
    "0 B",
    "4 KiB",
    "3 MiB",
    "1536 KiB",
    "1 GiB",
    "4104 KiB",
    "1500 B",
  ]);
});
