/**
 * The IOMMU family of the simulator: the host IOMMU (groups, domains, radix page tables,
 * IOTLB, ATS, DMA remapping faults), the vhost software IOTLB with its miss protocol,
 * vhost-vdpa's IOTLB handling and vdpa_sim's per-address-space IOTLB, a guest vIOMMU, QEMU's
 * relays between them, typed events and the `show iommu` text.
 *
 * @example
 * ```ts
 * import { Iommu, iommuConfigFromCmdline, showIommu } from "./mod.ts";
 * const mmu = new Iommu(iommuConfigFromCmdline("intel_iommu=on iommu=pt"));
 * mmu.addDevice("0000:3b:00.0");
 * if (!showIommu(mmu).includes("pass-through")) throw new Error("pt");
 * ```
 *
 * @module
 */

export * from "./ats.ts";
export * from "./cmdline.ts";
export * from "./event.ts";
export * from "./fault_log.ts";
export * from "./iommu.ts";
export * from "./iommu_error.ts";
export * from "./iotlb_cache.ts";
export * from "./page_table.ts";
export * from "./show.ts";
export * from "./vdpa_sim_iotlb.ts";
export * from "./vdpa_viommu_relay.ts";
export * from "./vhost_dev_iotlb.ts";
export * from "./vhost_iotlb.ts";
export * from "./vhost_iotlb_error.ts";
export * from "./vhost_iotlb_msg.ts";
export * from "./vhost_iotlb_relay.ts";
export * from "./vhost_vdpa_iotlb.ts";
export * from "./viommu.ts";
