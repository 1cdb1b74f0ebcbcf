/**
 * QEMU's shadow virtqueues for vhost-vdpa (`-netdev vhost-vdpa,x-svq=on`; hw/virtio/
 * vhost-shadow-virtqueue.c, vhost-vdpa.c): QEMU stands between the guest's rings and the
 * device. The device gets QEMU's own rings (allocated in QEMU's memory and mapped into its
 * IOTLB at IOVAs from QEMU's IOVA tree); guest RAM is mapped there too, at IOVAs from the
 * same tree — no longer IOVA = GPA.
 *
 * - **Guest kick** (vhost_handle_guest_kick): the guest's notify exits (the host notifier is
 *   off with SVQ) and its ioeventfd wakes QEMU's main loop, which pops every available guest
 *   chain, translates each segment GPA → IOVA and adds it to the shadow ring
 *   (`svq_relay_per_packet` on QEMU's thread), then writes the device's kick eventfd: kick_vq
 *   runs in that write.
 * - **Device call** (vhost_svq_handle_call): the device's used buffers signal QEMU's call
 *   eventfd; QEMU wakes, moves each shadow used element to the guest's used ring
 *   (vhost_svq_flush) and notifies the guest itself (virtio_notify → KVM_SIGNAL_MSI).
 *
 * SVQ moves descriptors, not data: the device still reads and writes the guest's buffers
 * in place (what vdpa_sim copies, it copies anyway). What is lost is the direct path: every
 * kick and every interrupt goes through QEMU.
 *
 * @module
 */

import type { GuestMemory } from "../../memory/guest_memory.ts";
import type { CpuContext } from "../../sim/cpu_context.ts";
import { Counter } from "../../trace/metrics.ts";
import type { HopFlow, Hops, PacketGroup } from "../../datapath/hop.ts";
import type { FlowTable, PacketId } from "../../datapath/flow_table.ts";
import { newPacketId, PAYLOAD_HEADER_OFFSET } from "../../datapath/flow_table.ts";
import type { Scheduler } from "../../sim/scheduler.ts";
import { type Segment, SplitDriver, USED_FAULT, USED_NONE } from "../../virtio/split_driver.ts";
import { POP_EMPTY, POP_FAULT, SplitDevice } from "../../virtio/split_device.ts";
import { availRingSize, usedRingSize } from "../../virtio/split_layout.ts";
import { IDENTITY } from "../../memory/translator.ts";

/** QEMU's IOVA allocator for SVQ (vhost_iova_tree): first fit, page aligned, no reuse. */
export class IovaTree {
  readonly first: number;
  readonly last: number;
  #next: number;

  constructor(first: number, last: number) {
    this.first = first;
    this.last = last;
    this.#next = first;
  }

  /** `size` bytes at the next free IOVA; undefined past the device's range. */
  alloc(size: number): number | undefined {
    const at = Math.ceil(this.#next / 4096) * 4096;
    if (at + size - 1 > this.last) return undefined;
    this.#next = at + Math.ceil(size / 4096) * 4096;
    return at;
  }
}

/** A guest RAM block with the IOVA SVQ mapped it at. */
export interface SvqRamMap {
  readonly gpa: number;
  readonly size: number;
  readonly iova: number;
}

/** Where a shadow ring lives: in QEMU's memory (`gpa` of the lab's memory) and for the device. */
export interface ShadowRingPlacement {
  /** Address of the descriptor table in the memory QEMU writes (the lab's `vm.mem`). */
  readonly base: number;
  /** The same bytes as the device addresses them. */
  readonly iova: number;
}

/** What a shadow virtqueue needs from the lab around it. */
export interface SvqEnv {
  readonly sched: Scheduler;
  readonly hops: Hops;
  readonly flows: FlowTable;
}

/** One guest queue as QEMU sees it. */
export interface SvqQueue {
  readonly index: number;
  readonly size: number;
  readonly desc: number;
  readonly driver: number;
  readonly device: number;
}

/** Bytes a split ring of `size` takes, laid out desc | avail | (4 KiB) used, in whole pages. */
export function shadowRingBytes(size: number): number {
  return Math.ceil((usedOffset(size) + usedRingSize(size)) / 4096) * 4096;
}

function usedOffset(size: number): number {
  return Math.ceil((16 * size + availRingSize(size)) / 4096) * 4096;
}

/** Callbacks into the backend around the relay. */
export interface SvqHooks {
  /** Writes the device's kick eventfd: kick_vq runs in QEMU's write. */
  kickDevice(index: number, t: number, ctx: CpuContext, group: PacketGroup): void;
  /** virtio_notify for the guest's queue `index`. */
  notifyGuest(index: number, t: number, ctx: CpuContext, group: PacketGroup): void;
}

/** One shadow virtqueue; see the module documentation. */
export class ShadowVirtqueue {
  readonly index: number;
  readonly name: string;
  readonly guest: SplitDevice;
  readonly shadow: SplitDriver;
  /** Device addresses of the shadow ring's areas (what SET_VRING_ADDR carries). */
  readonly iova: { readonly desc: number; readonly driver: number; readonly device: number };
  /** Chains relayed, used elements forwarded. */
  relayed = 0;
  forwarded = 0;
  readonly #env: SvqEnv;
  readonly #mem: GuestMemory;
  readonly #ram: readonly SvqRamMap[];
  readonly #hooks: SvqHooks;
  readonly #qemu: CpuContext;
  readonly #hdrLen: number;
  readonly #flow: (HopFlow | undefined)[];
  readonly #seq: Float64Array;
  readonly #firstGpa: Float64Array;
  readonly #segs: Segment[] = [];
  readonly #id: PacketId = newPacketId();
  readonly #scratch = new Uint8Array(16);
  readonly #kickGroup: PacketGroup;
  readonly #callGroup: PacketGroup;
  #kickPending = false;
  #callPending = false;

  private constructor(
    o: {
      env: SvqEnv;
      mem: GuestMemory;
      ram: readonly SvqRamMap[];
      hooks: SvqHooks;
      qemu: CpuContext;
      hdrLen: number;
      q: SvqQueue;
      guest: SplitDevice;
      shadow: SplitDriver;
      iova: { desc: number; driver: number; device: number };
    },
  ) {
    this.index = o.q.index;
    this.name = `${o.q.index % 2 === 0 ? "rx" : "tx"}${o.q.index >> 1}`;
    this.guest = o.guest;
    this.shadow = o.shadow;
    this.iova = o.iova;
    this.#env = o.env;
    this.#mem = o.mem;
    this.#ram = o.ram;
    this.#hooks = o.hooks;
    this.#qemu = o.qemu;
    this.#hdrLen = o.hdrLen;
    this.#flow = new Array(o.q.size).fill(undefined);
    this.#seq = new Float64Array(o.q.size);
    this.#firstGpa = new Float64Array(o.q.size);
    this.#kickGroup = o.env.hops.group();
    this.#callGroup = o.env.hops.group();
  }

  /** vhost_svq_start: the guest's ring read in place, the shadow ring at `at`. */
  static create(o: {
    env: SvqEnv;
    mem: GuestMemory;
    ram: readonly SvqRamMap[];
    hooks: SvqHooks;
    qemu: CpuContext;
    features: bigint;
    hdrLen: number;
    q: SvqQueue;
    at: ShadowRingPlacement;
  }): ShadowVirtqueue | string {
    const g = SplitDevice.create(o.mem, {
      size: o.q.size,
      descTable: o.q.desc,
      availRing: o.q.driver,
      usedRing: o.q.device,
      features: o.features,
      translator: IDENTITY,
    });
    if (!g.ok) return `guest ring ${o.q.index}: ${g.error.kind}`;
    const used = usedOffset(o.q.size);
    const s = SplitDriver.create(o.mem, {
      size: o.q.size,
      descTable: o.at.base,
      availRing: o.at.base + 16 * o.q.size,
      usedRing: o.at.base + used,
      features: o.features,
    });
    if (!s.ok) return `shadow ring ${o.q.index}: ${s.error.kind}`;
    return new ShadowVirtqueue({
      ...o,
      guest: g.value,
      shadow: s.value,
      iova: { desc: o.at.iova, driver: o.at.iova + 16 * o.q.size, device: o.at.iova + used },
    });
  }

  /** GPA → the IOVA SVQ mapped it at (undefined: not guest RAM). */
  #iovaOf(gpa: number): number | undefined {
    for (const r of this.#ram) {
      if (gpa >= r.gpa && gpa < r.gpa + r.size) return r.iova + (gpa - r.gpa);
    }
    return undefined;
  }

  /** The guest's ioeventfd fired at `t` (after its exit): QEMU's main loop will relay. */
  guestKick(t: number, group: PacketGroup): void {
    this.#kickGroup.addGroup(group);
    if (this.#kickPending) return;
    this.#kickPending = true;
    this.#env.sched.at(t, (now) => this.#relay(now));
  }

  /** The device signalled the shadow queue's call eventfd at `t`. */
  deviceCall(t: number): void {
    if (this.#callPending) return;
    this.#callPending = true;
    this.#env.sched.at(t, (now) => this.#forward(now));
  }

  /** QEMU wakes (if it slept) and reads an eventfd. */
  #wake(now: number, g: PacketGroup): number {
    const hops = this.#env.hops;
    const ctx = this.#qemu;
    let t = now;
    if (ctx.isIdleAt(now)) {
      t = hops.charge(ctx, t, "thread_wakeup_remote", 0, g.flow);
      g.count(Counter.wakeups);
      if (g.sampled) g.record("qemu.svq", "wakeup", { thread: ctx.name });
    }
    t = hops.charge(ctx, t, "syscall", 0, g.flow);
    g.count(Counter.syscalls);
    return t;
  }

  /** vhost_handle_guest_kick: every available guest chain onto the shadow ring. */
  #relay(now: number): void {
    this.#kickPending = false;
    const env = this.#env;
    const hops = env.hops;
    const ctx = this.#qemu;
    const g = this.#kickGroup;
    let t = this.#wake(now, g);
    const out = env.hops.group();
    const guest = this.guest;
    const shadow = this.shadow;
    const tx = this.index % 2 === 1;
    for (;;) {
      if (shadow.numFree === 0) break;
      const head = guest.pop();
      if (head === POP_EMPTY || head === POP_FAULT) break;
      const c = guest.chain;
      const segs = this.#segs;
      segs.length = 0;
      let ok = true;
      for (let i = 0; i < c.count; i++) {
        const iova = this.#iovaOf(c.addr[i] as number);
        if (iova === undefined) ok = false;
        segs.push({ addr: iova ?? 0, len: c.len[i] as number, write: i >= c.readable });
      }
      // which packet (TX: read from the frame; RX: known once the device filled it)
      let flow: HopFlow | undefined;
      let seq = 0;
      this.#firstGpa[head] = c.addr[0] ?? 0;
      if (tx && c.count > 0) {
        const at = (c.addr[0] as number) + this.#hdrLen + PAYLOAD_HEADER_OFFSET;
        if (this.#mem.read(at, this.#scratch, 0, 16)) {
          env.flows.identifyHeader(this.#scratch, 0, this.#id);
          flow = this.#id.flow;
          seq = this.#id.seq;
        }
      }
      this.#flow[head] = flow;
      this.#seq[head] = seq;
      t = hops.charge(ctx, t, "svq_relay_per_packet", 0, flow ?? g.flow);
      if (flow !== undefined) {
        out.add(flow, seq);
        if (hops.wants(flow, seq)) {
          hops.record(flow, seq, "qemu.svq", "forward", {
            from: `guest ${this.name}`,
            to: `shadow ${this.name}`,
          });
        }
      }
      if (!ok || shadow.add(segs, head) < 0) {
        // not guest RAM: QEMU's vhost_svq_translate_addr fails and the chain is dropped
        guest.addUsed(head, 0);
        continue;
      }
      this.relayed++;
    }
    g.reset();
    if (shadow.kickPrepare()) this.#hooks.kickDevice(this.index, t, ctx, out);
  }

  /** vhost_svq_flush: shadow used elements back to the guest, then virtio_notify. */
  #forward(now: number): void {
    this.#callPending = false;
    const env = this.#env;
    const hops = env.hops;
    const g = this.#callGroup;
    g.reset();
    let t = this.#wake(now, g);
    const rx = this.index % 2 === 0;
    let n = 0;
    for (;;) {
      const head = this.shadow.getUsed();
      if (head === USED_NONE || head === USED_FAULT) break;
      const len = this.shadow.lastLen;
      let flow = this.#flow[head];
      let seq = this.#seq[head] as number;
      if (rx && len > this.#hdrLen) {
        const at = (this.#firstGpa[head] as number) + this.#hdrLen + PAYLOAD_HEADER_OFFSET;
        if (this.#mem.read(at, this.#scratch, 0, 16)) {
          env.flows.identifyHeader(this.#scratch, 0, this.#id);
          flow = this.#id.flow;
          seq = this.#id.seq;
        }
      }
      this.guest.addUsed(head, len);
      this.forwarded++;
      n++;
      if (flow !== undefined) {
        g.add(flow, seq);
        if (hops.wants(flow, seq)) {
          hops.at(this.#qemu, t);
          hops.record(flow, seq, "qemu.svq", "add-used", {
            q: this.name,
            head,
            len,
            used: this.guest.nextUsed,
          });
        }
      }
      this.#flow[head] = undefined;
    }
    if (n === 0) return;
    if (this.guest.needsInterrupt()) this.#hooks.notifyGuest(this.index, t, this.#qemu, g);
    t = Math.max(t, this.#qemu.busyUntil);
    void t;
  }
}
