/**
 * QEMU's own virtio-net datapath (hw/net/virtio-net.c), run by QEMU's main loop thread for
 * backends without vhost (`-netdev tap,vhost=off`, `-netdev user`):
 *
 * - **TX**: the guest's notify signals the queue's ioeventfd; the main loop wakes
 *   (`thread_wakeup_remote` when it slept), clears the eventfd (a `syscall`) and runs the TX
 *   bottom half (`qemu_tx_flush`), which disables notifications and pops up to `x-txburst`
 *   (256) chains (`qemu_virtqueue_pop_push` each), hands each frame to the peer
 *   (`qemu_sendv_packet_async` → tap `writev`, or slirp), pushes it used, and notifies the
 *   guest (`virtio_notify` → KVM_SIGNAL_MSI). A full burst reschedules the bottom half; an
 *   empty ring re-enables notifications and re-checks (the race of §1.6 step 7).
 * - **RX**: the peer's fd becomes readable; the main loop wakes and reads up to 50 frames
 *   (net/tap.c `tap_send`), each copied into guest buffers (`virtio_net_receive`) and
 *   notified. With no receive buffer QEMU stops reading (`virtio_net_can_receive`): frames wait
 *   in the peer's queue until the guest refills and kicks the RX queue
 *   (`virtio_net_handle_rx` → `qemu_flush_queued_packets`). A frame read that finds too few
 *   mergeable buffers (`virtio_net_has_buffers`) is not dropped: `virtio_net_receive` returns
 *   0 and the frame stays queued in QEMU until that kick; a reset purges it.
 *
 * Ring faults are QEMU's `virtio_error`: the device sets NEEDS_RESET.
 *
 * @module
 */

import { ok, type Result } from "../result.ts";
import type { CpuContext } from "../sim/cpu_context.ts";
import { Counter } from "../trace/metrics.ts";
import type { HopFlow, PacketGroup } from "../datapath/hop.ts";
import type { TrafficFlow } from "../datapath/flow_table.ts";
import {
  createDeviceRing,
  NET_BAD_CHAIN,
  NET_EMPTY,
  NET_FAULT,
  NET_NO_BUFFER,
  NET_TOO_BIG,
  VirtioNetRx,
  VirtioNetTx,
} from "../datapath/net_datapath.ts";
import { describeQueueFault } from "../virtio/queue_fault.ts";
import type { Lab } from "../lab.ts";
import type { Skb } from "../net/skb.ts";
import type { BackendStart, NetFrontend } from "./net_backend.ts";
import { viommuTranslator } from "./viommu_translator.ts";

/** QEMU TX_BURST: packets per TX flush (include/hw/virtio/virtio-net.h). */
export const QEMU_TX_BURST = 256;
/** Frames `tap_send` reads per wake-up before yielding (net/tap.c). */
export const TAP_SEND_BATCH = 50;

/** Where QEMU's virtio-net sends frames and gets them from (a tap, slirp). */
export interface QemuNetPeer {
  /** Name for hops (`tap0`, `slirp`). */
  readonly label: string;
  /**
   * The guest transmitted the frame of `tx`'s last pop at `t` on the main loop: deliver it to
   * the peer (charging the syscall and copy it takes). Returns when the main loop is done.
   */
  send(
    tx: VirtioNetTx,
    t: number,
    ctx: CpuContext,
    flow: TrafficFlow | undefined,
    seq: number,
  ): number;
  /** The next frame waiting for the guest on queue pair `pair`. */
  peek(pair: number): Skb | undefined;
  /**
   * Takes it and charges what reading it costs (a `read()` of the tap fd: syscall, kernel
   * part, copy #1 into QEMU's buffer). Returns when the frame is in QEMU's buffer.
   */
  read(pair: number, t: number, ctx: CpuContext): { skb: Skb; end: number } | undefined;
  /** Takes the next frame of queue pair `pair` without reading it (nothing charged). */
  take(pair: number): Skb | undefined;
  /** The frame could not be delivered: count its drop. */
  drop(
    skb: Skb,
    t: number,
    ctx: CpuContext,
    reason: "mtu_exceeded" | "needs_reset" | "no_rx_buffer" | "device_not_ready",
  ): void;
}

interface Pair {
  readonly tx: VirtioNetTx;
  readonly rx: VirtioNetRx;
  readonly txIndex: number;
  readonly rxIndex: number;
  txPending: boolean;
  rxPending: boolean;
  /** A flush / a tap_send in progress (each resumes itself packet by packet). */
  txActive: boolean;
  rxActive: boolean;
  txWoke: boolean;
  rxWoke: boolean;
  txCount: number;
  rxCount: number;
  /** The traffic that woke the flush in progress (pays shared work). */
  txHint: HopFlow | undefined;
  /** Packets the TX flush served (its wake-up's batch). */
  readonly txGroup: PacketGroup;
  /** Packets since the last RX interrupt. */
  readonly rxGroup: PacketGroup;
  /** Packets the RX run served (its wake-up's batch). */
  readonly rxWake: PacketGroup;
  /** Packets the TX interrupt reports. */
  readonly irq: PacketGroup;
  /** A frame read from the peer that waits in QEMU for receive buffers (`qemu_net_queue`). */
  held: Skb | undefined;
  /** The device was reset: continuations still scheduled for this pair do nothing. */
  dead: boolean;
}

/** QEMU's userspace virtio-net device datapath over a {@link QemuNetPeer}. */
export class QemuUserspaceNet {
  readonly #lab: Lab;
  readonly #peer: QemuNetPeer;
  #txBurst: number;
  #frontend: NetFrontend | undefined;
  #pairs: Pair[] = [];
  /** Per-packet continuations, bound once (scheduling one allocates no closure). */
  readonly #txStepFn = (at: number, p: Pair) => this.#txStep(p, at, p.txHint);
  readonly #rxStepFn = (at: number, p: Pair) => this.#rxStep(p, at);
  #ctx: CpuContext | undefined;

  constructor(lab: Lab, peer: QemuNetPeer) {
    this.#lab = lab;
    this.#peer = peer;
    this.#txBurst = QEMU_TX_BURST;
  }

  /** True once started. */
  get running(): boolean {
    return this.#pairs.length > 0;
  }

  /** The TX side of queue pair `k` (for `show vq`). */
  tx(k: number): VirtioNetTx | undefined {
    return this.#pairs[k]?.tx;
  }

  /** The RX side of queue pair `k`. */
  rx(k: number): VirtioNetRx | undefined {
    return this.#pairs[k]?.rx;
  }

  /** DRIVER_OK: builds QEMU's view of the rings (guest-physical, no translation). */
  start(frontend: NetFrontend, s: BackendStart): Result<void, string> {
    this.#frontend = frontend;
    this.#ctx = frontend.vm.qemu;
    this.#txBurst = frontend.txBurst;
    const pairs: Pair[] = [];
    const mem = frontend.mem;
    // With a translated guest vIOMMU the rings and buffers are IOVAs: QEMU's accesses go
    // through the device's IOMMU address space.
    const dma = frontend.vm.dmaTranslation(frontend, s.features);
    const translator = dma === undefined ? undefined : viommuTranslator(dma.viommu, dma.rid);
    for (let k = 0; k < s.pairs; k++) {
      const rxq = s.queues.find((q) => q.index === 2 * k);
      const txq = s.queues.find((q) => q.index === 2 * k + 1);
      if (rxq === undefined || txq === undefined) continue;
      const spec = (q: typeof rxq) => ({
        layout: q.layout,
        size: q.size,
        desc: q.desc,
        driver: q.driver,
        device: q.device,
        features: s.features,
        ...(translator === undefined ? {} : { translator }),
      });
      const rr = createDeviceRing(mem, spec(rxq));
      if (!rr.ok) return { ok: false, error: `rx${k}: ${describeQueueFault(rr.error)}` };
      const tr = createDeviceRing(mem, spec(txq));
      if (!tr.ok) return { ok: false, error: `tx${k}: ${describeQueueFault(tr.error)}` };
      frontend.attachRing(rr.value, "needs-reset");
      frontend.attachRing(tr.value, "needs-reset");
      pairs.push({
        rx: new VirtioNetRx(rr.value, mem, { features: s.features, flows: this.#lab.flows }),
        tx: new VirtioNetTx(tr.value, { features: s.features, flows: this.#lab.flows }),
        txIndex: 2 * k + 1,
        rxIndex: 2 * k,
        txPending: false,
        rxPending: false,
        txActive: false,
        rxActive: false,
        txWoke: false,
        rxWoke: false,
        txCount: 0,
        rxCount: 0,
        txHint: undefined,
        irq: this.#lab.hops.group(),
        txGroup: this.#lab.hops.group(),
        rxGroup: this.#lab.hops.group(),
        rxWake: this.#lab.hops.group(),
        held: undefined,
        dead: false,
      });
    }
    this.#pairs = pairs;
    return ok(undefined);
  }

  /**
   * Device reset: QEMU forgets the rings and purges what it queued for the guest
   * (`qemu_flush_or_purge_queued_packets`).
   */
  stop(t: number = this.#lab.now): void {
    for (const p of this.#pairs) {
      p.dead = true;
      if (p.held !== undefined && this.#ctx !== undefined) {
        this.#peer.drop(p.held, t, this.#ctx, "device_not_ready");
        p.held = undefined;
      }
    }
    this.#pairs = [];
  }

  /** The ioeventfd of virtqueue `index` fired at `t`. */
  kick(index: number, t: number, group: PacketGroup): void {
    const p = this.#pairs[index >> 1];
    if (p === undefined) return;
    (index % 2 === 1 ? p.tx : p.rx).ring.notified();
    const hint = group.flow;
    if (index % 2 === 1) this.#scheduleTx(p, t, hint, true);
    else this.#scheduleRx(p, t, hint, true);
  }

  /** The peer has frames for queue pair `pair` since `t`. */
  readable(pair: number, t: number): void {
    const p = this.#pairs[pair];
    if (p !== undefined) this.#scheduleRx(p, t, undefined, false);
  }

  #scheduleTx(p: Pair, t: number, hint: HopFlow | undefined, eventfd: boolean): void {
    // A flush in progress re-checks the ring before it ends.
    if (p.txPending || p.txActive) return;
    p.txPending = true;
    this.#lab.sched.at(t, (now) => this.#flushTx(p, now, hint, eventfd));
  }

  #scheduleRx(p: Pair, t: number, hint: HopFlow | undefined, eventfd: boolean): void {
    if (p.rxPending || p.rxActive) return;
    p.rxPending = true;
    this.#lab.sched.at(t, (now) => this.#receive(p, now, hint, eventfd));
  }

  /**
   * The main loop runs a handler at `t`: a wake-up when it slept (marked on `group`, counted
   * when the handler served a packet), then the eventfd's read.
   */
  #wake(t: number, group: PacketGroup, hint: HopFlow | undefined, eventfd: boolean): number {
    const ctx = this.#ctx as CpuContext;
    const hops = this.#lab.hops;
    let now = t;
    group.reset();
    if (ctx.isIdleAt(t)) {
      now = hops.charge(ctx, t, "thread_wakeup_remote", 0, hint);
      group.mark();
    }
    if (eventfd) {
      // event_notifier_test_and_clear: read(2) on the eventfd.
      now = hops.charge(ctx, now, "syscall", 0, hint);
      hint?.metrics.add(Counter.syscalls);
      hint?.metrics.add(Counter.user_kernel_switches, 2);
    }
    return now;
  }

  /** The wake-up's hop and counters go to the packets the handler served. */
  #woke(group: PacketGroup): void {
    if (group.size === 0) return;
    group.count(Counter.wakeups);
    group.count(Counter.context_switches);
    if (group.sampled) {
      group.recordMark("qemu", "wakeup", {
        thread: (this.#ctx as CpuContext).name,
        ...(group.size > 1 ? { batch: group.size } : {}),
      });
    }
  }

  /** virtio_net_flush_tx on the main loop: starts a flush. */
  #flushTx(p: Pair, t: number, hint: HopFlow | undefined, eventfd: boolean): void {
    p.txPending = false;
    if (p.dead) return;
    const ctx = this.#ctx as CpuContext;
    p.txActive = true;
    p.txWoke = ctx.isIdleAt(t);
    p.txCount = 0;
    p.irq.reset();
    let now = this.#wake(t, p.txGroup, hint, eventfd);
    now = this.#lab.hops.charge(ctx, now, "qemu_tx_flush", 0, hint);
    p.tx.ring.disableNotifications();
    this.#txStep(p, now, hint);
  }

  /** The flush's loop, one packet per step at its own virtual time. */
  #txStep(p: Pair, t: number, hint: HopFlow | undefined): void {
    if (p.dead) return;
    const lab = this.#lab;
    const hops = lab.hops;
    const ctx = this.#ctx as CpuContext;
    const fe = this.#frontend as NetFrontend;
    const tx = p.tx;
    const group = p.txGroup;
    let now = t;
    let more = false;
    for (;;) {
      if (p.txCount >= this.#txBurst) {
        more = true;
        break;
      }
      const r = tx.pop();
      if (r === NET_EMPTY) {
        // virtio_queue_set_notification(vq, 1), then re-check the ring.
        if (tx.ring.enableNotifications()) {
          tx.ring.disableNotifications();
          continue;
        }
        break;
      }
      if (r === NET_FAULT) {
        const f = tx.ring.fault;
        fe.deviceError(`virtio-net ${f ? describeQueueFault(f) : "ring fault"}`, now);
        break;
      }
      const flow = tx.id.flow;
      const seq = tx.id.seq;
      p.txCount++;
      if (r === NET_BAD_CHAIN && tx.chain.readable === 0) {
        // virtio_net_flush_tx: out_num < 1 is virtio_error, not a dropped packet.
        fe.deviceError("virtio-net header not in first element", now);
        break;
      }
      if (r === NET_BAD_CHAIN) {
        tx.flush();
        if (flow !== undefined) {
          hops.drop(flow, seq, ctx, now, "qemu.virtio-net", "bad_descriptor", tx.problem);
        }
        continue;
      }
      if (flow !== undefined) {
        group.add(flow, seq);
        p.irq.add(flow, seq);
      }
      now = hops.charge(ctx, now, "qemu_virtqueue_pop_push", 0, flow);
      if (flow !== undefined) {
        flow.metrics.add(Counter.descriptors, tx.descs);
        if (hops.wants(flow, seq)) {
          hops.record(flow, seq, "qemu.virtio-net", "pop", {
            q: `tx${p.txIndex >> 1}`,
            head: tx.head,
            descs: tx.descs,
            bytes: tx.chainBytes,
          });
        }
      }
      now = this.#peer.send(tx, now, ctx, flow, seq);
      // virtqueue_push: one used element, published at once.
      tx.complete();
      tx.flush();
      if (now > lab.sched.now) {
        p.txHint = hint;
        lab.sched.at(now, this.#txStepFn, 0, p);
        return;
      }
    }
    if (p.txWoke) this.#woke(group);
    // virtio_notify after the flush.
    if (p.txCount > 0 && tx.needsInterrupt()) fe.interrupt(p.txIndex, now, ctx, "qemu", p.irq);
    p.irq.reset();
    p.txActive = false;
    // A full burst reschedules the bottom half (notifications stay off).
    if (more) this.#scheduleTx(p, now, hint, false);
  }

  /** tap_send → virtio_net_receive on the main loop: starts reading. */
  #receive(p: Pair, t: number, hint: HopFlow | undefined, eventfd: boolean): void {
    p.rxPending = false;
    if (p.dead) return;
    const ctx = this.#ctx as CpuContext;
    const k = p.rxIndex >> 1;
    const first = p.held ?? this.#peer.peek(k);
    if (first === undefined) {
      // An RX kick with nothing queued: the handler runs and finds nothing.
      if (eventfd) this.#wake(t, p.rxWake, hint, eventfd);
      return;
    }
    p.rxActive = true;
    p.rxWoke = ctx.isIdleAt(t);
    p.rxCount = 0;
    p.rxGroup.reset();
    const now = this.#wake(t, p.rxWake, first.flow ?? hint, eventfd);
    this.#rxStep(p, now);
  }

  /** tap_send's loop, one frame per step at its own virtual time. */
  #rxStep(p: Pair, t: number): void {
    if (p.dead) return;
    const lab = this.#lab;
    const hops = lab.hops;
    const ctx = this.#ctx as CpuContext;
    const fe = this.#frontend as NetFrontend;
    const rx = p.rx;
    const k = p.rxIndex >> 1;
    const group = p.rxGroup;
    let now = t;
    while (p.rxCount < TAP_SEND_BATCH) {
      const held = p.held;
      const skb = held ?? this.#peer.peek(k);
      if (skb === undefined) break;
      if (rx.ring.broken || !(rx.ring.gate?.live ?? true)) {
        // virtio_error left the device broken: QEMU never reads this queue again, so what
        // waits there (and whatever comes) is lost to the NEEDS_RESET.
        const dead = held ?? this.#peer.take(k) as Skb;
        p.held = undefined;
        this.#peer.drop(dead, now, ctx, "needs_reset");
        continue;
      }
      // virtio_net_can_receive: no buffer → stop reading; the RX kick resumes.
      if (!rx.hasBuffer()) break;
      if (held !== undefined) {
        p.held = undefined; // qemu_flush_queued_packets: already in QEMU's buffer
      } else {
        const got = this.#peer.read(k, now, ctx);
        if (got === undefined) break;
        now = got.end;
      }
      p.rxCount++;
      const flow = skb.flow;
      const seq = skb.seq;
      if (flow !== undefined) p.rxWake.add(flow, seq);
      if (!fe.linkUp) {
        // qemu_deliver_packet_iov: the NIC's client is link-down, the frame is discarded.
        this.#lab.net.drop(skb, now, ctx, "qemu.virtio-net", "link_down", `${fe.label} link down`);
        continue;
      }
      now = hops.charge(ctx, now, "qemu_virtqueue_pop_push", 0, flow);
      const r = rx.deliver(skb.data, 0, skb.len);
      if (r === NET_FAULT) {
        const f = rx.ring.fault;
        fe.deviceError(`virtio-net ${f ? describeQueueFault(f) : "ring fault"}`, now);
        this.#peer.drop(skb, now, ctx, "needs_reset");
        break;
      }
      if (r === NET_NO_BUFFER) {
        // virtio_net_has_buffers: too few mergeable buffers for the frame. receive returns
        // 0 and the frame waits in QEMU's queue for the guest's refill kick.
        p.held = skb;
        break;
      }
      if (r === NET_TOO_BIG) {
        rx.flush();
        this.#peer.drop(skb, now, ctx, "mtu_exceeded");
        continue;
      }
      if (flow !== undefined) {
        flow.metrics.add(Counter.descriptors, rx.descs);
        if (hops.wants(flow, seq)) {
          hops.record(flow, seq, "qemu.virtio-net", "pop", {
            q: `rx${k}`,
            head: rx.head,
            descs: rx.descs,
            bytes: rx.written,
          });
        }
      }
      // Copy #2: QEMU's buffer → the guest's receive buffer.
      const bytes = skb.len + rx.hdrLen;
      now = hops.charge(ctx, now, "memcpy", bytes, flow);
      if (flow !== undefined) {
        flow.metrics.add(Counter.copies);
        flow.metrics.add(Counter.bytes_copied, bytes);
        if (hops.wants(flow, seq)) {
          hops.record(flow, seq, "qemu.virtio-net", "copy", { bytes, from: "qemu", to: "guest" });
          hops.at(ctx, now);
          hops.record(flow, seq, "qemu.virtio-net", "add-used", {
            q: `rx${k}`,
            head: rx.head,
            len: rx.written,
            used: usedIdxOf(rx.ring),
          });
        }
        group.add(flow, seq);
      }
      // virtio_net_receive flushes and notifies per packet.
      rx.flush();
      if (rx.needsInterrupt()) {
        fe.interrupt(p.rxIndex, now, ctx, "qemu", group);
        group.reset();
      }
      if (now > lab.sched.now) {
        lab.sched.at(now, this.#rxStepFn, 0, p);
        return;
      }
    }
    if (p.rxWoke) this.#woke(p.rxWake);
    p.rxActive = false;
    // tap_send yields after 50 frames; the fd is still readable.
    if (p.rxCount >= TAP_SEND_BATCH && this.#peer.peek(k) !== undefined) {
      this.#scheduleRx(p, now, undefined, false);
    }
  }
}

/** The used index a device ring has published (for hop details). */
export function usedIdxOf(ring: VirtioNetRx["ring"]): number {
  const u = ring.nextUsed;
  return typeof u === "number" ? u : u.slot;
}
