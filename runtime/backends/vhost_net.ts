/**
 * `-netdev tap,vhost=on` (virtio-vhost-vdpa.md §4.4, §9.2): the kernel's vhost-net moves the
 * packets; QEMU only sets it up.
 *
 * **Control plane**, traced in QEMU's order: at start `open("/dev/vhost-net")` (one per
 * queue pair), VHOST_SET_OWNER (the kernel starts the worker thread `vhost-<qemu pid>`),
 * VHOST_GET_FEATURES, VHOST_SET_VRING_CALL per vq; at the guest's DRIVER_OK the guest
 * notifiers (KVM_IRQFD per vector), then per queue pair the host notifiers (KVM_IOEVENTFD),
 * VHOST_SET_FEATURES, VHOST_GET/SET_BACKEND_FEATURES, VHOST_SET_MEM_TABLE, per vq
 * VHOST_SET_VRING_NUM / BASE / ADDR / KICK / CALL, and VHOST_NET_SET_BACKEND with the tap fd.
 *
 * **Datapath** on the worker (a kernel thread: no syscalls, no user/kernel switches):
 * `handle_tx` pops chains through the memory table (GPA → HVA,
 * `gpa_to_hva_translate` per descriptor, `vring_desc_fetch_and_used_update` per chain), copies
 * each frame into an skb in `tun_sendmsg` (the one copy) and sends it through the tap into
 * the bridge; `handle_rx` takes frames from the tap's socket and copies them into guest
 * buffers (`tun_recvmsg`, the one copy). Used elements are flushed and the guest signalled
 * (call eventfd → irqfd) every VHOST_NET_BATCH (64) packets and at the end of a run; a run
 * yields after VHOST_NET_PKT_WEIGHT (256) packets or VHOST_NET_WEIGHT (512 KiB) and requeues
 * itself. With no receive buffer the worker enables notifications and waits for the guest's
 * RX kick; frames wait in the tap queue.
 *
 * **Behind a translated guest vIOMMU** (ACCESS_PLATFORM, the guest without `iommu=pt`) ring
 * and buffer addresses are IOVAs: QEMU passes them as they are (VHOST_SET_VRING_ADDR), the
 * kernel translates through its device IOTLB and misses to QEMU
 * (runtime/backends/vhost_net_iotlb.ts); each round trip stalls the worker
 * (`vhost_iotlb_miss_roundtrip`).
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import type { DevHandle } from "../host/devnodes.ts";
import { MemTable } from "../memory/mem_table.ts";
import { newTranslateResult, VHOST_ACCESS_RO } from "../memory/translator.ts";
import type { CpuContext } from "../sim/cpu_context.ts";
import { Counter } from "../trace/metrics.ts";
import type { HopFlow, PacketGroup } from "../datapath/hop.ts";
import type { DatapathPath } from "../datapath/path_table.ts";
import {
  createDeviceRing,
  type DeviceRing,
  NET_BAD_CHAIN,
  NET_EMPTY,
  NET_FAULT,
  NET_NO_BUFFER,
  NET_TOO_BIG,
  VirtioNetRx,
  VirtioNetTx,
} from "../datapath/net_datapath.ts";
import {
  featureMask,
  hasFeature,
  VHOST_F_LOG_ALL,
  VIRTIO_F_ACCESS_PLATFORM,
  VIRTIO_F_ANY_LAYOUT,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_IN_ORDER,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_NOTIFICATION_DATA,
  VIRTIO_F_NOTIFY_ON_EMPTY,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_RING_RESET,
  VIRTIO_F_VERSION_1,
  VIRTIO_NET_F_HASH_REPORT,
  VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_NET_F_RSC_EXT,
} from "../virtio/features.ts";
import { describeQueueFault } from "../virtio/queue_fault.ts";
import type { Lab } from "../lab.ts";
import { Skb } from "../net/skb.ts";
import { closeTap, type OpenTap } from "../net/tap_open.ts";
import type { BackendStart, NetBackend, NetFrontend } from "../qemu/net_backend.ts";
import { ALL_FEATURES } from "../qemu/virtio_net_pci.ts";
import type { TapNetdevSpec, VmError } from "../qemu/vm_spec.ts";
import type { Vm } from "../qemu/vm.ts";
import { VhostNetIotlb } from "./vhost_net_iotlb.ts";

/** Bytes a handle_tx/handle_rx run may move before it requeues (drivers/vhost/net.c). */
export const VHOST_NET_WEIGHT = 0x80000;
/** Packets a run may move before it requeues (drivers/vhost/net.c). */
export const VHOST_NET_PKT_WEIGHT = 256;
/**
 * Where QEMU's guest RAM sits in its address space (a large anonymous mmap: glibc places it
 * below the stack, in the 0x7f… range). Each QEMU is its own process, so VMs share it.
 */
export const QEMU_RAM_HVA = 0x7f4c00000000;
/** Used elements batched before a flush and signal (drivers/vhost/net.c). */
export const VHOST_NET_BATCH = 64;

/**
 * Bits QEMU asks the kernel about (hw/net/vhost_net.c kernel_feature_bits) that vhost-net
 * does not offer (VHOST_NET_FEATURES): the device stops offering them. MTU is re-added by
 * virtio-net's mtu_bypass_backend.
 */
const VHOST_NET_MASKED = featureMask(
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_IN_ORDER,
  VIRTIO_F_NOTIFICATION_DATA,
  VIRTIO_NET_F_RSC_EXT,
  VIRTIO_NET_F_HASH_REPORT,
);

/**
 * What /dev/vhost-net offers (VHOST_NET_FEATURES = VHOST_FEATURES | VHOST_NET_F_VIRTIO_NET_HDR
 * | MRG_RXBUF | ACCESS_PLATFORM | RING_RESET, drivers/vhost/net.c and vhost.h).
 */
export const VHOST_NET_FEATURES: bigint = featureMask(
  VIRTIO_F_NOTIFY_ON_EMPTY,
  VHOST_F_LOG_ALL,
  VIRTIO_F_ANY_LAYOUT,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_VERSION_1,
  VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_F_ACCESS_PLATFORM,
  VIRTIO_F_RING_RESET,
);

/** The vhost-net + tap datapath, as data. */
export const VHOST_NET_PATH: DatapathPath = {
  name: "vhost-net + tap",
  qemuInPath: false,
  copies: { tx: 1, rx: 1 },
  kick: [
    {
      role: "vcpu",
      key: "vmexit_light",
      what: "notify write exits; KVM matches the ioeventfd",
      perBatch: true,
    },
    {
      role: "vcpu",
      key: "ioeventfd_signal",
      what: "eventfd wait queue → vhost_poll_queue",
      perBatch: true,
    },
    { role: "vhost", key: "thread_wakeup_remote", what: "vhost worker wakes", perBatch: true },
  ],
  tx: [
    { role: "vhost", key: "vring_desc_fetch_and_used_update", what: "vhost_get_vq_desc, add used" },
    { role: "vhost", key: "gpa_to_hva_translate", what: "memory table lookup per descriptor" },
    { role: "vhost", key: "memcpy", what: "copy #1: guest buffer → skb (tun_sendmsg)" },
    { role: "vhost", key: "tap_write_kernel", what: "tun_get_user, netif_receive_skb" },
    { role: "vhost", key: "bridge_forward", what: "br_handle_frame → egress port" },
  ],
  rx: [
    {
      role: "vhost",
      key: "thread_wakeup_remote",
      what: "tap socket sk_data_ready wakes the worker",
      perBatch: true,
    },
    { role: "vhost", key: "vring_desc_fetch_and_used_update", what: "get_rx_bufs, add used" },
    { role: "vhost", key: "gpa_to_hva_translate", what: "memory table lookup per descriptor" },
    { role: "vhost", key: "tap_read_kernel", what: "tun_recvmsg" },
    { role: "vhost", key: "memcpy", what: "copy #1: skb → guest buffer" },
  ],
  interrupt: [
    { role: "vhost", key: "ioeventfd_signal", what: "eventfd_signal(call)", perBatch: true },
    { role: "vhost", key: "irq_inject_posted", what: "irqfd → posted interrupt", perBatch: true },
    { role: "vcpu", key: "guest_irq_to_napi", what: "vring_interrupt → NAPI", perBatch: true },
  ],
};

function newRun(lab: Lab): Run {
  return {
    active: false,
    woke: false,
    pkts: 0,
    bytes: 0,
    pending: 0,
    served: lab.hops.group(),
    irq: lab.hops.group(),
  };
}

/** A handle_tx / handle_rx run in progress. */
interface Run {
  active: boolean;
  woke: boolean;
  pkts: number;
  bytes: number;
  pending: number;
  /** Packets served by this run (the wake-up's batch). */
  readonly served: PacketGroup;
  /** Packets since the last signal (the interrupt's batch). */
  readonly irq: PacketGroup;
}

/** One vhost device (one fd, one worker) per queue pair. */
interface VhostDev {
  readonly fd: DevHandle;
  readonly worker: CpuContext;
  readonly pair: number;
  tx: VirtioNetTx | undefined;
  rx: VirtioNetRx | undefined;
  txQueued: boolean;
  rxQueued: boolean;
  /** The run in progress of each direction (a run resumes itself packet by packet). */
  readonly txRun: Run;
  readonly rxRun: Run;
  /** The device IOTLB when the guest's vIOMMU translates (else the memory table is used). */
  iotlb: VhostNetIotlb | undefined;
  /** Runs, requeues, packets, for `show vhost`. */
  runs: number;
  requeues: number;
  txPackets: number;
  rxPackets: number;
}

/** `-netdev tap,vhost=on`. */
export class VhostNetBackend implements NetBackend {
  readonly type = "tap";
  readonly id: string;
  readonly label = "vhost-net";
  readonly features: bigint = ALL_FEATURES & ~VHOST_NET_MASKED;
  readonly maxQueuePairs: number;
  readonly hostNotifier = false;
  readonly path: DatapathPath = VHOST_NET_PATH;
  readonly #lab: Lab;
  readonly #vm: Vm;
  readonly #tap: OpenTap;
  readonly #devs: VhostDev[];
  readonly #owner: string;
  #table: MemTable | undefined;
  #frontend: NetFrontend | undefined;
  #started = false;
  #features = 0n;
  /** Per-packet continuations, bound once (scheduling one allocates no closure). */
  readonly #txStepFn = (at: number, dev: VhostDev) => this.#txStep(dev, at);
  readonly #rxStepFn = (at: number, dev: VhostDev) => this.#rxStep(dev, at);
  readonly #tr = newTranslateResult();

  private constructor(lab: Lab, vm: Vm, nd: TapNetdevSpec, tap: OpenTap, devs: VhostDev[]) {
    this.#lab = lab;
    this.#vm = vm;
    this.id = nd.id;
    this.#tap = tap;
    this.#devs = devs;
    this.maxQueuePairs = nd.queues;
    this.#owner = `qemu:${vm.name}`;
    tap.queues.forEach((q, k) => {
      const dev = devs[k] as VhostDev;
      q.owner = {
        label: dev.worker.name,
        readable: (_q, t) => this.#queueRx(dev, t, undefined),
      };
    });
  }

  /** vhost_net_init for each queue pair: open, SET_OWNER, GET_FEATURES, SET_VRING_CALL. */
  static create(lab: Lab, vm: Vm, nd: TapNetdevSpec, tap: OpenTap): Result<NetBackend, VmError> {
    const devs: VhostDev[] = [];
    const comp = `qemu-${vm.name}`;
    for (let k = 0; k < nd.queues; k++) {
      const fd = lab.host.open("/dev/vhost-net", `qemu:${vm.name}`);
      if (!fd.ok) {
        for (const d of devs) lab.host.close(d.fd);
        const errno = fd.error.kind === "fs" ? fd.error.errno : "ENODEV";
        return err({
          kind: "vhost-open",
          at: { netdev: nd.index, prop: "vhost" },
          netdev: nd.id,
          path: "/dev/vhost-net",
          errno,
        });
      }
      const ioctl = (name: string, extra: Record<string, string | number> = {}) =>
        lab.control({ comp, action: "ioctl", details: { name, fd: fd.value.fd, ...extra } });
      ioctl("VHOST_SET_OWNER");
      const worker = lab.context("vhost", k === 0 ? `vhost-${vm.pid}` : `vhost-${vm.pid}:${k}`);
      lab.control({
        comp: "kernel",
        action: "note",
        details: { name: "kthread", thread: worker.name },
      });
      ioctl("VHOST_GET_FEATURES", { value: `0x${VHOST_NET_FEATURES.toString(16)}` });
      for (const v of [2 * k, 2 * k + 1]) {
        ioctl("VHOST_SET_VRING_CALL", { q: v % 2 === 0 ? `rx${k}` : `tx${k}`, value: "masked" });
      }
      if (nd.pollUs > 0) ioctl("VHOST_SET_VRING_BUSYLOOP_TIMEOUT", { value: nd.pollUs });
      devs.push({
        fd: fd.value,
        worker,
        pair: k,
        tx: undefined,
        rx: undefined,
        txQueued: false,
        rxQueued: false,
        txRun: newRun(lab),
        rxRun: newRun(lab),
        iotlb: undefined,
        runs: 0,
        requeues: 0,
        txPackets: 0,
        rxPackets: 0,
      });
    }
    return ok(new VhostNetBackend(lab, vm, nd, tap, devs));
  }

  get hostNetdev(): string {
    return this.#tap.ifname;
  }

  /** The worker contexts, one per queue pair. */
  get workers(): readonly CpuContext[] {
    return this.#devs.map((d) => d.worker);
  }

  attach(frontend: NetFrontend): Result<void, VmError> {
    this.#frontend = frontend;
    return ok(undefined);
  }

  #ioctl(dev: VhostDev, name: string, extra: Record<string, string | number> = {}): void {
    this.#lab.control({
      comp: `qemu-${this.#vm.name}`,
      action: "ioctl",
      details: { name, fd: dev.fd.fd, ...extra },
    });
  }

  /** vhost_net_start: guest notifiers, then each queue pair, then the tap backend. */
  start(s: BackendStart): Result<void, string> {
    const fe = this.#frontend;
    if (fe === undefined) return err("no frontend");
    const lab = this.#lab;
    this.#features = s.features;
    // QEMU sends the guest's RAM as the memory table (GPA, size, HVA).
    const hvaBase = QEMU_RAM_HVA;
    const table = MemTable.fromGuestMemory(fe.mem, { hvaBase });
    if (!table.ok) return err(`VHOST_SET_MEM_TABLE: ${table.error.kind}`);
    this.#table = table.value;
    // k->set_guest_notifiers: one irqfd per vq vector.
    for (const q of s.queues) fe.irqfd(q.index);
    // vhost_dev_has_iommu: a translated guest vIOMMU puts the device IOTLB in the path.
    const dma = this.#vm.dmaTranslation(fe, s.features);
    const regions = table.value.regions();
    for (const dev of this.#devs) {
      if (dev.pair >= s.pairs) continue;
      const rxq = s.queues.find((q) => q.index === 2 * dev.pair);
      const txq = s.queues.find((q) => q.index === 2 * dev.pair + 1);
      if (rxq === undefined || txq === undefined) continue;
      // vhost_dev_enable_notifiers: the queue's ioeventfd becomes the kick fd.
      const kick = { rx: fe.ioeventfd(rxq.index), tx: fe.ioeventfd(txq.index) };
      dev.iotlb?.stop();
      dev.iotlb = dma === undefined ? undefined : new VhostNetIotlb({
        viommu: dma.viommu,
        rid: dma.rid,
        gpaToHva: (gpa) => {
          const r = regions.find((x) =>
            gpa >= x.guestPhysAddr && gpa < x.guestPhysAddr + x.memorySize
          );
          return r === undefined ? undefined : {
            hva: r.userspaceAddr + (gpa - r.guestPhysAddr),
            len: r.memorySize - (gpa - r.guestPhysAddr),
          };
        },
        hvaToGpa: (hva) => {
          const r = regions.find((x) =>
            hva >= x.userspaceAddr && hva < x.userspaceAddr + x.memorySize
          );
          return r === undefined ? undefined : r.guestPhysAddr + (hva - r.userspaceAddr);
        },
      });
      if (dev.iotlb !== undefined) {
        const r = dev.iotlb.start();
        if (!r.ok) return err(`vhost IOTLB: ${r.error.kind}`);
      }
      const iotlb = dev.iotlb;
      this.#ioctl(dev, "VHOST_SET_FEATURES", { value: `0x${s.features.toString(16)}` });
      this.#ioctl(dev, "VHOST_GET_BACKEND_FEATURES", { value: "0x2" });
      this.#ioctl(dev, "VHOST_SET_BACKEND_FEATURES", { value: "0x2" });
      this.#ioctl(dev, "VHOST_SET_MEM_TABLE", {
        value: `${regions.length} region${regions.length === 1 ? "" : "s"}`,
        detail: regions.map((r) =>
          `gpa=0x${r.guestPhysAddr.toString(16)},size=0x${r.memorySize.toString(16)},` +
          `hva=0x${r.userspaceAddr.toString(16)}`
        ).join(";"),
      });
      for (const [q, which] of [[rxq, "rx"], [txq, "tx"]] as const) {
        // With the IOTLB QEMU passes the guest's IOVAs; else its own addresses of the GPAs.
        const hva = (gpa: number) => iotlb === undefined ? this.#hva(gpa) : gpa;
        this.#ioctl(dev, "VHOST_SET_VRING_NUM", { q: q.name, value: q.size });
        this.#ioctl(dev, "VHOST_SET_VRING_BASE", { q: q.name, value: q.base });
        this.#ioctl(dev, "VHOST_SET_VRING_ADDR", {
          q: q.name,
          addr: hva(q.desc),
          detail: `avail=0x${hva(q.driver).toString(16)},used=0x${hva(q.device).toString(16)}`,
        });
        this.#ioctl(dev, "VHOST_SET_VRING_KICK", {
          q: q.name,
          value: (which === "rx" ? kick.rx : kick.tx).fd,
        });
        const call = fe.irqfd(q.index);
        this.#ioctl(dev, "VHOST_SET_VRING_CALL", { q: q.name, value: call?.fd ?? -1 });
        const ring = createDeviceRing(fe.mem, {
          layout: q.layout,
          size: q.size,
          desc: hva(q.desc),
          driver: hva(q.driver),
          device: hva(q.device),
          features: s.features,
          ...(iotlb === undefined
            ? { translator: table.value.gpaToGuestMemory, ringTranslator: table.value.hvaToGpa }
            : { translator: iotlb.translatorFor(q.index) }),
        });
        if (!ring.ok) return err(`${q.name}: ${describeQueueFault(ring.error)}`);
        fe.attachRing(ring.value, "stop-queue");
        if (which === "rx") {
          dev.rx = new VirtioNetRx(ring.value, fe.mem, { features: s.features, flows: lab.flows });
        } else {
          dev.tx = new VirtioNetTx(ring.value, { features: s.features, flows: lab.flows });
        }
      }
      for (const v of [0, 1]) {
        this.#ioctl(dev, "VHOST_NET_SET_BACKEND", {
          q: v === 0 ? `rx${dev.pair}` : `tx${dev.pair}`,
          value: this.#tap.fds[dev.pair]?.fd ?? -1,
        });
      }
    }
    this.#started = true;
    // Frames may already wait on the tap: the socket is polled from now on.
    for (const dev of this.#devs) {
      if (this.#tap.queues[dev.pair]?.peek() !== undefined) this.#queueRx(dev, lab.now, undefined);
    }
    return ok(undefined);
  }

  #hva(gpa: number): number {
    const t = this.#table;
    if (t === undefined) return gpa;
    return t.gpaToHva.translate(gpa, 1, VHOST_ACCESS_RO, this.#tr) ? this.#tr.addr : gpa;
  }

  stop(_t: number): void {
    if (!this.#started) return;
    this.#started = false;
    for (const dev of this.#devs) {
      // vhost_net_stop flushes the worker first: a run's batched used elements are published
      // (vhost_net_signal_used) before the rings are given back.
      dev.rx?.flush();
      dev.tx?.flush();
      for (const v of [0, 1]) {
        this.#ioctl(dev, "VHOST_NET_SET_BACKEND", {
          q: v === 0 ? `rx${dev.pair}` : `tx${dev.pair}`,
          value: -1,
        });
      }
      for (const q of [dev.rx, dev.tx]) {
        if (q === undefined) continue;
        const base = typeof q.ring.nextAvail === "number"
          ? q.ring.nextAvail
          : q.ring.nextAvail.slot;
        this.#ioctl(dev, "VHOST_GET_VRING_BASE", { value: base });
      }
      dev.rx = undefined;
      dev.tx = undefined;
      dev.iotlb?.stop();
      dev.iotlb = undefined;
    }
  }

  kick(index: number, t: number, group: PacketGroup): void {
    const dev = this.#devs[index >> 1];
    if (dev === undefined || !this.#started) return;
    this.deviceRing(index)?.notified();
    if (index % 2 === 1) this.#queueTx(dev, t, group.flow);
    else this.#queueRx(dev, t, group.flow);
  }

  /** vhost_poll_queue for handle_tx_kick. */
  #queueTx(dev: VhostDev, t: number, hint: HopFlow | undefined): void {
    // A run in progress re-checks the ring before it ends: nothing to queue.
    if (dev.txQueued || dev.txRun.active) return;
    dev.txQueued = true;
    this.#lab.sched.at(t, (now) => this.#handleTx(dev, now, hint));
  }

  /** vhost_poll_queue for handle_rx (socket readable, or the guest's RX kick). */
  #queueRx(dev: VhostDev, t: number, hint: HopFlow | undefined): void {
    if (dev.rxQueued || dev.rxRun.active || !this.#started) return;
    dev.rxQueued = true;
    this.#lab.sched.at(t, (now) => this.#handleRx(dev, now, hint));
  }

  /** The worker picks up work at `t`: a wake-up if it slept. Starts the run's books. */
  #begin(dev: VhostDev, run: Run, t: number, hint: HopFlow | undefined): number {
    const hops = this.#lab.hops;
    run.active = true;
    run.pkts = 0;
    run.bytes = 0;
    run.pending = 0;
    run.served.reset();
    run.irq.reset();
    dev.runs++;
    run.woke = dev.worker.isIdleAt(t);
    if (!run.woke) return t;
    const now = hops.charge(dev.worker, t, "thread_wakeup_remote", 0, hint);
    run.served.mark();
    return now;
  }

  /** The run ends: the wake-up's hop goes to the packets it served. */
  #end(dev: VhostDev, run: Run): void {
    run.active = false;
    const group = run.served;
    if (!run.woke || group.size === 0) return;
    group.count(Counter.wakeups);
    group.count(Counter.context_switches);
    if (group.sampled) {
      group.recordMark("vhost-net", "wakeup", {
        thread: dev.worker.name,
        ...(group.size > 1 ? { batch: group.size } : {}),
      });
    }
  }

  /** Charges the memory-table lookups of the last chain; records one hop for it. */
  #translate(
    dev: VhostDev,
    q: VirtioNetTx | VirtioNetRx,
    now: number,
    flow: HopFlow,
    seq: number,
    descs: number,
    len: number,
  ): number {
    const hops = this.#lab.hops;
    let end = now;
    // translate_desc missed: the vq stalled until QEMU's VHOST_IOTLB_UPDATE came back.
    const trips = dev.iotlb?.takeRoundTrips() ?? 0;
    for (let i = 0; i < trips; i++) {
      const at = end;
      end = hops.charge(dev.worker, end, "vhost_iotlb_miss_roundtrip", 0, flow);
      flow.metrics.add(Counter.iotlb_misses);
      flow.metrics.add(Counter.iotlb_miss_roundtrips);
      if (hops.wants(flow, seq)) {
        hops.t = at;
        hops.dur = end - at;
        hops.record(flow, seq, "vhost-net", "iotlb-miss", {
          space: "iova-hva",
          addr: dev.iotlb?.lastMiss ?? 0,
          roundtrip: true,
        });
      }
    }
    const lookups = end;
    for (let i = 0; i < descs; i++) {
      end = hops.charge(dev.worker, end, "gpa_to_hva_translate", 0, flow);
    }
    flow.metrics.add(Counter.translations, descs);
    if (hops.wants(flow, seq)) {
      const gpa = q.ring.chain.addr[0] as number;
      hops.t = lookups;
      hops.dur = end - lookups;
      const iotlb = dev.iotlb;
      hops.record(flow, seq, "vhost-net", "translate", {
        space: iotlb === undefined ? "gpa-hva" : "iova-hva",
        addr: iotlb === undefined ? gpa : iotlb.lastIova,
        to: this.#hva(gpa),
        len,
      });
    }
    return end;
  }

  /** drivers/vhost/net.c handle_tx (the copy variant): starts a run. */
  #handleTx(dev: VhostDev, t: number, hint: HopFlow | undefined): void {
    dev.txQueued = false;
    if (dev.tx === undefined || !this.#started) return;
    const now = this.#begin(dev, dev.txRun, t, hint);
    dev.tx.ring.disableNotifications();
    this.#txStep(dev, now);
  }

  /** handle_tx's loop, one packet per step at its own virtual time. */
  #txStep(dev: VhostDev, t: number): void {
    const tx = dev.tx;
    const run = dev.txRun;
    if (tx === undefined || !this.#started) {
      run.active = false;
      return;
    }
    const lab = this.#lab;
    const hops = lab.hops;
    const w = dev.worker;
    let now = t;
    for (;;) {
      // QEMU stops vhost when the NIC's link goes down (virtio_net_vhost_status); QEMU's own
      // handler then drops what the guest queued.
      if (!(this.#frontend?.linkUp ?? true)) break;
      const r = tx.pop();
      if (r === NET_EMPTY) {
        // vhost_enable_notify re-checks the ring to close the race.
        if (tx.ring.enableNotifications()) {
          tx.ring.disableNotifications();
          continue;
        }
        break;
      }
      if (r === NET_FAULT) {
        const f = tx.ring.fault;
        const why = f ? describeQueueFault(f) : "";
        lab.control({
          comp: "vhost-net",
          action: "device-error",
          details: { q: `tx${dev.pair}`, name: "vq_err", detail: why },
        });
        this.#frontend?.queueError(2 * dev.pair + 1, `vq_err: ${why}`, now);
        break;
      }
      const flow = tx.id.flow;
      const seq = tx.id.seq;
      if (r === NET_BAD_CHAIN) {
        run.pending++;
        if (flow !== undefined) {
          hops.drop(flow, seq, w, now, "vhost-net", "bad_descriptor", tx.problem);
        }
        if (tx.chain.writableBytes > 0) {
          // get_tx_bufs: "Unexpected descriptor format for TX" is vq_err and -EFAULT: handle_tx
          // stops "until the next kick" with notifications still disabled (or avail_event
          // left behind), so no kick comes: the queue is stuck like after a ring fault.
          const why = `Unexpected descriptor format for TX: out ${tx.chain.readable}, in ${
            tx.chain.count - tx.chain.readable
          }`;
          lab.control({
            comp: "vhost-net",
            action: "device-error",
            details: {
              q: `tx${dev.pair}`,
              name: "vq_err",
              detail: why,
            },
          });
          this.#frontend?.queueError(2 * dev.pair + 1, `vq_err: ${why}`, now);
          break;
        }
        continue;
      }
      run.pkts++;
      run.bytes += tx.frameLen;
      dev.txPackets++;
      if (flow !== undefined) {
        run.served.add(flow, seq);
        run.irq.add(flow, seq);
        now = hops.charge(w, now, "vring_desc_fetch_and_used_update", 0, flow);
        flow.metrics.add(Counter.descriptors, tx.descs);
        if (hops.wants(flow, seq)) {
          hops.record(flow, seq, "vhost-net", "pop", {
            q: `tx${dev.pair}`,
            head: tx.head,
            descs: tx.descs,
            bytes: tx.chainBytes,
          });
        }
        now = this.#translate(dev, tx, now, flow, seq, tx.chain.count, tx.chainBytes);
      }
      // tun_sendmsg: the frame is copied into a new skb (the one TX copy).
      const skb = new Skb(new Uint8Array(tx.frameLen), flow, seq);
      tx.copyFrame(skb.data);
      now = hops.charge(w, now, "memcpy", tx.frameLen, flow);
      if (flow !== undefined) {
        flow.metrics.add(Counter.copies);
        flow.metrics.add(Counter.bytes_copied, tx.frameLen);
        if (hops.wants(flow, seq)) {
          hops.record(flow, seq, "tun", "copy", { bytes: tx.frameLen, from: "guest", to: "skb" });
        }
      }
      now = hops.charge(w, now, "tap_write_kernel", 0, flow);
      if (flow !== undefined && hops.wants(flow, seq)) {
        hops.record(flow, seq, "tun", "xmit", { dev: this.#tap.ifname, bytes: skb.len });
      }
      tx.complete();
      run.pending++;
      lab.net.netifReceive(this.#tap.ifname, skb, now, w);
      if (run.pending >= VHOST_NET_BATCH) {
        this.#signal(dev, tx, 2 * dev.pair + 1, now, run);
      }
      // vhost_exceeds_weight: yield after 256 packets or 512 KiB, requeue the work.
      if (run.pkts >= VHOST_NET_PKT_WEIGHT || run.bytes >= VHOST_NET_WEIGHT) {
        if (run.pending > 0) this.#signal(dev, tx, 2 * dev.pair + 1, now, run);
        this.#end(dev, run);
        this.#requeue(dev, now, flow, seq, run, "tx");
        return;
      }
      if (now > lab.sched.now) {
        lab.sched.at(now, this.#txStepFn, 0, dev);
        return;
      }
    }
    if (run.pending > 0) this.#signal(dev, tx, 2 * dev.pair + 1, now, run);
    this.#end(dev, run);
  }

  #requeue(
    dev: VhostDev,
    now: number,
    flow: HopFlow | undefined,
    seq: number,
    run: Run,
    dir: "tx" | "rx",
  ): void {
    const hops = this.#lab.hops;
    const end = hops.charge(dev.worker, now, "vhost_requeue_after_weight", 0, flow);
    dev.requeues++;
    if (flow !== undefined) {
      flow.metrics.add(Counter.requeues);
      if (hops.wants(flow, seq)) {
        hops.record(flow, seq, "vhost-net", "requeue", {
          q: `${dir}${dev.pair}`,
          pkts: run.pkts,
          bytes: run.bytes,
        });
      }
    }
    if (dir === "tx") this.#queueTx(dev, end, flow);
    else this.#queueRx(dev, end, flow);
  }

  /** vhost_net_signal_used: flush the used elements, signal when the guest wants it. */
  #signal(dev: VhostDev, q: VirtioNetTx | VirtioNetRx, index: number, now: number, run: Run) {
    q.flush();
    run.pending = 0;
    const irq = run.irq;
    const fe = this.#frontend as NetFrontend;
    if (q.needsInterrupt()) {
      fe.interrupt(index, now, dev.worker, "irqfd", irq);
    } else {
      irq.count(Counter.interrupts_suppressed);
      if (irq.sampled) {
        this.#lab.hops.at(dev.worker, now);
        irq.record("vhost-net", "irq-suppressed", {
          q: index % 2 === 0 ? `rx${dev.pair}` : `tx${dev.pair}`,
          why: hasFeature(this.#features, VIRTIO_F_EVENT_IDX) ? "used_event" : "NO_INTERRUPT",
        });
      }
    }
    irq.reset();
  }

  /** drivers/vhost/net.c handle_rx: starts a run. */
  #handleRx(dev: VhostDev, t: number, hint: HopFlow | undefined): void {
    dev.rxQueued = false;
    const queue = this.#tap.queues[dev.pair];
    if (dev.rx === undefined || queue === undefined || !this.#started) return;
    const now = this.#begin(dev, dev.rxRun, t, queue.peek()?.flow ?? hint);
    dev.rx.ring.disableNotifications();
    this.#rxStep(dev, now);
  }

  /** handle_rx's loop, one frame per step at its own virtual time. */
  #rxStep(dev: VhostDev, t: number): void {
    const rx = dev.rx;
    const run = dev.rxRun;
    const queue = this.#tap.queues[dev.pair];
    if (rx === undefined || queue === undefined || !this.#started) {
      run.active = false;
      return;
    }
    const lab = this.#lab;
    const hops = lab.hops;
    const w = dev.worker;
    let now = t;
    for (;;) {
      const skb = queue.peek();
      if (skb === undefined) break;
      const fe = this.#frontend;
      if (rx.ring.broken) {
        // vq_err stopped the queue: handle_rx never takes from the socket again, what waits
        // there (and whatever comes) is lost with the queue.
        queue.shift();
        lab.net.drop(
          skb,
          now,
          w,
          "vhost-net",
          "device_not_ready",
          `rx${dev.pair} stopped (vq_err)`,
        );
        continue;
      }
      if (fe !== undefined && !fe.linkUp) {
        // vhost is stopped while the link is down: QEMU reads the tap and discards the frame
        // (its NIC client is link-down).
        queue.shift();
        lab.net.drop(skb, now, fe.vm.qemu, "qemu.virtio-net", "link_down", `${fe.label} link down`);
        continue;
      }
      // get_rx_bufs found nothing: wait for the guest's kick (enable, then re-check).
      if (!rx.hasBuffer()) {
        if (rx.ring.enableNotifications()) {
          rx.ring.disableNotifications();
          continue;
        }
        break;
      }
      const flow = skb.flow;
      const seq = skb.seq;
      now = hops.charge(w, now, "vring_desc_fetch_and_used_update", 0, flow);
      const r = rx.deliver(skb.data, 0, skb.len);
      // get_rx_bufs found too few buffers for the frame and gave them back
      // (vhost_discard_vq_desc): the frame stays in the socket until the guest refills.
      if (r === NET_NO_BUFFER) {
        rx.ring.enableNotifications();
        break;
      }
      queue.shift();
      if (r === NET_FAULT) {
        // get_rx_bufs → vhost_get_vq_desc failed: vq_err, the queue stops (no NEEDS_RESET).
        const f = rx.ring.fault;
        const why = f ? describeQueueFault(f) : "";
        lab.control({
          comp: "vhost-net",
          action: "device-error",
          details: { q: `rx${dev.pair}`, name: "vq_err", detail: why },
        });
        this.#frontend?.queueError(2 * dev.pair, `vq_err: ${why}`, now);
        lab.net.drop(
          skb,
          now,
          w,
          "vhost-net",
          "device_not_ready",
          `rx${dev.pair} stopped (vq_err)`,
        );
        continue; // what follows meets the stopped queue
      }
      if (r === NET_TOO_BIG || r === NET_NO_BUFFER) {
        run.pending++;
        lab.net.drop(
          skb,
          now,
          w,
          "vhost-net",
          r === NET_TOO_BIG ? "mtu_exceeded" : "no_rx_buffer",
          r === NET_TOO_BIG ? "frame larger than the RX buffer" : "RX ring ran out mid-frame",
        );
        continue;
      }
      run.pkts++;
      run.bytes += skb.len;
      run.pending++;
      dev.rxPackets++;
      if (flow !== undefined) {
        run.served.add(flow, seq);
        run.irq.add(flow, seq);
        flow.metrics.add(Counter.descriptors, rx.descs);
        if (hops.wants(flow, seq)) {
          hops.record(flow, seq, "vhost-net", "pop", {
            q: `rx${dev.pair}`,
            head: rx.head,
            descs: rx.descs,
            bytes: rx.written,
          });
        }
        now = this.#translate(dev, rx, now, flow, seq, rx.descs, rx.written);
      }
      now = hops.charge(w, now, "tap_read_kernel", 0, flow);
      if (flow !== undefined && hops.wants(flow, seq)) {
        hops.record(flow, seq, "tun", "receive", { dev: this.#tap.ifname, bytes: skb.len });
      }
      // tun_recvmsg copies the skb into the guest's buffers (the one RX copy).
      now = hops.charge(w, now, "memcpy", skb.len + rx.hdrLen, flow);
      if (flow !== undefined) {
        flow.metrics.add(Counter.copies);
        flow.metrics.add(Counter.bytes_copied, skb.len + rx.hdrLen);
        if (hops.wants(flow, seq)) {
          hops.record(flow, seq, "tun", "copy", {
            bytes: skb.len + rx.hdrLen,
            from: "skb",
            to: "guest",
          });
          hops.at(w, now);
          hops.record(flow, seq, "vhost-net", "add-used", {
            q: `rx${dev.pair}`,
            head: rx.head,
            len: rx.written,
            used: typeof rx.ring.nextUsed === "number" ? rx.ring.nextUsed : rx.ring.nextUsed.slot,
          });
        }
      }
      if (run.pending >= VHOST_NET_BATCH) this.#signal(dev, rx, 2 * dev.pair, now, run);
      if (run.pkts >= VHOST_NET_PKT_WEIGHT || run.bytes >= VHOST_NET_WEIGHT) {
        if (run.pending > 0) this.#signal(dev, rx, 2 * dev.pair, now, run);
        this.#end(dev, run);
        this.#requeue(dev, now, flow, seq, run, "rx");
        return;
      }
      if (now > lab.sched.now) {
        lab.sched.at(now, this.#rxStepFn, 0, dev);
        return;
      }
    }
    if (run.pending > 0) this.#signal(dev, rx, 2 * dev.pair, now, run);
    this.#end(dev, run);
  }

  deviceRing(index: number): DeviceRing | undefined {
    const dev = this.#devs[index >> 1];
    return index % 2 === 0 ? dev?.rx?.ring : dev?.tx?.ring;
  }

  describe(): readonly string[] {
    const out = [
      `netdev ${this.id}: tap ${this.#tap.ifname} vhost=on (vhost-net, ${this.#devs.length} queue pair${
        this.#devs.length === 1 ? "" : "s"
      })`,
      `  features 0x${this.#features.toString(16)}${this.#started ? "" : " (not started)"}`,
    ];
    for (const d of this.#devs) {
      out.push(
        `  /dev/vhost-net fd ${d.fd.fd}: worker ${d.worker.name}, tap fd ${
          this.#tap.fds[d.pair]?.fd ?? "-"
        }; ${d.runs} runs, ${d.requeues} requeues, tx ${d.txPackets} rx ${d.rxPackets} packets`,
      );
      for (const q of [d.rx, d.tx]) {
        if (q === undefined) continue;
        const c = q.ring.counters;
        const name = q === d.rx ? `rx${d.pair}` : `tx${d.pair}`;
        out.push(
          `    ${name}: size ${q.ring.size} last_avail ${
            typeof q.ring.nextAvail === "number" ? q.ring.nextAvail : q.ring.nextAvail.slot
          } used ${typeof q.ring.nextUsed === "number" ? q.ring.nextUsed : q.ring.nextUsed.slot}` +
            ` popped ${c.popped} interrupts ${c.interrupts} suppressed ${c.interruptsSuppressed}`,
        );
      }
    }
    const tq = this.#tap.queues.map((q) => `${q.length} waiting/${q.drops} dropped`).join(", ");
    out.push(`  tap queues: ${tq}`);
    return out;
  }

  destroy(t: number): void {
    this.stop(t);
    for (const d of this.#devs) this.#lab.host.close(d.fd);
    closeTap(this.#lab, this.#owner, this.#tap, t);
  }
}
