import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { iommuConfigFromCmdline } from "./cmdline.ts";

const pick = (line: string, hw = {}) => {
  const c = iommuConfigFromCmdline(line, hw);
  return [c.enabled, c.passthrough, c.largePages];
};

Deno.test("iommuConfigFromCmdline(): Intel remapping needs intel_iommu=on", () => {
  assertEquals(pick("ro quiet"), [false, false, true]);
  assertEquals(pick("intel_iommu=on"), [true, false, true]);
  assertEquals(pick("intel_iommu=on iommu=pt"), [true, true, true]);
  assertEquals(pick("intel_iommu=on,sp_off"), [true, false, false]);
  assertEquals(pick("quiet", { defaultOn: true }), [true, false, true]);
});

Deno.test("iommuConfigFromCmdline(): the last occurrence of a parameter wins", () => {
  assertEquals(pick("intel_iommu=on intel_iommu=off"), [false, false, true]);
  assertEquals(pick("intel_iommu=on iommu=pt iommu=nopt"), [true, false, true]);
  assertEquals(pick("intel_iommu=on iommu.passthrough=1"), [true, true, true]);
  assertEquals(pick("intel_iommu=on iommu.passthrough=1 iommu.passthrough=n"), [true, false, true]);
});

Deno.test("iommuConfigFromCmdline(): AMD-Vi is on unless amd_iommu=off; iommu=off wins", () => {
  assertEquals(pick("", { vendor: "amd" }), [true, false, true]);
  assertEquals(pick("amd_iommu=off", { vendor: "amd" }), [false, false, true]);
  assertEquals(pick("intel_iommu=off", { vendor: "amd" }), [true, false, true]);
  assertEquals(pick("intel_iommu=on iommu=soft,off"), [false, false, true]);
});

Deno.test("iommuConfigFromCmdline() takes width and IOTLB size from the hardware", () => {
  const c = iommuConfigFromCmdline("intel_iommu=on", { addressWidth: 39, iotlbEntries: 128 });
  assertEquals([c.addressWidth, c.iotlbEntries], [39, 128]);
});
