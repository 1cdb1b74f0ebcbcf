import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { vdpaSimNetParent } from "../devices/vdpa_sim_net.ts";
import { newTranslateResult, VHOST_ACCESS_RO, VHOST_ACCESS_RW } from "../memory/translator.ts";
import { Viommu } from "../iommu/viommu.ts";
import { arrayControlTrace, formatControlStep } from "./vhost_vdpa/control_trace.ts";
import { qemuVdpaInit } from "./vhost_vdpa/qemu_vhost_vdpa.ts";
import { VhostVdpaDev } from "./vhost_vdpa/vhost_vdpa_dev.ts";
import { relayViommu } from "./vhost_vdpa/viommu_glue.ts";
import { guestRid } from "./viommu.ts";
import { testLab, vhostVdpaNetdev, virtioNet, vmSpec } from "./testdata/lab_rig.ts";
import { describeVmError, type ViommuDeviceSpec } from "../qemu/vm_spec.ts";
import { showIommu } from "../iommu/show.ts";

const RID = "0000:00:03.0";
const HVA = 0x7f00_0000_0000;

function device() {
  const d = vdpaSimNetParent().create("vdpa0", {});
  if (!d.ok) throw new Error("create");
  return d.value;
}

/** A vhost-vdpa file behind a translated guest vIOMMU: nothing premapped. */
function behindViommu(cachingMode: boolean) {
  const { trace, events } = arrayControlTrace();
  const dev = new VhostVdpaDev({ device: device(), fd: 3, owner: "qemu:vm1", trace });
  const init = qemuVdpaInit(dev, { ram: [] });
  assert(init.ok);
  const vi = new Viommu({ model: "intel-iommu", cachingMode });
  assert(vi.addDevice(RID).ok);
  return { dev, vi, events };
}

function translate(dev: VhostVdpaDev, iova: number): number | undefined {
  const tr = dev.device.translatorFor(0);
  const out = newTranslateResult();
  return tr !== undefined && tr.translate(iova, 64, VHOST_ACCESS_RO, out) ? out.addr : undefined;
}

Deno.test("vhost-vdpa behind a guest vIOMMU", async (t) => {
  await t.step("each guest map is an IOTLB UPDATE, each unmap an INVALIDATE", () => {
    const { dev, vi, events } = behindViommu(true);
    const r = relayViommu({
      writeIotlb: (m, asid) => dev.writeIotlb(m, asid),
      viommu: vi,
      rid: RID,
      gpaToHva: (gpa) => HVA + gpa,
    });
    assert(r.ok);
    const before = events.length;
    // before any map vdpa_sim's IOTLB is its reset-time pass-through: IOVA taken as an HVA
    assertEquals(translate(dev, 0x10000), 0x10000);
    assert(vi.map(RID, 0x10000, 0x200_0000, 0x1000, VHOST_ACCESS_RW).ok);
    assertEquals(translate(dev, 0x10010), HVA + 0x200_0010, "guest IOVA → QEMU's HVA");
    assert(vi.unmap(RID, 0x10000, 0x1000).ok);
    assertEquals(translate(dev, 0x10010), undefined, "unmapped again: a fault");
    const msgs = events.slice(before).map(formatControlStep);
    assert(msgs.some((l) => l.includes("UPDATE") && l.includes("iova=0x10000")), msgs.join("\n"));
    assert(msgs.some((l) => l.includes("INVALIDATE") && l.includes("iova=0x10000")));
    r.value();
  });

  await t.step("what the guest mapped before QEMU registered is replayed", () => {
    const { dev, vi } = behindViommu(true);
    assert(vi.map(RID, 0x4000_0000, 0x100_0000, 0x20_0000, VHOST_ACCESS_RW).ok);
    const r = relayViommu({
      writeIotlb: (m, asid) => dev.writeIotlb(m, asid),
      viommu: vi,
      rid: RID,
      gpaToHva: (gpa) => HVA + gpa,
    });
    assert(r.ok);
    assertEquals(translate(dev, 0x4000_1000), HVA + 0x100_1000);
  });

  await t.step("intel-iommu without caching-mode: QEMU refuses the MAP notifier", () => {
    const { dev, vi } = behindViommu(false);
    const r = relayViommu({
      writeIotlb: (m, asid) => dev.writeIotlb(m, asid),
      viommu: vi,
      rid: RID,
      gpaToHva: (gpa) => HVA + gpa,
    });
    assert(!r.ok);
    assert(r.error.qemu.includes("caching-mode=on"), r.error.qemu);
  });

  await t.step("a VM with intel-iommu: the vIOMMU holds the NIC; the guest runs iommu=pt", () => {
    const lab = testLab();
    for (const m of ["vdpa", "vhost_vdpa", "vdpa_sim_net"]) assert(lab.host.modprobe(m).ok);
    const d = lab.host.vdpaNetlink.devNew({
      name: "vdpa0",
      mgmtdev: { dev: "vdpasim_net" },
      mac: [0x52, 0x54, 0, 0x12, 0x34, 0x56],
    });
    assert(d.ok);
    const iommu: ViommuDeviceSpec = {
      kind: "intel-iommu",
      at: { device: 1 },
      intremap: true,
      cachingMode: true,
      deviceIotlb: false,
      awBits: 48,
    };
    const vm = lab.startVm(
      vmSpec("vm1", [vhostVdpaNetdev()], [virtioNet({ iommuPlatform: true }), iommu]),
    );
    assert(vm.ok, vm.ok ? "" : describeVmError(vm.error).message);
    const vi = vm.value.viommu;
    assert(vi !== undefined);
    assertEquals(vi.devices(), [guestRid(0)]);
    assert(vi.config.guestPassthrough);
    assert(showIommu(lab.iommu, { viommu: { name: "vm1", viommu: vi } }).includes("intel-iommu"));
    const tr = lab.addTraffic({
      name: "t1",
      from: "vm1.eth0",
      to: "vm1.eth0",
      frameBytes: 64,
      count: 200,
      rate: { kind: "pps", pps: 100_000 },
    });
    assert(tr.ok);
    lab.run();
    assertEquals(lab.metrics.summary("t1").delivered, 200);
  });

  await t.step("a second vIOMMU is QEMU's error", () => {
    const lab = testLab();
    const iommu = (i: number): ViommuDeviceSpec => ({
      kind: "intel-iommu",
      at: { device: i },
      intremap: true,
      cachingMode: true,
      deviceIotlb: false,
      awBits: 48,
    });
    const vm = lab.startVm(vmSpec("vm1", [], [iommu(0), iommu(1)]));
    assert(!vm.ok);
    assert(describeVmError(vm.error).qemu.includes("multiple vIOMMUs"));
  });
});
