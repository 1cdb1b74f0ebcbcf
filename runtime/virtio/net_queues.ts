/**
 * virtio-net queue numbering (virtio 1.2 §5.1.2): index 2k is receiveq(k+1) (`rx<k>`), 2k+1
 * is transmitq(k+1) (`tx<k>`), and 2N is the control queue (`ctrl`) when CTRL_VQ is
 * negotiated, with N = max_virtqueue_pairs when MQ or RSS is negotiated, else 1.
 *
 * @example
 * ```ts
 * import { netQueueIndex, netQueueName } from "./net_queues.ts";
 * const layout = { pairs: 2, ctrl: true };
 * if (netQueueName(3, layout) !== "tx1" || netQueueName(4, layout) !== "ctrl") throw new Error();
 * if (netQueueIndex("rx1", layout) !== 2) throw new Error();
 * ```
 *
 * @module
 */

import { hasFeature, VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_MQ, VIRTIO_NET_F_RSS } from "./features.ts";

/** How many queue pairs there are and whether a control queue exists. */
export interface NetQueueLayout {
  /** Number of receive/transmit queue pairs. */
  readonly pairs: number;
  /** Whether a control queue exists (CTRL_VQ). */
  readonly ctrl: boolean;
}

/** The layout for negotiated features and the device's max_virtqueue_pairs. */
export function netQueueLayout(features: bigint, maxVirtqueuePairs: number): NetQueueLayout {
  const multi = hasFeature(features, VIRTIO_NET_F_MQ) || hasFeature(features, VIRTIO_NET_F_RSS);
  return {
    pairs: multi ? Math.max(1, maxVirtqueuePairs) : 1,
    ctrl: hasFeature(features, VIRTIO_NET_F_CTRL_VQ),
  };
}

/** Number of virtqueues: 2N, plus one for the control queue. */
export function netQueueCount(layout: NetQueueLayout): number {
  return 2 * layout.pairs + (layout.ctrl ? 1 : 0);
}

/** `rx<k>`, `tx<k>` or `ctrl` for a queue index; undefined beyond the last queue. */
export function netQueueName(index: number, layout: NetQueueLayout): string | undefined {
  if (!Number.isInteger(index) || index < 0) return undefined;
  if (index < 2 * layout.pairs) return `${index % 2 === 0 ? "rx" : "tx"}${Math.floor(index / 2)}`;
  if (layout.ctrl && index === 2 * layout.pairs) return "ctrl";
  return undefined;
}

/** The index of `rx<k>`, `tx<k>` or `ctrl` (also `cvq`); undefined when there is no such queue. */
export function netQueueIndex(name: string, layout: NetQueueLayout): number | undefined {
  if (name === "ctrl" || name === "cvq") return layout.ctrl ? 2 * layout.pairs : undefined;
  const m = /^(rx|tx)(\d+)$/.exec(name);
  if (!m) return undefined;
  const k = Number(m[2]);
  if (k >= layout.pairs) return undefined;
  return 2 * k + (m[1] === "tx" ? 1 : 0);
}

/** iproute2 `vdpa dev vstats` queue type label: `rx`, `tx` or `control_vq`. */
export function netQueueType(
  index: number,
  layout: NetQueueLayout,
): "rx" | "tx" | "control_vq" | undefined {
  const name = netQueueName(index, layout);
  if (name === undefined) return undefined;
  return name === "ctrl" ? "control_vq" : name.startsWith("rx") ? "rx" : "tx";
}
