/**
 * What a NIC model is, as data: the type `stdlib/catalog/nic_models.ts` satisfies. A model
 * gives the PCI identity of its physical and virtual functions, the SR-IOV geometry (total
 * VFs, First VF Offset and VF Stride from the SR-IOV capability, PCIe r6.0 §9.3.3.10), which
 * PCI drivers bind it, and, for vDPA-capable parts, the limits of its vDPA parent driver.
 *
 * @example
 * ```ts
 * import { type NicModel, vfRoutingId } from "./nic_model.ts";
 * // PF 0000:3b:00.0 with First VF Offset 2 and stride 1: VF 0 is 3b:00.2
 * if (vfRoutingId(0x3b00, { firstVfOffset: 2, vfStride: 1 }, 0) !== 0x3b02) throw new Error();
 * const _typed: Pick<NicModel, "pfDriver"> = { pfDriver: "mlx5_core" };
 * ```
 *
 * @module
 */

/** The vDPA parent side of a NIC model (what `vdpa mgmtdev show` reports for a function). */
export interface NicVdpaSpec {
  /** The module whose `vdpa-parent` registration exposes management devices. */
  readonly parentModule: string;
  /** vendor_id reported by `vdpa dev show`. */
  readonly vendorId: number;
  /** Management device `max_supported_vqs` (data queues plus the control queue). */
  readonly maxSupportedVqs: number;
  /** Largest virtqueue size (`max_vq_size`). */
  readonly maxVqSize: number;
  /** Feature bits the parent offers (`dev_features`). */
  readonly deviceFeatures: readonly number[];
  /** Attributes `vdpa dev add` may set (the mgmtdev's config_attr_mask). */
  readonly configAttrs: readonly ("mac" | "mtu" | "max_vqp" | "device_features")[];
  /** How many vDPA devices one function can host (-ENOSPC beyond it). */
  readonly maxDevicesPerFunction: number;
  /** Vendor statistics names per data queue, in netlink order. */
  readonly vstats: readonly string[];
  /** Virtqueue groups and address spaces (CVQ isolation). */
  readonly ngroups: number;
  readonly nas: number;
}

/** A NIC model. */
export interface NicModel {
  /** Marketing name, for `lspci`-like listings. */
  readonly description: string;
  readonly vendorId: number;
  readonly deviceId: number;
  /** Device id of its virtual functions. */
  readonly vfDeviceId: number;
  /** PCI driver that binds the physical function. */
  readonly pfDriver: string;
  /** PCI driver that binds virtual functions by default. */
  readonly vfDriver: string;
  /** sriov_totalvfs. */
  readonly totalVfs: number;
  /** First VF Offset and VF Stride (routing-ID arithmetic). */
  readonly firstVfOffset: number;
  readonly vfStride: number;
  /** OUI of the burned-in addresses. */
  readonly macOui: readonly [number, number, number];
  /** Link speeds the port can run at, in Mb/s. */
  readonly speedsMbps: readonly number[];
  /** Netdev MTU range (dev->min_mtu, dev->max_mtu). */
  readonly mtu: { readonly min: number; readonly max: number };
  /** TX queues of its netdevs (more than one gives the `mq` qdisc). */
  readonly txQueues: number;
  readonly vdpa?: NicVdpaSpec;
}

/**
 * Routing ID of VF `index` (0-based): PF RID + First VF Offset + index × VF Stride
 * (PCIe r6.0 §9.3.3.10). A RID is bus << 8 | device << 3 | function.
 */
export function vfRoutingId(
  pfRid: number,
  geometry: { readonly firstVfOffset: number; readonly vfStride: number },
  index: number,
): number {
  return (pfRid + geometry.firstVfOffset + index * geometry.vfStride) & 0xffff;
}
