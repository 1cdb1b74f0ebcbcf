/**
 * One virtqueue as an rte_vhost-like back-end keeps it (`struct vhost_virtqueue`): size and
 * base from the front-end, ring addresses as front-end virtual addresses, the kick and call
 * fds, the two independent state bits of reference §5.5 (started = rings translated and fds
 * set; enabled = SET_VRING_ENABLE) and, once the rings are translated, the device side of
 * the ring from the virtio core, reaching guest memory through the back-end's own mapping.
 *
 * @example A fresh vring is neither ready nor enabled
 * ```ts
 * import { BackendVring } from "./backend_vring.ts";
 * const vq = new BackendVring(1);
 * if (vq.ready || vq.enabled || vq.kick !== undefined) throw new Error("fresh ring");
 * if (vq.name !== "tx0") throw new Error("virtio-net numbering: 1 is tx0");
 * ```
 *
 * @module
 */

import type { PackedDevice } from "../../virtio/packed_device.ts";
import type { SplitDevice } from "../../virtio/split_device.ts";
import type { EventFd } from "./fd.ts";

/** A kick or call fd: an eventfd, `nofd` (VHOST_USER_VRING_NOFD_MASK: polled), or unset. */
export type VringFile = EventFd | "nofd";

/** The ring addresses of SET_VRING_ADDR, as the front-end sent them (its virtual addresses). */
export interface VringAddrs {
  readonly desc: number;
  readonly used: number;
  readonly avail: number;
  readonly log: number;
  readonly flags: number;
}

/** What a back-end vring did (rte_vhost's per-vq stats). */
export interface BackendVringCounters {
  /** Packets taken from the guest (TX rings). */
  dequeued: number;
  /** Packets put into guest buffers (RX rings). */
  enqueued: number;
  /** Packets that found no guest buffer (RX ring full). */
  enqueueFull: number;
  /** Call fd writes (guest notifications). */
  guestNotifications: number;
  /** Used updates after which the guest asked not to be interrupted. */
  guestNotificationsSuppressed: number;
  /** Bursts that found work. */
  bursts: number;
}

/** The virtio-net name of vring `index`: rx = 2n, tx = 2n+1. */
export function vringName(index: number): string {
  return `${index % 2 === 0 ? "rx" : "tx"}${Math.floor(index / 2)}`;
}

/** One back-end vring; see the module documentation. */
export class BackendVring {
  readonly index: number;
  /** SET_VRING_NUM; 0 until set. */
  size = 0;
  /** Next avail index to process (SET_VRING_BASE, then the ring's progress). */
  lastAvailIdx = 0;
  /** Used index published so far. */
  lastUsedIdx = 0;
  /** Packed only: wrap counters (1 after reset). */
  availWrap = 1;
  usedWrap = 1;
  /** SET_VRING_ADDR, until GET_VRING_BASE clears it. */
  addrs: VringAddrs | undefined = undefined;
  /** SET_VRING_KICK; undefined until set (VIRTIO_UNINITIALIZED_EVENTFD). */
  kick: VringFile | undefined = undefined;
  /** SET_VRING_CALL; undefined until set. */
  call: VringFile | undefined = undefined;
  /** SET_VRING_ENABLE (or implied when protocol features are off). */
  enabled = false;
  /** The last readiness reported to the application (vring_state_changed). */
  ready = false;
  /** The application's choice for guest notifications (rte_vhost_enable_guest_notification). */
  notifEnable: boolean | undefined = undefined;
  /** The translated ring (rte_vhost `access_ok`), or undefined. */
  queue: SplitDevice | PackedDevice | undefined = undefined;
  readonly counters: BackendVringCounters = {
    dequeued: 0,
    enqueued: 0,
    enqueueFull: 0,
    guestNotifications: 0,
    guestNotificationsSuppressed: 0,
    bursts: 0,
  };

  constructor(index: number) {
    this.index = index;
  }

  /** `rx0`, `tx0`, `rx1` … */
  get name(): string {
    return vringName(this.index);
  }

  /**
   * The avail index the back-end would report now (GET_VRING_BASE): the live ring's progress,
   * or the base it was given.
   */
  currentBase(): number {
    const q = this.queue;
    if (q === undefined) return this.lastAvailIdx;
    if (q.layout === "split") return q.nextAvail;
    const n = q.nextAvail;
    return (n.slot & 0x7fff) | (n.wrap << 15);
  }

  /** Keeps the saved indices in step with the live ring before it goes away. */
  syncFromQueue(): void {
    const q = this.queue;
    if (q === undefined) return;
    if (q.layout === "split") {
      this.lastAvailIdx = q.nextAvail;
      this.lastUsedIdx = q.nextUsed;
    } else {
      this.lastAvailIdx = q.nextAvail.slot;
      this.availWrap = q.nextAvail.wrap;
      this.lastUsedIdx = q.nextUsed.slot;
      this.usedWrap = q.nextUsed.wrap;
    }
  }

  /** Forgets the translated ring (rte_vhost `vring_invalidate`). */
  invalidate(): void {
    this.syncFromQueue();
    this.queue = undefined;
  }
}
