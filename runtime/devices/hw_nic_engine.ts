/**
 * The datapath of a hardware NIC function (an SR-IOV VF of an mlx5-class NIC) serving
 * virtio-format rings in guest memory — a vDPA device behind vhost-vdpa, or a VF passed to
 * the guest with VFIO. No host CPU touches the packets:
 *
 * - **doorbell** ({@link HwNicEngine.kick}): the write names a queue; the NIC's pipeline
 *   context (`nic:<bdf>`) takes the TX queue's new chains.
 * - **TX**: per chain the NIC DMA-reads the buffer through its DMA path (the device's own
 *   translation, then the platform IOMMU: `iotlb_hit_hw` / `iotlb_miss_hw` as the IOMMU
 *   reports them, `pcie_dma_latency` for the read), `hw_nic_per_packet` in the pipeline, and
 *   hands the frame to the uplink (the port's wire serializes it at line rate); the used
 *   element is written back and the queue's MSI raised when the driver wants it. Zero
 *   copies: the frame is read in place (the lab keeps its own copy of the bytes for the
 *   wire, which is not a CPU copy).
 * - **RX** ({@link HwNicEngine.receive}): a frame the embedded switch steered to this
 *   function is DMA-written into the next posted buffer of the queue its flow hashes to
 *   (no buffer: dropped `no_rx_buffer`), completed, MSI.
 * - **faults**: a DMA the IOMMU blocks drops the packet `iommu_fault`, stops the queue and
 *   sets DEVICE_NEEDS_RESET on the device (the hardware reports a queue error; the guest
 *   sees a broken device, not a retry).
 *
 * The ring work is the shared virtio-net routine (runtime/datapath/net_datapath.ts) with the
 * function's DMA path as the translator.
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import type { CpuContext } from "../sim/cpu_context.ts";
import type { GuestMemory } from "../memory/guest_memory.ts";
import type { Translator } from "../memory/translator.ts";
import {
  createDeviceRing,
  type DeviceRing,
  NET_BAD_CHAIN,
  NET_EMPTY,
  NET_FAULT,
  NET_OK,
  VirtioNetRx,
  VirtioNetTx,
} from "../datapath/net_datapath.ts";
import type { HopFlow, PacketGroup } from "../datapath/hop.ts";
import {
  newPacketId,
  type PacketId,
  PAYLOAD_HEADER_OFFSET,
  type TrafficFlow,
} from "../datapath/flow_table.ts";
import { Counter } from "../trace/metrics.ts";
import { hasFeature, VIRTIO_F_VERSION_1 } from "../virtio/features.ts";
import { describeQueueFault, type QueueFault } from "../virtio/queue_fault.ts";
import type { DeviceEnv } from "./device_env.ts";
import type { DmaCounter } from "./dma_counter.ts";
import type { NotifyAt } from "./vdpa_device.ts";

/** One queue as the driver set it up. */
export interface HwQueueSpec {
  /** virtio-net queue index: rx = 2n, tx = 2n + 1. */
  readonly index: number;
  readonly layout: "split" | "packed";
  readonly size: number;
  /** Device addresses (IOVA) of the three areas. */
  readonly desc: number;
  readonly driver: number;
  readonly device: number;
}

/** Where the function's DMA lands and how it is translated. */
export interface HwDma {
  /** The memory the DMA reaches. */
  readonly mem: GuestMemory;
  /** Device address → address of `mem`, through every stage. */
  readonly translator: Translator;
  /** The IOMMU stage, counting (so the engine can charge hits and misses). */
  readonly counter: DmaCounter;
  /** What the translation is called in traces (`iova-pa`, `mkey gpa-pa`). */
  readonly space: string;
}

/** Options of {@link HwNicEngine}. */
export interface HwNicEngineOptions {
  /** The PCI function (`0000:3b:00.2`). */
  readonly bdf: string;
  /** The component name in traces (`mlx5_vdpa`, `mlx5-vf`). */
  readonly comp: string;
  /** The frame leaves the port at `t` (after the NIC's TX work). */
  readonly uplink: (
    frame: Uint8Array,
    len: number,
    t: number,
    flow: TrafficFlow | undefined,
    seq: number,
  ) => void;
  /** The queue's MSI fired (the used buffers of `at.group`). */
  readonly msi: (index: number, at: NotifyAt) => void;
  /** A DMA fault broke the function (set NEEDS_RESET on its device). */
  readonly broken?: (index: number, why: string, t: number) => void;
}

interface QueuePair {
  tx: VirtioNetTx | undefined;
  rx: VirtioNetRx | undefined;
  txScheduled: boolean;
  readonly txGroup: PacketGroup;
  readonly rxGroup: PacketGroup;
}

/** A NIC function's datapath; see the module documentation. */
export class HwNicEngine {
  /** The NIC pipeline context. */
  readonly ctx: CpuContext;
  readonly bdf: string;
  /** Packets the function sent and received, and what it dropped. */
  readonly stats = { tx: 0, rx: 0, rxNoBuffer: 0, faults: 0 };
  readonly #env: DeviceEnv;
  readonly #o: HwNicEngineOptions;
  readonly #pairs: QueuePair[] = [];
  readonly #notify: { t: number; ctx: CpuContext; group: PacketGroup | undefined };
  #dma: HwDma | undefined;
  #features = 0n;

  constructor(env: DeviceEnv, o: HwNicEngineOptions) {
    this.#env = env;
    this.#o = o;
    this.bdf = o.bdf;
    this.ctx = env.context("device", `nic:${o.bdf.replaceAll(".", "-")}`);
    this.#notify = { t: 0, ctx: this.ctx, group: undefined };
  }

  /** Queue pairs set up. */
  get pairs(): number {
    return this.#pairs.length;
  }

  /** Builds the device-side rings of every queue (the driver reached DRIVER_OK). */
  setQueues(
    queues: readonly HwQueueSpec[],
    dma: HwDma,
    features: bigint,
  ): Result<void, string> {
    this.clear();
    this.#dma = dma;
    this.#features = features;
    const flows = this.#env.flows;
    for (const q of queues) {
      const r = createDeviceRing(dma.mem, {
        layout: q.layout,
        size: q.size,
        desc: q.desc,
        driver: q.driver,
        device: q.device,
        features,
        translator: dma.translator,
      });
      if (!r.ok) return err(`queue ${q.index}: ${describeQueueFault(r.error)}`);
      const pair = this.#pair(q.index >> 1);
      if (q.index % 2 === 1) pair.tx = new VirtioNetTx(r.value, { features, flows });
      else pair.rx = new VirtioNetRx(r.value, dma.mem, { features, flows });
    }
    dma.counter.clear();
    return ok(undefined);
  }

  #pair(n: number): QueuePair {
    let p = this.#pairs[n];
    if (p === undefined) {
      for (let i = this.#pairs.length; i <= n; i++) {
        this.#pairs.push({
          tx: undefined,
          rx: undefined,
          txScheduled: false,
          txGroup: this.#env.hops.group(),
          rxGroup: this.#env.hops.group(),
        });
      }
      p = this.#pairs[n] as QueuePair;
    }
    return p;
  }

  /** The rings go (reset). */
  clear(): void {
    this.#pairs.length = 0;
    this.#dma = undefined;
  }

  /** The ring of queue `index`, if set up. */
  ring(index: number): DeviceRing | undefined {
    const p = this.#pairs[index >> 1];
    return index % 2 === 1 ? p?.tx?.ring : p?.rx?.ring;
  }

  /** A doorbell write for queue `index` reached the NIC at `at.t`. */
  kick(index: number, at: NotifyAt): void {
    if (index % 2 === 0) return; // an RX doorbell: the buffers are used when frames arrive
    const p = this.#pairs[index >> 1];
    if (p === undefined || p.tx === undefined || p.txScheduled) return;
    p.txScheduled = true;
    this.#env.sched.at(at.t, (now) => this.#tx(index, p, now));
  }

  /** Charges the DMA translations of the last ring operation; returns when the DMA is done. */
  #chargeDma(
    t: number,
    flow: HopFlow | undefined,
    seq: number,
    addr: number,
    bytes: number,
    dir: "read" | "write",
    latency = true,
  ): number {
    const dma = this.#dma as HwDma;
    const c = dma.counter;
    const count = c.count;
    const hits = c.hits;
    const misses = c.misses;
    const pa = c.firstOut;
    c.clear();
    const hops = this.#env.hops;
    let end = t;
    for (let i = 0; i < misses; i++) end = hops.charge(this.ctx, end, "iotlb_miss_hw", 0, flow);
    if (hits > 0) end = hops.charge(this.ctx, end, "iotlb_hit_hw", 0, flow);
    if (latency) end = hops.charge(this.ctx, end, "pcie_dma_latency", 0, flow);
    if (flow === undefined) return end;
    const m = flow.metrics;
    m.add(Counter.translations, count);
    if (hits > 0) m.add(Counter.iotlb_hits, hits);
    if (misses > 0) m.add(Counter.iotlb_misses, misses);
    m.add(Counter.dma_ops);
    m.add(Counter.dma_bytes, bytes);
    if (hops.wants(flow, seq)) {
      if (count > 0) {
        hops.t = t;
        hops.dur = 0;
        hops.ctx = this.ctx;
        // through an identity (pass-through) domain only the device's own stage translated
        if (hits + misses === 0) {
          hops.record(flow, seq, this.#o.comp, "translate", {
            space: dma.space,
            addr,
            to: pa,
            len: bytes,
          });
        } else {
          hops.record(flow, seq, "iommu", "translate", {
            space: dma.space,
            addr,
            to: pa,
            len: bytes,
            hit: misses === 0,
          });
        }
      }
      hops.t = t;
      hops.dur = end - t;
      hops.ctx = this.ctx;
      hops.record(flow, seq, this.#o.comp, "dma", { dir, addr, bytes });
    }
    return end;
  }

  /** The NIC's TX engine on queue `index`. */
  #tx(index: number, p: QueuePair, now: number): void {
    p.txScheduled = false;
    const tx = p.tx;
    const dma = this.#dma;
    if (tx === undefined || dma === undefined) return;
    const env = this.#env;
    const hops = env.hops;
    const ctx = this.ctx;
    let t = now;
    let last = now;
    const g = p.txGroup;
    let done = 0;
    for (;;) {
      dma.counter.clear();
      const r = tx.pop();
      if (r === NET_EMPTY) break;
      if (r === NET_FAULT) {
        this.#fault(index, tx.ring, t);
        break;
      }
      const flow = tx.id.flow;
      const seq = tx.id.seq;
      if (r === NET_BAD_CHAIN) {
        if (flow !== undefined) {
          hops.drop(flow, seq, ctx, t, this.#o.comp, "bad_descriptor", tx.problem);
        }
        done++;
        continue;
      }
      const addr = tx.chain.addr[0] ?? 0;
      if (flow !== undefined) {
        flow.metrics.add(Counter.descriptors, tx.descs);
        if (hops.wants(flow, seq)) {
          hops.at(ctx, t);
          hops.record(flow, seq, this.#o.comp, "pop", {
            q: `tx${index >> 1}`,
            head: tx.head,
            descs: tx.descs,
            bytes: tx.chainBytes,
          });
        }
      }
      // DMA reads are pipelined: the read's latency delays this frame, not the next issue
      const ready = this.#chargeDma(
        t,
        flow,
        seq,
        this.#iovaOf(tx.ring, tx.head, addr),
        tx.chainBytes,
        "read",
      );
      t = hops.charge(ctx, t, "hw_nic_per_packet", 0, flow);
      last = Math.max(last, ready);
      // the lab keeps the bytes for the wire; the NIC reads them in place (no CPU copy)
      const view = tx.frameView(dma.mem);
      const frame = view ?? this.#gather(tx);
      this.stats.tx++;
      tx.complete();
      done++;
      if (flow !== undefined) g.add(flow, seq);
      this.#o.uplink(frame, tx.frameLen, Math.max(ready, t), flow, seq);
    }
    if (done > 0) {
      tx.flush();
      this.#msi(index, tx.needsInterrupt(), Math.max(last, t), g);
    }
  }

  #gather(tx: VirtioNetTx): Uint8Array {
    const buf = new Uint8Array(tx.frameLen);
    tx.copyFrame(buf);
    return buf;
  }

  /** The descriptor address the driver wrote (the IOVA the NIC DMAs from). */
  #iovaOf(ring: DeviceRing, head: number, fallback: number): number {
    const dma = this.#dma;
    if (dma === undefined || !("ringGpas" in ring) || ring.layout !== "split") return fallback;
    const at = ring.ringGpas().descTable + head * 16;
    return Number(dma.mem.getU64(at));
  }

  /**
   * A frame the embedded switch steered here at `t` (DMA latency already paid on the link).
   * Returns false when the function has no RX queue set up.
   */
  receive(
    frame: Uint8Array,
    len: number,
    t: number,
    flow: TrafficFlow | undefined,
    seq: number,
  ): boolean {
    const n = this.#pairs.length;
    if (n === 0 || this.#dma === undefined) return false;
    // RSS: the flow's UDP ports pick the queue pair
    const pairIndex = n === 1 ? 0 : rssHash(frame, len) % n;
    const p = this.#pairs[pairIndex];
    const rx = p?.rx;
    if (p === undefined || rx === undefined) return false;
    const index = 2 * pairIndex;
    const env = this.#env;
    const hops = env.hops;
    const ctx = this.ctx;
    this.#dma.counter.clear();
    const w = rx.deliver(frame, 0, len);
    if (w !== NET_OK) {
      if (w === NET_FAULT) {
        this.#fault(index, rx.ring, t, flow, seq);
      } else {
        this.stats.rxNoBuffer++;
        if (flow !== undefined) {
          hops.drop(flow, seq, ctx, t, this.#o.comp, "no_rx_buffer", `rx${pairIndex} empty`);
        }
      }
      return true;
    }
    this.stats.rx++;
    const addr = this.#iovaOf(rx.ring, rx.head, rx.ring.chain.addr[0] ?? 0);
    // the link's receive already paid the PCIe write latency: only the translation is left
    let end = this.#chargeDma(t, flow, seq, addr, rx.written, "write", false);
    end = hops.charge(ctx, end, "hw_nic_per_packet", 0, flow);
    rx.flush();
    if (flow !== undefined) {
      flow.metrics.add(Counter.descriptors, rx.descs);
      if (hops.wants(flow, seq)) {
        hops.at(ctx, end);
        hops.record(flow, seq, this.#o.comp, "add-used", {
          q: `rx${pairIndex}`,
          head: rx.head,
          len: rx.written,
          used: usedIndex(rx.ring),
        });
      }
      p.rxGroup.add(flow, seq);
    }
    this.#msi(index, rx.needsInterrupt(), end, p.rxGroup);
    return true;
  }

  #msi(index: number, wanted: boolean, t: number, g: PacketGroup): void {
    if (!wanted) {
      g.count(Counter.interrupts_suppressed);
      if (g.sampled) {
        this.#env.hops.at(this.ctx, t);
        g.record(this.#o.comp, "irq-suppressed", { q: queueName(index), why: "driver" });
      }
      g.reset();
      return;
    }
    const n = this.#notify;
    n.t = t;
    n.ctx = this.ctx;
    n.group = g;
    this.#o.msi(index, n);
    g.reset();
  }

  /** A DMA the IOMMU refused: drop, count, stop the queue, break the device. */
  #fault(index: number, ring: DeviceRing, t: number, flow?: TrafficFlow, seq = 0): void {
    this.stats.faults++;
    const f = ring.fault;
    const why = f === undefined ? "DMA fault" : describeQueueFault(f);
    this.lastFault = why;
    const hops = this.#env.hops;
    if (flow !== undefined) {
      // a frame from the wire the NIC could not write into the guest's buffer
      hops.drop(flow, seq, this.ctx, t, "iommu", "iommu_fault", why);
    } else {
      // a TX buffer the NIC could not read: the packet stays in the guest's ring (the
      // driver loses the queue); the fault hop names it, from the guest's view of it
      const id = this.#lostId;
      if (this.#identifyLost(f, id) && id.flow !== undefined) {
        if (hops.wants(id.flow, id.seq)) {
          hops.at(this.ctx, t);
          hops.record(id.flow, id.seq, "iommu", "fault", { what: why, q: queueName(index) });
        }
      }
    }
    this.#o.broken?.(index, `${why}`, t);
  }

  /** What the last DMA fault was, for the driver's messages. */
  lastFault: string | undefined;
  readonly #lostId: PacketId = newPacketId();
  readonly #lostHdr = new Uint8Array(16);

  #identifyLost(f: QueueFault | undefined, out: PacketId): boolean {
    const dma = this.#dma;
    if (dma === undefined || f === undefined || f.kind !== "buffer-unmapped") return false;
    const hdr = hasFeature(this.#features, VIRTIO_F_VERSION_1) ? 12 : 10;
    if (!dma.mem.read(f.addr + hdr + PAYLOAD_HEADER_OFFSET, this.#lostHdr, 0, 16)) return false;
    return this.#env.flows.identifyHeader(this.#lostHdr, 0, out);
  }

  /** Negotiated features the rings run with. */
  get features(): bigint {
    return this.#features;
  }
}

function queueName(index: number): string {
  return `${index % 2 === 0 ? "rx" : "tx"}${index >> 1}`;
}

/** A Toeplitz-free stand-in for RSS: the UDP port pair of an IPv4 frame. */
function rssHash(b: Uint8Array, len: number): number {
  if (len < 38) return 0;
  return ((((b[34] as number) << 8) | (b[35] as number)) * 31 +
    (((b[36] as number) << 8) | (b[37] as number))) >>> 0;
}

/** The device's used index after its last publish (split: used.idx; packed: the next slot). */
function usedIndex(ring: DeviceRing): number {
  const u = (ring as { nextUsed?: number | { slot: number } }).nextUsed;
  return typeof u === "number" ? u : u?.slot ?? 0;
}
