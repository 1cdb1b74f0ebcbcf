/**
 * virtio-vdpa (virtio-vhost-vdpa.md §6.3, §9.5): a vDPA device bound to `virtio_vdpa`
 * becomes a virtio device of the host, and the host kernel's own virtio_net drives it — the
 * netdev (`eth0`) of containers and bare metal. No VM, no QEMU, no vhost.
 *
 * **Control plane** (runtime/host/virtio_bus.ts): the virtio core's probe (reset,
 * ACKNOWLEDGE, DRIVER, features, FEATURES_OK), virtio_vdpa's find_vqs (rings of the parent's
 * maximum size in the kernel's DMA memory, set_vq_num / set_vq_address / set_vq_cb /
 * set_vq_ready), the netdev, DRIVER_OK. This engine only adds the data plane, once the
 * driver is bound, and fills the receive ring when the interface goes up (`ndo_open`).
 *
 * **Data plane** ({@link HostVirtioNet}):
 * - TX: the host stack hands a frame to `start_xmit` on the sender's context (the
 *   application's sendmsg): free_old_xmit, header + frame in one buffer (`guest_xmit`: the
 *   same driver code as in a guest), `add_outbuf`, and — no xmit_more from a UDP socket —
 *   the notify: virtio_vdpa_notify calls the parent's kick_vq directly (a function call: no
 *   exit, no eventfd). A full ring stops the queue; the qdisc (txqueuelen 1000) holds what
 *   comes meanwhile and drops beyond (`queue_full`).
 * - The device: vdpa_sim's worker with no mm bound reaches physical memory through its
 *   IOTLB, which is an identity pass-through until a set_map (there is none under
 *   virtio_vdpa): IOVA = the DMA address = the physical address of the kernel's buffer.
 *   Both copies (TX buffer → bounce → RX buffer) happen there.
 * - Callbacks: vdpa_sim signals a completion under local_bh_disable; the callback is
 *   virtio_vdpa's vring_interrupt → skb_recv_done / skb_xmit_done → napi_schedule, and the
 *   NET_RX softirq runs at local_bh_enable — in the worker's own context. So the receive
 *   NAPI poll (`napi_poll`, `guest_rx_per_packet` each, then the host stack) and the TX
 *   reclaim run on `vdpa-sim:vdpaN`, not on another CPU.
 *
 * Only vdpa_sim_net parents have a virtio-vdpa data plane here; a hardware parent under
 * virtio_vdpa keeps the netdev without one (the lab says so when a traffic uses it).
 *
 * @module
 */

import type { Lab } from "../lab.ts";
import type { HostEvent } from "../host/host_event.ts";
import type { VirtioDevice, VirtioVq } from "../host/virtio_bus.ts";
import type { KernelMem } from "../host/kmem.ts";
import type { CpuContext } from "../sim/cpu_context.ts";
import { IDENTITY } from "../memory/translator.ts";
import { Counter } from "../trace/metrics.ts";
import { newPacketId, type PacketId } from "../datapath/flow_table.ts";
import type { PacketGroup } from "../datapath/hop.ts";
import { Skb } from "../net/skb.ts";
import type { HostNetdevDriver } from "../net/host_network.ts";
import { SplitDriver, USED_FAULT, USED_NONE } from "../virtio/split_driver.ts";
import { describeQueueFault } from "../virtio/queue_fault.ts";
import { hasFeature, VIRTIO_F_VERSION_1 } from "../virtio/features.ts";
import type { NotifyAt } from "../devices/vdpa_device.ts";
import { VdpaSimNet } from "../devices/vdpa_sim_net.ts";
import { VdpaSimNetWorker } from "../devices/vdpa_sim_net_worker.ts";

/** NAPI_POLL_WEIGHT. */
const NAPI_BUDGET = 64;
/** GOOD_PACKET_LEN: ETH_HLEN + VLAN_HLEN + ETH_DATA_LEN (add_recvbuf_small). */
const GOOD_PACKET_LEN = 14 + 4 + 1500;
/** Bytes between TX buffer slots (a 1500-MTU frame and its header fit). */
const TX_SLOT = 2048;
/** Bytes between RX buffer slots (header + GOOD_PACKET_LEN, cache-line rounded). */
const RX_SLOT = 1536;
/** The netdev's default txqueuelen: what the qdisc holds while the ring is full. */
export const TXQUEUELEN = 1000;

/** An engine that gives host netdevs a data plane as the kernel creates them. */
export interface HostEngine {
  readonly name: string;
  /** Every host event, in the kernel's order, at the lab's current time. */
  onHostEvent(lab: Lab, e: HostEvent): void;
}

interface TxQueue {
  readonly vq: VirtioVq;
  readonly drv: SplitDriver;
  readonly base: number;
  readonly free: number[];
  readonly slotFlow: (PacketId["flow"])[];
  readonly slotSeq: Float64Array;
  /** The qdisc while the queue is stopped. */
  readonly backlog: Skb[];
  stopped: boolean;
  readonly kick: PacketGroup;
}

interface RxQueue {
  readonly vq: VirtioVq;
  readonly drv: SplitDriver;
  readonly base: number;
  readonly free: number[];
  napi: boolean;
  work: number;
  readonly poll: PacketGroup;
  readonly refill: PacketGroup;
}

/** The host's virtio_net on one virtio_vdpa device; see the module documentation. */
export class HostVirtioNet implements HostNetdevDriver {
  readonly ifname: string;
  readonly virtio: VirtioDevice;
  /** virtio-net header size (12 with VERSION_1 or MRG_RXBUF, else 10). */
  readonly hdrLen: number;
  /** `ndo_open` ran and the receive ring is filled. */
  up = false;
  /** Why the data plane could not be set up, if it could not. */
  readonly error: string | undefined;
  readonly #lab: Lab;
  readonly #kmem: KernelMem;
  readonly #tx: TxQueue | undefined;
  readonly #rx: RxQueue | undefined;
  readonly #scratch = new Uint8Array(65600);
  readonly #id: PacketId = newPacketId();

  constructor(lab: Lab, virtio: VirtioDevice, ifname: string) {
    this.#lab = lab;
    this.virtio = virtio;
    this.ifname = ifname;
    this.#kmem = lab.host.kmem();
    const features = virtio.device.getDriverFeatures();
    this.hdrLen = hasFeature(features, VIRTIO_F_VERSION_1) ? 12 : 10;
    const rxVq = virtio.vqs[0];
    const txVq = virtio.vqs[1];
    let error: string | undefined;
    let rx: RxQueue | undefined;
    let tx: TxQueue | undefined;
    if (rxVq === undefined || txVq === undefined) error = "no data virtqueues";
    else {
      const r = this.#newRx(rxVq, features);
      const t = this.#newTx(txVq, features);
      if (typeof r === "string") error = r;
      else rx = r;
      if (typeof t === "string") error ??= t;
      else tx = t;
    }
    this.#rx = rx;
    this.#tx = tx;
    this.error = error;
    if (error === undefined) virtio.onVq = (index, at) => this.#callback(index, at);
  }

  #newRx(vq: VirtioVq, features: bigint): RxQueue | string {
    const drv = SplitDriver.create(this.#kmem.mem, {
      size: vq.num,
      descTable: vq.desc,
      availRing: vq.driver,
      usedRing: vq.device,
      features,
    });
    if (!drv.ok) return `virtio: ${describeQueueFault(drv.error)}`;
    const base = this.#kmem.alloc(vq.num * RX_SLOT, 4096);
    if (base === undefined) return "out of kernel memory";
    const hops = this.#lab.hops;
    return {
      vq,
      drv: drv.value,
      base,
      free: Array.from({ length: vq.num }, (_, i) => vq.num - 1 - i),
      napi: false,
      work: 0,
      poll: hops.group(),
      refill: hops.group(),
    };
  }

  #newTx(vq: VirtioVq, features: bigint): TxQueue | string {
    const drv = SplitDriver.create(this.#kmem.mem, {
      size: vq.num,
      descTable: vq.desc,
      availRing: vq.driver,
      usedRing: vq.device,
      features,
    });
    if (!drv.ok) return `virtio: ${describeQueueFault(drv.error)}`;
    const base = this.#kmem.alloc(vq.num * TX_SLOT, 4096);
    if (base === undefined) return "out of kernel memory";
    return {
      vq,
      drv: drv.value,
      base,
      free: Array.from({ length: vq.num }, (_, i) => vq.num - 1 - i),
      slotFlow: new Array(vq.num).fill(undefined),
      slotSeq: new Float64Array(vq.num),
      backlog: [],
      stopped: false,
      kick: this.#lab.hops.group(),
    };
  }

  /** The host softirq's context, where an open's first refill runs. */
  get #ctx(): CpuContext {
    return this.#lab.context("softirq", "softirq:cpu0");
  }

  // -- open / close ---------------------------------------------------------------------------

  /** `ndo_open` at `t`: fill the receive ring and kick it. */
  open(t: number): void {
    const q = this.#rx;
    if (q === undefined || this.up) return;
    this.up = true;
    this.#fill(q);
    q.refill.reset();
    if (q.drv.kickPrepare()) this.#notify(q.vq.index, t, this.#ctx, q.refill);
  }

  /** `ndo_stop`: the queues stop; what waits in the qdisc is dropped. */
  close(t: number): void {
    this.up = false;
    const q = this.#tx;
    if (q === undefined) return;
    for (const skb of q.backlog.splice(0)) this.#drop(skb, t, this.#ctx, "link_down");
  }

  /** The driver goes (unbind, device removal). */
  detach(t: number): void {
    this.close(t);
    if (this.virtio.onVq !== undefined) this.virtio.onVq = undefined;
    this.#freeUnused(t);
  }

  /**
   * virtnet_remove → free_unused_bufs after the device reset: a TX buffer the device never
   * returned was never taken (the parent completes what it pops in the same step), and an RX
   * buffer it filled that NAPI had not taken yet is freed with the frame in it. Both packets
   * are lost (`device_not_ready`).
   */
  #freeUnused(t: number): void {
    const hops = this.#lab.hops;
    const ctx = this.#ctx;
    const why = `${this.ifname} removed (${this.virtio.name} gone)`;
    const tx = this.#tx;
    if (tx !== undefined) {
      this.#reclaim(tx);
      for (let slot = 0; slot < tx.slotFlow.length; slot++) {
        const flow = tx.slotFlow[slot];
        if (flow === undefined) continue;
        hops.drop(flow, tx.slotSeq[slot] as number, ctx, t, "virtio_net", "device_not_ready", why);
        tx.slotFlow[slot] = undefined;
      }
    }
    const rx = this.#rx;
    const at = this.#lab.net.endpoint(this.ifname);
    if (rx === undefined || at === undefined) return;
    const s = this.#scratch;
    for (;;) {
      const token = rx.drv.getUsed();
      if (token < 0) break;
      const len = rx.drv.lastLen;
      rx.free.push(token);
      if (len <= this.hdrLen) continue;
      this.#kmem.mem.read(
        rx.base + token * RX_SLOT + this.hdrLen,
        s,
        0,
        Math.min(len - this.hdrLen, s.length),
      );
      const id = this.#id;
      if (this.#lab.endpoints.countsAt(at, s, 0, id) && id.flow !== undefined) {
        hops.drop(id.flow, id.seq, ctx, t, "virtio_net", "device_not_ready", why);
      }
    }
  }

  #fill(q: RxQueue): number {
    let n = 0;
    while (q.free.length > 0 && q.drv.numFree > 0) {
      const slot = q.free.pop() as number;
      // add_recvbuf_small: the header and a GOOD_PACKET_LEN frame in one buffer
      if (q.drv.addInbuf(q.base + slot * RX_SLOT, this.hdrLen + GOOD_PACKET_LEN, slot) < 0) {
        q.free.push(slot);
        break;
      }
      n++;
    }
    return n;
  }

  /** virtio_vdpa_notify: the parent's kick_vq, called directly. */
  #notify(index: number, t: number, ctx: CpuContext, group: PacketGroup): void {
    group.count(Counter.kicks);
    if (group.sampled) {
      this.#lab.hops.at(ctx, t);
      group.record("virtio_vdpa", "kick", { q: index === 0 ? "rx0" : "tx0" });
    }
    this.virtio.device.kickVq(index, { t, ctx, group });
  }

  // -- TX -------------------------------------------------------------------------------------

  /**
   * dev_queue_xmit reached the driver at `t` on `ctx` (the sender's context): start_xmit
   * runs there now; the buffer enters the ring when it is done, not before.
   */
  xmit(skb: Skb, t: number, ctx: CpuContext): void {
    const lab = this.#lab;
    const hops = lab.hops;
    const flow = skb.flow;
    const end = hops.charge(ctx, t, "guest_xmit", 0, flow);
    if (flow !== undefined && hops.wants(flow, skb.seq)) {
      hops.record(flow, skb.seq, "virtio_net", "xmit", { dev: this.ifname, bytes: skb.len });
    }
    if (end > lab.sched.now) lab.sched.at(end, (now) => this.#xmit(skb, now, ctx));
    else this.#xmit(skb, end, ctx);
  }

  #xmit(skb: Skb, t: number, ctx: CpuContext): void {
    const q = this.#tx;
    if (q === undefined || !this.up) return this.#drop(skb, t, ctx, "link_down");
    if (q.stopped || q.backlog.length > 0) return this.#enqueue(q, skb, t, ctx);
    this.#reclaim(q);
    if (q.drv.numFree < 1 || q.free.length === 0) {
      q.stopped = true;
      return this.#enqueue(q, skb, t, ctx);
    }
    if (this.#post(q, skb, t, ctx) && q.kick.size > 0) {
      if (q.drv.kickPrepare()) this.#notify(q.vq.index, t, ctx, q.kick);
      q.kick.reset();
    }
  }

  /** The qdisc: hold the frame while the queue is stopped, drop beyond txqueuelen. */
  #enqueue(q: TxQueue, skb: Skb, t: number, ctx: CpuContext): void {
    if (q.backlog.length >= TXQUEUELEN) return this.#drop(skb, t, ctx, "queue_full");
    q.backlog.push(skb);
  }

  #drop(skb: Skb, t: number, ctx: CpuContext, reason: "link_down" | "queue_full"): void {
    const flow = skb.flow;
    if (flow === undefined) return;
    this.#lab.hops.drop(
      flow,
      skb.seq,
      ctx,
      t,
      "virtio_net",
      reason,
      reason === "queue_full" ? `${this.ifname} qdisc full (txqueuelen ${TXQUEUELEN})` : undefined,
    );
  }

  /** Puts one frame (header + frame, one descriptor) in the ring at `t`; false: dropped. */
  #post(q: TxQueue, skb: Skb, t: number, ctx: CpuContext): boolean {
    const hops = this.#lab.hops;
    const flow = skb.flow;
    const slot = q.free.pop() as number;
    const addr = q.base + slot * TX_SLOT;
    const len = skb.len;
    // xmit_skb: the header in the headroom, the frame after it
    const s = this.#scratch;
    s.fill(0, 0, this.hdrLen);
    s.set(skb.data, this.hdrLen);
    this.#kmem.mem.write(addr, s, 0, this.hdrLen + len);
    q.slotFlow[slot] = flow;
    q.slotSeq[slot] = skb.seq;
    const head = q.drv.addOutbuf(addr, this.hdrLen + len, slot);
    if (head < 0) {
      q.free.push(slot);
      if (flow !== undefined) hops.drop(flow, skb.seq, ctx, t, "virtio_net", "ring_full");
      return false;
    }
    if (flow !== undefined) {
      q.kick.add(flow, skb.seq);
      if (hops.wants(flow, skb.seq)) {
        hops.at(ctx, t);
        hops.record(flow, skb.seq, "virtio_net", "add-avail", {
          q: "tx0",
          head,
          descs: 1,
          bytes: this.hdrLen + len,
          avail: q.drv.availIdx,
        });
      }
    }
    return true;
  }

  /** free_old_xmit: take back what the device used. */
  #reclaim(q: TxQueue): void {
    for (;;) {
      const token = q.drv.getUsed();
      if (token === USED_NONE) return;
      if (token === USED_FAULT) {
        this.#broken("tx0", q.drv);
        return;
      }
      q.slotFlow[token] = undefined;
      q.free.push(token);
    }
  }

  /** skb_xmit_done → TX NAPI on the signalling context: reclaim, wake, run the qdisc. */
  #txDone(q: TxQueue, t: number, ctx: CpuContext): void {
    const lab = this.#lab;
    let now = lab.hops.charge(ctx, t, "napi_poll", 0, undefined);
    this.#reclaim(q);
    if (!q.stopped && q.backlog.length === 0) return;
    q.stopped = false;
    // netif_tx_wake_queue → __netif_schedule: the qdisc resumes on this CPU
    while (q.backlog.length > 0) {
      if (q.drv.numFree < 1 || q.free.length === 0) {
        q.stopped = true;
        break;
      }
      const skb = q.backlog.shift() as Skb;
      now = lab.hops.charge(ctx, now, "guest_xmit", 0, skb.flow);
      this.#post(q, skb, now, ctx);
    }
    if (q.kick.size > 0) {
      if (q.drv.kickPrepare()) this.#notify(q.vq.index, now, ctx, q.kick);
      q.kick.reset();
    }
  }

  #broken(name: string, drv: SplitDriver): void {
    this.#lab.control({
      comp: this.ifname,
      action: "note",
      details: {
        name: "virtio_net: queue broken",
        q: name,
        detail: drv.fault === undefined ? "" : describeQueueFault(drv.fault),
      },
    });
  }

  // -- callbacks and RX -----------------------------------------------------------------------

  /** vring_interrupt from the parent's completion (at.ctx: the parent's context). */
  #callback(index: number, at: NotifyAt | undefined): void {
    if (at === undefined) return;
    const group = at.group;
    if (group !== undefined && group.sampled) {
      this.#lab.hops.at(at.ctx, at.t);
      group.record("virtio_vdpa", "irq", { q: index === 0 ? "rx0" : "tx0", via: "callback" });
    }
    if (index === 1 && this.#tx !== undefined) return this.#txDone(this.#tx, at.t, at.ctx);
    const q = this.#rx;
    if (index !== 0 || q === undefined) return;
    if (!q.drv.interrupt() || q.napi) return;
    // skb_recv_done: callbacks off, napi_schedule; NET_RX runs at the parent's bh enable
    q.napi = true;
    q.drv.disableCallbacks();
    this.#rxPoll(q, at.t, at.ctx);
  }

  /**
   * net_rx_action on `ctx` from `t`: virtnet_poll runs (up to NAPI_BUDGET packets, refill,
   * complete or poll again) until the ring is drained — all before the parent's
   * local_bh_enable returns, so the parent carries on after it.
   */
  #rxPoll(q: RxQueue, t: number, ctx: CpuContext): void {
    let now = t;
    for (;;) {
      q.poll.reset();
      now = this.#lab.hops.charge(ctx, now, "napi_poll", 0, undefined);
      q.poll.mark();
      q.work = 0;
      now = this.#rxBatch(q, now, ctx);
      if (this.#rxPollEnd(q, now, ctx)) return;
      now = Math.max(now, ctx.busyUntil);
    }
  }

  /** Up to NAPI_BUDGET used buffers into the stack; returns when the last is done. */
  #rxBatch(q: RxQueue, t: number, ctx: CpuContext): number {
    const lab = this.#lab;
    const hops = lab.hops;
    const mem = this.#kmem.mem;
    const s = this.#scratch;
    let now = t;
    while (q.work < NAPI_BUDGET) {
      const token = q.drv.getUsed();
      if (token === USED_NONE) break;
      if (token === USED_FAULT) {
        this.#broken("rx0", q.drv);
        break;
      }
      const len = q.drv.lastLen;
      q.free.push(token);
      q.work++;
      if (len <= this.hdrLen) continue;
      const frameLen = len - this.hdrLen;
      mem.read(q.base + token * RX_SLOT + this.hdrLen, s, 0, Math.min(frameLen, s.length));
      const id = this.#id;
      lab.flows.identify(s, 0, id);
      const flow = id.flow;
      if (flow === undefined) continue;
      const seq = id.seq;
      q.poll.add(flow, seq);
      now = hops.charge(ctx, now, "guest_rx_per_packet", 0, flow);
      if (hops.wants(flow, seq)) {
        hops.record(flow, seq, "virtio_net", "receive", { dev: this.ifname, bytes: frameLen });
      }
      // receive_small → napi_gro_receive → the host's stack (or a bridge) on this context
      lab.net.netifReceive(this.ifname, Skb.copyOf(s, 0, frameLen, flow, seq), now, ctx);
      now = Math.max(now, ctx.busyUntil);
    }
    return now;
  }

  /** The end of one poll: refill, then true when NAPI completed (callbacks back on). */
  #rxPollEnd(q: RxQueue, t: number, ctx: CpuContext): boolean {
    const poll = q.poll;
    poll.count(Counter.napi_polls);
    if (poll.sampled) {
      poll.recordMark("virtio_net", "napi-poll", { q: "rx0", budget: NAPI_BUDGET, work: q.work });
    }
    if (q.drv.numFree > Math.min(NAPI_BUDGET, q.drv.size) / 2 && this.#fill(q) > 0) {
      q.refill.reset();
      if (q.drv.kickPrepare()) this.#notify(q.vq.index, t, ctx, q.refill);
    }
    if (q.work < NAPI_BUDGET) {
      // napi_complete_done + virtqueue_enable_cb: re-check the ring to close the race
      if (q.drv.enableCallbacks()) {
        q.napi = false;
        return true;
      }
      q.drv.disableCallbacks();
    }
    return false;
  }

  /** Ring state for `show vq`. */
  queue(name: string): SplitDriver | undefined {
    return name === "rx0" ? this.#rx?.drv : name === "tx0" ? this.#tx?.drv : undefined;
  }

  /** Frames waiting in the qdisc. */
  get backlog(): number {
    return this.#tx?.backlog.length ?? 0;
  }
}

/**
 * The netdev's driver as the lab registers it at bind time. The data plane needs the lab's
 * costs, which exist only once a script sets traffic or starts a VM: it is built on first
 * use, and an `ndo_open` that came before is replayed then (nothing else touched the rings
 * meanwhile, so the ring is filled as it would have been).
 */
export class VirtioVdpaPort implements HostNetdevDriver {
  readonly ifname: string;
  readonly virtio: VirtioDevice;
  readonly #lab: Lab;
  #net: HostVirtioNet | undefined;
  #failed = false;
  #open = false;

  constructor(lab: Lab, virtio: VirtioDevice, ifname: string) {
    this.#lab = lab;
    this.virtio = virtio;
    this.ifname = ifname;
  }

  /** The data plane, built on first use (undefined when it cannot be). */
  get net(): HostVirtioNet | undefined {
    if (this.#net !== undefined || this.#failed || !this.#lab.hasCostProfile) return this.#net;
    const lab = this.#lab;
    if (!ensureHostWorker(lab, this.virtio)) {
      this.#failed = true;
      return undefined;
    }
    const net = new HostVirtioNet(lab, this.virtio, this.ifname);
    if (net.error !== undefined) {
      this.#failed = true;
      lab.control({
        comp: this.ifname,
        action: "note",
        details: { name: "virtio_vdpa: no data plane", detail: net.error },
      });
      return undefined;
    }
    this.#net = net;
    if (this.#open) net.open(lab.sched.now);
    return net;
  }

  xmit(skb: Skb, t: number, ctx: CpuContext): void {
    const net = this.net;
    if (net !== undefined) return net.xmit(skb, t, ctx);
    const flow = skb.flow;
    if (flow !== undefined) {
      this.#lab.hops.drop(flow, skb.seq, ctx, t, "virtio_net", "device_not_ready", this.ifname);
    }
  }

  open(t: number): void {
    this.#open = true;
    this.net?.open(t);
  }

  close(t: number): void {
    this.#open = false;
    this.#net?.close(t);
  }

  detach(t: number): void {
    this.#open = false;
    this.#net?.detach(t);
  }
}

const ENGINES = new WeakMap<Lab, Map<string, VirtioVdpaPort>>();

/** The virtio-vdpa netdevs of a lab and their drivers. */
export function virtioVdpaNetdevs(lab: Lab): ReadonlyMap<string, VirtioVdpaPort> {
  return ENGINES.get(lab) ?? new Map();
}

function engines(lab: Lab): Map<string, VirtioVdpaPort> {
  let m = ENGINES.get(lab);
  if (m === undefined) {
    m = new Map();
    ENGINES.set(lab, m);
  }
  return m;
}

/** The parent's datapath, reaching the kernel's memory by physical address. */
function ensureHostWorker(lab: Lab, v: VirtioDevice): boolean {
  const dev = v.device;
  if (!(dev instanceof VdpaSimNet)) return false;
  const kmem = lab.host.kmem();
  const dp = dev.datapath;
  if (dp instanceof VdpaSimNetWorker && dp.env === lab && dp.physicalMem === kmem.mem) return true;
  new VdpaSimNetWorker(dev, lab, {
    control: lab,
    physical: { name: "host", mem: kmem.mem, toMem: IDENTITY },
    driverView: IDENTITY,
  });
  return true;
}

function bind(lab: Lab, deviceName: string): void {
  const v = lab.host.virtio.device(deviceName);
  const ifname = v?.netdev;
  // only vdpa_sim_net parents have a host data plane in the lab
  if (v === undefined || ifname === undefined || !(v.device instanceof VdpaSimNet)) return;
  // what virtio_vdpa's find_vqs set up before DRIVER_OK (rings in the kernel's DMA memory)
  for (const q of v.vqs) {
    lab.control({
      comp: v.name,
      action: "vring",
      details: {
        q: q.index === v.vqs.length - 1 && v.vqs.length % 2 === 1
          ? "ctrl"
          : `${q.index % 2 === 0 ? "rx" : "tx"}${q.index >> 1}`,
        name: "find_vqs",
        addr: q.desc,
        len: q.num,
      },
    });
  }
  const port = new VirtioVdpaPort(lab, v, ifname);
  engines(lab).set(ifname, port);
  lab.net.setDriver(ifname, port);
  if (lab.host.net.get(ifname)?.up === true) port.open(lab.sched.now);
}

function unbind(lab: Lab, deviceName: string): void {
  const m = engines(lab);
  for (const [ifname, port] of m) {
    if (port.virtio.name !== deviceName) continue;
    port.detach(lab.sched.now);
    lab.net.setDriver(ifname, undefined);
    m.delete(ifname);
  }
}

/** The registry entry: follows virtio_net binding virtio_vdpa devices and their links. */
export const VIRTIO_VDPA_ENGINE: HostEngine = {
  name: "virtio-vdpa",
  onHostEvent(lab: Lab, e: HostEvent): void {
    switch (e.kind) {
      case "driver-bind":
        if (e.bus === "virtio" && e.driver === "virtio_net") bind(lab, e.device);
        return;
      case "driver-unbind":
        if (e.bus === "virtio") unbind(lab, e.device);
        return;
      case "device-del":
        if (e.bus === "virtio") unbind(lab, e.device);
        return;
      case "link-up":
        engines(lab).get(e.ifname)?.open(lab.sched.now);
        return;
      case "link-down":
        engines(lab).get(e.ifname)?.close(lab.sched.now);
        return;
      default:
        return;
    }
  },
};
