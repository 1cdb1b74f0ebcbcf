import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { VHOST_ACCESS_RO, VHOST_ACCESS_RW, VHOST_ACCESS_WO } from "../memory/translator.ts";
import { formatIommuEvent, type IommuEvent } from "./event.ts";
import { formatIommuError } from "./iommu_error.ts";
import { PAGE_SIZE_2M } from "./page_table.ts";
import { type IommuNotification, Viommu, type ViommuConfig } from "./viommu.ts";

const DEV = "0000:00:03.0";

function setup(config: ViommuConfig, ats = false) {
  const events: IommuEvent[] = [];
  const vi = new Viommu(config, { sink: (e) => events.push(e) });
  assert(vi.addDevice(DEV, { ats }).ok);
  const heard: IommuNotification[] = [];
  return { vi, events, heard, listen: (e: IommuNotification) => heard.push(e) };
}

Deno.test("Viommu without caching mode: QEMU never sees a map, MAP notifiers are refused", () => {
  const { vi, events, listen } = setup({ model: "intel-iommu" });
  const r = vi.addNotifier(DEV, ["map", "unmap"], listen);
  assert(!r.ok);
  assertEquals(formatIommuError(r.error), "device 0000:00:03.0 requires caching mode (ENOTSUP)");
  assert(vi.map(DEV, 0x1000, 0x5000, 0x1000, VHOST_ACCESS_RO).ok);
  assertEquals(events.map(formatIommuEvent), [
    "viommu-map rid=0000:00:03.0 iova=0x1000 gpa=0x5000 size=0x1000 perm=ro",
  ]);
});

Deno.test("Viommu with caching-mode=on notifies MAP once per leaf after the guest's invalidation", () => {
  const { vi, events, heard, listen } = setup({ model: "intel-iommu", cachingMode: true });
  assert(vi.addNotifier(DEV, ["map", "unmap"], listen).ok);
  assert(vi.map(DEV, 0x3000, 0x9000, 0x2000, VHOST_ACCESS_RW).ok);
  assertEquals(events.map(formatIommuEvent), [
    "viommu-map rid=0000:00:03.0 iova=0x3000 gpa=0x9000 size=0x2000 perm=rw",
    "viommu-invalidate rid=0000:00:03.0 scope=iotlb iova=0x3000 size=0x2000",
    "viommu-notify rid=0000:00:03.0 event=map iova=0x3000 gpa=0x9000 size=0x1000 perm=rw",
    "viommu-notify rid=0000:00:03.0 event=map iova=0x4000 gpa=0xa000 size=0x1000 perm=rw",
  ]);
  assertEquals(heard.map((h) => [h.event, h.iova, h.gpa]), [["map", 0x3000, 0x9000], [
    "map",
    0x4000,
    0xa000,
  ]]);
});

Deno.test("Viommu unmap: page-selective invalidation, then device-IOTLB invalidation with ATS", () => {
  const { vi, events, heard, listen } = setup({ model: "intel-iommu", deviceIotlb: true }, true);
  assert(vi.deviceIotlbEnabled(DEV));
  assert(vi.addNotifier(DEV, ["unmap"], listen).ok);
  assert(vi.addNotifier(DEV, ["deviotlb-unmap"], listen).ok);
  assert(vi.map(DEV, 0x3000, 0x9000, 0x2000, VHOST_ACCESS_RW).ok);
  events.length = 0;
  const r = vi.unmap(DEV, 0x3000, 0x2000);
  assert(r.ok && r.value === 0x2000);
  assertEquals(
    events.map(formatIommuEvent),
    [
      "viommu-unmap rid=0000:00:03.0 iova=0x3000 size=0x2000",
      "viommu-invalidate rid=0000:00:03.0 scope=iotlb iova=0x0 size=0x8000",
      "viommu-notify rid=0000:00:03.0 event=unmap iova=0x0 gpa=0x0 size=0x8000 perm=none",
      "viommu-invalidate rid=0000:00:03.0 scope=device-iotlb iova=0x0 size=0x8000",
      "viommu-notify rid=0000:00:03.0 event=deviotlb-unmap iova=0x0 gpa=0x0 size=0x8000 perm=none",
    ],
  );
  assertEquals(heard.map((h) => h.event), ["unmap", "deviotlb-unmap"]);
});

Deno.test("Viommu: device IOTLB needs both device-iotlb=on and an ats=on device", () => {
  assertEquals(
    setup({ model: "intel-iommu", deviceIotlb: true }).vi.deviceIotlbEnabled(DEV),
    false,
  );
  assertEquals(setup({ model: "intel-iommu" }, true).vi.deviceIotlbEnabled(DEV), false);
  const { vi, listen } = setup({ model: "intel-iommu" }, true);
  const r = vi.addNotifier(DEV, ["deviotlb-unmap"], listen);
  assert(!r.ok && r.error.kind === "notifier-unsupported" && r.error.needs === "device IOTLB mode");
});

Deno.test("Viommu as virtio-iommu: MAP and UNMAP requests reach notifiers without invalidations", () => {
  const { vi, events, listen } = setup({ model: "virtio-iommu" }, true);
  assert(vi.addNotifier(DEV, ["map", "unmap"], listen).ok);
  assert(!vi.addNotifier(DEV, ["deviotlb-unmap"], listen).ok);
  assert(vi.map(DEV, 0x0, 0x8000_0000, 0x1000, VHOST_ACCESS_WO).ok);
  assert(vi.unmap(DEV, 0x0, 0x1000).ok);
  assertEquals(events.map((e) => e.kind), [
    "viommu-map",
    "viommu-notify",
    "viommu-unmap",
    "viommu-notify",
  ]);
});

Deno.test("Viommu.translate() returns the leaf as an IOMMUTLBEntry and checks the direction", () => {
  const { vi, events } = setup({ model: "intel-iommu" });
  assert(vi.map(DEV, PAGE_SIZE_2M, 0x4000_0000, PAGE_SIZE_2M, VHOST_ACCESS_RO).ok);
  assertEquals(vi.translate(DEV, PAGE_SIZE_2M + 0x1234, false), {
    iova: PAGE_SIZE_2M,
    translatedAddr: 0x4000_0000,
    addrMask: PAGE_SIZE_2M - 1,
    perm: 1,
  });
  assertEquals(vi.translate(DEV, PAGE_SIZE_2M + 0x1234, true), undefined);
  assertEquals(vi.translate(DEV, 0x0, false), undefined);
  assertEquals(vi.translate(DEV, 2 ** 48, false), undefined);
  assertEquals(vi.translate("0000:00:04.0", 0x0, false), undefined);
  assertEquals(vi.faults.records().map((f) => f.reason), [
    "write-to-read-only",
    "not-present",
    "beyond-address-width",
    "no-context",
  ]);
  assertEquals(events.filter((e) => e.kind === "viommu-translate").map(formatIommuEvent), [
    "viommu-translate rid=0000:00:03.0 iova=0x201234 gpa=0x40001234 mask=0x1fffff perm=ro",
  ]);
});

Deno.test("Viommu with guest iommu=pt: driver maps change nothing, translation is identity", () => {
  const { vi, events } = setup({ model: "intel-iommu", cachingMode: true, guestPassthrough: true });
  assert(vi.map(DEV, 0x1000, 0x9999_0000, 0x1000, VHOST_ACCESS_RO).ok);
  assertEquals(vi.ranges(DEV), []);
  assertEquals(vi.translate(DEV, 0x1234_5678, true), {
    iova: 0x1234_5000,
    translatedAddr: 0x1234_5000,
    addrMask: 0xfff,
    perm: 3,
  });
  assertEquals(events.map((e) => e.kind), ["viommu-translate"]);
});

Deno.test("Viommu refuses what the guest IOMMU driver refuses", () => {
  const { vi } = setup({ model: "intel-iommu", awBits: 39 });
  assert(vi.map(DEV, 0x0, 0x0, 0x1000, VHOST_ACCESS_RW).ok);
  const kinds = [
    vi.map(DEV, 0x0, 0x1000, 0x1000, VHOST_ACCESS_RW),
    vi.map(DEV, 2 ** 39, 0x0, 0x1000, VHOST_ACCESS_RW),
    vi.map(DEV, 0x10, 0x0, 0x1000, VHOST_ACCESS_RW),
    vi.unmap(DEV, 0x5000, 0x1000),
    vi.map("0000:00:09.0", 0x0, 0x0, 0x1000, VHOST_ACCESS_RW),
    vi.addDevice(DEV),
  ].map((r) => (r.ok ? "ok" : r.error.kind));
  assertEquals(kinds, [
    "overlap",
    "out-of-range",
    "unaligned",
    "not-mapped",
    "unknown-device",
    "device-exists",
  ]);
});

Deno.test("Viommu notifiers can be unregistered", () => {
  const { vi, heard, listen } = setup({ model: "virtio-iommu" });
  const r = vi.addNotifier(DEV, ["map"], listen);
  assert(r.ok);
  r.value();
  assert(vi.map(DEV, 0x0, 0x0, 0x1000, VHOST_ACCESS_RW).ok);
  assertEquals(heard, []);
});
