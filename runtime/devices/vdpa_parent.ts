/**
 * A vDPA parent: what a management device can create (`struct vdpa_mgmt_dev` plus its
 * `dev_add`/`dev_set_attr` ops). The vdpa bus asks a parent for its classes, limits and
 * provisionable attributes (`vdpa mgmtdev show`), and calls `create` for `vdpa dev add`
 * after the core checks of drivers/vdpa/vdpa.c have passed.
 *
 * @example
 * ```ts
 * import { configAttrMask } from "./vdpa_parent.ts";
 * // VDPA_ATTR_DEV_NET_CFG_MAX_VQP is attribute 12: the mask the kernel reports is 0x1000
 * if (configAttrMask(["max_vqp"]) !== 0x1000n) throw new Error("attribute bit expected");
 * ```
 *
 * @module
 */

import type { Result } from "../result.ts";
import type { MacAddress } from "../host/mac.ts";
import type { VdpaDevice, VdpaOpError } from "./vdpa_device.ts";

/** Attributes `vdpa dev add` can provision. */
export type VdpaConfigAttr = "mac" | "mtu" | "max_vqp" | "device_features";

/** Their netlink attribute numbers (include/uapi/linux/vdpa.h `enum vdpa_attr`). */
export const VDPA_CONFIG_ATTR_NUMBER: Readonly<Record<VdpaConfigAttr, number>> = {
  mac: 10, // VDPA_ATTR_DEV_NET_CFG_MACADDR
  max_vqp: 12, // VDPA_ATTR_DEV_NET_CFG_MAX_VQP
  mtu: 13, // VDPA_ATTR_DEV_NET_CFG_MTU
  device_features: 20, // VDPA_ATTR_DEV_FEATURES
};

/** `BIT_ULL(attr)` over a set of attributes: the kernel's config mask. */
export function configAttrMask(attrs: readonly VdpaConfigAttr[]): bigint {
  let m = 0n;
  for (const a of attrs) m |= 1n << BigInt(VDPA_CONFIG_ATTR_NUMBER[a]);
  return m;
}

/** The provisioning request of `vdpa dev add` (`struct vdpa_dev_set_config`). */
export interface VdpaDevAddConfig {
  readonly mac?: MacAddress;
  readonly mtu?: number;
  readonly maxVqp?: number;
  readonly deviceFeatures?: bigint;
}

/** A management device's parent driver. */
export interface VdpaParent {
  /** Virtio device ids it can create (its id_table). */
  readonly supportedClasses: readonly number[];
  /** `max_supported_vqs`. */
  readonly maxSupportedVqs: number;
  /** `dev_features` of `vdpa mgmtdev show`. */
  readonly supportedFeatures: bigint;
  /** The config_attr_mask: which attributes `dev add` may carry. */
  readonly configAttrs: readonly VdpaConfigAttr[];
  /** dev_add: a new device, or the errno (and extack) the parent returns. */
  create(name: string, config: VdpaDevAddConfig): Result<VdpaDevice, VdpaOpError>;
  /** dev_del: the parent forgets a device it created. */
  release(dev: VdpaDevice): void;
  /** dev_set_attr (`vdpa dev set … mac`); absent when the parent has no such op. */
  readonly setAttr?: (
    dev: VdpaDevice,
    attrs: { readonly mac: MacAddress },
  ) => Result<void, VdpaOpError>;
}
