/**
 * What DPDK's vhost library offers a front-end for its built-in virtio-net device
 * (lib/vhost/vhost.h `VIRTIO_NET_SUPPORTED_FEATURES`, lib/vhost/vhost_user.h
 * `VHOST_USER_NET_SUPPORTED_FEATURES` and `VHOST_USER_PROTOCOL_FEATURES`), and how
 * `rte_vhost_driver_register` flags and `rte_vhost_driver_disable_features` trim it: no
 * IOMMU_PLATFORM without RTE_VHOST_USER_IOMMU_SUPPORT, no PAGEFAULT without post-copy support.
 * Both DPDK applications of the lab (testpmd's vhost PMD, OVS-DPDK) sit on it.
 *
 * @example
 * ```ts
 * import { rteVhostFeatures } from "./rte_vhost_features.ts";
 * const f = rteVhostFeatures({ iommuSupport: false, postcopySupport: false, disable: 0n });
 * if ((f.features >> 33n) & 1n) throw new Error("no IOMMU_PLATFORM without iommu-support");
 * if (((f.features >> 30n) & 1n) !== 1n) throw new Error("protocol features spoken");
 * ```
 *
 * @module
 */

import {
  featureMask,
  VHOST_F_LOG_ALL,
  VHOST_USER_F_PROTOCOL_FEATURES,
  VIRTIO_F_ACCESS_PLATFORM,
  VIRTIO_F_ANY_LAYOUT,
  VIRTIO_F_IN_ORDER,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_VERSION_1,
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_GSO,
  VIRTIO_NET_F_GUEST_ANNOUNCE,
  VIRTIO_NET_F_GUEST_CSUM,
  VIRTIO_NET_F_GUEST_ECN,
  VIRTIO_NET_F_GUEST_TSO4,
  VIRTIO_NET_F_GUEST_TSO6,
  VIRTIO_NET_F_GUEST_UFO,
  VIRTIO_NET_F_HOST_ECN,
  VIRTIO_NET_F_HOST_TSO4,
  VIRTIO_NET_F_HOST_TSO6,
  VIRTIO_NET_F_HOST_UFO,
  VIRTIO_NET_F_MQ,
  VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_NET_F_MTU,
  VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_RING_F_INDIRECT_DESC,
} from "../../virtio/features.ts";
import {
  protocolMask,
  VHOST_USER_PROTOCOL_F_BACKEND_REQ,
  VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD,
  VHOST_USER_PROTOCOL_F_CRYPTO_SESSION,
  VHOST_USER_PROTOCOL_F_HOST_NOTIFIER,
  VHOST_USER_PROTOCOL_F_LOG_SHMFD,
  VHOST_USER_PROTOCOL_F_MQ,
  VHOST_USER_PROTOCOL_F_NET_MTU,
  VHOST_USER_PROTOCOL_F_PAGEFAULT,
  VHOST_USER_PROTOCOL_F_RARP,
  VHOST_USER_PROTOCOL_F_REPLY_ACK,
  VHOST_USER_PROTOCOL_F_STATUS,
} from "./protocol.ts";

/** lib/vhost/vhost.h VIRTIO_NET_SUPPORTED_FEATURES. */
export const VIRTIO_NET_SUPPORTED_FEATURES: bigint = featureMask(
  VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_F_ANY_LAYOUT,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_MQ,
  VIRTIO_F_VERSION_1,
  VIRTIO_NET_F_GSO,
  VIRTIO_NET_F_HOST_TSO4,
  VIRTIO_NET_F_HOST_TSO6,
  VIRTIO_NET_F_HOST_UFO,
  VIRTIO_NET_F_HOST_ECN,
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_GUEST_CSUM,
  VIRTIO_NET_F_GUEST_TSO4,
  VIRTIO_NET_F_GUEST_TSO6,
  VIRTIO_NET_F_GUEST_UFO,
  VIRTIO_NET_F_GUEST_ECN,
  VIRTIO_RING_F_INDIRECT_DESC,
  VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_F_IN_ORDER,
  VIRTIO_F_ACCESS_PLATFORM,
);

/** lib/vhost/vhost_user.h VHOST_USER_NET_SUPPORTED_FEATURES. */
export const VHOST_USER_NET_SUPPORTED_FEATURES: bigint = VIRTIO_NET_SUPPORTED_FEATURES |
  featureMask(
    VIRTIO_F_RING_PACKED,
    VIRTIO_NET_F_MTU,
    VHOST_F_LOG_ALL,
    VHOST_USER_F_PROTOCOL_FEATURES,
    VIRTIO_NET_F_CTRL_RX,
    VIRTIO_NET_F_GUEST_ANNOUNCE,
  );

/** lib/vhost/vhost_user.h VHOST_USER_PROTOCOL_FEATURES. */
export const RTE_VHOST_PROTOCOL_FEATURES: bigint = protocolMask(
  VHOST_USER_PROTOCOL_F_MQ,
  VHOST_USER_PROTOCOL_F_LOG_SHMFD,
  VHOST_USER_PROTOCOL_F_RARP,
  VHOST_USER_PROTOCOL_F_REPLY_ACK,
  VHOST_USER_PROTOCOL_F_NET_MTU,
  VHOST_USER_PROTOCOL_F_BACKEND_REQ,
  VHOST_USER_PROTOCOL_F_CRYPTO_SESSION,
  VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD,
  VHOST_USER_PROTOCOL_F_HOST_NOTIFIER,
  VHOST_USER_PROTOCOL_F_PAGEFAULT,
  VHOST_USER_PROTOCOL_F_STATUS,
);

/** rte_vhost_driver_register flags that change what is offered. */
export interface RteVhostFlags {
  /** RTE_VHOST_USER_IOMMU_SUPPORT (vhost PMD `iommu-support=1`). */
  readonly iommuSupport: boolean;
  /** RTE_VHOST_USER_POSTCOPY_SUPPORT (vhost PMD `postcopy-support=1`). */
  readonly postcopySupport: boolean;
  /** rte_vhost_driver_disable_features. */
  readonly disable: bigint;
}

/** The virtio and protocol features a registered socket offers. */
export function rteVhostFeatures(
  flags: RteVhostFlags,
): { readonly features: bigint; readonly protocolFeatures: bigint } {
  let features = VHOST_USER_NET_SUPPORTED_FEATURES & ~flags.disable;
  let protocolFeatures = RTE_VHOST_PROTOCOL_FEATURES;
  if (!flags.iommuSupport) features &= ~featureMask(VIRTIO_F_ACCESS_PLATFORM);
  if (!flags.postcopySupport) protocolFeatures &= ~protocolMask(VHOST_USER_PROTOCOL_F_PAGEFAULT);
  return { features, protocolFeatures };
}
