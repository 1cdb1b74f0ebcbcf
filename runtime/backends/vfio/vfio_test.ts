import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { HostKernel } from "../../host/kernel.ts";
import { GuestMemory } from "../../memory/guest_memory.ts";
import { newTranslateResult, VHOST_ACCESS_RO, VHOST_ACCESS_WO } from "../../memory/translator.ts";
import { TEST_HOST_CATALOG } from "../testdata/host_catalog.ts";
import { arrayControlTrace, formatControlStep } from "../vhost_vdpa/control_trace.ts";
import { VfioContainer } from "./vfio_container.ts";
import { VfioGroup } from "./vfio_group.ts";
import {
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_TYPE1v2_IOMMU,
} from "./vfio_ioctl.ts";

const VF = "0000:3b:00.2";
const RW = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;

/** A host with an mlx5 PF, two VFs, and VF 0 moved to vfio-pci. */
function hostWithVfioVf(cmdline = "intel_iommu=on iommu=pt"): { host: HostKernel; group: number } {
  const host = new HostKernel({ catalog: TEST_HOST_CATALOG });
  const must = (r: { ok: boolean }, what: string) => {
    if (!r.ok) throw new Error(`${what}: ${JSON.stringify(r)}`);
  };
  must(host.setCmdline(cmdline), "cmdline");
  must(host.addNic({ name: "ens1f0", model: "mlx5", pci: "0000:3b:00.0" }), "nic");
  must(host.modprobe("mlx5_core"), "mlx5_core");
  must(host.modprobe("vfio_pci"), "vfio-pci");
  must(host.write("/sys/class/net/ens1f0/device/sriov_numvfs", "2"), "numvfs");
  must(host.write("/sys/bus/pci/drivers/mlx5_core/unbind", VF), "unbind");
  must(host.write(`/sys/bus/pci/devices/${VF}/driver_override`, "vfio-pci"), "override");
  must(host.write("/sys/bus/pci/drivers_probe", VF), "probe");
  const group = host.pci.device(VF)?.iommuGroup;
  if (group === undefined) throw new Error("no group");
  return { host, group };
}

/** Guest RAM of 1 GiB at GPA 0, backed at a host physical address. */
function guestRam(host: HostKernel) {
  const mem = new GuestMemory();
  mem.addRegion({ name: "pc.ram", gpa: 0, size: 1 << 30 });
  const block = host.ram.back({
    owner: "qemu:vm1",
    name: "pc.ram",
    size: 1 << 30,
    mem,
    gpa: 0,
    hva: 0x7f00_0000_0000,
  });
  return { mem, block };
}

function openAll(host: HostKernel, group: number) {
  const { trace, events } = arrayControlTrace();
  const cfd = host.open("/dev/vfio/vfio", "qemu:vm1");
  const gfd = host.open(`/dev/vfio/${group}`, "qemu:vm1");
  if (!cfd.ok || !gfd.ok) throw new Error("open");
  const c = new VfioContainer({
    iommu: host.iommuHw(),
    fd: cfd.value.fd,
    owner: "qemu:vm1",
    hvaToPa: host.ram.hvaToPa("qemu:vm1"),
    trace,
  });
  const g = new VfioGroup({ pci: host.pci, group, fd: gfd.value.fd, owner: "qemu:vm1", trace });
  return { c, g, events };
}

Deno.test("VFIO type1 container, group and device", async (t) => {
  await t.step("QEMU's order: status, set container, set iommu, map all RAM, get device", () => {
    const { host, group } = hostWithVfioVf();
    const { block } = guestRam(host);
    const { c, g, events } = openAll(host, group);
    assertEquals(c.getApiVersion(), 0);
    assertEquals(c.checkExtension(VFIO_TYPE1v2_IOMMU), 1);
    assert((g.getStatus().flags & 1) === 1, "viable");
    assert(g.setContainer(c).ok);
    assert(c.setIommu(VFIO_TYPE1v2_IOMMU).ok);
    assert(c.getInfo().ok);
    assert(c.mapDma({ vaddr: block.hva, iova: 0, size: block.size, flags: RW }).ok);
    const dev = g.getDeviceFd(VF);
    assert(dev.ok);
    assertEquals(dev.value.getInfo().numRegions, 9);
    const names = events.map((e) => e.details.name);
    assertEquals(names, [
      "VFIO_GET_API_VERSION",
      "VFIO_CHECK_EXTENSION",
      "VFIO_GROUP_GET_STATUS",
      "VFIO_GROUP_SET_CONTAINER",
      "VFIO_SET_IOMMU",
      "VFIO_IOMMU_GET_INFO",
      "VFIO_IOMMU_MAP_DMA",
      "VFIO_GROUP_GET_DEVICE_FD",
      "VFIO_DEVICE_GET_INFO",
    ]);
    assert(formatControlStep(events[6] ?? events[0] as never).includes("iova=0x0 size=0x40000000"));
  });

  await t.step("the VF's DMA goes through the container's domain: IOVA = GPA → pinned HPA", () => {
    const { host, group } = hostWithVfioVf();
    const { block } = guestRam(host);
    const { c, g } = openAll(host, group);
    g.setContainer(c);
    c.setIommu(VFIO_TYPE1v2_IOMMU);
    c.mapDma({ vaddr: block.hva, iova: 0, size: 0x100000, flags: VFIO_DMA_MAP_FLAG_READ });
    const dma = host.iommuHw().translatorFor(VF);
    assert(dma.ok);
    const out = newTranslateResult();
    assert(dma.value.translate(0x5000, 64, VHOST_ACCESS_RO, out));
    assertEquals(out.addr, block.hpa + 0x5000);
    // read-only mapping: a device write faults and is recorded
    assert(!dma.value.translate(0x5000, 64, VHOST_ACCESS_WO, out));
    assertEquals(out.fault?.kind, "permission");
    // beyond the mapping: unmapped
    assert(!dma.value.translate(0x200000, 64, VHOST_ACCESS_RO, out));
    assertEquals(out.fault?.kind, "unmapped");
    assertEquals(host.iommuHw().faults.total, 2);
    // iommu=pt does not apply to VFIO: the domain is translated, the first access walked
    assertEquals(dma.value.lastOutcome, "fault");
  });

  await t.step("SET_IOMMU needs a group; DMA ioctls need the IOMMU set", () => {
    const { host, group } = hostWithVfioVf();
    const { c, g } = openAll(host, group);
    const early = c.setIommu(VFIO_TYPE1v2_IOMMU);
    assert(!early.ok && early.error.errno === "EINVAL");
    const map = c.mapDma({ vaddr: 0x7f00_0000_0000, iova: 0, size: 0x1000, flags: RW });
    assert(!map.ok && map.error.errno === "EINVAL");
    g.setContainer(c);
    const noDev = g.getDeviceFd(VF);
    assert(!noDev.ok && noDev.error.errno === "EINVAL", "no IOMMU yet");
    assert(c.setIommu(VFIO_TYPE1v2_IOMMU).ok);
    const twice = c.setIommu(VFIO_TYPE1v2_IOMMU);
    assert(!twice.ok && twice.error.errno === "EINVAL");
  });

  await t.step("MAP_DMA: alignment, overlap, entry limit, memlock and unmapped addresses", () => {
    const { host, group } = hostWithVfioVf();
    const { block } = guestRam(host);
    const iommu = host.iommuHw();
    const cfd = host.open("/dev/vfio/vfio", "qemu:vm1");
    const gfd = host.open(`/dev/vfio/${group}`, "qemu:vm1");
    assert(cfd.ok && gfd.ok);
    const c = new VfioContainer({
      iommu,
      fd: cfd.value.fd,
      owner: "qemu:vm1",
      hvaToPa: host.ram.hvaToPa("qemu:vm1"),
      dmaEntryLimit: 2,
      memlockLimit: 0x3000,
    });
    const g = new VfioGroup({ pci: host.pci, group, fd: gfd.value.fd, owner: "qemu:vm1" });
    g.setContainer(c);
    c.setIommu(VFIO_TYPE1v2_IOMMU);
    const errno = (r: { ok: boolean; error?: { errno: string } }) => r.ok ? "ok" : r.error?.errno;
    assertEquals(
      errno(c.mapDma({ vaddr: block.hva + 8, iova: 0, size: 0x1000, flags: RW })),
      "EINVAL",
    );
    assertEquals(errno(c.mapDma({ vaddr: block.hva, iova: 0, size: 0, flags: RW })), "EINVAL");
    assertEquals(errno(c.mapDma({ vaddr: block.hva, iova: 0, size: 0x1000, flags: 0 })), "EINVAL");
    assertEquals(errno(c.mapDma({ vaddr: block.hva, iova: 0, size: 0x1000, flags: RW })), "ok");
    assertEquals(errno(c.mapDma({ vaddr: block.hva, iova: 0, size: 0x2000, flags: RW })), "EEXIST");
    assertEquals(
      errno(c.mapDma({ vaddr: 0x1000, iova: 0x10000, size: 0x1000, flags: RW })),
      "EFAULT",
    );
    assertEquals(
      errno(c.mapDma({ vaddr: block.hva, iova: 0x20000, size: 0x4000, flags: RW })),
      "ENOMEM",
    );
    assertEquals(
      errno(c.mapDma({ vaddr: block.hva, iova: 0x20000, size: 0x1000, flags: RW })),
      "ok",
    );
    assertEquals(
      errno(c.mapDma({ vaddr: block.hva, iova: 0x30000, size: 0x1000, flags: RW })),
      "ENOSPC",
    );
    assertEquals(c.pinnedBytes, 0x2000);
    const cut = c.unmapDma(0, 0x800);
    assert(!cut.ok);
    const un = c.unmapDma(0, 0x40000);
    assert(un.ok && un.value === 0x2000);
    assertEquals(c.pinnedBytes, 0);
  });

  await t.step("the group node is exclusive: a second VM gets EBUSY", () => {
    const { host, group } = hostWithVfioVf();
    assert(host.open(`/dev/vfio/${group}`, "qemu:vm1").ok);
    const second = host.open(`/dev/vfio/${group}`, "qemu:vm2");
    assert(!second.ok);
    assert(second.error.kind === "fs" && second.error.errno === "EBUSY");
  });

  await t.step("a function still on its net driver is not a VFIO device of the group", () => {
    const { host, group } = hostWithVfioVf();
    const { c, g } = openAll(host, group);
    g.setContainer(c);
    c.setIommu(VFIO_TYPE1v2_IOMMU);
    const other = g.getDeviceFd("0000:3b:00.3");
    assert(!other.ok && other.error.errno === "ENODEV");
    assert(g.getDeviceFd(VF).ok);
    const again = g.getDeviceFd(VF);
    assert(!again.ok && again.error.errno === "EBUSY");
  });

  await t.step("closing the container returns the group to its default domain", () => {
    const { host, group } = hostWithVfioVf();
    const { block } = guestRam(host);
    const { c, g } = openAll(host, group);
    const iommu = host.iommuHw();
    const before = iommu.domainOf(VF);
    g.setContainer(c);
    c.setIommu(VFIO_TYPE1v2_IOMMU);
    c.mapDma({ vaddr: block.hva, iova: 0, size: 0x1000, flags: RW });
    const dom = c.domain;
    assert(dom !== undefined && iommu.domainOf(VF) === dom);
    g.close();
    c.close();
    assertEquals(iommu.domainOf(VF), before);
    assert(!iommu.domains().some((d) => d.id === dom), "the unmanaged domain is freed");
  });
});
