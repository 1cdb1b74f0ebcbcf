/**
 * The VFIO uapi (linux/vfio.h): ioctl numbers (`_IO(';', 100 + n)` — no size in the number,
 * every struct carries `argsz`), the type1 IOMMU ids, group status flags and DMA map flags,
 * and the one error value every VFIO operation returns.
 *
 * @example
 * ```ts
 * import { vfioIoctl, VFIO_TYPE1v2_IOMMU } from "./vfio_ioctl.ts";
 * if (vfioIoctl("VFIO_IOMMU_MAP_DMA") !== 0x3b71) throw new Error("_IO(';', 113)");
 * if (VFIO_TYPE1v2_IOMMU !== 3) throw new Error("type1v2");
 * ```
 *
 * @module
 */

import { type Errno, errnoNumber, strerror } from "../../host/errno.ts";

/** VFIO_TYPE (';') and VFIO_BASE. */
const VFIO_TYPE = 0x3b;
const VFIO_BASE = 100;

const OFFSETS = {
  VFIO_GET_API_VERSION: 0,
  VFIO_CHECK_EXTENSION: 1,
  VFIO_SET_IOMMU: 2,
  VFIO_GROUP_GET_STATUS: 3,
  VFIO_GROUP_SET_CONTAINER: 4,
  VFIO_GROUP_UNSET_CONTAINER: 5,
  VFIO_GROUP_GET_DEVICE_FD: 6,
  VFIO_DEVICE_GET_INFO: 7,
  VFIO_DEVICE_GET_REGION_INFO: 8,
  VFIO_DEVICE_GET_IRQ_INFO: 9,
  VFIO_DEVICE_SET_IRQS: 10,
  VFIO_DEVICE_RESET: 11,
  VFIO_IOMMU_GET_INFO: 12,
  VFIO_IOMMU_MAP_DMA: 13,
  VFIO_IOMMU_UNMAP_DMA: 14,
} as const;

/** A VFIO ioctl name. */
export type VfioIoctlName = keyof typeof OFFSETS;

/** The request number of a VFIO ioctl (`_IO(VFIO_TYPE, VFIO_BASE + n)`). */
export function vfioIoctl(name: VfioIoctlName): number {
  return (VFIO_TYPE << 8) | (VFIO_BASE + OFFSETS[name]);
}

/** VFIO_API_VERSION. */
export const VFIO_API_VERSION = 0;
/** IOMMU model ids (VFIO_CHECK_EXTENSION / VFIO_SET_IOMMU). */
export const VFIO_TYPE1_IOMMU = 1;
export const VFIO_TYPE1v2_IOMMU = 3;
/** `vfio_group_status.flags`. */
export const VFIO_GROUP_FLAGS_VIABLE = 1 << 0;
export const VFIO_GROUP_FLAGS_CONTAINER_SET = 1 << 1;
/** `vfio_iommu_type1_dma_map.flags`. */
export const VFIO_DMA_MAP_FLAG_READ = 1 << 0;
export const VFIO_DMA_MAP_FLAG_WRITE = 1 << 1;
/** `vfio_device_info.flags`. */
export const VFIO_DEVICE_FLAGS_RESET = 1 << 0;
export const VFIO_DEVICE_FLAGS_PCI = 1 << 1;
/** PCI region and IRQ indices (VFIO_PCI_*_REGION_INDEX, VFIO_PCI_*_IRQ_INDEX). */
export const VFIO_PCI_BAR0_REGION_INDEX = 0;
export const VFIO_PCI_CONFIG_REGION_INDEX = 7;
export const VFIO_PCI_NUM_REGIONS = 9;
export const VFIO_PCI_MSIX_IRQ_INDEX = 2;
export const VFIO_PCI_NUM_IRQS = 5;

/** What a VFIO operation was refused with. */
export interface VfioError {
  readonly kind: "errno";
  readonly op: VfioIoctlName | "open";
  readonly errno: Errno;
  readonly reason: string;
}

/** `VFIO_IOMMU_MAP_DMA: Invalid argument (-22): …` — the one text form. */
export function formatVfioError(e: VfioError): string {
  return `${e.op}: ${strerror(e.errno)} (-${errnoNumber(e.errno)}): ${e.reason}`;
}
