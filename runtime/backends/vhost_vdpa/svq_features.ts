/**
 * QEMU's feature gate for shadow virtqueues (`x-svq=on`): net/vhost-vdpa.c
 * `vhost_vdpa_net_valid_svq_features` then hw/virtio/vhost-shadow-virtqueue.c
 * `vhost_svq_valid_features`. SVQ relays every descriptor through QEMU, so the device may
 * only offer what QEMU's relay understands:
 *
 * - device-specific bits outside QEMU's `vdpa_svq_device_features` list are refused
 *   (`vdpa svq does not work with features 0x…`);
 * - among the transport bits 28…42, VERSION_1 and ACCESS_PLATFORM are required, EVENT_IDX
 *   and ANY_LAYOUT are tolerated and every other one is refused
 *   (`SVQ Invalid device feature flags, offer: 0x…, ok: 0x…`, where `ok` is the offer with
 *   the missing bits added and the refused ones removed).
 *
 * @example
 * ```ts
 * import { checkSvqFeatures } from "./svq_features.ts";
 * const r = checkSvqFeatures(0x1_0002_0000n); // VERSION_1 | CTRL_VQ: no ACCESS_PLATFORM
 * if (r?.text !== "SVQ Invalid device feature flags, offer: 0x100020000, ok: 0x300020000") {
 *   throw new Error(r?.text);
 * }
 * ```
 *
 * @module
 */

import { featureMask } from "../../virtio/features.ts";

/** VIRTIO_TRANSPORT_F_START / VIRTIO_TRANSPORT_F_END (include/uapi/linux/virtio_config.h). */
export const VIRTIO_TRANSPORT_F_START = 28;
export const VIRTIO_TRANSPORT_F_END = 42;

const ANY_LAYOUT = 27;
const EVENT_IDX = 29;
const VERSION_1 = 32;
const ACCESS_PLATFORM = 33;

/**
 * net/vhost-vdpa.c `vdpa_svq_device_features` as of QEMU 8.2 (the lab models 10.2): SVQ
 * restores the receive filters, the VLAN table and the offloads through the shadowed CVQ
 * since "vdpa: Allow VIRTIO_NET_F_CTRL_GUEST_OFFLOADS / CTRL_RX / CTRL_RX_EXTRA / CTRL_VLAN
 * in SVQ" (Hawkins Jiawei, 2023).
 */
export const VDPA_SVQ_DEVICE_FEATURES: bigint = featureMask(
  0, // CSUM
  1, // GUEST_CSUM
  2, // CTRL_GUEST_OFFLOADS
  3, // MTU
  5, // MAC
  7, // GUEST_TSO4
  8, // GUEST_TSO6
  9, // GUEST_ECN
  10, // GUEST_UFO
  11, // HOST_TSO4
  12, // HOST_TSO6
  13, // HOST_ECN
  14, // HOST_UFO
  15, // MRG_RXBUF
  16, // STATUS
  17, // CTRL_VQ
  18, // CTRL_RX
  19, // CTRL_VLAN
  20, // CTRL_RX_EXTRA
  22, // MQ
  ANY_LAYOUT,
  23, // CTRL_MAC_ADDR
  26, // VHOST_F_LOG_ALL: SVQ logs dirty pages itself
  61, // RSC_EXT
  62, // STANDBY
);

/** Why SVQ cannot run on a device: QEMU's message and the bits at fault. */
export interface SvqFeatureError {
  readonly kind: "device-features" | "transport-features";
  /** The device's features (GET_FEATURES). */
  readonly offer: bigint;
  /** What QEMU would accept instead (transport check), or the refused bits. */
  readonly ok: bigint;
  /** QEMU's error text, verbatim. */
  readonly text: string;
}

function hex(n: bigint): string {
  return `0x${n.toString(16)}`;
}

/** The SVQ gate; undefined when the device's features are fine. */
export function checkSvqFeatures(features: bigint): SvqFeatureError | undefined {
  // MAKE_64BIT_MASK(VIRTIO_TRANSPORT_F_START, VIRTIO_TRANSPORT_F_END - VIRTIO_TRANSPORT_F_START)
  const transport = ((1n << BigInt(VIRTIO_TRANSPORT_F_END - VIRTIO_TRANSPORT_F_START)) - 1n) <<
    BigInt(VIRTIO_TRANSPORT_F_START);
  const invalid = features & ~VDPA_SVQ_DEVICE_FEATURES & ~transport;
  if (invalid !== 0n) {
    return {
      kind: "device-features",
      offer: features,
      ok: invalid,
      text: `vdpa svq does not work with features ${hex(invalid)}`,
    };
  }
  let svq = features;
  let good = true;
  for (let b = VIRTIO_TRANSPORT_F_START; b <= VIRTIO_TRANSPORT_F_END; b++) {
    const bit = 1n << BigInt(b);
    if (b === ANY_LAYOUT || b === EVENT_IDX) continue;
    if (b === ACCESS_PLATFORM || b === VERSION_1) {
      // SVQ trusts the host IOMMU to translate, and the guest ring to be little endian
      if ((svq & bit) === 0n) {
        svq |= bit;
        good = false;
      }
      continue;
    }
    if ((svq & bit) !== 0n) {
      svq &= ~bit;
      good = false;
    }
  }
  if (good) return undefined;
  return {
    kind: "transport-features",
    offer: features,
    ok: svq,
    text: `SVQ Invalid device feature flags, offer: ${hex(features)}, ok: ${hex(svq)}`,
  };
}
