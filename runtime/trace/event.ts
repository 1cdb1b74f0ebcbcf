/**
 * Typed trace events. A **hop** is one step of one packet on one CPU context: when it started
 * (`t`), what it cost (`dur`), where it ran (`ctx`, the name of a `CpuContext` of
 * `sim/cpu_context.ts`), which component did it (`comp`: `guest.virtio-net`, `kvm`, `vhost-net`, `tap0`, `iommu` …), what
 * it did (`action`, a closed union) and the action's structured details. A **control** event
 * is one step of a control plane (an ioctl, a vhost-user message, a status write, an IOTLB
 * update, a module load, a sysfs write …), not tied to a packet.
 *
 * Conventions for the datapaths:
 * - `t` and `dur` are ns; `dur` is what the hop charged to its context (0 for free hops).
 * - A hop that serves a batch (one kick for 32 packets, one wake-up) is recorded for each
 *   sampled packet of the batch with `batch` set; the metrics count it once.
 * - Every packet has exactly one `deliver` or `drop` hop; a `drop` names its
 *   {@link DropReason}. (Hops of a batch it belonged to, like the TX completion interrupt,
 *   may come later in time.)
 * - Addresses are numbers (guest-physical, IOVA, host-virtual); the text form prints them in
 *   hex.
 *
 * @example A hop as the vhost-net worker records it
 * ```ts
 * import type { HopEvent } from "./event.ts";
 * const pop: HopEvent<"pop"> = {
 *   type: "hop", t: 1250, dur: 60, ctx: "vhost-1234", comp: "vhost-net", action: "pop",
 *   flow: "t1", pkt: 1, details: { q: "tx0", head: 0, descs: 1, bytes: 72 },
 * };
 * if (pop.details.head !== 0) throw new Error("typed details");
 * ```
 *
 * @module
 */

/**
 * Why a packet was dropped. Every drop names one; the summary has a counter per reason
 * (`t1.dropped.ring_full`).
 */
export const DROP_REASONS = [
  /** The ring the packet had to enter had no free descriptor (TX ring full). */
  "ring_full",
  /** The receiver had no RX buffer posted (vdpa_sim "rx overruns", virtio RX ring empty). */
  "no_rx_buffer",
  /** The destination MAC did not pass the device's filter (vdpa_sim, NIC). */
  "mac_filter",
  /** A DMA or vhost translation hit an unmapped IOVA or a permission fault. */
  "iommu_fault",
  /** The link or interface was down. */
  "link_down",
  /** Larger than the MTU of the path. */
  "mtu_exceeded",
  /** A socket or device queue was full (tun txqueuelen, netdev backlog, mbuf pool). */
  "queue_full",
  /** The device was not live (no DRIVER_OK, vring not enabled, suspended). */
  "device_not_ready",
  /** The device had set DEVICE_NEEDS_RESET after bad guest input. */
  "needs_reset",
  /** The descriptor chain was malformed (loop, out of range, wrong direction). */
  "bad_descriptor",
  /** Nothing forwards it there (no bridge port, no route, no peer). */
  "no_route",
  /** The sink found a bad IPv4 or UDP checksum. */
  "bad_checksum",
  /** The sink found payload bytes that differ from what was sent. */
  "corrupt_payload",
] as const;

/** One drop reason. */
export type DropReason = typeof DROP_REASONS[number];

/** Which ring/queue: `tx0`, `rx0`, `cvq` (virtio-net numbering: rx = 2n, tx = 2n+1). */
export type Queue = string;

/** The details of each hop action. */
export interface HopDetailsMap {
  /** A guest app or host stack hands the frame to an interface. */
  "xmit": { dev: string; bytes: number; q?: Queue };
  /** The driver publishes a chain in the avail ring (or packed ring). */
  "add-avail": { q: Queue; head: number; descs: number; bytes: number; avail: number };
  /** The driver notifies the device (MMIO/PIO write of the queue index). */
  "kick": { q: Queue; avail?: number; batch?: number };
  /** The driver skipped the notification (NO_NOTIFY / EVENT_IDX said not needed). */
  "kick-suppressed": { q: Queue; why: string };
  /** A VM exit: `exit` light (handled in KVM) or userspace (to QEMU). */
  "vmexit": { reason: string; exit: "light" | "userspace"; q?: Queue; batch?: number };
  /** KVM matched the notify write to an ioeventfd. */
  "ioeventfd": { q: Queue; batch?: number };
  /** eventfd_signal / write on a kick, call or irq fd. */
  "eventfd-signal": { fd: "kick" | "call" | "irq" | "err"; q?: Queue; batch?: number };
  /** A sleeping thread was woken. */
  "wakeup": { thread: string; batch?: number };
  /** The CPU switched between threads or between user and kernel mode. */
  "context-switch": { from: string; to: string };
  /** A system call. */
  "syscall": { name: string; fd?: string; bytes?: number };
  /** A busy-polling context found work (PMD, vhost busyloop). */
  "poll": { q: Queue; found: number };
  /** The device side took a chain from the ring. */
  "pop": { q: Queue; head: number; descs: number; bytes: number; ids?: readonly number[] };
  /** An address translation (`space`: gpa-hva, iova-hva, iova-pa …). */
  "translate": { space: string; addr: number; to: number; len: number; hit?: boolean };
  /** An IOTLB miss (`roundtrip` when vhost had to ask QEMU's vIOMMU). */
  "iotlb-miss": { space: string; addr: number; roundtrip?: boolean };
  /** A CPU copy of packet bytes. */
  "copy": { bytes: number; from: string; to: string };
  /** A device DMA. */
  "dma": { dir: "read" | "write"; addr: number; bytes: number };
  /** The device published a used element. */
  "add-used": { q: Queue; head: number; len: number; used: number };
  /** An interrupt towards the driver (`via`: posted, exit, irqfd, msi, callback). */
  "irq": {
    q: Queue;
    via: "posted" | "exit" | "irqfd" | "msi" | "callback";
    vector?: number;
    batch?: number;
  };
  /** The device skipped the interrupt (NO_INTERRUPT / EVENT_IDX). */
  "irq-suppressed": { q: Queue; why: string };
  /** A NAPI poll run. */
  "napi-poll": { q: Queue; budget: number; work: number };
  /** vhost gave up the worker after its weight (256 packets / 512 KiB). */
  "requeue": { q: Queue; pkts: number; bytes: number };
  /** A switch/bridge/loopback passes the frame on. */
  "forward": { from: string; to: string };
  /** A MMIO write on a hardware doorbell (no exit). */
  "doorbell": { q: Queue; value: number };
  /** Serialization on a link at its speed. */
  "serialize": { link: string; bytes: number; bps: number };
  /** A netdev or NIC receives the frame. */
  "receive": { dev: string; bytes: number };
  /** A responder answers (ping echo reply, ARP reply). */
  "reply": { kind: "icmp-echo" | "arp"; bytes: number };
  /** The sink got the frame intact. */
  "deliver": { dev: string; bytes: number; latency: number };
  /** The packet is gone; `detail` says more (e.g. the faulting IOVA). */
  "drop": { reason: DropReason; detail?: string };
  /** Bad guest input seen by a device (the device may set NEEDS_RESET). */
  "fault": { what: string; q?: Queue };
}

/** Every hop action. */
export type HopAction = keyof HopDetailsMap;

/** All hop actions in a stable order (for tables and tests). */
export const HOP_ACTIONS: readonly HopAction[] = [
  "xmit",
  "add-avail",
  "kick",
  "kick-suppressed",
  "vmexit",
  "ioeventfd",
  "eventfd-signal",
  "wakeup",
  "context-switch",
  "syscall",
  "poll",
  "pop",
  "translate",
  "iotlb-miss",
  "copy",
  "dma",
  "add-used",
  "irq",
  "irq-suppressed",
  "napi-poll",
  "requeue",
  "forward",
  "doorbell",
  "serialize",
  "receive",
  "reply",
  "deliver",
  "drop",
  "fault",
];

/** One step of one packet. */
export interface HopEvent<A extends HopAction = HopAction> {
  /** Discriminant. */
  readonly type: "hop";
  /** Start (ns). */
  readonly t: number;
  /** Cost charged (ns). */
  readonly dur: number;
  /** CPU context name. */
  readonly ctx: string;
  /** Component. */
  readonly comp: string;
  /** What happened (the discriminant of the details). */
  readonly action: A;
  /** Traffic name (`t1`). */
  readonly flow: string;
  /** Packet sequence number in the traffic, from 1. */
  readonly pkt: number;
  /** The action's details. */
  readonly details: Readonly<HopDetailsMap[A]>;
}

/** A hop event of any action, discriminated on `action`. */
export type AnyHopEvent = { [A in HopAction]: HopEvent<A> }[HopAction];

/** Control-plane steps. */
export const CONTROL_ACTIONS = [
  /** An ioctl on a vhost, vhost-vdpa, VFIO or KVM fd (`name`: VHOST_SET_VRING_ADDR …). */
  "ioctl",
  /** A vhost-user message (`name`: VHOST_USER_SET_MEM_TABLE …, `dir`: request/reply). */
  "vhost-user-msg",
  /** A virtio device status write (`old`, `new`). */
  "status",
  /** Feature negotiation (`offered`, `accepted` as hex strings). */
  "features",
  /** An IOTLB update (vhost / vhost-vdpa / IOMMU map). */
  "iotlb-update",
  /** An IOTLB invalidation (unmap). */
  "iotlb-invalidate",
  /** vhost reported a miss to userspace. */
  "iotlb-miss-report",
  /** A kernel module was loaded or removed. */
  "module",
  /** A sysfs write or read. */
  "sysfs",
  /** A netlink request (vdpa dev add/del, ip link). */
  "netlink",
  /** A device appeared or disappeared (vdpa device, /dev node, netdev). */
  "device",
  /** A driver bound to or unbound from a device. */
  "bind",
  /** A virtqueue was configured or enabled. */
  "vring",
  /** A guest-visible device error (NEEDS_RESET). */
  "device-error",
  /** Anything else a component wants to say. */
  "note",
] as const;

/** One control-plane action. */
export type ControlAction = typeof CONTROL_ACTIONS[number];

/** A detail value: text, number, flag or a list of numbers. */
export type DetailValue = string | number | boolean | readonly number[];

/** One control-plane step. */
export interface ControlEvent {
  /** Discriminant. */
  readonly type: "control";
  /** Start (ns). */
  readonly t: number;
  /** Cost charged (ns). */
  readonly dur: number;
  /** CPU context name, or "" when the step is not charged to one. */
  readonly ctx: string;
  /** Component (`vhost-net`, `vdpa`, `qemu`, `kvm` …). */
  readonly comp: string;
  /** What happened. */
  readonly action: ControlAction;
  /** Structured details (`name`, `fd`, `value` …). */
  readonly details: Readonly<Record<string, DetailValue | undefined>>;
}

/** Where a capped recording stopped: `omitted` events were not kept. */
export interface TruncatedEvent {
  /** Discriminant. */
  readonly type: "truncated";
  /** Time of the first event not kept. */
  readonly t: number;
  /** Events counted but not kept. */
  readonly omitted: number;
}

/** Any trace event. */
export type TraceEvent = AnyHopEvent | ControlEvent | TruncatedEvent;

/** True for the two actions that end a packet's life. */
export function isTerminal(e: HopEvent): boolean {
  return e.action === "deliver" || e.action === "drop";
}
