/**
 * QEMU's virtio-net-pci device model (hw/net/virtio-net.c on hw/virtio/virtio-pci.c), the
 * frontend between the guest driver and a netdev backend:
 *
 * - **features**: the bits its properties turn on (`csum`, `mrg_rxbuf`, `mq`, `packed`,
 *   `event_idx`, `iommu_platform` …, `host_mtu` → MTU) ∩ what the backend can carry
 *   (`virtio_net_get_features`: no offloads without a vnet header; vhost masks its kernel
 *   feature bits);
 * - **config space**: MAC, link status, max_virtqueue_pairs, MTU (virtio 1.2 §5.1.4);
 * - **status**: a {@link DeviceStatus}; FEATURES_OK is refused when ACCESS_PLATFORM was
 *   offered and not accepted (QEMU `virtio_validate_features`); DRIVER_OK starts the backend,
 *   then the transport's ioeventfds; writing 0 stops it;
 * - **notify path** ({@link VirtioNetPci.notify}): the guest's 16-bit write of the queue
 *   index to `BAR4 + 0x3000 + index × multiplier`: a light exit matched by a KVM ioeventfd,
 *   a doorbell page when the backend maps a host notifier (no exit), or a heavyweight exit to
 *   QEMU when `ioeventfd=off`;
 * - **interrupt path** ({@link VirtioNetPci.interrupt}): the backend writes the call eventfd
 *   (irqfd) or QEMU injects the MSI itself (KVM_SIGNAL_MSI); KVM posts it to the vCPU or
 *   takes an injection exit; MSI-X vectors one per queue plus config, as Linux asks for them;
 * - **control queue**: handled in QEMU whatever the backend (`virtio_net_handle_ctrl`):
 *   MQ VQ_PAIRS_SET, MAC ADDR_SET, RX mode;
 * - **guest faults**: {@link VirtioNetPci.deviceError} is QEMU's `virtio_error`: NEEDS_RESET
 *   and a configuration interrupt;
 * - **link** ({@link VirtioNetPci.setLink}, QEMU's `set_link`): the config space's
 *   VIRTIO_NET_S_LINK_UP follows it and a change raises the configuration interrupt; while
 *   the link is down QEMU drops what the guest transmits (`virtio_net_drop_tx_queue_data`) and
 *   what arrives for it.
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import type { GuestMemory } from "../memory/guest_memory.ts";
import type { CpuContext } from "../sim/cpu_context.ts";
import { Counter } from "../trace/metrics.ts";
import type { Mac } from "../traffic/address.ts";
import { formatMac } from "../traffic/address.ts";
import type { PacketGroup } from "../datapath/hop.ts";
import {
  createDeviceRing,
  type DeviceRing,
  NET_BAD_CHAIN,
  NET_EMPTY,
  NET_FAULT,
  VirtioNetTx,
} from "../datapath/net_datapath.ts";
import {
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_CONFIG_S_NEEDS_RESET,
} from "../virtio/defs.ts";
import {
  featureMask,
  featureNames,
  hasFeature,
  VIRTIO_F_ACCESS_PLATFORM,
  VIRTIO_F_ANY_LAYOUT,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_IN_ORDER,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_NOTIFY_ON_EMPTY,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_RING_RESET,
  VIRTIO_F_VERSION_1,
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_CTRL_GUEST_OFFLOADS,
  VIRTIO_NET_F_CTRL_MAC_ADDR,
  VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_F_CTRL_RX_EXTRA,
  VIRTIO_NET_F_CTRL_VLAN,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_GSO,
  VIRTIO_NET_F_GUEST_ANNOUNCE,
  VIRTIO_NET_F_GUEST_CSUM,
  VIRTIO_NET_F_GUEST_ECN,
  VIRTIO_NET_F_GUEST_TSO4,
  VIRTIO_NET_F_GUEST_TSO6,
  VIRTIO_NET_F_GUEST_UFO,
  VIRTIO_NET_F_GUEST_USO4,
  VIRTIO_NET_F_GUEST_USO6,
  VIRTIO_NET_F_HOST_ECN,
  VIRTIO_NET_F_HOST_TSO4,
  VIRTIO_NET_F_HOST_TSO6,
  VIRTIO_NET_F_HOST_UFO,
  VIRTIO_NET_F_HOST_USO,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_MQ,
  VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_NET_F_MTU,
  VIRTIO_NET_F_STATUS,
} from "../virtio/features.ts";
import { encodeNetConfig, VIRTIO_NET_S_LINK_UP } from "../virtio/net_config.ts";
import { netQueueName } from "../virtio/net_queues.ts";
import { describeStatus, DeviceStatus } from "../virtio/status.ts";
import { POP_EMPTY, POP_FAULT } from "../virtio/split_device.ts";
import { describeQueueFault } from "../virtio/queue_fault.ts";
import type { Lab } from "../lab.ts";
import type { IoEventFd, IrqFd } from "./kvm.ts";
import type { InterruptSource, NetBackend, NetFrontend, VirtqueueConfig } from "./net_backend.ts";
import { viommuTranslator } from "./viommu_translator.ts";
import type { VirtioNetDeviceSpec } from "./vm_spec.ts";
import type { Vm } from "./vm.ts";

/** VIRTIO_MSI_NO_VECTOR. */
export const NO_VECTOR = 0xffff;
/** Size of the control queue (QEMU: 64). */
export const CTRL_QUEUE_SIZE = 64;
/** Offset of the notify area in BAR4 (QEMU's modern layout). */
export const NOTIFY_OFFSET = 0x3000;

/** The guest side of a virtio-net device: where interrupts land. */
export interface GuestIrqHandler {
  /**
   * A used-buffer interrupt of virtqueue `index` reached the guest at `t` on `vcpu`;
   * `group` are the packets whose completion raised it (its first traffic pays the handler).
   */
  irq(index: number, t: number, vcpu: CpuContext, group: PacketGroup): void;
  /** The configuration interrupt (NEEDS_RESET, link change). */
  configIrq(t: number): void;
  /** Queue `index` stopped (the guest is not told; its packets there are lost). */
  queueLost(index: number, why: string, t: number): void;
  /** The vCPU that handles virtqueue `index`'s vector. */
  vcpuFor(index: number): CpuContext;
}

/** `property name` → feature bit of the virtio-net properties that are plain feature bits. */
const PROP_BITS: readonly [string, number, boolean][] = [
  ["csum", VIRTIO_NET_F_CSUM, true],
  ["guest_csum", VIRTIO_NET_F_GUEST_CSUM, true],
  ["ctrl_guest_offloads", VIRTIO_NET_F_CTRL_GUEST_OFFLOADS, true],
  ["gso", VIRTIO_NET_F_GSO, true],
  ["guest_tso4", VIRTIO_NET_F_GUEST_TSO4, true],
  ["guest_tso6", VIRTIO_NET_F_GUEST_TSO6, true],
  ["guest_ecn", VIRTIO_NET_F_GUEST_ECN, true],
  ["guest_ufo", VIRTIO_NET_F_GUEST_UFO, true],
  ["host_tso4", VIRTIO_NET_F_HOST_TSO4, true],
  ["host_tso6", VIRTIO_NET_F_HOST_TSO6, true],
  ["host_ecn", VIRTIO_NET_F_HOST_ECN, true],
  ["host_ufo", VIRTIO_NET_F_HOST_UFO, true],
  ["status", VIRTIO_NET_F_STATUS, true],
  ["ctrl_rx", VIRTIO_NET_F_CTRL_RX, true],
  ["ctrl_vlan", VIRTIO_NET_F_CTRL_VLAN, true],
  ["ctrl_rx_extra", VIRTIO_NET_F_CTRL_RX_EXTRA, true],
  ["guest_announce", VIRTIO_NET_F_GUEST_ANNOUNCE, true],
  ["ctrl_mac_addr", VIRTIO_NET_F_CTRL_MAC_ADDR, true],
  ["guest_uso4", VIRTIO_NET_F_GUEST_USO4, true],
  ["guest_uso6", VIRTIO_NET_F_GUEST_USO6, true],
  ["host_uso", VIRTIO_NET_F_HOST_USO, true],
  ["notify_on_empty", VIRTIO_F_NOTIFY_ON_EMPTY, true],
  ["any_layout", VIRTIO_F_ANY_LAYOUT, true],
];

/** Offload bits a backend without a vnet header cannot carry (`virtio_net_get_features`). */
export const VNET_HDR_FEATURES: bigint = featureMask(
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_HOST_TSO4,
  VIRTIO_NET_F_HOST_TSO6,
  VIRTIO_NET_F_HOST_ECN,
  VIRTIO_NET_F_HOST_UFO,
  VIRTIO_NET_F_HOST_USO,
  VIRTIO_NET_F_GUEST_CSUM,
  VIRTIO_NET_F_GUEST_TSO4,
  VIRTIO_NET_F_GUEST_TSO6,
  VIRTIO_NET_F_GUEST_ECN,
  VIRTIO_NET_F_GUEST_UFO,
  VIRTIO_NET_F_GUEST_USO4,
  VIRTIO_NET_F_GUEST_USO6,
);

/** All 64 bits (a backend that masks nothing). */
export const ALL_FEATURES: bigint = (1n << 64n) - 1n;

/** The features the device's properties turn on (before the backend's mask). */
export function deviceFeaturesOf(spec: VirtioNetDeviceSpec, maxPairs: number): bigint {
  let f = featureMask(VIRTIO_NET_F_MAC, VIRTIO_F_VERSION_1);
  for (const [prop, bit, def] of PROP_BITS) {
    if (spec.featureProps[prop] ?? def) f |= 1n << BigInt(bit);
  }
  if (spec.mrgRxbuf) f |= 1n << BigInt(VIRTIO_NET_F_MRG_RXBUF);
  if (spec.ctrlVq) f |= 1n << BigInt(VIRTIO_NET_F_CTRL_VQ);
  // hw/net/virtio-net.c: MQ is offered with mq=on; max_virtqueue_pairs is the netdev's queues.
  if (spec.mq && maxPairs >= 1) f |= 1n << BigInt(VIRTIO_NET_F_MQ);
  if (spec.hostMtu > 0) f |= 1n << BigInt(VIRTIO_NET_F_MTU);
  if (spec.indirectDesc) f |= 1n << BigInt(VIRTIO_F_INDIRECT_DESC);
  if (spec.eventIdx) f |= 1n << BigInt(VIRTIO_F_EVENT_IDX);
  if (spec.iommuPlatform) f |= 1n << BigInt(VIRTIO_F_ACCESS_PLATFORM);
  if (spec.packed) f |= 1n << BigInt(VIRTIO_F_RING_PACKED);
  if (spec.inOrder) f |= 1n << BigInt(VIRTIO_F_IN_ORDER);
  if (spec.queueReset) f |= 1n << BigInt(VIRTIO_F_RING_RESET);
  // Without a control queue, none of the control features (§5.1.3.1).
  if (!spec.ctrlVq) {
    for (
      const b of [
        VIRTIO_NET_F_CTRL_RX,
        VIRTIO_NET_F_CTRL_VLAN,
        VIRTIO_NET_F_GUEST_ANNOUNCE,
        VIRTIO_NET_F_MQ,
        VIRTIO_NET_F_CTRL_MAC_ADDR,
        VIRTIO_NET_F_CTRL_RX_EXTRA,
        VIRTIO_NET_F_CTRL_GUEST_OFFLOADS,
      ]
    ) f &= ~(1n << BigInt(b));
  }
  return f;
}

/** One queue as the transport holds it. */
interface QueueState {
  readonly index: number;
  readonly name: string;
  readonly maxSize: number;
  size: number;
  desc: number;
  driver: number;
  device: number;
  vector: number;
  enabled: boolean;
  notifyAddr: number;
  ioeventfd: IoEventFd | undefined;
  irqfd: IrqFd | undefined;
}

/** A virtio-net-pci device; see the module documentation. */
export class VirtioNetPci implements NetFrontend {
  readonly vm: Vm;
  readonly spec: VirtioNetDeviceSpec;
  readonly backend: NetBackend | undefined;
  readonly ifname: string;
  readonly mac: Readonly<Mac>;
  readonly label: string;
  /** Guest-physical base of BAR4 (the modern MMIO BAR). */
  readonly bar4: number;
  /** Notify offset multiplier (4, or 0x1000 with page-per-vq). */
  readonly notifyMultiplier: number;
  /** Where interrupts land (set by the guest driver at probe). */
  guest: GuestIrqHandler | undefined = undefined;
  /** Queue pairs in use (after MQ VQ_PAIRS_SET). */
  pairs = 1;
  /** True between DRIVER_OK and reset. */
  started = false;
  /** Why the backend refused to start, if it did. */
  startError: string | undefined = undefined;
  /** Configuration-space MSI-X vector. */
  configVector = NO_VECTOR;
  readonly #lab: Lab;
  readonly #queues: QueueState[] = [];
  #ctrl: DeviceRing | undefined;
  #status: DeviceStatus;
  #features = 0n;
  #maxPairs = 1;
  #realized = false;
  /** The driver feature words as written (`guest_features[0..1]`). */
  readonly #guestFeatures = [0, 0];
  #linkUp = true;

  constructor(
    lab: Lab,
    vm: Vm,
    o: {
      spec: VirtioNetDeviceSpec;
      backend: NetBackend | undefined;
      ifname: string;
      slot: number;
    },
  ) {
    this.#lab = lab;
    this.vm = vm;
    this.spec = o.spec;
    this.backend = o.backend;
    this.ifname = o.ifname;
    this.label = `${vm.name}.${o.ifname}`;
    const mac = parseMacBytes(o.spec.mac);
    this.mac = mac;
    this.bar4 = 0xfe000000 + o.slot * 0x4000 + (o.spec.pagePerVq ? o.slot * 0x100000 : 0);
    this.notifyMultiplier = o.spec.pagePerVq ? 0x1000 : 4;
    this.#status = new DeviceStatus({ deviceFeatures: 0n });
    if (o.backend?.ready !== false) this.realize();
  }

  /**
   * The feature part of `virtio_net_device_realize`: the features the properties turn on
   * within what the backend carries, max_virtqueue_pairs and the queues. Runs at construction,
   * or — when QEMU had to wait for its backend ({@link NetBackend.ready}) — once the VM's
   * backends are there, before the guest boots. Idempotent.
   */
  realize(): void {
    if (this.#realized) return;
    this.#realized = true;
    const backend = this.backend;
    this.#maxPairs = Math.max(1, backend?.maxQueuePairs ?? 1);
    const mask = backend?.features ?? ALL_FEATURES;
    this.#features = deviceFeaturesOf(this.spec, this.#maxPairs) & mask;
    this.#status = new DeviceStatus({
      deviceFeatures: this.#features,
      // virtio_validate_features: an offered IOMMU_PLATFORM must be accepted.
      requiredFeatures: featureMask(VIRTIO_F_ACCESS_PLATFORM),
    });
    this.#status.onConfigChange = () => this.#configInterrupt();
    const n = 2 * (hasFeature(this.#features, VIRTIO_NET_F_MQ) ? this.#maxPairs : 1);
    for (let i = 0; i < n; i++) {
      const rx = i % 2 === 0;
      this.#addQueue(
        i,
        `${rx ? "rx" : "tx"}${i >> 1}`,
        rx ? this.spec.rxQueueSize : this.spec.txQueueSize,
      );
    }
    if (hasFeature(this.#features, VIRTIO_NET_F_CTRL_VQ)) {
      this.#addQueue(n, "ctrl", CTRL_QUEUE_SIZE);
    }
  }

  /** True once {@link realize} ran. */
  get realized(): boolean {
    return this.#realized;
  }

  /** The status register and feature negotiation. */
  get status(): DeviceStatus {
    return this.#status;
  }

  /** Features offered to the guest (0 until realized). */
  get features(): bigint {
    return this.#features;
  }

  /** max_virtqueue_pairs. */
  get maxPairs(): number {
    return this.#maxPairs;
  }

  #addQueue(index: number, name: string, maxSize: number): void {
    this.#queues.push({
      index,
      name,
      maxSize,
      size: maxSize,
      desc: 0,
      driver: 0,
      device: 0,
      vector: NO_VECTOR,
      enabled: false,
      notifyAddr: this.bar4 + NOTIFY_OFFSET + index * this.notifyMultiplier,
      ioeventfd: undefined,
      irqfd: undefined,
    });
  }

  get mem(): GuestMemory {
    return this.vm.mem;
  }

  get txBurst(): number {
    return this.spec.txBurst;
  }

  /** The NIC's link as QEMU's `set_link` left it (up at start). */
  get linkUp(): boolean {
    return this.#linkUp;
  }

  /** The configuration space bytes the guest reads. */
  config(): Uint8Array {
    return encodeNetConfig({
      mac: formatMac(this.mac),
      status: this.#linkUp ? VIRTIO_NET_S_LINK_UP : 0,
      maxVirtqueuePairs: this.maxPairs,
      mtu: this.spec.hostMtu,
    }, this.features);
  }

  // -- transport registers (virtio_pci_common_cfg) --------------------------------------------

  /** `num_queues`. */
  get numQueues(): number {
    return this.#queues.length;
  }

  /** `queue_size` of queue `i` as the device offers it (0: absent). */
  queueMaxSize(i: number): number {
    return this.#queues[i]?.maxSize ?? 0;
  }

  /** The name of queue `i` (`rx0`, `tx0`, `ctrl`). */
  queueName(i: number): string {
    return this.#queues[i]?.name ?? `vq${i}`;
  }

  /** Writes `device_status`; DRIVER_OK starts the backend, 0 resets. */
  writeStatus(value: number, t: number): Result<number, string> {
    const before = this.status.value;
    if (value === 0) {
      this.#stop(t);
      this.status.write(0);
      // virtio_pci_reset: the driver feature words go back to 0.
      this.#guestFeatures[0] = this.#guestFeatures[1] = 0;
      this.#trace("status", { value: 0, name: "reset" });
      return ok(0);
    }
    const r = this.status.write(value);
    const now = this.status.value;
    this.#trace("status", { value: now, name: describeStatus(now) });
    if (!r.ok) return err(r.error.kind);
    const added = now & ~before;
    if ((added & VIRTIO_CONFIG_S_FEATURES_OK) !== 0) {
      this.#trace("features", {
        offered: `0x${this.features.toString(16)}`,
        accepted: `0x${this.status.negotiated.toString(16)}`,
      });
    }
    if ((added & VIRTIO_CONFIG_S_DRIVER_OK) !== 0) this.#start(t);
    return ok(now);
  }

  /**
   * Writes the driver features (before FEATURES_OK) at `t` as Linux's
   * `vp_modern_set_features` does: `guest_feature` word 0, then word 1. QEMU applies each
   * write (`virtio_set_features` with both words as they stand) and virtio-net re-attaches its
   * queue pairs to the peer each time ({@link NetBackend.featuresWritten}).
   */
  writeDriverFeatures(bits: bigint, t: number = this.#lab.now): boolean {
    let ok = true;
    for (const word of [0, 1]) {
      this.#guestFeatures[word] = Number((bits >> BigInt(32 * word)) & 0xffffffffn);
      const features = (BigInt(this.#guestFeatures[1] as number) << 32n) |
        BigInt(this.#guestFeatures[0] as number);
      // virtio_set_features: refused once FEATURES_OK is set; bits not offered are dropped.
      ok = this.status.setDriverFeatures(features).ok;
      if (!ok) break;
      this.backend?.featuresWritten?.(features & this.#features, t);
    }
    return ok;
  }

  /** Configures queue `i` (select, size, vector, the three addresses, enable). */
  setupQueue(
    i: number,
    q: { size: number; desc: number; driver: number; device: number; vector: number },
  ): void {
    const s = this.#queues[i];
    if (s === undefined) return;
    s.size = q.size;
    s.desc = q.desc;
    s.driver = q.driver;
    s.device = q.device;
    s.vector = q.vector;
    s.enabled = true;
    this.#trace("vring", {
      q: s.name,
      name: "queue_enable",
      len: q.size,
      addr: q.desc,
      vector: q.vector,
    });
  }

  /** The queues the guest configured, as the backend gets them. */
  queueConfigs(): VirtqueueConfig[] {
    const packed = hasFeature(this.status.negotiated, VIRTIO_F_RING_PACKED);
    return this.#queues.filter((q) => q.enabled).map((q) => ({
      index: q.index,
      name: q.name,
      layout: packed ? "packed" : "split",
      size: q.size,
      desc: q.desc,
      driver: q.driver,
      device: q.device,
      vector: q.vector,
      base: 0,
    }));
  }

  /** The guest-physical notify address of queue `i`. */
  notifyAddr(i: number): number {
    return this.#queues[i]?.notifyAddr ?? 0;
  }

  // -- backend services -----------------------------------------------------------------------

  attachRing(ring: DeviceRing, policy: "needs-reset" | "stop-queue"): void {
    this.status.attachQueue(ring, policy);
  }

  /** The KVM ioeventfd of queue `index` (registered on first use; vhost's kick fd). */
  ioeventfd(index: number): IoEventFd {
    const q = this.#queues[index] as QueueState;
    q.ioeventfd ??= this.vm.kvm.addIoeventfd(q.notifyAddr, index, q.name);
    return q.ioeventfd;
  }

  /** The irqfd of queue `index`'s vector (vhost's call fd), undefined without a vector. */
  irqfd(index: number): IrqFd | undefined {
    const q = this.#queues[index] as QueueState;
    if (q.vector === NO_VECTOR) return undefined;
    q.irqfd ??= this.vm.kvm.irqfd(q.vector) ?? this.vm.kvm.addIrqfd(q.vector);
    return q.irqfd;
  }

  #trace(
    action: "status" | "features" | "vring" | "device-error",
    d: Record<string, string | number>,
  ) {
    this.#lab.control({ comp: `${this.label}`, action, details: d });
  }

  #start(t: number): void {
    this.started = true;
    this.startError = undefined;
    const backend = this.backend;
    if (backend !== undefined) {
      // virtio_net_vhost_status: every queue pair when MQ was acked (the guest picks how many
      // it uses over the control queue afterwards).
      const mq = hasFeature(this.status.negotiated, VIRTIO_NET_F_MQ);
      const r = backend.start({
        t,
        features: this.status.negotiated,
        pairs: mq ? this.maxPairs : 1,
        queues: this.queueConfigs().filter((q) => q.name !== "ctrl"),
      });
      if (!r.ok) {
        this.startError = r.error;
        this.deviceError(r.error, t);
      }
    }
    // virtio_pci_start_ioeventfd: the transport's own notifiers for queues without one.
    if (this.spec.ioeventfd && !(backend?.hostNotifier ?? false)) {
      for (const q of this.#queues) if (q.enabled) this.ioeventfd(q.index);
    }
    this.#setupCtrl();
  }

  #stop(t: number): void {
    if (!this.started) return;
    this.started = false;
    this.backend?.stop(t);
    for (const q of this.#queues) {
      if (q.ioeventfd !== undefined) this.vm.kvm.removeIoeventfd(q.notifyAddr);
      q.ioeventfd = undefined;
      q.enabled = false;
    }
    this.#ctrl = undefined;
  }

  #setupCtrl(): void {
    const q = this.#queues.find((x) => x.name === "ctrl" && x.enabled);
    if (q === undefined) return;
    // QEMU reads the control queue through the device's address space (the vIOMMU's IOVAs).
    const dma = this.vm.dmaTranslation(this, this.status.negotiated);
    const r = createDeviceRing(this.mem, {
      layout: hasFeature(this.status.negotiated, VIRTIO_F_RING_PACKED) ? "packed" : "split",
      size: q.size,
      desc: q.desc,
      driver: q.driver,
      device: q.device,
      features: this.status.negotiated,
      ...(dma === undefined ? {} : { translator: viommuTranslator(dma.viommu, dma.rid) }),
    });
    if (!r.ok) {
      this.deviceError(`control queue: ${describeQueueFault(r.error)}`, this.#lab.now);
      return;
    }
    this.status.attachQueue(r.value);
    this.#ctrl = r.value;
  }

  /**
   * QEMU handles the control queue itself (`virtio_net_handle_ctrl`): pops each command,
   * applies MQ VQ_PAIRS_SET / MAC ADDR_SET / RX mode, writes the ack byte. Returns commands
   * handled. Called when the guest kicks the control queue at `t`.
   */
  handleCtrl(t: number = this.#lab.now): number {
    const ring = this.#ctrl;
    if (ring === undefined) return 0;
    let n = 0;
    const hdr = new Uint8Array(2);
    for (;;) {
      const head = ring.pop();
      if (head === POP_EMPTY || head === POP_FAULT) break;
      const c = ring.chain;
      c.copyOut(hdr, 0, 0);
      const cls = hdr[0] as number;
      const cmd = hdr[1] as number;
      const data = new Uint8Array(Math.max(0, c.readableBytes - 2));
      c.copyOut(data, 0, 2);
      let ack = 1; // VIRTIO_NET_ERR
      let what = `class ${cls} cmd ${cmd}`;
      if (cls === 4 && cmd === 0 && data.length >= 2) {
        // VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET: 1 ≤ pairs ≤ max_virtqueue_pairs (§5.1.6.5.5).
        const pairs = (data[0] as number) | ((data[1] as number) << 8);
        what = `MQ_VQ_PAIRS_SET ${pairs}`;
        if (
          pairs >= 1 && pairs <= this.maxPairs &&
          hasFeature(this.status.negotiated, VIRTIO_NET_F_MQ)
        ) {
          this.pairs = pairs;
          ack = 0;
          // virtio_net_handle_mq → virtio_net_set_queue_pairs: the peer (re)attaches them.
          this.backend?.queuePairsChanged?.(pairs, t);
        }
      } else if (cls === 1 && cmd === 1 && data.length >= 6) {
        what = "MAC_ADDR_SET";
        ack = 0;
      } else if (cls === 0) {
        what = `RX ${["PROMISC", "ALLMULTI", "ALLUNI", "NOMULTI", "NOUNI", "NOBCAST"][cmd] ?? cmd}`;
        ack = 0;
      }
      c.copyIn(new Uint8Array([ack]), 0, 1);
      ring.addUsed(head, 1);
      n++;
      this.#trace("vring", { q: "ctrl", name: what, value: ack === 0 ? "OK" : "ERR" });
    }
    return n;
  }

  // -- notify and interrupt paths -------------------------------------------------------------

  /**
   * The guest driver notifies queue `index` at `t` on `vcpu` (the write of the index to the
   * queue's notify address) for the packets of `group`. Charges the notify path's hops and
   * hands the kick to the backend (or, for the control queue, to QEMU). Returns when the
   * vCPU is back in the guest.
   */
  notify(index: number, t: number, vcpu: CpuContext, group: PacketGroup): number {
    const lab = this.#lab;
    const hops = lab.hops;
    const q = this.#queues[index];
    const name = q?.name ?? `vq${index}`;
    const flow = group.flow;
    const batch = group.size > 1 ? group.size : undefined;
    group.count(Counter.kicks);
    let end: number;
    if (name === "ctrl") {
      // The guest spins on the control queue's reply; QEMU handles it after a full exit.
      end = hops.charge(vcpu, t, "vmexit_to_userspace", 0, flow);
      this.handleCtrl(end);
      return end;
    }
    if (this.backend?.hostNotifier && this.started) {
      // A host-notifier page mapped into the guest: the write rings the device, no exit.
      end = hops.charge(vcpu, t, "hw_doorbell_mmio", 0, flow);
      group.count(Counter.doorbells);
      if (group.sampled) group.record("virtio-pci", "doorbell", { q: name, value: index });
    } else if (q?.ioeventfd !== undefined) {
      // MMIO write → EPT misconfiguration exit, matched in KVM to the ioeventfd.
      end = hops.charge(vcpu, t, "vmexit_light", 0, flow);
      group.count(Counter.vmexits);
      if (group.sampled) {
        group.record("kvm", "vmexit", {
          reason: "ept-misconfig",
          exit: "light",
          q: name,
          ...(batch ? { batch } : {}),
        });
      }
      end = hops.charge(vcpu, end, "ioeventfd_signal", 0, flow);
      if (group.sampled) group.record("kvm", "ioeventfd", { q: name, ...(batch ? { batch } : {}) });
    } else {
      // No ioeventfd: the exit goes to QEMU, which runs the queue's handler.
      end = hops.charge(vcpu, t, "vmexit_to_userspace", 0, flow);
      group.count(Counter.vmexits);
      group.count(Counter.vmexits_userspace);
      group.count(Counter.user_kernel_switches, 2);
      if (group.sampled) {
        group.record("kvm", "vmexit", {
          reason: "mmio",
          exit: "userspace",
          q: name,
          ...(batch ? { batch } : {}),
        });
      }
    }
    if (this.started && this.backend !== undefined) {
      if (!this.#linkUp && index % 2 === 1 && this.backend.deviceRing !== undefined) {
        // virtio_net_handle_tx_bh with the link down: QEMU (vhost is stopped then) drops
        // whatever the guest queued.
        lab.sched.at(end, (now) => this.#dropTxQueueData(index, now));
      } else this.backend.kick(index, end, group);
    }
    return end;
  }

  /**
   * The guest made buffers available on queue `index` at `t` (kick or not): nothing crosses
   * the notify path; a polling backend learns of them ({@link NetBackend.published}).
   */
  published(index: number, t: number, group: PacketGroup): void {
    if (this.started) this.backend?.published?.(index, t, group);
  }

  /**
   * QEMU's `set_link` on this NIC or its netdev at `t` (net/net.c `qmp_set_link` →
   * `virtio_net_set_link_status`): VIRTIO_NET_S_LINK_UP follows `up` and a change raises the
   * configuration interrupt once the driver is running (`virtio_notify_config`). Going down,
   * QEMU drops what waits in the transmit queues; coming up, the backend looks at every queue
   * again (vhost restarts, QEMU flushes what it queued). Returns false when nothing changed.
   */
  setLink(up: boolean, t: number): boolean {
    if (this.#linkUp === up) return false;
    this.#linkUp = up;
    this.#lab.control({
      comp: this.label,
      action: "note",
      details: { name: "set_link", value: up ? "on" : "off", detail: "link status in config" },
    });
    if ((this.status.value & VIRTIO_CONFIG_S_DRIVER_OK) !== 0) this.#configInterrupt();
    const backend = this.backend;
    if (!this.started || backend === undefined) return true;
    for (const q of this.#queues) {
      if (!q.enabled || q.name === "ctrl") continue;
      if (!up && q.index % 2 === 1) this.#dropTxQueueData(q.index, t);
      else if (up) backend.kick(q.index, t, this.#lab.hops.group());
    }
    return true;
  }

  /**
   * `virtio_net_drop_tx_queue_data`: every chain the guest made available on transmit queue
   * `index` is popped and returned with length 0 on QEMU's thread; each packet is dropped
   * `link_down`. Returns the chains dropped.
   */
  #dropTxQueueData(index: number, t: number): number {
    const ring = this.backend?.deviceRing?.(index);
    if (ring === undefined || !this.started) return 0;
    const lab = this.#lab;
    const hops = lab.hops;
    const ctx = this.vm.qemu;
    const tx = new VirtioNetTx(ring, { features: this.status.negotiated, flows: lab.flows });
    let now = t;
    let n = 0;
    for (;;) {
      const r = tx.pop();
      if (r === NET_EMPTY) break;
      if (r === NET_FAULT) {
        const f = ring.fault;
        this.deviceError(`virtio-net ${f ? describeQueueFault(f) : "ring fault"}`, now);
        break;
      }
      n++;
      const flow = tx.id.flow;
      now = hops.charge(ctx, now, "qemu_virtqueue_pop_push", 0, flow);
      if (r === NET_BAD_CHAIN) continue; // already returned with length 0
      if (flow !== undefined) {
        hops.drop(
          flow,
          tx.id.seq,
          ctx,
          now,
          "qemu.virtio-net",
          "link_down",
          `${this.label} link down`,
        );
      }
      tx.complete();
    }
    if (n === 0) return 0;
    tx.flush();
    if (tx.needsInterrupt()) this.interrupt(index, now, ctx, "qemu", lab.hops.group());
    return n;
  }

  interrupt(
    index: number,
    t: number,
    ctx: CpuContext,
    source: InterruptSource,
    group: PacketGroup,
  ): void {
    const lab = this.#lab;
    const hops = lab.hops;
    const q = this.#queues[index];
    const guest = this.guest;
    if (q === undefined || guest === undefined) return;
    const flow = group.flow;
    const batch = group.size > 1 ? group.size : undefined;
    let end: number;
    if (source === "irqfd") {
      end = hops.charge(ctx, t, "ioeventfd_signal", 0, flow);
      if (group.sampled) {
        group.record("eventfd", "eventfd-signal", {
          fd: "call",
          q: q.name,
          ...(batch ? { batch } : {}),
        });
      }
    } else {
      // virtio_notify → msix_notify → kvm_irqchip_send_msi: the KVM_SIGNAL_MSI ioctl.
      end = hops.charge(ctx, t, "syscall", 0, flow);
      group.count(Counter.syscalls);
      if (group.sampled) group.record("qemu", "syscall", { name: "KVM_SIGNAL_MSI" });
    }
    const vcpu = guest.vcpuFor(index);
    if (q.vector !== NO_VECTOR && this.vm.kvm.posted) {
      end = hops.charge(ctx, end, "irq_inject_posted", 0, flow);
      group.count(Counter.interrupts_posted);
      if (group.sampled) {
        group.record("kvm", "irq", {
          q: q.name,
          via: "posted",
          vector: q.vector,
          ...(batch ? { batch } : {}),
        });
      }
    } else {
      end = hops.charge(vcpu, end, "irq_inject_exit_based", 0, flow);
      group.count(Counter.interrupts_exit);
      group.count(Counter.vmexits);
      if (group.sampled) {
        group.record("kvm", "irq", {
          q: q.name,
          via: "exit",
          ...(q.vector !== NO_VECTOR ? { vector: q.vector } : {}),
          ...(batch ? { batch } : {}),
        });
      }
    }
    // The group is reused by the caller: the guest gets its own copy for the handler.
    const g = lab.hops.group();
    g.addGroup(group);
    lab.sched.at(end, (now) => guest.irq(index, now, vcpu, g));
  }

  deviceError(message: string, t: number): void {
    this.#trace("device-error", { name: message });
    this.status.needsReset();
    void t;
  }

  queueError(index: number, message: string, t: number): void {
    this.#trace("device-error", { q: this.queueName(index), name: message });
    this.guest?.queueLost(index, message, t);
  }

  #configInterrupt(): void {
    const guest = this.guest;
    if (guest === undefined) return;
    const t = this.#lab.now;
    this.#lab.sched.at(t, (now) => guest.configIrq(now));
  }

  /** True when the device set NEEDS_RESET. */
  get needsReset(): boolean {
    return (this.status.value & VIRTIO_CONFIG_S_NEEDS_RESET) !== 0;
  }

  /** Lines for `show features`. */
  describeFeatures(): string[] {
    const neg = this.status.negotiated;
    return [
      `${this.label}: ${this.spec.kind} netdev ${this.backend?.id ?? "(none)"} (${
        this.backend?.label ?? "no backend"
      })`,
      `  status      ${this.status.describe()}`,
      `  offered     0x${this.features.toString(16).padStart(16, "0")} ${
        featureNames(this.features).join(" ")
      }`,
      `  negotiated  0x${neg.toString(16).padStart(16, "0")} ${featureNames(neg).join(" ")}`,
    ];
  }
}

function parseMacBytes(text: string): Uint8Array {
  const parts = text.split(":").map((h) => parseInt(h, 16));
  if (parts.length !== 6 || parts.some((x) => !(x >= 0 && x <= 255))) {
    throw new TypeError(`Invalid MAC "${text}" in a VM spec`);
  }
  return new Uint8Array(parts);
}

/** The queue name of index `i` for `pairs` queue pairs and a control queue. */
export function queueNameOf(i: number, pairs: number, ctrl: boolean): string {
  return netQueueName(i, { pairs, ctrl }) ?? `vq${i}`;
}
