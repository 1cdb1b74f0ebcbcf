/**
 * The seam between QEMU's virtio-net device model (the frontend) and a netdev backend
 * (`-netdev user|tap|vhost-user|vhost-vdpa`), the way QEMU's `NetClientState` peer and the
 * vhost layer split the work:
 *
 * - at QEMU start a {@link NetBackendFactory} (looked up by netdev type in
 *   runtime/backends/registry.ts) creates the backend: opens `/dev/net/tun`, `/dev/vhost-net`,
 *   a vhost-user socket or `/dev/vhost-vdpa-N`, and traces its init messages;
 * - the frontend masks the features it offers with {@link NetBackend.features} (QEMU
 *   `vhost_net_get_features`, `peer_has_vnet_hdr` …) and caps queue pairs and sizes;
 * - when the guest sets DRIVER_OK the frontend calls {@link NetBackend.start} with the
 *   negotiated features and every queue's addresses; the backend builds its own device-side
 *   rings (with its own address translation, runtime/datapath/net_datapath.ts) and traces
 *   its start sequence (vhost ioctls in QEMU's order, vhost-user messages …);
 * - guest notifies reach it through {@link NetBackend.kick} (after the notify path's own
 *   hops: VM exit, ioeventfd, or a doorbell); it raises used-buffer interrupts through
 *   {@link NetFrontend.interrupt} and guest faults through {@link NetFrontend.deviceError};
 * - frames for the guest come from the host network to the backend, which runs the shared RX
 *   routine on its own context.
 *
 * @module
 */

import type { Result } from "../result.ts";
import type { GuestMemory } from "../memory/guest_memory.ts";
import type { CpuContext } from "../sim/cpu_context.ts";
import type { Mac } from "../traffic/address.ts";
import type { DatapathPath } from "../datapath/path_table.ts";
import type { Endpoint } from "../datapath/endpoint.ts";
import type { PacketGroup } from "../datapath/hop.ts";
import type { DeviceRing } from "../datapath/net_datapath.ts";
import type { Lab } from "../lab.ts";
import type { IoEventFd, IrqFd } from "./kvm.ts";
import type { NetdevSpec, VmError } from "./vm_spec.ts";
import type { Vm } from "./vm.ts";

/** One virtqueue as the guest configured it (what SET_VRING_NUM/ADDR/BASE carry). */
export interface VirtqueueConfig {
  /** virtio-net queue index (rx0 = 0, tx0 = 1, …, ctrl = 2N). */
  readonly index: number;
  /** `rx0`, `tx0`, `ctrl`. */
  readonly name: string;
  readonly layout: "split" | "packed";
  readonly size: number;
  /** Guest-physical addresses of the three areas. */
  readonly desc: number;
  readonly driver: number;
  readonly device: number;
  /** MSI-X vector (0xffff: none). */
  readonly vector: number;
  /** Where the device resumes (vhost SET_VRING_BASE: last_avail_idx). */
  readonly base: number;
}

/** What the frontend hands the backend at DRIVER_OK. */
export interface BackendStart {
  /** Virtual time of the guest's DRIVER_OK write. */
  readonly t: number;
  /** Features the guest accepted. */
  readonly features: bigint;
  /** Queue pairs in use. */
  readonly pairs: number;
  /** Every configured queue, by index. */
  readonly queues: readonly VirtqueueConfig[];
}

/** How the interrupt leaves the backend. */
export type InterruptSource =
  /** An eventfd write on the call fd (vhost, vhost-user, vDPA) → KVM irqfd. */
  | "irqfd"
  /** QEMU's own `virtio_notify` → `msix_notify` → KVM_SIGNAL_MSI ioctl. */
  | "qemu";

/** The device model as its backend sees it. */
export interface NetFrontend {
  /** The VM. */
  readonly vm: Vm;
  /** Guest RAM. */
  readonly mem: GuestMemory;
  /** The guest interface name (`eth0`). */
  readonly ifname: string;
  /** The device's MAC. */
  readonly mac: Readonly<Mac>;
  /** `vm1.eth0`, for traces. */
  readonly label: string;
  /** `x-txburst`: packets QEMU's TX bottom half moves per run. */
  readonly txBurst: number;
  /**
   * The NIC's link (QEMU `set_link`): while down, QEMU drops what the guest transmits
   * (`virtio_net_drop_tx_queue_data`) and what arrives for it (`qemu_deliver_packet_iov`
   * on a link-down client); backends check it before they touch a ring.
   */
  readonly linkUp: boolean;
  /**
   * Raises the used-buffer interrupt of virtqueue `index`: `ctx` wrote the call fd (or ran
   * `virtio_notify`) at `t` for the used buffers of `group` (its first packet's traffic pays;
   * every sampled packet gets the signal and injection hops).
   */
  interrupt(
    index: number,
    t: number,
    ctx: CpuContext,
    source: InterruptSource,
    group: PacketGroup,
  ): void;
  /**
   * Puts a device-side ring under the device status: it pops and interrupts only while the
   * device is live (DRIVER_OK, no NEEDS_RESET). A malformed ring then sets NEEDS_RESET
   * (`needs-reset`, QEMU's `virtio_error`) or only stops that queue (`stop-queue`, vhost's
   * `vq_err`).
   */
  attachRing(ring: DeviceRing, policy: "needs-reset" | "stop-queue"): void;
  /** The KVM ioeventfd of queue `index` (registered on first use): vhost's kick fd. */
  ioeventfd(index: number): IoEventFd;
  /** The irqfd of queue `index`'s MSI-X vector (vhost's call fd); undefined without one. */
  irqfd(index: number): IrqFd | undefined;
  /**
   * A guest-caused fault the device cannot recover from (QEMU `virtio_error`): sets
   * DEVICE_NEEDS_RESET and raises a configuration interrupt.
   */
  deviceError(message: string, t: number): void;
  /**
   * Virtqueue `index` stopped on a guest fault without NEEDS_RESET (vhost's `vq_err`): what
   * waits in it is lost.
   */
  queueError(index: number, message: string, t: number): void;
  /**
   * QEMU's `set_link` on this NIC at `t` (`qmp_set_link` → `virtio_net_set_link_status`): the
   * config space's VIRTIO_NET_S_LINK_UP follows `up` and a change raises the configuration
   * interrupt; a guest that negotiated VIRTIO_NET_F_STATUS turns its carrier off and stops
   * transmitting. A vhost-user netdev calls it when its back-end goes away and comes back
   * (`net_vhost_user_event`). Returns false when nothing changed.
   */
  setLink(up: boolean, t: number): boolean;
}

/** A running netdev backend. */
export interface NetBackend {
  /** The netdev type (`tap`, `user`, `vhost-user`, `vhost-vdpa`). */
  readonly type: string;
  /** The netdev id. */
  readonly id: string;
  /** Short name for tables and `show`: `vhost-net`, `qemu-tap`, `slirp`. */
  readonly label: string;
  /** Feature bits the backend can carry; the device offers its own ∩ these. */
  readonly features: bigint;
  /** Queue pairs the backend supports. */
  readonly maxQueuePairs: number;
  /** The backend maps a host notifier (doorbell page) as the guest's notify area. */
  readonly hostNotifier: boolean;
  /** Its datapath as data. */
  readonly path: DatapathPath;
  /** The frontend is plugged in (QEMU sets the peer). */
  attach(frontend: NetFrontend): Result<void, VmError>;
  /** The guest set DRIVER_OK: start the datapath; an error leaves the device broken. */
  start(start: BackendStart): Result<void, string>;
  /** Device reset or QEMU exit: stop the datapath and give the rings back. */
  stop(t: number): void;
  /**
   * A guest notify for virtqueue `index` reached the backend at `t` (ready time after the
   * notify path's hops), announcing the packets of `group` (empty for an RX refill).
   */
  kick(index: number, t: number, group: PacketGroup): void;
  /**
   * False while QEMU waits for the backend: `net_vhost_user_init` blocks in
   * `tcp_chr_wait_connected` until the back-end is on the socket, and the device's features
   * are the back-end's GET_FEATURES. The VM realizes its NICs and boots the guest once every
   * backend is ready ({@link whenReady}). Absent: ready at once.
   */
  readonly ready?: boolean;
  /** Calls `fn` once, when {@link ready} becomes true. */
  whenReady?(fn: () => void): void;
  /**
   * The guest wrote a driver feature word at `t` (`virtio_set_features` on each
   * `guest_feature` write; `features` is what the device holds so far). virtio-net then
   * re-attaches its queue pairs to the peer (`virtio_net_set_multiqueue` → `peer_attach`).
   */
  featuresWritten?(features: bigint, t: number): void;
  /**
   * The guest changed the queue pairs it uses at `t` (control queue VQ_PAIRS_SET,
   * `virtio_net_handle_mq` → `virtio_net_set_queue_pairs` → `peer_attach`/`peer_detach`).
   */
  queuePairsChanged?(pairs: number, t: number): void;
  /**
   * The guest made buffers available on virtqueue `index` at `t` (its store of the avail
   * index, or of a packed descriptor's flags), for the packets of `group` (empty for an RX
   * refill) — at every publication, before and whether or not the driver then notifies
   * (a notify arrives separately through {@link kick}; a device that asked for no kicks —
   * NO_NOTIFY, avail_event left behind — gets none). Nothing runs on the notify path: no
   * cost, no hop. A polling back-end finds the buffers on its next poll iteration.
   */
  published?(index: number, t: number, group: PacketGroup): void;
  /** The guest's address when the backend assigns it (slirp's DHCP: 10.0.2.15). */
  readonly guestIp?: number;
  /** The host netdev the backend moves frames through (`tap0`), if any. */
  readonly hostNetdev?: string;
  /** An endpoint inside the backend (slirp's gateway `vm1.net0.host`), if any. */
  readonly peerEndpoint?: Endpoint;
  /** Lines for `show vhost` (the backend's live state). */
  describe(): readonly string[];
  /** The device side of virtqueue `index` as the backend sees it (for `show vq`). */
  deviceRing?(index: number): DeviceRing | undefined;
  /**
   * Where the device is in virtqueue `index` when its rings are not the backend's own
   * objects (a vDPA device: get_vq_state, what VHOST_GET_VRING_BASE returns): the chains it
   * has taken end there. Split: the avail index; packed: slot and wrap counter.
   */
  lastAvail?(index: number): number | { readonly slot: number; readonly wrap: number } | undefined;
  /** QEMU exits (or its start failed): close fds, detach queues. */
  destroy(t: number): void;
}

/** What a factory gets to create a backend. */
export interface BackendEnv {
  readonly lab: Lab;
  readonly vm: Vm;
  readonly netdev: NetdevSpec;
}

/** Creates backends of one netdev type. */
export interface NetBackendFactory {
  /** The `-netdev` type it serves (`tap` with vhost on and off, `vhost-user` …). */
  readonly type: string;
  /** Opens what the backend needs at QEMU start; errors carry QEMU's text. */
  create(env: BackendEnv): Result<NetBackend, VmError>;
}
