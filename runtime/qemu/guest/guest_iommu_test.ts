import assert from "node:assert/strict";
import { guestIommuMode } from "./guest_iommu.ts";

const INTEL = [{ kind: "virtio-net-pci" as const }, { kind: "intel-iommu" as const }];
const VIRTIO = [{ kind: "virtio-iommu-pci" as const }];

Deno.test("guestIommuMode follows the guest's kernel command line and the vIOMMU model", () => {
  const cases: [typeof INTEL | typeof VIRTIO, string | undefined, string, boolean][] = [
    [[], "intel_iommu=on", "none", false],
    [INTEL, undefined, "pt", false],
    [INTEL, "root=/dev/vda1", "off", false],
    [INTEL, "intel_iommu=on", "dma", false],
    [INTEL, "intel_iommu=on,sp_off iommu=pt", "pt", false],
    [INTEL, "intel_iommu=on iommu.passthrough=1", "pt", false],
    [INTEL, "intel_iommu=on iommu=pt iommu=nopt", "dma", false],
    [INTEL, "intel_iommu=on iommu.strict=1", "dma", true],
    [INTEL, "intel_iommu=on,strict", "dma", true],
    [INTEL, "intel_iommu=on iommu.strict=1 iommu.strict=0", "dma", false],
    [INTEL, "intel_iommu=on intel_iommu=off", "off", false],
    [VIRTIO, "", "dma", false],
    [VIRTIO, "iommu=pt", "pt", false],
  ];
  for (const [devices, cmdline, mode, strict] of cases) {
    const m = guestIommuMode(devices, cmdline);
    assert.equal(m.mode, mode, `${cmdline}`);
    assert.equal(m.strict, strict, `${cmdline}`);
  }
});
