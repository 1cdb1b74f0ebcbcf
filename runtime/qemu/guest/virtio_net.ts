/**
 * The guest kernel's virtio_net driver (Linux drivers/net/virtio_net.c over
 * drivers/virtio/virtio_ring.c), one instance per virtio-net-pci device, named eth0, eth1 …
 * in device order. It is also the traffic endpoint `vm1.eth0`.
 *
 * **Probe** ({@link GuestVirtioNet.probe}, virtio 1.2 §3.1.1): reset, ACKNOWLEDGE, DRIVER,
 * features = offered ∩ the driver's (VIRTIO_NET_DRIVER_FEATURES, passed in) with
 * dependencies dropped, FEATURES_OK and re-read, the config space (MAC, MTU,
 * max_virtqueue_pairs), every virtqueue (split or packed as negotiated, sizes from the
 * device, MSI-X vectors one per queue plus config when there are enough — else one shared,
 * else INTx), DRIVER_OK, MQ VQ_PAIRS_SET on the control queue, then `ndo_open`: fill the
 * receive rings (mergeable 1536-byte buffers, small 12 + 1518-byte buffers, or "big" page
 * chains with guest TSO and no MRG_RXBUF) and kick.
 *
 * **TX** (on the vCPU of the queue): the app's frames enter `start_xmit` (`guest_xmit`):
 * reclaim completed buffers, header + frame in one buffer in guest memory, `add_outbuf`; at
 * the end of a burst (`xmit_more` false) `kick_prepare` decides the notify; with napi_tx the
 * driver asks for a TX interrupt after ¾ of the outstanding buffers
 * (`enable_cb_delayed`). A full ring stops the queue; the app blocks (UDP socket backpressure)
 * until TX completion frees descriptors.
 *
 * **RX**: the interrupt (`guest_irq_to_napi`) schedules NAPI with callbacks disabled; a poll
 * (`napi_poll`) takes up to 64 buffers (`guest_rx_per_packet` each, then the stack,
 * `host_stack_rx`), refills when more than min(64, size)/2 descriptors are free, and when it
 * did less than its budget re-enables callbacks and re-checks the ring (the race of
 * `virtqueue_napi_complete`): work that arrived meanwhile polls again.
 *
 * @module
 */

import { err, ok, type Result } from "../../result.ts";
import { costKeyIndex } from "../../sim/cost.ts";
import type { CpuContext } from "../../sim/cpu_context.ts";
import type { DropReason } from "../../trace/event.ts";
import { Counter } from "../../trace/metrics.ts";
import type { Mac } from "../../traffic/address.ts";
import type { Endpoint, FrameBuilder } from "../../datapath/endpoint.ts";
import {
  newPacketId,
  type PacketId,
  PAYLOAD_HEADER_OFFSET,
  type TrafficFlow,
} from "../../datapath/flow_table.ts";
import type { HopFlow, PacketGroup } from "../../datapath/hop.ts";
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FAILED,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
} from "../../virtio/defs.ts";
import {
  hasFeature,
  negotiateFeatures,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_GUEST_ECN,
  VIRTIO_NET_F_GUEST_TSO4,
  VIRTIO_NET_F_GUEST_TSO6,
  VIRTIO_NET_F_GUEST_UFO,
  VIRTIO_NET_F_MQ,
  VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_NET_F_MTU,
  VIRTIO_NET_F_STATUS,
} from "../../virtio/features.ts";
import { decodeNetConfig, VIRTIO_NET_S_LINK_UP } from "../../virtio/net_config.ts";
import { netHdrSize } from "../../virtio/net_hdr.ts";
import { PackedDriver } from "../../virtio/packed_driver.ts";
import { descRingSize } from "../../virtio/packed_layout.ts";
import { SplitDriver, USED_FAULT, USED_NONE } from "../../virtio/split_driver.ts";
import { availRingSize, usedRingSize } from "../../virtio/split_layout.ts";
import { describeQueueFault } from "../../virtio/queue_fault.ts";
import { ICMP_ECHO_REQUEST } from "../../traffic/icmp.ts";
import { NET_EMPTY, NET_FAULT, VirtioNetTx } from "../../datapath/net_datapath.ts";
import type { Lab } from "../../lab.ts";
import { NO_VECTOR, type VirtioNetPci } from "../virtio_net_pci.ts";
import type { Vm } from "../vm.ts";
import type { GuestAlloc } from "./guest_alloc.ts";
import { NicDma } from "./nic_dma.ts";

/**
 * KVM_HALT_POLL_NS_DEFAULT (arch/x86/include/asm/kvm_host.h): a vCPU idle for longer than
 * this stopped polling and halted, and an interrupt must wake its thread.
 */
export const KVM_HALT_POLL_NS = 200_000;
/** Offset of the ICMP type in an Ethernet/IPv4 echo (14 + 20). */
const ICMP_TYPE_OFFSET = 34;
/** NAPI_POLL_WEIGHT (include/linux/netdevice.h). */
export const NAPI_BUDGET = 64;
/** GOOD_PACKET_LEN: ETH_HLEN + VLAN_HLEN + ETH_DATA_LEN. */
export const GOOD_PACKET_LEN = 14 + 4 + 1500;
/** MAX_SKB_FRAGS with 4 KiB pages: the page chain of a "big" receive buffer. */
const MAX_SKB_FRAGS = 17;
const PAGE_SIZE = 4096;
/** Bytes between TX buffer slots: a 1500-MTU frame and its header fit. */
const TX_SLOT = 2048;
/** Jumbo TX slots: the largest frame (65,549 bytes) and a 32-byte header. */
const TX_JUMBO_SLOT = 65600;
const FCS = 4;
/** Frames shorter than this (Ethernet/IP/UDP headers + our payload header) are gathered. */
const MIN_IN_PLACE = PAYLOAD_HEADER_OFFSET + 16;

/** The driver's cost keys, resolved once. */
const K_GUEST_XMIT = costKeyIndex("guest_xmit");
const K_VCPU_WAKE_FROM_HALT = costKeyIndex("vcpu_wake_from_halt");
const K_GUEST_IRQ_TO_NAPI = costKeyIndex("guest_irq_to_napi");
const K_NAPI_POLL = costKeyIndex("napi_poll");
const K_GUEST_RX_PER_PACKET = costKeyIndex("guest_rx_per_packet");
const K_HOST_STACK_RX = costKeyIndex("host_stack_rx");

type DriverRing = SplitDriver | PackedDriver;

/** One transmit queue. */
interface TxQueue {
  /** The driver the queue belongs to (the event handlers are shared by every driver). */
  readonly owner: GuestVirtioNet;
  readonly index: number;
  readonly name: string;
  readonly drv: DriverRing;
  readonly vcpu: CpuContext;
  readonly base: number;
  /** Jumbo slot area (allocated on first use). */
  jumbo: number;
  readonly free: number[];
  readonly slotFlow: (TrafficFlow | undefined)[];
  readonly slotSeq: Float64Array;
  /** Packets the app handed over that wait for a descriptor, as ranges. */
  readonly backlog: { flow: TrafficFlow; next: number; last: number; build: FrameBuilder }[];
  stopped: boolean;
  /** The device stopped this queue (NEEDS_RESET, vq_err): why its packets are lost. */
  lost: { reason: "needs_reset" | "device_not_ready"; detail: string } | undefined;
  /** A start_xmit loop is in progress (it resumes itself). */
  running: boolean;
  napi: boolean;
  readonly kick: PacketGroup;
  readonly done: PacketGroup;
  /** The slot published at each ring position (split: avail index mod size; packed: slot). */
  readonly posted: Int32Array;
  /** The next chain the driver adds is malformed this way (`inject bad-chain`). */
  armed: BadChain | undefined;
  /** Removed by a reset: events still scheduled for it do nothing. */
  dead: boolean;
}

/** One receive queue. */
interface RxQueue {
  /** The driver the queue belongs to (the event handlers are shared by every driver). */
  readonly owner: GuestVirtioNet;
  readonly index: number;
  readonly name: string;
  readonly drv: DriverRing;
  readonly vcpu: CpuContext;
  readonly base: number;
  /** Bytes one buffer can take (header included). */
  readonly bufLen: number;
  /** Stride between buffers in guest memory. */
  readonly stride: number;
  /** "big" mode: one chain of pages per buffer. */
  readonly big: boolean;
  /** The receive area as the device sees it (premapped; `base` without translation). */
  readonly dmaBase: number;
  napi: boolean;
  /** Packets taken by the poll in progress. */
  work: number;
  /** A poll is in progress: the next NAPI event is a step of it, not a new poll. */
  polling: boolean;
  /** Receive buffer slots posted and not back yet (1 = in use). */
  readonly inUse: Uint8Array;
  /** Every slot below this one is in use (where the search for a free slot starts). */
  freeHint: number;
  readonly poll: PacketGroup;
  readonly refill: PacketGroup;
  /** The next receive buffer the driver adds is malformed this way. */
  armed: BadChain | undefined;
  /** Removed by a reset. */
  dead: boolean;
}

/**
 * How a buggy or hostile guest driver can break the next chain it adds (`inject bad-chain`):
 * a descriptor that points back at itself, a `next` (split) or buffer id (packed) beyond the
 * ring, a buffer outside guest RAM, a TX buffer marked device-writable, or a TX frame larger
 * than any MTU (65,550 bytes).
 */
export type BadChain = "cycle" | "out-of-range" | "outside-memory" | "write-only-tx" | "oversize";

/** Why a bad chain cannot be armed on a queue. */
export type BadChainError =
  | { readonly kind: "no-queue"; readonly queue: string; readonly queues: readonly string[] }
  | { readonly kind: "tx-only"; readonly variant: BadChain; readonly queue: string }
  | { readonly kind: "not-running"; readonly why: string };

/** The lab's text of a {@link BadChainError} (its only formatter). */
export function describeBadChainError(e: BadChainError): string {
  switch (e.kind) {
    case "no-queue":
      return `no queue \`${e.queue}\` (the driver runs ${e.queues.join(", ") || "no queue"})`;
    case "tx-only":
      return `\`${e.variant}\` breaks a transmit chain; \`${e.queue}\` is a receive queue`;
    case "not-running":
      return `the driver is not running: ${e.why}`;
  }
}

/** A frame larger than any MTU (ETH_MAX_MTU 65535 + the Ethernet header + 1). */
export const OVERSIZE_FRAME = 65550;

/** Options of {@link GuestVirtioNet}. */
export interface GuestVirtioNetOptions {
  /** The interface name (`eth0`). */
  readonly ifname: string;
  /** The Linux driver's feature table (stdlib's VIRTIO_NET_DRIVER_FEATURES). */
  readonly driverFeatures: bigint;
}

/** The guest's virtio_net driver for one device; also the endpoint `vm.ifname`. */
export class GuestVirtioNet implements Endpoint {
  readonly name: string;
  readonly kind = "guest" as const;
  readonly ifname: string;
  readonly dev: VirtioNetPci;
  readonly ip: number;
  /** MAC from the config space (after probe). */
  mac: Readonly<Mac>;
  /** MTU: the config's with VIRTIO_NET_F_MTU, else 1500. */
  mtu = 1500;
  /** Features the driver accepted. */
  features = 0n;
  /** virtio-net header size in force. */
  hdrLen = 12;
  /** MRG_RXBUF negotiated. */
  mergeable = false;
  /** Queue pairs in use. */
  pairs = 1;
  /** Why the probe failed, if it did. */
  probeError: string | undefined = undefined;
  /** The interface is up and its rings filled. */
  up = false;
  /** Configuration interrupts received. */
  configInterrupts = 0;
  /**
   * netif_carrier_ok: with VIRTIO_NET_F_STATUS the link status the config space reports
   * (virtnet_config_changed_work), else always on. Off, the stack transmits nothing: what the
   * app sends is dropped `link_down`.
   */
  carrier = true;
  /** QEMU exited: the guest and its driver are gone (see {@link shutdown}). */
  gone = false;
  /** Watchers of every frame the interface sends or receives (`capture vm1.eth0`). */
  readonly captures: ((t: number, frame: Uint8Array, off: number, len: number) => void)[] = [];
  readonly #lab: Lab;
  readonly #vm: Vm;
  readonly #alloc: GuestAlloc;
  readonly #driverFeatures: bigint;
  readonly #tx: TxQueue[] = [];
  readonly #rx: RxQueue[] = [];
  /** Frame scratch space, allocated on first use (an idle guest costs none of it). */
  #scratchBuf: Uint8Array | undefined;
  readonly #id: PacketId = newPacketId();
  #ctrl: DriverRing | undefined;
  #ctrlBuf = 0;
  #ctrlDma = 0;
  /** The addresses the device gets (IOVAs behind a translated vIOMMU). */
  #dma: NicDma = NicDma.identity();
  /** What {@link #allocOnce} handed out, by key. */
  readonly #mem = new Map<string, { at: number; size: number }>();
  /**
   * Event handlers, one for every driver of every lab (the queue is the event's argument):
   * scheduling one allocates no closure, and a new lab runs code that is already optimized.
   * Each runs its step and goes on with the next one in the same call while the scheduler
   * says that continuation is the next event anyway (`continueAt`); otherwise it posts it.
   */
  static readonly #xmitStepFn = (at: number, q: TxQueue): void => {
    const self = q.owner;
    const sched = self.#lab.sched;
    let t = at;
    for (;;) {
      const next = self.#xmitStep(q, t);
      if (next < 0) return;
      if (!sched.continueAt(next)) return sched.post(next, GuestVirtioNet.#xmitStepFn, 0, q);
      t = next;
    }
  };
  static readonly #napiFn = (at: number, q: RxQueue): void => {
    const self = q.owner;
    const sched = self.#lab.sched;
    let t = at;
    for (;;) {
      const next = self.#napi(q, t);
      if (next < 0) return;
      if (!sched.continueAt(next)) return sched.post(next, GuestVirtioNet.#napiFn, 0, q);
      t = next;
    }
  };
  static readonly #txPollFn = (at: number, p: { q: TxQueue; hint: HopFlow | undefined }): void =>
    p.q.owner.#txPoll(p.q, at, p.hint);

  constructor(lab: Lab, vm: Vm, dev: VirtioNetPci, o: GuestVirtioNetOptions) {
    this.#lab = lab;
    this.#vm = vm;
    this.#alloc = vm.alloc;
    this.dev = dev;
    this.ifname = o.ifname;
    this.name = `${vm.name}.${o.ifname}`;
    this.mac = dev.mac;
    this.ip = dev.backend?.guestIp ?? lab.ipFor(this.name);
    this.#driverFeatures = o.driverFeatures;
  }

  get ctx(): CpuContext {
    return this.#vm.vcpus[0] as CpuContext;
  }

  /** Reached through its backend's host netdev (a tap), if it has one. */
  get attachment(): string | undefined {
    return this.dev.backend?.hostNetdev;
  }

  // -- probe ----------------------------------------------------------------------------------

  #scratch_(): Uint8Array {
    return this.#scratchBuf ??= new Uint8Array(65600);
  }

  /** Binds the driver to the device at `t` (virtio 1.2 §3.1.1, then `ndo_open`). */
  probe(t: number): Result<void, string> {
    return this.#bind(t, true);
  }

  #bind(t: number, resetFirst: boolean): Result<void, string> {
    const r = this.#probe(t, resetFirst);
    if (!r.ok) {
      this.probeError = r.error;
      this.dev.writeStatus(this.dev.status.value | VIRTIO_CONFIG_S_FAILED, t);
      this.#lab.control({
        comp: `${this.name}`,
        action: "note",
        details: { name: "virtio_net probe failed", detail: r.error },
      });
    }
    return r;
  }

  #probe(t: number, resetFirst: boolean): Result<void, string> {
    const dev = this.dev;
    dev.guest = this;
    if (resetFirst) dev.writeStatus(0, t);
    dev.writeStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE, t);
    dev.writeStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER, t);
    const accepted = negotiateFeatures(dev.features, this.#driverFeatures);
    dev.writeDriverFeatures(accepted);
    const s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK;
    dev.writeStatus(s, t);
    // §3.1.1 step 6: re-read; a device that cleared FEATURES_OK refused the subset.
    if ((dev.status.value & VIRTIO_CONFIG_S_FEATURES_OK) === 0) {
      return err("virtio: device refused features");
    }
    this.features = accepted;
    this.#dma = this.#nicDma(accepted);
    this.hdrLen = netHdrSize(accepted);
    this.mergeable = hasFeature(accepted, VIRTIO_NET_F_MRG_RXBUF);
    const cfg = decodeNetConfig(dev.config());
    this.mac = new Uint8Array(cfg.mac.split(":").map((h) => parseInt(h, 16)));
    if (hasFeature(accepted, VIRTIO_NET_F_MTU)) this.mtu = cfg.mtu;
    // virtnet_probe: with STATUS the config work reads the link, else the carrier is on.
    this.carrier = !hasFeature(accepted, VIRTIO_NET_F_STATUS) ||
      (cfg.status & VIRTIO_NET_S_LINK_UP) !== 0;
    const maxPairs = hasFeature(accepted, VIRTIO_NET_F_MQ) ? Math.max(1, cfg.maxVirtqueuePairs) : 1;
    const ctrl = hasFeature(accepted, VIRTIO_NET_F_CTRL_VQ);
    const nvqs = 2 * maxPairs + (ctrl ? 1 : 0);
    // vp_find_vqs_msix: a vector per queue with a callback plus config, else one shared.
    const vectors = dev.spec.vectors;
    const perVq = vectors >= 2 * maxPairs + 1;
    const shared = !perVq && vectors >= 2;
    dev.configVector = vectors >= 1 ? 0 : NO_VECTOR;
    const packed = hasFeature(accepted, VIRTIO_F_RING_PACKED);
    const vcpus = this.#vm.vcpus;
    // Every ring first, the buffers after them: the rings share guest pages (and the lab's
    // sparse memory allocates one chunk for all of them, not one per queue).
    for (let i = 0; i < nvqs; i++) {
      const size = dev.queueMaxSize(i);
      if (size === 0) break; // reported below
      const r = this.#allocRing(i, size, packed);
      if (!r.ok) return r;
    }
    for (let i = 0; i < nvqs; i++) {
      const isCtrl = ctrl && i === nvqs - 1;
      const size = dev.queueMaxSize(i);
      if (size === 0) return err(`virtio: queue ${i} not available`);
      const vector = isCtrl ? NO_VECTOR : perVq ? i + 1 : shared ? 1 : NO_VECTOR;
      const ring = this.#allocRing(i, size, packed);
      if (!ring.ok) return ring;
      const a = ring.value;
      const d = this.#dmaRing(a, size, packed);
      dev.setupQueue(i, { size, desc: d.desc, driver: d.driver, device: d.device, vector });
      const indirect = hasFeature(accepted, VIRTIO_F_INDIRECT_DESC);
      const pool = indirect
        ? this.#allocOnce(`pool${i}`, size * (MAX_SKB_FRAGS + 2) * 16, 16)
        : undefined;
      if (pool !== undefined && !pool.ok) return pool;
      const drv = packed
        ? PackedDriver.create(this.#vm.mem, {
          size,
          descRing: a.desc,
          driverEvent: a.driver,
          deviceEvent: a.device,
          features: accepted,
          ...(pool?.ok ? { indirectPool: this.#dmaPool(pool.value, size) } : {}),
        })
        : SplitDriver.create(this.#vm.mem, {
          size,
          descTable: a.desc,
          availRing: a.driver,
          usedRing: a.device,
          features: accepted,
          ...(pool?.ok ? { indirectPool: this.#dmaPool(pool.value, size) } : {}),
        });
      if (!drv.ok) return err(`virtio: ${describeQueueFault(drv.error)}`);
      const name = dev.queueName(i);
      const vcpu = vcpus[(i >> 1) % vcpus.length] as CpuContext;
      if (isCtrl) {
        this.#ctrl = drv.value;
        const buf = this.#allocOnce("ctrl", 64, 64);
        if (!buf.ok) return buf;
        this.#ctrlBuf = buf.value;
        this.#ctrlDma = this.#dma.coherent(buf.value, 64);
      } else if (i % 2 === 0) {
        const r = this.#newRx(i, name, drv.value, vcpu, size);
        if (!r.ok) return r;
        this.#rx.push(r.value);
      } else {
        const r = this.#newTx(i, name, drv.value, vcpu, size);
        if (!r.ok) return r;
        this.#tx.push(r.value);
      }
    }
    // The coherent rings and the premapped receive areas: their exits are the probe's.
    this.#dma.charge(this.ctx, t, undefined, 0);
    dev.writeStatus(s | VIRTIO_CONFIG_S_DRIVER_OK, t);
    if ((dev.status.value & VIRTIO_CONFIG_S_DRIVER_OK) === 0) {
      return err("virtio: DRIVER_OK refused");
    }
    // Linux: curr_queue_pairs = min(max_queue_pairs, num_online_cpus()), set over the CVQ.
    this.pairs = Math.min(maxPairs, vcpus.length);
    if (ctrl && hasFeature(accepted, VIRTIO_NET_F_MQ)) {
      if (!this.#ctrlCommand(4, 0, new Uint8Array([this.pairs & 0xff, this.pairs >> 8]), t)) {
        this.pairs = 1;
      }
    }
    this.#lab.control({
      comp: this.name,
      action: "note",
      details: {
        name: "virtio_net",
        dev: this.ifname,
        value: `mac ${cfg.mac} mtu ${this.mtu} queues ${this.pairs}/${maxPairs}`,
      },
    });
    this.#open(t);
    return ok(undefined);
  }

  /**
   * vring_use_dma_api: with ACCESS_PLATFORM negotiated and a translated vIOMMU, the device gets
   * IOVAs (runtime/qemu/guest/nic_dma.ts); otherwise guest-physical addresses.
   */
  #nicDma(features: bigint): NicDma {
    const tr = this.#vm.dmaTranslation(this.dev, features);
    if (tr === undefined) return NicDma.identity();
    return NicDma.translated({
      lab: this.#lab,
      viommu: tr.viommu,
      rid: tr.rid,
      strict: this.#vm.guestIommu.strict,
      timerCpu: this.ctx,
    });
  }

  /** The ring areas as the device sees them (dma_alloc_coherent). */
  #dmaRing(
    a: { desc: number; driver: number; device: number },
    size: number,
    packed: boolean,
  ): { desc: number; driver: number; device: number } {
    const dma = this.#dma;
    if (packed) {
      return {
        desc: dma.coherent(a.desc, descRingSize(size)),
        driver: dma.coherent(a.driver, 4),
        device: dma.coherent(a.device, 4),
      };
    }
    return {
      desc: dma.coherent(a.desc, 16 * size),
      driver: dma.coherent(a.driver, availRingSize(size)),
      device: dma.coherent(a.device, usedRingSize(size)),
    };
  }

  /** The indirect-descriptor pool of a queue of `size`, and where the device reads it. */
  #dmaPool(gpa: number, size: number): { gpa: number; addr: number; entries: number } {
    const entries = MAX_SKB_FRAGS + 2;
    return { gpa, addr: this.#dma.coherent(gpa, size * entries * 16), entries };
  }

  /**
   * Guest memory for `key` (a queue's rings or buffers): allocated once, given back the same
   * after a reset (the driver frees and reallocates the same sizes; keeping the addresses
   * keeps repeated resets from exhausting a small guest).
   */
  #allocOnce(key: string, size: number, align: number): Result<number, string> {
    const had = this.#mem.get(key);
    if (had !== undefined && had.size >= size) return ok(had.at);
    const r = this.#alloc.alloc(size, align);
    if (r.ok) this.#mem.set(key, { at: r.value, size });
    return r;
  }

  /** Rings for one queue, as `vring_create_virtqueue` lays them out (used part 64-aligned). */
  #allocRing(
    i: number,
    size: number,
    packed: boolean,
  ): Result<{ desc: number; driver: number; device: number }, string> {
    if (packed) {
      const desc = this.#allocOnce(`desc${i}`, descRingSize(size), 4096);
      if (!desc.ok) return desc;
      const ev = this.#allocOnce(`event${i}`, 8, 64);
      if (!ev.ok) return ev;
      return ok({ desc: desc.value, driver: ev.value, device: ev.value + 4 });
    }
    const descBytes = 16 * size;
    const availBytes = availRingSize(size);
    const usedOff = Math.ceil((descBytes + availBytes) / 64) * 64;
    const total = usedOff + usedRingSize(size);
    const base = this.#allocOnce(`ring${i}`, total, 4096);
    if (!base.ok) return base;
    return ok({ desc: base.value, driver: base.value + descBytes, device: base.value + usedOff });
  }

  #newTx(
    index: number,
    name: string,
    drv: DriverRing,
    vcpu: CpuContext,
    size: number,
  ): Result<TxQueue, string> {
    const base = this.#allocOnce(`txbuf${index}`, size * TX_SLOT, 4096);
    if (!base.ok) return base;
    const free: number[] = [];
    for (let i = size - 1; i >= 0; i--) free.push(i);
    return ok({
      owner: this,
      index,
      name,
      drv,
      vcpu,
      base: base.value,
      jumbo: 0,
      free,
      slotFlow: new Array(size).fill(undefined),
      slotSeq: new Float64Array(size),
      backlog: [],
      stopped: false,
      lost: undefined,
      running: false,
      napi: false,
      kick: this.#lab.hops.group(),
      done: this.#lab.hops.group(),
      posted: new Int32Array(size).fill(-1),
      armed: undefined,
      dead: false,
    });
  }

  #newRx(
    index: number,
    name: string,
    drv: DriverRing,
    vcpu: CpuContext,
    size: number,
  ): Result<RxQueue, string> {
    const gso = [
      VIRTIO_NET_F_GUEST_TSO4,
      VIRTIO_NET_F_GUEST_TSO6,
      VIRTIO_NET_F_GUEST_ECN,
      VIRTIO_NET_F_GUEST_UFO,
    ]
      .some((b) => hasFeature(this.features, b));
    const big = !this.mergeable && gso;
    // get_mergeable_buf_len: hdr + GOOD_PACKET_LEN aligned to L1_CACHE_BYTES; small: hdr + 1518.
    const bufLen = big
      ? this.hdrLen + (MAX_SKB_FRAGS + 1) * PAGE_SIZE - this.hdrLen
      : this.mergeable
      ? Math.ceil((this.hdrLen + GOOD_PACKET_LEN) / 64) * 64
      : this.hdrLen + GOOD_PACKET_LEN;
    const stride = big ? (MAX_SKB_FRAGS + 1) * PAGE_SIZE : Math.ceil(bufLen / 64) * 64;
    const base = this.#allocOnce(`rxbuf${index}`, size * stride, 4096);
    if (!base.ok) return base;
    // virtnet_rq_alloc premaps the pages it carves receive buffers from.
    const dmaBase = this.#dma.rxArea(base.value, size * stride);
    if (dmaBase < 0) return err("virtio_net: DMA mapping of the receive area failed");
    return ok({
      owner: this,
      index,
      name,
      drv,
      vcpu,
      base: base.value,
      bufLen,
      stride,
      big,
      dmaBase,
      napi: false,
      work: 0,
      polling: false,
      inUse: new Uint8Array(drv.size),
      freeHint: 0,
      poll: this.#lab.hops.group(),
      refill: this.#lab.hops.group(),
      armed: undefined,
      dead: false,
    });
  }

  /** `ndo_open`: fill every receive ring in use and kick. */
  #open(t: number): void {
    this.up = true;
    // The guest's link-up traffic (IPv6 DAD and router solicitations) teaches the bridge
    // its address on the tap's port.
    const tap = this.attachment;
    if (tap !== undefined) this.#lab.net.learn(tap, this.mac);
    for (let k = 0; k < this.pairs; k++) {
      const q = this.#rx[k];
      if (q === undefined) continue;
      this.#fill(q);
      q.refill.reset();
      this.dev.published(q.index, t, q.refill);
      if (q.drv.kickPrepare()) this.dev.notify(q.index, t, q.vcpu, q.refill);
    }
  }

  /** try_fill_recv: adds receive buffers until the ring is full. Returns buffers added. */
  #fill(q: RxQueue): number {
    let n = 0;
    const drv = q.drv;
    for (;;) {
      if (drv.numFree < (q.big ? 1 : 1)) break;
      const slot = this.#nextRxSlot(q);
      if (slot < 0) break;
      const addr = q.dmaBase + slot * q.stride; // the device's view of the buffer
      const pos = this.#availPos(drv);
      let head: number;
      if (q.big) {
        // add_recvbuf_big: the header alone, the rest of the first page, then full pages.
        const segs = [{ addr, len: this.hdrLen, write: true }, {
          addr: addr + this.hdrLen,
          len: PAGE_SIZE - this.hdrLen,
          write: true,
        }];
        for (let p = 1; p <= MAX_SKB_FRAGS; p++) {
          segs.push({ addr: addr + p * PAGE_SIZE, len: PAGE_SIZE, write: true });
        }
        head = drv.add(segs, slot);
      } else {
        head = drv.addInbuf(addr, q.bufLen, slot);
      }
      if (head < 0) break;
      const bad = q.armed;
      if (bad !== undefined) {
        q.armed = undefined;
        this.#corrupt(drv, q.name, head, pos, bad, this.#lab.now);
      }
      n++;
    }
    return n;
  }

  /** Receive buffers are posted slot by slot, lowest free slot first. */
  #nextRxSlot(q: RxQueue): number {
    const used = q.inUse;
    for (let i = q.freeHint; i < used.length; i++) {
      if (used[i] === 0) {
        used[i] = 1;
        q.freeHint = i + 1;
        return i;
      }
    }
    q.freeHint = used.length;
    return -1;
  }

  /** A slot is free again when its buffer came back. */
  #releaseRxSlot(q: RxQueue, slot: number): void {
    const used = q.inUse;
    if (slot >= 0 && slot < used.length) {
      used[slot] = 0;
      if (slot < q.freeHint) q.freeHint = slot;
    }
  }

  /** Sends a control-queue command and waits for the ack (virtnet_send_command). */
  #ctrlCommand(cls: number, cmd: number, data: Uint8Array, t: number): boolean {
    const drv = this.#ctrl;
    if (drv === undefined) return false;
    const mem = this.#vm.mem;
    const at = this.#ctrlBuf;
    mem.setU8(at, cls);
    mem.setU8(at + 1, cmd);
    mem.write(at + 2, data);
    mem.setU8(at + 32, 0xff);
    const dev = this.#ctrlDma;
    const head = drv.add(
      [
        { addr: dev, len: 2, write: false },
        { addr: dev + 2, len: data.length, write: false },
        { addr: dev + 32, len: 1, write: true },
      ],
      0,
      false,
    );
    if (head < 0) return false;
    drv.kickPrepare();
    const ctrlIndex = 2 * Math.max(1, this.#tx.length);
    const g = this.#lab.hops.group();
    this.dev.notify(ctrlIndex, t, this.ctx, g);
    if (drv.getUsed() < 0) return false;
    return mem.getU8(at + 32) === 0;
  }

  // -- endpoint: transmit ---------------------------------------------------------------------

  #txFor(flow: TrafficFlow, seq: number): TxQueue | undefined {
    if (this.pairs <= 1) return this.#tx[0];
    const sub = flow.schedule.subflow(seq);
    return this.#tx[sub % this.pairs];
  }

  sendBurst(
    now: number,
    flow: TrafficFlow,
    first: number,
    last: number,
    build: FrameBuilder,
  ): void {
    for (let seq = first; seq <= last; seq++) flow.metrics.onSend(now, flow.schedule.frameBytes);
    if (this.gone) return this.#dropAll(flow, first, last, now, "device_not_ready");
    if (!this.carrier) {
      // No carrier: the qdisc is deactivated (noop_qdisc drops what the stack hands it).
      const hops = this.#lab.hops;
      for (let seq = first; seq <= last; seq++) {
        hops.drop(
          flow,
          seq,
          this.ctx,
          now,
          "guest.stack",
          "link_down",
          `${this.ifname}: no carrier`,
        );
      }
      return;
    }
    if (this.pairs <= 1 || flow.schedule.flows <= 1) {
      const q = this.#tx[0];
      if (q === undefined) return this.#dropAll(flow, first, last, now, "device_not_ready");
      q.backlog.push({ flow, next: first, last, build });
      this.#xmit(q, now);
      return;
    }
    // Several UDP source ports on several queues: each packet to its queue (XPS by flow).
    for (let seq = first; seq <= last; seq++) {
      const q = this.#txFor(flow, seq) as TxQueue;
      q.backlog.push({ flow, next: seq, last: seq, build });
    }
    for (const q of this.#tx.slice(0, this.pairs)) if (q.backlog.length > 0) this.#xmit(q, now);
  }

  /** Drops every packet waiting for a descriptor on `q`. */
  #dropBacklog(
    q: TxQueue,
    t: number,
    reason: DropReason,
    detail: string,
    comp = "guest.stack",
  ): void {
    const hops = this.#lab.hops;
    for (const b of q.backlog.splice(0)) {
      for (let seq = b.next; seq <= b.last; seq++) {
        hops.drop(b.flow, seq, q.vcpu, t, comp, reason, detail);
      }
    }
  }

  #dropAll(
    flow: TrafficFlow,
    first: number,
    last: number,
    t: number,
    reason: DropReason,
    detail?: string,
  ) {
    for (let seq = first; seq <= last; seq++) {
      this.#lab.hops.drop(flow, seq, this.ctx, t, "guest.virtio-net", reason, detail);
    }
  }

  sendFrame(t: number, frame: Uint8Array, len: number, id: PacketId): void {
    const flow = id.flow;
    const q = this.#tx[0];
    if (flow === undefined || q === undefined) return;
    if (this.gone) {
      this.#lab.hops.drop(flow, id.seq, this.ctx, t, "guest.virtio-net", "device_not_ready");
      return;
    }
    if (!this.carrier) {
      this.#lab.hops.drop(flow, id.seq, q.vcpu, t, "guest.stack", "link_down", "no carrier");
      return;
    }
    const copy = frame.slice(0, len);
    q.backlog.push({
      flow,
      next: id.seq,
      last: id.seq,
      build: (buf, off) => {
        buf.set(copy, off);
        return len;
      },
    });
    this.#xmit(q, t);
  }

  /**
   * start_xmit for everything waiting on `q`, from `t` on its vCPU. Each packet is one step at
   * its own virtual time (what it publishes in the ring becomes visible then, not earlier);
   * the end of a burst (`xmit_more` false) or a stopped queue decides the kick.
   */
  #xmit(q: TxQueue, t: number): void {
    if (q.lost !== undefined) {
      // The device gave up on the queue (a stopped queue would otherwise hold them forever).
      this.#dropBacklog(q, t, q.lost.reason, q.lost.detail, "guest.virtio-net");
      return;
    }
    if (q.running || q.stopped) return;
    q.running = true;
    q.kick.reset();
    const next = this.#xmitStep(q, t);
    if (next >= 0) this.#lab.sched.post(next, GuestVirtioNet.#xmitStepFn, 0, q);
  }

  /**
   * Sends from `q`'s backlog from `t` until the next packet's time is in the future; returns
   * that time (the step continues then) or -1 when the loop is over.
   */
  #xmitStep(q: TxQueue, t: number): number {
    if (q.dead) return -1;
    const lab = this.#lab;
    const hops = lab.hops;
    const dev = this.dev;
    const mem = this.#vm.mem;
    const kick = q.kick;
    let now = t;
    if (!this.carrier) {
      this.#dropBacklog(q, now, "link_down", "carrier off");
      q.running = false;
      return -1;
    }
    if (!this.up || dev.needsReset || q.lost !== undefined) {
      const reason = dev.needsReset ? "needs_reset" : q.lost?.reason ?? "device_not_ready";
      for (const b of q.backlog.splice(0)) {
        for (let seq = b.next; seq <= b.last; seq++) {
          hops.drop(b.flow, seq, q.vcpu, now, "guest.virtio-net", reason, q.lost?.detail);
        }
      }
      q.running = false;
      return -1;
    }
    for (;;) {
      const b = q.backlog[0];
      if (b === undefined) break;
      const flow = b.flow;
      const seq = b.next;
      // free_old_xmit before each packet (the queue may have completions).
      this.#reclaim(q);
      if (q.drv.numFree < 1 || q.free.length === 0) {
        // netif_stop_subqueue; with napi_tx, ask for an interrupt once ¾ are done.
        if (!q.drv.enableCallbacksDelayed()) {
          this.#reclaim(q);
          if (q.drv.numFree >= 1 && q.free.length > 0) continue;
        }
        q.stopped = true;
        break;
      }
      const len = flow.schedule.frameBytes - FCS;
      now = hops.chargeAt(q.vcpu, now, K_GUEST_XMIT, 0, flow);
      if (hops.wants(flow, seq)) {
        hops.record(flow, seq, "guest.virtio-net", "xmit", {
          dev: this.ifname,
          bytes: len,
          q: q.name,
        });
      }
      const endOfBurst = b.next === b.last;
      if (endOfBurst) q.backlog.shift();
      else b.next++;
      if (len - 14 > this.mtu) {
        hops.drop(
          flow,
          seq,
          q.vcpu,
          now,
          "guest.virtio-net",
          "mtu_exceeded",
          `${len - 14} > mtu ${this.mtu}`,
        );
      } else {
        const posted = this.#post(q, b.build, flow, seq, len, now, mem);
        if (posted >= 0) {
          kick.add(flow, seq);
          now = posted;
        }
      }
      if (endOfBurst && kick.size > 0) {
        this.#kick(q, now);
        kick.reset();
      }
      // The next packet starts when this one is done: yield if that is in the future.
      if (now > lab.sched.now && q.backlog.length > 0) return now;
    }
    if (kick.size > 0) {
      this.#kick(q, now);
      kick.reset();
    }
    // start_xmit with napi_tx: completions interrupt once ¾ of what is in flight is done.
    if (!q.stopped) q.drv.enableCallbacksDelayed();
    q.running = false;
    return -1;
  }

  /**
   * Builds the frame of `seq` in a TX buffer, maps it and adds it to the ring; returns when the
   * vCPU is done (the mapping's exits included), or -1 when the packet was dropped.
   */
  #post(
    q: TxQueue,
    build: FrameBuilder,
    flow: TrafficFlow,
    seq: number,
    len: number,
    now: number,
    mem: Vm["mem"],
  ): number {
    const hops = this.#lab.hops;
    const bad = q.armed;
    q.armed = undefined;
    // An oversize chain carries the frame followed by junk up to 65,550 bytes.
    const bufLen = bad === "oversize" ? OVERSIZE_FRAME : len;
    const slot = q.free.pop() as number;
    const addr = this.#txSlotAddr(q, slot, bufLen);
    if (addr < 0) {
      q.free.push(slot);
      hops.drop(flow, seq, q.vcpu, now, "guest.virtio-net", "queue_full", "guest out of memory");
      return -1;
    }
    // The header in the skb's headroom, the frame after it: one descriptor (can_push).
    const total = this.hdrLen + bufLen;
    // Built where it goes (builders write exactly the frame's `len` bytes).
    const b = mem.span(addr, total, true);
    if (b !== undefined) {
      const o = mem.spanOffset;
      for (let i = 0; i < this.hdrLen; i++) b[o + i] = 0;
      build(b, o + this.hdrLen, seq);
    } else {
      const s = this.#scratch_();
      s.fill(0, 0, total);
      build(s, this.hdrLen, seq);
      mem.write(addr, s, 0, total);
    }
    if (this.captures.length > 0) {
      const f = mem.view(addr + this.hdrLen, len) ?? this.#scratch_().subarray(this.hdrLen, total);
      for (const c of this.captures) c(now, f, 0, len);
    }
    q.slotFlow[slot] = flow;
    q.slotSeq[slot] = seq;
    const pos = this.#availPos(q.drv);
    // vring_map_one_sg: the device gets the buffer's DMA address (DMA_TO_DEVICE).
    const dmaAddr = this.#dma.tx(q.index, slot, addr, total);
    if (dmaAddr < 0) {
      q.slotFlow[slot] = undefined;
      q.free.push(slot);
      hops.drop(flow, seq, q.vcpu, now, "guest.virtio-net", "queue_full", "DMA mapping error");
      return -1;
    }
    // The vIOMMU's exits for this map (and for unmaps reclaimed before it) come first.
    now = this.#dma.charge(q.vcpu, now, flow, seq);
    const head = q.drv.addOutbuf(dmaAddr, total, slot);
    if (head < 0) {
      this.#dma.txDone(q.index, slot);
      q.free.push(slot);
      hops.drop(flow, seq, q.vcpu, now, "guest.virtio-net", "ring_full", q.name);
      return -1;
    }
    q.posted[pos] = slot;
    if (bad !== undefined) {
      this.#corrupt(q.drv, q.name, head, pos, bad, now);
      if (bad !== "oversize") {
        // No device can carry it: the lab books it lost where the driver broke it.
        hops.drop(flow, seq, q.vcpu, now, "guest.virtio-net", "bad_descriptor", `${bad} chain`);
        q.slotFlow[slot] = undefined;
      }
    }
    if (hops.wants(flow, seq)) {
      hops.at(q.vcpu, now);
      hops.record(flow, seq, "guest.virtio-net", "add-avail", {
        q: q.name,
        head,
        descs: 1,
        bytes: total,
        avail: q.drv instanceof SplitDriver ? q.drv.availIdx : q.drv.nextAvail.slot,
      });
    }
    // virtqueue_add_split stores avail->idx per buffer: a poller sees it now, kick or not.
    this.dev.published(q.index, now, q.kick);
    return now;
  }

  /** Where the next chain goes: the avail index (split) or descriptor slot (packed). */
  #availPos(drv: DriverRing): number {
    return drv instanceof SplitDriver ? drv.availIdx & (drv.size - 1) : drv.nextAvail.slot;
  }

  /**
   * Breaks the chain just added at `head` (split) / descriptor slot `pos` (packed) the way
   * `bad` says, in guest memory, after publishing it — what a buggy driver leaves for the
   * device to find.
   */
  #corrupt(
    drv: DriverRing,
    queue: string,
    head: number,
    pos: number,
    bad: BadChain,
    t: number,
  ): void {
    const mem = this.#vm.mem;
    const split = drv instanceof SplitDriver;
    const at = split ? drv.addrs.descTable + head * 16 : drv.addrs.descRing + pos * 16;
    const flags = mem.getU16(at + 12 + (split ? 0 : 2));
    const setFlags = (f: number) => mem.setU16(at + 12 + (split ? 0 : 2), f);
    switch (bad) {
      case "cycle":
        // Split: `next` back to itself (virtio 1.2 §2.7.5.3.1 forbids loops). Packed: NEXT on
        // the last descriptor, so the chain runs into slots that are not available.
        setFlags(flags | VIRTQ_DESC_F_NEXT);
        if (split) mem.setU16(at + 14, head);
        break;
      case "out-of-range":
        // Split: a `next` beyond the table (§2.7.5.2); packed: a buffer id beyond the ring.
        if (split) {
          setFlags(flags | VIRTQ_DESC_F_NEXT);
          mem.setU16(at + 14, drv.size + 7);
        } else mem.setU16(at + 12, drv.size + 7);
        break;
      case "outside-memory": {
        const end = Math.max(...mem.regions().map((r) => r.end));
        const beyond = (Math.ceil(end / 2 ** 30) + 1) * 2 ** 30;
        mem.setU32(at, beyond >>> 0);
        mem.setU32(at + 4, Math.floor(beyond / 2 ** 32));
        break;
      }
      case "write-only-tx":
        setFlags(flags | VIRTQ_DESC_F_WRITE);
        break;
      case "oversize":
        break; // the buffer itself is the problem
    }
    this.#lab.control({
      comp: this.name,
      action: "note",
      details: {
        name: "bad-chain",
        q: queue,
        value: bad,
        detail: `${split ? "head" : "slot"} ${split ? head : pos}`,
      },
    });
    void t;
  }

  #txSlotAddr(q: TxQueue, slot: number, len: number): number {
    if (this.hdrLen + len <= TX_SLOT) return q.base + slot * TX_SLOT;
    if (q.jumbo === 0) {
      const r = this.#allocOnce(`jumbo${q.index}`, q.drv.size * TX_JUMBO_SLOT, 4096);
      if (!r.ok) return -1;
      q.jumbo = r.value;
    }
    return q.jumbo + slot * TX_JUMBO_SLOT;
  }

  /** kick_prepare → notify (or record that the device asked not to be kicked). */
  #kick(q: TxQueue, t: number): void {
    const kick = q.kick;
    if (q.drv.kickPrepare()) {
      if (kick.sampled) {
        this.#lab.hops.at(q.vcpu, t);
        kick.record("guest.virtio-net", "kick", {
          q: q.name,
          ...(kick.size > 1 ? { batch: kick.size } : {}),
        });
      }
      this.dev.notify(q.index, t, q.vcpu, kick);
    } else {
      kick.count(Counter.kicks_suppressed);
      if (kick.sampled) {
        this.#lab.hops.at(q.vcpu, t);
        kick.record("guest.virtio-net", "kick-suppressed", {
          q: q.name,
          why: hasFeature(this.features, 29) ? "avail_event" : "NO_NOTIFY",
        });
      }
    }
  }

  /** free_old_xmit: takes back every completed TX buffer. Returns how many. */
  #reclaim(q: TxQueue): number {
    let n = 0;
    for (;;) {
      const token = q.drv.getUsed();
      if (token === USED_NONE) break;
      if (token === USED_FAULT) {
        this.#broken(q.name, q.drv);
        break;
      }
      q.slotFlow[token] = undefined;
      this.#dma.txDone(q.index, token); // detach_buf: vring_unmap_one
      q.free.push(token);
      n++;
    }
    return n;
  }

  #broken(name: string, drv: DriverRing): void {
    const f = drv.fault;
    this.#lab.control({
      comp: this.name,
      action: "device-error",
      details: {
        q: name,
        name: "virtio_net: vring broken",
        detail: f ? describeQueueFault(f) : "",
      },
    });
  }

  // -- interrupts and NAPI --------------------------------------------------------------------

  vcpuFor(index: number): CpuContext {
    const vcpus = this.#vm.vcpus;
    return vcpus[(index >> 1) % vcpus.length] as CpuContext;
  }

  queueLost(index: number, why: string, t: number): void {
    const q = this.#tx[index >> 1];
    if (index % 2 === 1 && q !== undefined) this.#lose(q, "device_not_ready", why, t);
  }

  /**
   * The device gave up on `q`: what it never took from the ring is lost (what it took went
   * on its way), its backlog never leaves.
   */
  #lose(q: TxQueue, reason: "needs_reset" | "device_not_ready", why: string, t: number): void {
    if (q.lost !== undefined) return;
    q.lost = { reason, detail: why };
    const hops = this.#lab.hops;
    this.#dropUnconsumed(q, reason, why, t);
    for (const b of q.backlog.splice(0)) {
      for (let seq = b.next; seq <= b.last; seq++) {
        hops.drop(b.flow, seq, q.vcpu, t, "guest.virtio-net", reason, why);
      }
    }
  }

  /**
   * Drops the packets of the chains on `q` the device has not taken (its last_avail_idx up to
   * the driver's avail index); completed buffers are reclaimed first. A chain the device took
   * is its own: its packet was delivered or dropped where it went.
   */
  #dropUnconsumed(q: TxQueue, reason: DropReason, why: string, t: number): void {
    const hops = this.#lab.hops;
    if (!q.drv.broken) this.#reclaim(q);
    for (const slot of this.#unconsumed(q)) {
      const flow = q.slotFlow[slot];
      if (flow === undefined) continue;
      hops.drop(flow, q.slotSeq[slot] as number, q.vcpu, t, "guest.virtio-net", reason, why);
      q.slotFlow[slot] = undefined;
    }
  }

  /** The slots of `q` published and not taken by the device yet, in ring order. */
  #unconsumed(q: TxQueue): number[] {
    const drv = q.drv;
    const size = drv.size;
    const backend = this.dev.backend;
    const last = backend?.deviceRing?.(q.index)?.nextAvail ?? backend?.lastAvail?.(q.index);
    const out: number[] = [];
    if (last === undefined) {
      // No device view of the ring (a back-end in another process): every buffer not given
      // back is counted lost.
      for (let slot = 0; slot < q.slotFlow.length; slot++) {
        if (q.slotFlow[slot] !== undefined) out.push(slot);
      }
      return out;
    }
    let from: number;
    let n: number;
    if (drv instanceof SplitDriver) {
      from = typeof last === "number" ? last : last.slot;
      n = (drv.availIdx - from) & 0xffff;
    } else {
      const d = last;
      const a = drv.nextAvail;
      from = typeof d === "number" ? d : d.slot;
      n = (a.slot - from + size) % size;
      if (n === 0 && typeof d !== "number" && d.wrap !== a.wrap) n = size;
    }
    n = Math.min(n, size);
    for (let i = 0; i < n; i++) {
      const slot = q.posted[(from + i) % size] as number;
      if (slot >= 0) out.push(slot);
    }
    return out;
  }

  /**
   * Drops the frames the device wrote into `q`'s receive buffers that NAPI has not taken
   * (free_unused_bufs frees them with the buffers).
   */
  #dropReceived(q: RxQueue, t: number, why: string): void {
    const lab = this.#lab;
    const mem = this.#vm.mem;
    const s = this.#scratch_();
    const id = this.#id;
    if (q.drv.broken) return;
    for (;;) {
      const token = q.drv.getUsed();
      if (token < 0) break;
      const len = q.drv.lastLen;
      const addr = q.base + token * q.stride;
      this.#releaseRxSlot(q, token);
      if (len < this.hdrLen) continue;
      mem.read(addr + this.hdrLen, s, 0, Math.min(len - this.hdrLen, s.length));
      const buffers = this.mergeable ? mem.getU16(addr + 10) : 1;
      for (let k = 1; k < buffers; k++) {
        const more = q.drv.getUsed();
        if (more < 0) break;
        this.#releaseRxSlot(q, more);
      }
      lab.flows.identify(s, 0, id);
      if (id.flow !== undefined) {
        lab.hops.drop(id.flow, id.seq, q.vcpu, t, "guest.virtio-net", "device_not_ready", why);
      }
    }
  }

  /**
   * The driver resets the device and brings it back, as Linux's virtnet_freeze and
   * virtnet_restore do (suspend/resume; a driver rebind does the same through remove/probe):
   * `remove_vq_common` resets the device (status 0 stops the backend) and frees the buffers
   * the device never returned — a packet the device had not taken is lost, a frame NAPI had
   * not taken is lost — then `virtnet_restore_up` negotiates again, sets up every queue,
   * sets DRIVER_OK and refills. The packets waiting in the qdisc go out afterwards. This is
   * the only way out of DEVICE_NEEDS_RESET: Linux does not reset on it by itself.
   */
  reset(t: number): Result<void, string> {
    const lab = this.#lab;
    const why = "device reset";
    lab.control({
      comp: this.name,
      action: "note",
      details: { name: "virtnet_freeze", detail: "reset the device, free unused buffers" },
    });
    for (const q of this.#tx) this.#dropUnconsumed(q, "device_not_ready", why, t);
    // virtio_reset_device: status 0 stops the backend (vhost flushes its worker first).
    this.dev.writeStatus(0, t);
    for (const q of this.#rx) this.#dropReceived(q, t, why);
    const waiting = this.#tx.flatMap((q) => q.backlog.splice(0));
    for (const q of this.#tx) q.dead = true;
    for (const q of this.#rx) q.dead = true;
    this.#tx.length = 0;
    this.#rx.length = 0;
    this.#ctrl = undefined;
    this.up = false;
    this.probeError = undefined;
    lab.control({
      comp: this.name,
      action: "note",
      details: { name: "virtnet_restore", detail: "negotiate, set up the queues, DRIVER_OK" },
    });
    const r = this.#bind(t, false);
    const q = this.#tx[0];
    if (!r.ok || q === undefined) {
      for (const b of waiting) this.#dropAll(b.flow, b.next, b.last, t, "device_not_ready", why);
      return r.ok ? err("virtio: no transmit queue after the reset") : r;
    }
    // What waited in the qdisc goes out on the new rings.
    q.backlog.push(...waiting);
    if (q.backlog.length > 0) this.#xmit(q, t);
    return ok(undefined);
  }

  /**
   * Arms `queue` (`tx0`, `rx1`): the next chain the driver adds there is broken the way
   * `bad` says (see {@link BadChain}). A transmit chain carries the next packet (booked
   * `bad_descriptor` where the driver broke it, except an oversize frame, which travels and
   * meets an MTU); a receive chain is the next buffer a refill posts.
   */
  armBadChain(queue: string, bad: BadChain): Result<void, BadChainError> {
    if (!this.up) return err({ kind: "not-running", why: this.probeError ?? "interface down" });
    const m = /^(rx|tx)(\d+)$/.exec(queue);
    const k = m ? Number(m[2]) : -1;
    const q = m?.[1] === "tx" ? this.#tx[k] : m?.[1] === "rx" ? this.#rx[k] : undefined;
    if (q === undefined) {
      const queues = [...this.#rx.map((x) => x.name), ...this.#tx.map((x) => x.name)];
      return err({ kind: "no-queue", queue, queues });
    }
    if (m?.[1] === "rx" && (bad === "write-only-tx" || bad === "oversize")) {
      return err({ kind: "tx-only", variant: bad, queue });
    }
    q.armed = bad;
    this.#lab.control({
      comp: this.name,
      action: "note",
      details: { name: "bad-chain armed", q: queue, value: bad },
    });
    return ok(undefined);
  }

  configIrq(t: number): void {
    this.configInterrupts++;
    if (this.dev.needsReset) {
      // Linux has no handler for DEVICE_NEEDS_RESET (virtio_config_changed only runs the
      // driver's config_changed, virtnet_config_changed_work reads the link status): the
      // device stays broken until the driver is rebound or the device reset, and what is
      // in its TX rings is lost.
      const why = this.dev.status.describe();
      for (const q of this.#tx) this.#lose(q, "needs_reset", why, t);
    }
    this.#lab.control({
      comp: this.name,
      action: "note",
      details: { name: "config interrupt", value: this.dev.status.describe() },
    });
    // virtnet_config_changed_work: the link status, when the device reports one.
    if (hasFeature(this.features, VIRTIO_NET_F_STATUS)) {
      const up = (decodeNetConfig(this.dev.config()).status & VIRTIO_NET_S_LINK_UP) !== 0;
      if (up !== this.carrier) {
        this.carrier = up;
        this.#lab.control({
          comp: this.name,
          action: "note",
          details: { name: up ? "netif_carrier_on" : "netif_carrier_off", dev: this.ifname },
        });
        // Carrier off: linkwatch deactivates the qdisc, what waited in it is dropped.
        if (!up) { for (const q of this.#tx) this.#dropBacklog(q, t, "link_down", "carrier off"); }
      }
    }
  }

  irq(index: number, t: number, vcpu: CpuContext, group: PacketGroup): void {
    if (this.gone) return; // an interrupt raised before QEMU exited finds no guest
    const hops = this.#lab.hops;
    let start = t;
    if (vcpu.isIdleAt(t) && t - vcpu.busyUntil > KVM_HALT_POLL_NS) {
      // The vCPU halted (past halt-polling): KVM wakes its thread before the guest runs.
      start = hops.chargeAt(vcpu, t, K_VCPU_WAKE_FROM_HALT, 0, group.flow);
      group.count(Counter.wakeups);
      group.count(Counter.context_switches);
      if (group.sampled) group.record("kvm", "wakeup", { thread: vcpu.name });
    }
    const end = hops.chargeAt(vcpu, start, K_GUEST_IRQ_TO_NAPI, 0, group.flow);
    if (group.sampled) {
      group.record("guest.virtio-net", "irq", {
        q: this.dev.queueName(index),
        via: "msi",
        ...(group.size > 1 ? { batch: group.size } : {}),
      });
    }
    if (index % 2 === 1) {
      const q = this.#tx[index >> 1];
      if (q === undefined || q.napi) return;
      if (!q.drv.interrupt()) return;
      q.napi = true;
      q.drv.disableCallbacks();
      this.#lab.sched.post(end, GuestVirtioNet.#txPollFn, 0, { q, hint: group.flow });
      return;
    }
    const q = this.#rx[index >> 1];
    if (q === undefined || q.napi) return;
    if (!q.drv.interrupt()) return;
    // virtqueue_napi_schedule: callbacks off, NAPI on this vCPU.
    q.napi = true;
    q.drv.disableCallbacks();
    q.polling = false;
    this.#lab.sched.post(end, GuestVirtioNet.#napiFn, 0, q);
  }

  /** virtnet_poll_tx: reclaim, wake the queue, send what waited, re-enable callbacks. */
  #txPoll(q: TxQueue, t: number, hint: HopFlow | undefined): void {
    if (q.dead || this.gone) return;
    const hops = this.#lab.hops;
    let end = hops.chargeAt(q.vcpu, t, K_NAPI_POLL, 0, hint);
    this.#reclaim(q);
    end = this.#dma.charge(q.vcpu, end, hint, 0);
    q.napi = false;
    const wasStopped = q.stopped;
    q.stopped = false;
    if (q.drv.numFree > 0) {
      if (q.backlog.length > 0) this.#xmit(q, end);
      else if (!q.drv.enableCallbacks()) {
        this.#reclaim(q);
      }
    } else {
      q.stopped = wasStopped;
      if (!q.drv.enableCallbacksDelayed()) {
        this.#lab.sched.at(end, (now) => this.#txPoll(q, now, hint));
      }
    }
  }

  /**
   * virtnet_poll: up to NAPI_BUDGET packets, refill, then complete or poll again. Each packet
   * is a step at its own virtual time. One NAPI event: starts a poll unless one is in
   * progress, then steps; returns the time of the next NAPI event (a step, or a new poll
   * after this one completed with work left) or -1 when NAPI is done.
   */
  #napi(q: RxQueue, t: number): number {
    if (q.dead || this.gone) return -1;
    let now = t;
    if (!q.polling) {
      const poll = q.poll;
      poll.reset();
      now = this.#lab.hops.chargeAt(q.vcpu, t, K_NAPI_POLL, 0, undefined);
      poll.mark();
      q.work = 0;
      q.polling = true;
    }
    return this.#rxStep(q, now);
  }

  #rxStep(q: RxQueue, t: number): number {
    const lab = this.#lab;
    const hops = lab.hops;
    const mem = this.#vm.mem;
    const poll = q.poll;
    const s = this.#scratch_();
    let now = t;
    while (q.work < NAPI_BUDGET) {
      const token = q.drv.getUsed();
      if (token === USED_NONE) break;
      if (token === USED_FAULT) {
        this.#broken(q.name, q.drv);
        break;
      }
      const len = q.drv.lastLen;
      const addr = q.base + token * q.stride;
      this.#releaseRxSlot(q, token);
      q.work++;
      if (len < this.hdrLen) continue; // a zero-length buffer: nothing to deliver
      // receive_mergeable: num_buffers in the header says how many buffers follow.
      let frameLen = len - this.hdrLen;
      const nb = this.mergeable ? mem.getU16(addr + 10) : 1;
      // The frame is read where it lies when it is all in this buffer (and long enough to
      // carry our payload header); else it is gathered into the scratch buffer.
      let f = frameLen >= MIN_IN_PLACE && nb <= 1 && this.captures.length === 0
        ? mem.span(addr + this.hdrLen, frameLen)
        : undefined;
      let at = 0;
      if (f !== undefined) at = mem.spanOffset;
      else {
        f = s;
        mem.read(addr + this.hdrLen, s, 0, Math.min(frameLen, s.length));
        for (let k = 1; k < nb; k++) {
          const more = q.drv.getUsed();
          if (more < 0) break;
          const l = q.drv.lastLen;
          this.#releaseRxSlot(q, more);
          if (frameLen + l <= s.length) mem.read(q.base + more * q.stride, s, frameLen, l);
          frameLen += l;
        }
        for (const c of this.captures) c(now, s, 0, frameLen);
      }
      const id = this.#id;
      lab.flows.identify(f, at, id);
      const flow = id.flow;
      if (flow === undefined) continue;
      const seq = id.seq;
      poll.add(flow, seq);
      now = hops.chargeAt(q.vcpu, now, K_GUEST_RX_PER_PACKET, 0, flow);
      if (hops.wants(flow, seq)) {
        hops.record(flow, seq, "guest.virtio-net", "receive", {
          dev: this.ifname,
          bytes: frameLen,
        });
      }
      // The guest's stack: eth_type_trans keeps frames for this MAC or a group address.
      const dstOk = ((f[at] as number) & 1) === 1 || this.#isOwnMac(f, at);
      if (!dstOk) {
        // Counted unless a switch flooded the traffic (then this may be one of its copies).
        if (flow.dst === this || !lab.endpoints.wasFlooded(flow)) {
          hops.drop(
            flow,
            seq,
            q.vcpu,
            now,
            "guest.stack",
            "mac_filter",
            "not addressed to this NIC",
          );
        }
      } else {
        now = hops.chargeAt(q.vcpu, now, K_HOST_STACK_RX, 0, flow);
        // A unicast frame for this MAC and another host's IP (two NICs share a MAC — QEMU
        // gives every VM 52:54:00:12:34:56 unless told otherwise): ip_rcv drops it, the
        // guest does not forward.
        const request = flow.kind === "ping" && f[at + ICMP_TYPE_OFFSET] === ICMP_ECHO_REQUEST;
        const meant = flow.kind === "ping" && !request ? flow.src : flow.dst;
        if (((f[at] as number) & 1) === 0 && meant !== undefined && meant !== this) {
          // A flood's copy (the traffic was flooded) dying here is not the packet dying.
          if (!lab.endpoints.wasFlooded(flow)) {
            hops.drop(flow, seq, q.vcpu, now, "guest.stack", "no_route", `not ${this.name}'s IP`);
          }
        } else lab.endpoints.receiveKnown(this, now, q.vcpu, "guest.stack", f, at, frameLen, id);
      }
      if (now > lab.sched.now) return now;
    }
    return this.#rxPollEnd(q, now);
  }

  /** Ends the poll: refill, then NAPI is done (-1) or polls again at the returned time. */
  #rxPollEnd(q: RxQueue, t: number): number {
    const poll = q.poll;
    let now = t;
    poll.count(Counter.napi_polls);
    if (poll.sampled) {
      poll.recordMark("guest.virtio-net", "napi-poll", {
        q: q.name,
        budget: NAPI_BUDGET,
        work: q.work,
      });
    }
    // try_fill_recv when more than min(budget, size)/2 descriptors are free.
    if (q.drv.numFree > Math.min(NAPI_BUDGET, q.drv.size) / 2) {
      if (this.#fill(q) > 0) {
        q.refill.reset();
        this.dev.published(q.index, now, q.refill);
        if (q.drv.kickPrepare()) now = this.dev.notify(q.index, now, q.vcpu, q.refill);
      }
    }
    if (q.work < NAPI_BUDGET) {
      // napi_complete_done + virtqueue_enable_cb: re-check the ring to close the race.
      if (q.drv.enableCallbacks()) {
        q.napi = false;
        q.polling = false;
        return -1;
      }
      q.drv.disableCallbacks();
    }
    q.polling = false;
    return now;
  }

  #isOwnMac(frame: Uint8Array, off: number): boolean {
    const m = this.mac;
    for (let i = 0; i < 6; i++) if (frame[off + i] !== m[i]) return false;
    return true;
  }

  /**
   * QEMU exited at `t` (`kill`): the guest dies with what is in its rings. Call it before the
   * backend is destroyed, while the device's rings still tell what the device took:
   *
   * - a TX packet the device had popped already left the VM (it was copied or DMAed out in the
   *   same step); one still in the avail ring, or waiting for a descriptor, is lost;
   * - an RX frame the device wrote into a buffer (published or still pending in the device's
   *   used batch) that NAPI had not taken is lost with the guest's memory.
   *
   * Lost packets are dropped as `device_not_ready` with `why`; nothing runs in the guest after.
   */
  shutdown(t: number, why: string): void {
    if (this.gone) return;
    this.gone = true;
    this.up = false;
    const hops = this.#lab.hops;
    const backend = this.dev.backend;
    for (const q of this.#tx) {
      q.lost = { reason: "device_not_ready", detail: why };
      const ring = backend?.deviceRing?.(q.index);
      if (ring === undefined) {
        // The device's ring is not ours to read: what it returned left the VM (devices
        // complete what they pop in the same step); every other buffer is lost.
        this.#reclaim(q);
        for (let slot = 0; slot < q.slotFlow.length; slot++) {
          const flow = q.slotFlow[slot];
          if (flow === undefined) continue;
          hops.drop(
            flow,
            q.slotSeq[slot] as number,
            q.vcpu,
            t,
            "guest.virtio-net",
            "device_not_ready",
            why,
          );
          q.slotFlow[slot] = undefined;
        }
      } else {
        // What the device has not popped yet: read it off the avail ring as the device would.
        const tx = new VirtioNetTx(ring, { features: this.features, flows: this.#lab.flows });
        for (;;) {
          const r = tx.pop();
          if (r === NET_EMPTY || r === NET_FAULT) break;
          const flow = tx.id.flow;
          if (flow !== undefined) {
            hops.drop(flow, tx.id.seq, q.vcpu, t, "guest.virtio-net", "device_not_ready", why);
          }
        }
      }
      for (const b of q.backlog.splice(0)) {
        for (let seq = b.next; seq <= b.last; seq++) {
          hops.drop(b.flow, seq, q.vcpu, t, "guest.virtio-net", "device_not_ready", why);
        }
      }
    }
    const s = this.#scratch_();
    const id = this.#id;
    for (const q of this.#rx) {
      // The device's pending used elements are in guest memory already: publish them to read.
      backend?.deviceRing?.(q.index)?.flushUsed();
      for (;;) {
        const token = q.drv.getUsed();
        if (token < 0) break;
        const len = q.drv.lastLen;
        const addr = q.base + token * q.stride;
        this.#releaseRxSlot(q, token);
        if (len < this.hdrLen) continue;
        const frameLen = Math.min(len - this.hdrLen, s.length);
        this.#vm.mem.read(addr + this.hdrLen, s, 0, frameLen);
        // The other buffers of a merged frame carry no header of their own.
        const nb = this.mergeable ? this.#vm.mem.getU16(addr + 10) : 1;
        for (let k = 1; k < nb; k++) {
          const more = q.drv.getUsed();
          if (more < 0) break;
          this.#releaseRxSlot(q, more);
        }
        if (this.#lab.endpoints.countsAt(this, s, 0, id)) {
          hops.drop(
            id.flow as TrafficFlow,
            id.seq,
            q.vcpu,
            t,
            "guest.virtio-net",
            "device_not_ready",
            why,
          );
        }
      }
    }
  }

  /** Live ring state for `show vq`. */
  queue(name: string): DriverRing | undefined {
    const m = /^(rx|tx)(\d+)$/.exec(name);
    if (name === "ctrl" || name === "cvq") return this.#ctrl;
    if (!m) return undefined;
    const k = Number(m[2]);
    return m[1] === "rx" ? this.#rx[k]?.drv : this.#tx[k]?.drv;
  }

  /** Packets waiting for a TX descriptor, per queue. */
  backlog(): number {
    let n = 0;
    for (const q of this.#tx) for (const b of q.backlog) n += b.last - b.next + 1;
    return n;
  }
}
