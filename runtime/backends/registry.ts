/**
 * Which runtime model serves each `-netdev` type and each `-device` kind other than
 * virtio-net-pci. Engines plug in here: add your factory to the list (one line).
 *
 * @example
 * ```ts
 * import { NET_BACKEND_FACTORIES } from "./registry.ts";
 * if (!NET_BACKEND_FACTORIES.some((f) => f.type === "tap")) throw new Error("tap is modelled");
 * ```
 *
 * @module
 */

import type { NetBackendFactory } from "../qemu/net_backend.ts";
import type { VmDeviceFactory } from "../qemu/vm.ts";
import { TAP_BACKEND } from "./qemu_tap.ts";
import { USER_BACKEND } from "./user.ts";
import { VHOST_USER_BACKEND } from "./vhost_user/net_backend.ts";
import { VHOST_VDPA_BACKEND } from "./vhost_vdpa.ts";
import { VFIO_PCI_DEVICE } from "./vfio.ts";
import { INTEL_IOMMU_DEVICE, VIRTIO_IOMMU_DEVICE } from "./viommu.ts";
import { type HostEngine, VIRTIO_VDPA_ENGINE } from "./virtio_vdpa.ts";

/** `-netdev` types with a runtime model. */
export const NET_BACKEND_FACTORIES: readonly NetBackendFactory[] = [
  TAP_BACKEND,
  USER_BACKEND,
  VHOST_USER_BACKEND,
  VHOST_VDPA_BACKEND,
];

/** `-device` kinds (besides virtio-net-pci) with a runtime model. */
export const VM_DEVICE_FACTORIES: readonly VmDeviceFactory[] = [
  VFIO_PCI_DEVICE,
  INTEL_IOMMU_DEVICE,
  VIRTIO_IOMMU_DEVICE,
];

/** Engines that give host netdevs a data plane as the kernel creates them (virtio-vdpa). */
export const HOST_ENGINES: readonly HostEngine[] = [VIRTIO_VDPA_ENGINE];
