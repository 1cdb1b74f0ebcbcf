/**
 * NIC models `host nic … model=` accepts, as data: PCI identity of the physical and virtual
 * functions, the SR-IOV capability's totals and routing-ID geometry, the drivers that bind
 * them, netdev limits, and for vDPA-capable parts what their vDPA parent reports
 * (`vdpa mgmtdev show`) and accepts (`vdpa dev add`).
 *
 * - `mlx5`: NVIDIA ConnectX-6 Dx. PF 15b3:101d bound by mlx5_core, VFs 15b3:101e at
 *   First VF Offset 2, stride 1 (PF 3b:00.0 → VFs 3b:00.2 …). With mlx5_vdpa loaded each
 *   VF bound to mlx5_core exposes `pci/<bdf>`; one vDPA device per VF, up to 32 queue
 *   pairs plus a control queue, vendor statistics `received_desc`/`completed_desc`.
 * - `e810`: Intel E810-C (ice PF, iavf VFs), no vDPA.
 *
 * @example
 * ```ts
 * import { NIC_MODELS } from "./nic_models.ts";
 * if (NIC_MODELS.mlx5.vdpa.parentModule !== "mlx5_vdpa") throw new Error("mlx5_vdpa parent");
 * ```
 *
 * @module
 */

import type { NicModel } from "../../runtime/host/nic_model.ts";

/** The NIC model catalog. */
export const NIC_MODELS = {
  mlx5: {
    description: "Mellanox Technologies MT2892 Family [ConnectX-6 Dx]",
    vendorId: 0x15b3,
    deviceId: 0x101d,
    vfDeviceId: 0x101e,
    pfDriver: "mlx5_core",
    vfDriver: "mlx5_core",
    totalVfs: 16,
    firstVfOffset: 2,
    vfStride: 1,
    macOui: [0x0c, 0x42, 0xa1],
    speedsMbps: [10000, 25000, 40000, 50000, 100000],
    mtu: { min: 68, max: 9978 },
    txQueues: 8,
    vdpa: {
      parentModule: "mlx5_vdpa",
      vendorId: 0x15b3,
      maxSupportedVqs: 65,
      maxVqSize: 32768,
      deviceFeatures: [0, 1, 3, 5, 11, 12, 16, 17, 19, 22, 23, 32, 33],
      configAttrs: ["mac", "mtu", "max_vqp", "device_features"],
      maxDevicesPerFunction: 1,
      vstats: ["received_desc", "completed_desc"],
      ngroups: 2,
      nas: 2,
    },
  },
  e810: {
    description: "Intel Corporation Ethernet Controller E810-C for QSFP",
    vendorId: 0x8086,
    deviceId: 0x1592,
    vfDeviceId: 0x1889,
    pfDriver: "ice",
    vfDriver: "iavf",
    totalVfs: 128,
    firstVfOffset: 8,
    vfStride: 1,
    macOui: [0xb4, 0x96, 0x91],
    speedsMbps: [10000, 25000, 50000, 100000],
    mtu: { min: 68, max: 9702 },
    txQueues: 16,
  },
} satisfies Record<string, NicModel>;
