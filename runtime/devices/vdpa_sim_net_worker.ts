/**
 * vdpa_sim_net's datapath (drivers/vdpa/vdpa_sim/vdpa_sim_net.c `vdpasim_net_work`,
 * vdpa_sim.c): a kthread worker, "vDPA sim worker: vdpa0", that loops the device's TX queue
 * back to its RX queue.
 *
 * - **kick_vq** schedules the work item when the queue is ready (a kick on a queue that is
 *   not ready is ignored); the work does nothing before DRIVER_OK, or while suspended (the
 *   kick is remembered and replayed on resume).
 * - **A work run** first serves the control queue (only MAC ADDR_SET is honoured), then,
 *   with TX and RX ready, pops TX chains through the address space's IOTLB (vringh), pulls at
 *   most 4096 bytes — virtio-net header included — into the bounce buffer (copy 1), applies
 *   the receive filter (the destination MAC is the device's, broadcast or multicast; else
 *   the TX buffer completes with len 0 and `rx drops` counts it), pops an RX chain (none:
 *   `rx overruns`, the TX buffer completes and the run ends), pushes the bounce buffer into
 *   it (copy 2), and completes both. After more than 4 TX packets the work reschedules
 *   itself and returns: batches of 5.
 * - **Each completion** publishes the used element and signals the queue's callback when
 *   `vringh_need_notify` says so (EVENT_IDX-aware); the callback is the bus driver's
 *   (vhost-vdpa: the call eventfd; virtio_vdpa: vring_interrupt).
 * - **Faults**: an IOVA the address space does not map (or maps without the needed
 *   permission) fails the vringh walk. vdpa_sim counts `tx errors` (`rx errors` on the RX
 *   side), ends the run and leaves the chain unused; the queue carries on with the next
 *   buffer. It never sets DEVICE_NEEDS_RESET. The packet is dropped `iommu_fault`.
 * - The vendor counters (`vdpa dev vstats show`) move with every run.
 *
 * The ring work is the shared virtio-net routine (runtime/datapath/net_datapath.ts) on rings
 * reached through the device's vringh translation (IOVA → the bound mm's HVA, or physical
 * addresses when no mm is bound) composed with that address space's view of memory. Costs:
 * `vdpa_sim_per_packet` for the vringh walks, IOTLB lookups and the filter, plus `memcpy`
 * for each of the two copies.
 *
 * @module
 */

import { costKeyIndex } from "../sim/cost.ts";
import type { CpuContext } from "../sim/cpu_context.ts";
import { composeTranslators } from "../memory/compose.ts";
import type { GuestMemory } from "../memory/guest_memory.ts";
import {
  describeTranslateFault,
  newTranslateResult,
  type Translator,
  VHOST_ACCESS_RO,
} from "../memory/translator.ts";
import {
  createDeviceRing,
  NET_BAD_CHAIN,
  NET_EMPTY,
  NET_FAULT,
  NET_NO_BUFFER,
  NET_OK,
  VirtioNetRx,
  VirtioNetTx,
} from "../datapath/net_datapath.ts";
import { newPacketId, type PacketId, PAYLOAD_HEADER_OFFSET } from "../datapath/flow_table.ts";
import type { HopFlow, PacketGroup } from "../datapath/hop.ts";
import { Counter } from "../trace/metrics.ts";
import type { ControlAction, DetailValue } from "../trace/event.ts";
import { describeQueueFault, type QueueFault } from "../virtio/queue_fault.ts";
import { SplitDevice } from "../virtio/split_device.ts";
import { POP_EMPTY, POP_FAULT } from "../virtio/split_device.ts";
import { netHdrSize } from "../virtio/net_hdr.ts";
import {
  hasFeature,
  type MemoryView,
  type NotifyAt,
  type VdpaDatapath,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_NET_F_CTRL_VQ,
  type VqStateSplit,
} from "./vdpa_device.ts";
import type { VdpaSimNet } from "./vdpa_sim_net.ts";
import type { DeviceEnv } from "./device_env.ts";

/** PAGE_SIZE: the bounce buffer (vdpasim_net's `buffer`). */
export const VDPASIM_NET_BUFFER = 4096;
/** A work run reschedules itself after more than this many TX packets. */
export const VDPASIM_NET_BATCH = 4;

/** The worker's cost keys, resolved once. */
const K_THREAD_WAKEUP_REMOTE = costKeyIndex("thread_wakeup_remote");
const K_VDPA_SIM_PER_PACKET = costKeyIndex("vdpa_sim_per_packet");
const K_MEMCPY = costKeyIndex("memcpy");

const RX = 0;
const TX = 1;
const CVQ = 2;
const QUEUE_NAMES = ["rx0", "tx0", "ctrl"] as const;

/** What a control-plane note of the worker looks like (the lab's control step). */
export interface WorkerControl {
  control(step: {
    readonly comp: string;
    readonly action: ControlAction;
    readonly details: Readonly<Record<string, DetailValue | undefined>>;
    readonly ctx?: string;
  }): void;
}

/** Options of {@link VdpaSimNetWorker}. */
export interface VdpaSimNetWorkerOptions {
  /**
   * The memory the device reaches when no mm is bound (virtio_vdpa: host physical memory,
   * where the IOTLB's identity pass-through lands).
   */
  readonly physical?: MemoryView;
  /**
   * How the driver sees its own buffers (IOVA → memory), used only to name the packet a
   * fault lost: the device cannot read it, but the lab's books must balance.
   */
  readonly driverView?: Translator;
  /** Where control-plane notes go (ignored kicks, runs before DRIVER_OK). */
  readonly control?: WorkerControl;
}

/** A mutable {@link NotifyAt} reused for every callback. */
interface MutableNotify {
  t: number;
  ctx: CpuContext;
  group: PacketGroup | undefined;
}

/** The datapath of one vdpa_sim_net device; see the module documentation. */
export class VdpaSimNetWorker implements VdpaDatapath {
  /** The device. */
  readonly dev: VdpaSimNet;
  /** The kthread worker's context. */
  readonly ctx: CpuContext;
  /** The kthread's name, as `ps` shows it. */
  readonly thread: string;
  /** Work runs so far. */
  workRuns = 0;
  /** Work runs that consumed at least one TX buffer. */
  busyRuns = 0;
  /** kick_vq calls on a queue that was not ready. */
  kicksIgnored = 0;

  readonly #env: DeviceEnv;
  readonly #opts: VdpaSimNetWorkerOptions;
  readonly #bounce = new Uint8Array(VDPASIM_NET_BUFFER);
  readonly #scratch = new Uint8Array(16);
  readonly #tr = newTranslateResult();
  readonly #lost: PacketId = newPacketId();
  readonly #notify: MutableNotify;
  readonly #groups: PacketGroup[];
  readonly #wake: PacketGroup;
  #waking = false;
  #tx: VirtioNetTx | undefined;
  #rx: VirtioNetRx | undefined;
  #cvq: SplitDevice | undefined;
  #mem: GuestMemory | undefined;
  #scheduled = false;
  #requeued = false;
  #cvqFeatures: bigint | undefined = undefined;
  #cvqWanted = false;
  #pendingKick = false;
  /**
   * The work item's event (one function for every worker; the worker is the argument): a
   * run, then — when it requeued itself and nothing else is due first (`continueAt`) — the
   * next run right away, as the scheduler would have fired it.
   */
  static readonly #work = (at: number, w: VdpaSimNetWorker): void => {
    const sched = w.#env.sched;
    let now = at;
    for (;;) {
      const again = w.#run(now);
      if (again < 0) return;
      if (!sched.continueAt(again)) return sched.post(again, VdpaSimNetWorker.#work, 0, w);
      now = again;
    }
  };

  /** The engine it runs on. */
  get env(): DeviceEnv {
    return this.#env;
  }

  /** Attaches itself as the device's datapath. */
  constructor(dev: VdpaSimNet, env: DeviceEnv, options: VdpaSimNetWorkerOptions = {}) {
    this.dev = dev;
    this.#env = env;
    this.#opts = options;
    this.thread = `vDPA sim worker: ${dev.name}`;
    this.ctx = env.context("kthread", `vdpa-sim:${dev.name}`);
    this.#notify = { t: 0, ctx: this.ctx, group: undefined };
    this.#groups = [env.hops.group(), env.hops.group(), env.hops.group()];
    this.#wake = env.hops.group();
    dev.attachDatapath(this);
  }

  /** The physical memory the worker reaches without a bound mm (virtio_vdpa), if any. */
  get physicalMem(): GuestMemory | undefined {
    return this.#opts.physical?.mem;
  }

  // ---- VdpaDatapath --------------------------------------------------------------------

  /** vdpasim_kick_vq: schedule the work if the queue is ready. */
  kick(index: number, at?: NotifyAt): void {
    const t = at?.t ?? this.#env.sched.now;
    const ready = this.dev.getVqReady(index);
    if (!ready.ok || !ready.value) {
      this.kicksIgnored++;
      this.#note("kick ignored: queue not ready", { q: QUEUE_NAMES[index] ?? index });
      return;
    }
    // vdpasim_kick_vq: while suspended the kick is remembered for resume
    if (this.dev.suspended && (this.dev.getStatus() & VIRTIO_CONFIG_S_DRIVER_OK) !== 0) {
      this.#pendingKick = true;
      return;
    }
    this.#schedule(t);
  }

  /** Status written: DRIVER_OK starts nothing by itself; a resume replays a pending kick. */
  statusChanged(_old: number, _status: number): void {
    if (!this.dev.suspended && this.#pendingKick) {
      this.#pendingKick = false;
      this.#schedule(this.#env.sched.now);
    }
  }

  /** Reset: the rings go (vringh state is rebuilt when the queues are set up again). */
  vqState(index: number): VqStateSplit | undefined {
    const ring = index === TX ? this.#tx?.ring : index === RX ? this.#rx?.ring : this.#cvq;
    if (ring instanceof SplitDevice) return { kind: "split", availIndex: ring.nextAvail };
    // a fault left the queue without a ring: vringh's index is where it stopped
    const at = this.#stoppedAt.get(index);
    return at === undefined ? undefined : { kind: "split", availIndex: at };
  }

  /** vringh's last_avail_idx of a queue whose ring could not be rebuilt after a fault. */
  readonly #stoppedAt = new Map<number, number>();

  reset(): void {
    this.#tx = undefined;
    this.#rx = undefined;
    this.#cvq = undefined;
    this.#mem = undefined;
    this.#pendingKick = false;
    this.#stoppedAt.clear();
    for (const g of this.#groups) g.reset();
  }

  /** Forgets the rings so the next run rebuilds them (after a queue was reconfigured). */
  invalidate(): void {
    this.reset();
  }

  // ---- the work item -------------------------------------------------------------------

  #schedule(t: number): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#env.sched.post(t, VdpaSimNetWorker.#work, 0, this);
  }

  #note(what: string, details: Readonly<Record<string, DetailValue | undefined>> = {}): void {
    this.#opts.control?.control({
      comp: "vdpa_sim",
      action: "note",
      ctx: this.ctx.name,
      details: { name: what, dev: this.dev.name, ...details },
    });
  }

  /** The memory view the device reaches, or undefined when there is none. */
  #view(): MemoryView | undefined {
    return this.dev.boundMm ?? this.#opts.physical;
  }

  /** The translation of queue `index`: vringh's IOTLB, then the view's memory. */
  #translator(index: number, view: MemoryView): Translator | undefined {
    const iotlb = this.dev.translatorFor(index);
    return iotlb === undefined ? undefined : composeTranslators(iotlb, view.toMem);
  }

  #ring(index: number, view: MemoryView) {
    const c = this.dev.vqConfig(index);
    const tr = this.#translator(index, view);
    if (c === undefined || !c.ready || tr === undefined || c.num === 0) return undefined;
    const r = createDeviceRing(view.mem, {
      layout: "split",
      size: c.num,
      desc: Number(c.descArea),
      driver: Number(c.driverArea),
      device: Number(c.deviceArea),
      features: this.dev.getDriverFeatures(),
      translator: tr,
    });
    if (!r.ok) {
      this.#note(`vringh: ${describeQueueFault(r.error)}`, { q: QUEUE_NAMES[index] });
      // vringh cannot even read the ring: the queue is stuck for good.
      if (r.error.kind === "ring-unmapped") {
        this.dev.queueUnreachable(index, `vringh: ${describeQueueFault(r.error)}`);
      }
      return undefined;
    }
    const ring = r.value;
    if (!(ring instanceof SplitDevice)) return undefined;
    // vringh starts at the state SET_VRING_BASE gave the device (or where a fault stopped it)
    const st = c.state;
    const stopped = this.#stoppedAt.get(index);
    if ((st.kind === "split" && st.availIndex !== 0) || stopped !== undefined) {
      const at = stopped ?? (st.kind === "split" ? st.availIndex : 0);
      const again = SplitDevice.fromState(view.mem, {
        ...ring.toState(),
        nextAvail: at,
        nextUsed: at,
      }, { features: this.dev.getDriverFeatures(), translator: tr });
      return again.ok ? again.value : undefined;
    }
    return ring;
  }

  /** Builds the rings of the ready queues (vdpasim_queue_ready → vringh_init_iotlb). */
  #ensureRings(): boolean {
    const view = this.#view();
    if (view === undefined) return false;
    if (this.#mem !== view.mem) this.reset();
    this.#mem = view.mem;
    const features = this.dev.getDriverFeatures();
    const flows = this.#env.flows;
    if (this.#tx === undefined) {
      const r = this.#ring(TX, view);
      if (r !== undefined) this.#tx = new VirtioNetTx(r, { features, flows });
    }
    if (this.#rx === undefined) {
      const r = this.#ring(RX, view);
      if (r !== undefined) this.#rx = new VirtioNetRx(r, view.mem, { features, flows });
    }
    if (this.#cvq === undefined && this.#wantsCvq(features)) {
      this.#cvq = this.#ring(CVQ, view);
    }
    return true;
  }

  /** CTRL_VQ negotiated (remembered per feature set: a BigInt test on every run adds up). */
  #wantsCvq(features: bigint): boolean {
    if (features !== this.#cvqFeatures) {
      this.#cvqFeatures = features;
      this.#cvqWanted = hasFeature(features, VIRTIO_NET_F_CTRL_VQ);
    }
    return this.#cvqWanted;
  }

  /** One work run at `now`; returns when it requeued itself (its next run), else -1. */
  #run(now: number): number {
    this.#scheduled = false;
    this.workRuns++;
    const env = this.#env;
    const hops = env.hops;
    const ctx = this.ctx;
    const dev = this.dev;
    const stats = dev.stats;
    let t = now;
    // a sleeping kthread is woken by kthread_queue_work; a requeue keeps it running
    const wake = !this.#requeued && ctx.isIdleAt(now);
    this.#requeued = false;
    if (wake) {
      t = hops.chargeAt(ctx, now, K_THREAD_WAKEUP_REMOTE, 0, undefined);
      this.#wake.reset();
      this.#wake.mark();
      this.#waking = true;
    }
    // vdpasim_net_work: nothing before DRIVER_OK, nothing while suspended
    if ((dev.getStatus() & VIRTIO_CONFIG_S_DRIVER_OK) === 0) {
      this.#note("work: DRIVER_OK not set, nothing done");
      this.#closeWake(0);
      return -1;
    }
    if (dev.suspended) {
      this.#closeWake(0);
      return -1;
    }
    if (!this.#ensureRings()) {
      this.#note("work: no memory bound to the device");
      this.#closeWake(0);
      return -1;
    }
    t = this.#serveCvq(t);
    const tx = this.#tx;
    const rx = this.#rx;
    if (tx === undefined || rx === undefined) {
      this.#closeWake(0);
      return -1;
    }
    let txPkts = 0;
    let txBytes = 0;
    let rxPkts = 0;
    let rxBytes = 0;
    let requeueAt = -1;
    const bounce = this.#bounce;
    const mac = dev.mac;
    // the run's costs, read once: vringh walk + IOTLB + filter, and memcpy = a + b·n
    const perPacket = hops.costAt(K_VDPA_SIM_PER_PACKET);
    const copyBase = hops.costAt(K_MEMCPY, 0);
    const copyPerByte = hops.costAt(K_MEMCPY, 1) - copyBase;
    for (;;) {
      const r = tx.pop();
      if (r === NET_EMPTY) break;
      if (r === NET_FAULT) {
        stats.tx.errors++;
        t = this.#txFault(tx, t);
        break;
      }
      const flow = tx.id.flow;
      const seq = tx.id.seq;
      const traced = flow !== undefined && hops.wants(flow, seq);
      if (flow !== undefined && this.#waking) this.#wake.add(flow, seq);
      if (r === NET_BAD_CHAIN) {
        // vringh refuses a writable descriptor in a TX chain: an error, the run ends
        stats.tx.errors++;
        tx.flush();
        if (flow !== undefined) {
          hops.drop(flow, seq, ctx, t, "vdpa_sim", "bad_descriptor", tx.problem);
        }
        t = this.#complete(TX, tx.needsInterrupt(), t, flow, seq);
        break;
      }
      txPkts++;
      // vringh_iov_pull_iotlb: header and frame, at most a page, into the bounce buffer
      const read = Math.min(tx.chainBytes, VDPASIM_NET_BUFFER);
      const copy1 = copyBase + copyPerByte * read;
      if (traced) {
        // vringh walk, software IOTLB lookups, receive filter; then copy #1
        t = hops.chargeNs(ctx, t, perPacket, flow);
        hops.record(flow, seq, "vdpa_sim", "pop", {
          q: "tx0",
          head: tx.head,
          descs: tx.descs,
          bytes: tx.chainBytes,
        });
        this.#recordTranslate(tx, flow, seq);
        t = hops.chargeNs(ctx, t, copy1, flow);
        hops.record(flow, seq, "vdpa_sim", "copy", {
          bytes: read,
          from: "tx-buffer",
          to: "bounce",
        });
      } else {
        t = hops.chargeNs(ctx, t, perPacket + copy1, flow);
      }
      tx.copyFrame(bounce, 0, true);
      txBytes += read;
      if (flow !== undefined) {
        const m = flow.metrics;
        m.add(Counter.descriptors, tx.descs);
        m.add(Counter.translations, tx.chain.count);
        m.add(Counter.copies);
        m.add(Counter.bytes_copied, read);
      }
      const hdr = tx.hdrLen;
      if (!receiveFilter(bounce, read, hdr, mac)) {
        stats.rx.drops++;
        if (flow !== undefined) {
          hops.drop(flow, seq, ctx, t, "vdpa_sim", "mac_filter", `dst ${macAt(bounce, hdr)}`);
        }
        tx.complete();
        tx.flush();
        t = this.#complete(TX, tx.needsInterrupt(), t, flow, seq);
        continue;
      }
      if (!rx.hasBuffer()) {
        stats.rx.overruns++;
        if (flow !== undefined) {
          hops.drop(flow, seq, ctx, t, "vdpa_sim", "no_rx_buffer", "rx0 empty");
        }
        tx.complete();
        tx.flush();
        t = this.#complete(TX, tx.needsInterrupt(), t, flow, seq);
        break;
      }
      const w = rx.deliver(bounce, hdr, read - hdr);
      if (w !== NET_OK) {
        // vringh_iov_push_iotlb failed: rx errors, the run ends, the TX buffer stays unused
        stats.rx.errors++;
        t = this.#rxFailure(rx, w, t, flow, seq);
        break;
      }
      const written = rx.written;
      t = hops.chargeNs(ctx, t, copyBase + copyPerByte * written, flow);
      rxPkts++;
      rxBytes += written;
      if (flow !== undefined) {
        const m = flow.metrics;
        m.add(Counter.copies);
        m.add(Counter.bytes_copied, written);
        m.add(Counter.descriptors, rx.descs);
      }
      if (traced) {
        hops.record(flow, seq, "vdpa_sim", "copy", {
          bytes: written,
          from: "bounce",
          to: "rx-buffer",
        });
      }
      tx.complete();
      tx.flush();
      if (traced) {
        hops.at(ctx, t);
        hops.record(flow, seq, "vdpa_sim", "add-used", {
          q: "tx0",
          head: tx.head,
          len: 0,
          used: (tx.ring as SplitDevice).nextUsed,
        });
      }
      t = this.#complete(TX, tx.needsInterrupt(), t, flow, seq);
      rx.flush();
      if (traced) {
        hops.at(ctx, t);
        hops.record(flow, seq, "vdpa_sim", "add-used", {
          q: "rx0",
          head: rx.head,
          len: written,
          used: (rx.ring as SplitDevice).nextUsed,
        });
      }
      t = this.#complete(RX, rx.needsInterrupt(), t, flow, seq);
      if (txPkts > VDPASIM_NET_BATCH) {
        // fairness: hand the CPU back and come round again (queued once the run is over)
        this.#requeued = true;
        requeueAt = t;
        break;
      }
    }
    if (txPkts > 0) this.busyRuns++;
    stats.tx.add(txPkts, txBytes);
    stats.rx.add(rxPkts, rxBytes);
    this.#closeWake(txPkts);
    // A kick during the run may have queued the work already.
    if (requeueAt < 0 || this.#scheduled) return -1;
    this.#scheduled = true;
    return requeueAt;
  }

  #closeWake(n: number): void {
    if (!this.#waking) return;
    this.#waking = false;
    const g = this.#wake;
    g.count(Counter.wakeups);
    if (g.sampled) g.recordMark("vdpa_sim", "wakeup", { thread: this.thread, batch: n });
    g.reset();
  }

  #recordTranslate(tx: VirtioNetTx, flow: HopFlow, seq: number): void {
    const chain = tx.chain;
    const mem = this.#mem;
    const ring = tx.ring as SplitDevice;
    // the device address of the head descriptor, as the driver wrote it, through vringh
    const iova = mem === undefined
      ? 0
      : Number(mem.getU64(ring.ringGpas().descTable + tx.head * 16));
    const iotlb = this.dev.translatorFor(TX);
    const tr = this.#tr;
    const to = iotlb !== undefined && iotlb.translate(iova, 1, VHOST_ACCESS_RO, tr) ? tr.addr : 0;
    this.#env.hops.record(flow, seq, "vringh", "translate", {
      space: this.dev.boundMm !== undefined ? "iova-hva" : "iova-pa",
      addr: iova,
      to,
      len: chain.len[0] ?? 0,
      hit: true,
    });
  }

  /**
   * A completion was published on queue `index`: signal the callback when vringh says so
   * (vdpasim_net_complete → vringh_need_notify_iotlb → vringh_notify).
   */
  #complete(
    index: number,
    notify: boolean,
    t: number,
    flow: HopFlow | undefined,
    seq: number,
  ): number {
    const g = this.#groups[index] as PacketGroup;
    if (flow !== undefined) g.add(flow, seq);
    if (!notify) {
      if (flow !== undefined) {
        flow.metrics.add(Counter.interrupts_suppressed);
        if (this.#env.hops.wants(flow, seq)) {
          this.#env.hops.at(this.ctx, t);
          this.#env.hops.record(flow, seq, "vdpa_sim", "irq-suppressed", {
            q: QUEUE_NAMES[index] ?? `vq${index}`,
            why: hasFeature(this.dev.getDriverFeatures(), 29) ? "used_event" : "NO_INTERRUPT",
          });
        }
      }
      return t;
    }
    const cb = this.dev.vqCallback(index);
    if (cb !== undefined) {
      const n = this.#notify;
      n.t = t;
      n.ctx = this.ctx;
      n.group = g.size > 0 ? g : undefined;
      cb(n);
    }
    if (g.size > 0) g.reset();
    return Math.max(t, this.ctx.busyUntil);
  }

  /** A TX walk failed: count, drop the lost packet, skip its head as vringh did. */
  #txFault(tx: VirtioNetTx, t: number): number {
    const ring = tx.ring as SplitDevice;
    const fault = ring.fault;
    const id = this.#identifyLost(ring, fault);
    const reason = isTranslateFault(fault) ? "iommu_fault" : "bad_descriptor";
    if (id.flow !== undefined) {
      this.#env.hops.drop(
        id.flow,
        id.seq,
        this.ctx,
        t,
        "vringh",
        reason,
        fault === undefined ? "" : describeQueueFault(fault),
      );
    }
    this.#note(`vringh: ${fault === undefined ? "fault" : describeQueueFault(fault)}`, {
      q: "tx0",
    });
    const next = this.#skipHead(ring);
    if (next !== undefined) {
      this.#tx = new VirtioNetTx(next, {
        features: this.dev.getDriverFeatures(),
        flows: this.#env.flows,
      });
    } else this.#tx = undefined;
    return t;
  }

  /** The RX push failed: the packet is lost (the TX buffer stays consumed, unused). */
  #rxFailure(
    rx: VirtioNetRx,
    w: number,
    t: number,
    flow: HopFlow | undefined,
    seq: number,
  ): number {
    const ring = rx.ring as SplitDevice;
    const fault = w === NET_FAULT ? ring.fault : undefined;
    if (flow !== undefined) {
      const reason = w === NET_FAULT
        ? (isTranslateFault(fault) ? "iommu_fault" : "bad_descriptor")
        : w === NET_NO_BUFFER
        ? "no_rx_buffer"
        : "mtu_exceeded";
      this.#env.hops.drop(
        flow,
        seq,
        this.ctx,
        t,
        "vringh",
        reason,
        fault !== undefined ? describeQueueFault(fault) : "rx buffer too small",
      );
    }
    if (w === NET_FAULT) {
      this.#note(`vringh: ${fault === undefined ? "fault" : describeQueueFault(fault)}`, {
        q: "rx0",
      });
      const next = this.#skipHead(ring);
      if (next !== undefined && this.#mem !== undefined) {
        this.#rx = new VirtioNetRx(next, this.#mem, {
          features: this.dev.getDriverFeatures(),
          flows: this.#env.flows,
        });
      } else this.#rx = undefined;
    }
    return t;
  }

  /** vringh consumed the faulting head: rebuild the ring one entry further. */
  #skipHead(ring: SplitDevice): SplitDevice | undefined {
    const mem = this.#mem;
    const index = ring === this.#tx?.ring ? TX : RX;
    this.#stoppedAt.set(index, (ring.nextAvail + 1) & 0xffff);
    if (mem === undefined) return undefined;
    const st = ring.toState();
    const r = SplitDevice.fromState(mem, { ...st, nextAvail: (st.nextAvail + 1) & 0xffff }, {
      features: this.dev.getDriverFeatures(),
      translator: this.#translatorOf(ring),
    });
    return r.ok ? r.value : undefined;
  }

  #translatorOf(ring: SplitDevice): Translator {
    const view = this.#view();
    const index = ring === this.#tx?.ring ? TX : RX;
    return (view === undefined ? undefined : this.#translator(index, view)) ?? {
      translate: (_a, _l, access, out) => {
        out.fault = { kind: "unmapped", iova: _a, access };
        return false;
      },
    };
  }

  /** Which packet a failed walk lost, read through the driver's own view (see options). */
  #identifyLost(ring: SplitDevice, fault: QueueFault | undefined): PacketId {
    const id = this.#lost;
    id.flow = undefined;
    id.seq = 0;
    const peek = this.#opts.driverView;
    const mem = this.#mem;
    if (peek === undefined || mem === undefined || fault?.kind !== "buffer-unmapped") return id;
    const hdr = netHdrSize(this.dev.getDriverFeatures());
    const tr = this.#tr;
    if (!peek.translate(fault.addr + hdr + PAYLOAD_HEADER_OFFSET, 16, VHOST_ACCESS_RO, tr)) {
      return id;
    }
    if (!mem.read(tr.addr, this.#scratch, 0, 16)) return id;
    this.#env.flows.identifyHeader(this.#scratch, 0, id);
    void ring;
    return id;
  }

  // ---- the control queue ---------------------------------------------------------------

  /** vdpasim_handle_cvq: MAC ADDR_SET is honoured, everything else gets VIRTIO_NET_ERR. */
  #serveCvq(t: number): number {
    const cvq = this.#cvq;
    if (cvq === undefined) return t;
    const stats = this.dev.stats;
    const hdr = this.#scratch;
    for (;;) {
      const head = cvq.pop();
      if (head === POP_EMPTY || head === POP_FAULT) break;
      const c = cvq.chain;
      stats.cvq.requests++;
      let status = 1; // VIRTIO_NET_ERR
      if (c.copyOut(hdr, 0, 0) >= 2 && hdr[0] === 1 && hdr[1] === 1) {
        // VIRTIO_NET_CTRL_MAC / VIRTIO_NET_CTRL_MAC_ADDR_SET: 6 bytes into config space
        const mac = new Uint8Array(6);
        if (c.copyOut(mac, 0, 2) === 6) {
          this.dev.setMac([
            mac[0] ?? 0,
            mac[1] ?? 0,
            mac[2] ?? 0,
            mac[3] ?? 0,
            mac[4] ?? 0,
            mac[5] ?? 0,
          ]);
          status = 0;
        }
      }
      if (status === 0) stats.cvq.successes++;
      else stats.cvq.errors++;
      const written = c.copyIn(new Uint8Array([status]), 0, 1);
      cvq.addUsed(head, written);
      // the CVQ callback runs unconditionally (cvq->cb), not through vringh_need_notify
      const cb = this.dev.vqCallback(CVQ);
      if (cb !== undefined) {
        const n = this.#notify;
        n.t = t;
        n.ctx = this.ctx;
        n.group = undefined;
        cb(n);
      }
    }
    return t;
  }
}

/** receive_filter (vdpa_sim_net.c): own MAC, broadcast or multicast, after the header. */
export function receiveFilter(
  buf: Uint8Array,
  len: number,
  hdrLen: number,
  mac: readonly number[],
): boolean {
  if (len < 6 + hdrLen) return false;
  const first = buf[hdrLen] as number;
  // is_broadcast_ether_addr / is_multicast_ether_addr: the I/G bit of the first octet
  if ((first & 1) === 1) return true;
  for (let i = 0; i < 6; i++) if (buf[hdrLen + i] !== mac[i]) return false;
  return true;
}

function macAt(buf: Uint8Array, off: number): string {
  const p: string[] = [];
  for (let i = 0; i < 6; i++) p.push((buf[off + i] ?? 0).toString(16).padStart(2, "0"));
  return p.join(":");
}

function isTranslateFault(f: QueueFault | undefined): boolean {
  return f !== undefined && "cause" in f &&
    (f as { cause: { via: string } }).cause.via === "translate";
}

/** One line for a fault cause (re-exported for traces of other engines). */
export function faultText(f: QueueFault): string {
  if ("cause" in f) {
    const c = (f as { cause: { via: string; fault: unknown } }).cause;
    if (c.via === "translate") return describeTranslateFault(c.fault as never);
  }
  return describeQueueFault(f);
}
