/**
 * rte_vhost's datapath (lib/vhost/virtio_net.c) on the shared virtio-net routine of
 * runtime/datapath/net_datapath.ts: {@link rteVhostDequeueBurst} takes up to a burst of
 * packets the guest transmitted (its TX ring: vring 2q+1) and **copies** each frame into an
 * mbuf; {@link rteVhostEnqueueBurst} **copies** mbufs into the guest's receive buffers (its RX
 * ring: vring 2q). Both translate descriptor addresses through the back-end's mapping of the
 * memory table (GPA → back-end VA: rte_vhost's guest pages), publish the used ring once per
 * burst, and then signal the call fd only if the guest's suppression state asks for it
 * (`vhost_vring_call_split/packed`: used_event with EVENT_IDX, else VRING_AVAIL_F_NO_INTERRUPT)
 * — the eventfd write is the one system call of the path.
 *
 * Nothing moves on a ring that is not ready (§5.5: stopped or disabled), or on a device the
 * application does not run. Each packet's hops are charged on the calling PMD's context:
 * `dpdk_vhost_dequeue` / `dpdk_vhost_enqueue`, `gpa_to_hva_translate` per descriptor,
 * `memcpy` of the frame.
 *
 * @example Nothing moves before the guest started the device
 * ```ts
 * import { Lab } from "../../lab.ts";
 * import { MbufPool } from "../dpdk/mbuf.ts";
 * import { VhostUserBackendDevice } from "./backend_device.ts";
 * import { rteVhostDequeueBurst } from "./vhost_datapath.ts";
 * const lab = new Lab({ hostCatalog: { modules: {}, nicModels: {} } });
 * const dev = new VhostUserBackendDevice({
 *   path: "/tmp/vu0", features: 0n, protocolFeatures: 0n, maxQueuePairs: 1,
 *   ops: { newDevice: () => true, destroyDevice: () => {}, vringStateChanged: () => {} },
 * }, 0);
 * const ctx = lab.context("pmd", "pmd:core1", { polling: true, pollIterationNs: 20 });
 * const env = { lab, ctx, comp: "testpmd" };
 * const r = rteVhostDequeueBurst(dev, 0, new MbufPool("mp", 64), [], 32, env, 0);
 * if (r.n !== 0 || r.blocked !== "not-running") throw new Error("not running");
 * ```
 *
 * @module
 */

import type { CpuContext } from "../../sim/cpu_context.ts";
import { Counter } from "../../trace/metrics.ts";
import type { Lab } from "../../lab.ts";
import type { HopFlow, PacketGroup } from "../../datapath/hop.ts";
import {
  NET_BAD_CHAIN,
  NET_EMPTY,
  NET_FAULT,
  NET_NO_BUFFER,
  NET_TOO_BIG,
  VirtioNetRx,
  VirtioNetTx,
} from "../../datapath/net_datapath.ts";
import { describeQueueFault } from "../../virtio/queue_fault.ts";
import type { Mbuf, MbufPool } from "../dpdk/mbuf.ts";
import type { VhostUserBackendDevice } from "./backend_device.ts";
import type { BackendVring } from "./backend_vring.ts";
import { EventFd } from "./fd.ts";

/** Where a burst runs. */
export interface VhostIoEnv {
  readonly lab: Lab;
  /** The PMD context that runs it. */
  readonly ctx: CpuContext;
  /** Component name for the hops (`testpmd`, `ovs-vswitchd`). */
  readonly comp: string;
}

/** Per-vring datapath state, rebuilt when the ring is re-translated. */
interface VringIo {
  readonly ring: object;
  readonly tx: VirtioNetTx | undefined;
  readonly rx: VirtioNetRx | undefined;
  readonly irq: PacketGroup;
}

const IO = new WeakMap<BackendVring, VringIo>();

function ioOf(dev: VhostUserBackendDevice, vq: BackendVring, lab: Lab): VringIo | undefined {
  const ring = vq.queue;
  const mem = dev.mem;
  if (ring === undefined || mem === undefined) return undefined;
  const cur = IO.get(vq);
  if (cur !== undefined && cur.ring === ring) return cur;
  const opts = { features: dev.features, flows: lab.flows };
  const io: VringIo = vq.index % 2 === 1
    ? { ring, tx: new VirtioNetTx(ring, opts), rx: undefined, irq: lab.hops.group() }
    : { ring, tx: undefined, rx: new VirtioNetRx(ring, mem.view, opts), irq: lab.hops.group() };
  IO.set(vq, io);
  return io;
}

/** Why a burst moved nothing. */
export type BurstBlock = "not-running" | "not-ready" | "empty" | "fault";

/** What a dequeue did. */
export interface DequeueResult {
  /** Packets now in `out[0, n)`. */
  n: number;
  /** When the burst ended (ns). */
  end: number;
  /** Set when nothing moved for a reason other than an empty ring. */
  blocked: BurstBlock | undefined;
}

/** What an enqueue did. */
export interface EnqueueResult {
  /** Mbufs taken from the front of the list (the caller frees the rest). */
  sent: number;
  end: number;
  /** Why the rest were not taken. */
  blocked: BurstBlock | "no-buffer" | undefined;
}

function ready(dev: VhostUserBackendDevice, vq: BackendVring | undefined): BurstBlock | undefined {
  if (!dev.running) return "not-running";
  if (vq === undefined || !vq.ready) return "not-ready";
  return undefined;
}

function translateHop(
  env: VhostIoEnv,
  dev: VhostUserBackendDevice,
  chainAddr: number,
  flow: HopFlow,
  seq: number,
  descs: number,
  len: number,
  now: number,
): number {
  const hops = env.lab.hops;
  let end = now;
  for (let i = 0; i < descs; i++) end = hops.charge(env.ctx, end, "gpa_to_hva_translate", 0, flow);
  flow.metrics.add(Counter.translations, descs);
  if (hops.wants(flow, seq)) {
    hops.t = now;
    hops.dur = end - now;
    hops.ctx = env.ctx;
    const mem = dev.mem;
    hops.record(flow, seq, env.comp, "translate", {
      space: "gpa-vva",
      addr: mem?.guestPhys(chainAddr) ?? chainAddr,
      to: mem?.hostVa(chainAddr) ?? chainAddr,
      len,
    });
  }
  return end;
}

/**
 * vhost_vring_call_split/packed after a burst's used update: the call fd is written (an
 * eventfd_write system call from userspace) only when the guest asked for an interrupt.
 */
function vringCall(
  env: VhostIoEnv,
  vq: BackendVring,
  io: VringIo,
  now: number,
): number {
  const lab = env.lab;
  const hops = lab.hops;
  const ring = io.tx ?? io.rx;
  const irq = io.irq;
  if (ring === undefined || irq.size === 0) {
    irq.reset();
    return now;
  }
  const name = vq.name;
  if (!ring.needsInterrupt() || !(vq.call instanceof EventFd)) {
    vq.counters.guestNotificationsSuppressed++;
    irq.count(Counter.interrupts_suppressed);
    if (irq.sampled) {
      hops.at(env.ctx, now);
      irq.record(env.comp, "irq-suppressed", {
        q: name,
        why: vq.call instanceof EventFd ? "used_event" : "no call fd",
      });
    }
    irq.reset();
    return now;
  }
  // eventfd_write(callfd): the one syscall of the path (user → kernel → user).
  const end = hops.charge(env.ctx, now, "syscall", 0, irq.flow);
  irq.count(Counter.syscalls);
  irq.count(Counter.user_kernel_switches, 2);
  if (irq.sampled) irq.record(env.comp, "syscall", { name: "eventfd_write", fd: "call" });
  vq.counters.guestNotifications++;
  const g = lab.hops.group();
  g.addGroup(irq);
  irq.reset();
  vq.call.signal(end, env.ctx, g);
  return end;
}

/**
 * rte_vhost_dequeue_burst: up to `count` packets from the guest's TX vring `2q+1` into mbufs
 * from `pool`, at `now` on `env.ctx`.
 */
export function rteVhostDequeueBurst(
  dev: VhostUserBackendDevice,
  queue: number,
  pool: MbufPool,
  out: Mbuf[],
  count: number,
  env: VhostIoEnv,
  now: number,
): DequeueResult {
  const vq = dev.vring(2 * queue + 1);
  const block = ready(dev, vq);
  if (block !== undefined || vq === undefined) return { n: 0, end: now, blocked: block };
  const io = ioOf(dev, vq, env.lab);
  const tx = io?.tx;
  if (io === undefined || tx === undefined) return { n: 0, end: now, blocked: "not-ready" };
  const hops = env.lab.hops;
  let t = now;
  let n = 0;
  let blocked: BurstBlock | undefined = undefined;
  while (n < count) {
    // rte_pktmbuf_alloc_bulk first: without mbufs nothing is taken from the ring.
    const m = pool.alloc();
    if (m === undefined) break;
    const r = tx.pop();
    if (r === NET_EMPTY) {
      pool.free(m);
      break;
    }
    if (r === NET_FAULT) {
      pool.free(m);
      const f = tx.ring.fault;
      dev.log.push(
        `failed to dequeue from vring ${vq.index}: ${f ? describeQueueFault(f) : "fault"}`,
      );
      blocked = "fault";
      break;
    }
    const flow = tx.id.flow;
    const seq = tx.id.seq;
    if (r === NET_BAD_CHAIN) {
      pool.free(m);
      if (flow !== undefined) {
        hops.drop(flow, seq, env.ctx, t, env.comp, "bad_descriptor", tx.problem);
      }
      continue;
    }
    if (flow !== undefined) {
      io.irq.add(flow, seq);
      t = hops.charge(env.ctx, t, "dpdk_vhost_dequeue", 0, flow);
      flow.metrics.add(Counter.descriptors, tx.descs);
      if (hops.wants(flow, seq)) {
        hops.record(flow, seq, env.comp, "pop", {
          q: vq.name,
          head: tx.head,
          descs: tx.descs,
          bytes: tx.chainBytes,
        });
      }
      t = translateHop(
        env,
        dev,
        tx.chain.addr[0] as number,
        flow,
        seq,
        tx.chain.count,
        tx.chainBytes,
        t,
      );
    }
    // copy_desc_to_mbuf: the one TX copy, guest buffer → mbuf.
    const buf = m.ensure(tx.frameLen);
    m.len = tx.copyFrame(buf);
    m.flow = flow;
    m.seq = seq;
    t = hops.charge(env.ctx, t, "memcpy", m.len, flow);
    if (flow !== undefined) {
      flow.metrics.add(Counter.copies);
      flow.metrics.add(Counter.bytes_copied, m.len);
      if (hops.wants(flow, seq)) {
        hops.record(flow, seq, env.comp, "copy", { bytes: m.len, from: "guest", to: "mbuf" });
      }
    }
    tx.complete();
    out[n++] = m;
  }
  if (n > 0 || io.irq.size > 0) {
    tx.flush();
    vq.counters.dequeued += n;
    vq.counters.bursts++;
    t = vringCall(env, vq, io, t);
  }
  return { n, end: t, blocked: blocked ?? (n === 0 ? "empty" : undefined) };
}

/**
 * rte_vhost_enqueue_burst: copies `mbufs[0, n)` into the guest's RX vring `2q` at `now` on
 * `env.ctx`; stops at the first packet without a guest buffer. The caller frees what was not
 * taken (testpmd counts it as dropped).
 */
export function rteVhostEnqueueBurst(
  dev: VhostUserBackendDevice,
  queue: number,
  mbufs: readonly Mbuf[],
  n: number,
  env: VhostIoEnv,
  now: number,
): EnqueueResult {
  const vq = dev.vring(2 * queue);
  const block = ready(dev, vq);
  if (block !== undefined || vq === undefined) return { sent: 0, end: now, blocked: block };
  const io = ioOf(dev, vq, env.lab);
  const rx = io?.rx;
  if (io === undefined || rx === undefined) return { sent: 0, end: now, blocked: "not-ready" };
  const hops = env.lab.hops;
  let t = now;
  let sent = 0;
  let blocked: EnqueueResult["blocked"] = undefined;
  for (; sent < n; sent++) {
    const m = mbufs[sent] as Mbuf;
    const flow = m.flow;
    const seq = m.seq;
    const r = rx.deliver(m.buf, 0, m.len);
    if (r === NET_NO_BUFFER) {
      vq.counters.enqueueFull++;
      blocked = "no-buffer";
      break;
    }
    if (r === NET_FAULT) {
      const f = rx.ring.fault;
      dev.log.push(
        `failed to enqueue to vring ${vq.index}: ${f ? describeQueueFault(f) : "fault"}`,
      );
      blocked = "fault";
      break;
    }
    if (r === NET_TOO_BIG) {
      // The chain went back with len 0: the packet is lost.
      if (flow !== undefined) {
        hops.drop(
          flow,
          seq,
          env.ctx,
          t,
          env.comp,
          "mtu_exceeded",
          "frame larger than the RX buffer",
        );
      }
      continue;
    }
    if (flow !== undefined) {
      io.irq.add(flow, seq);
      t = hops.charge(env.ctx, t, "dpdk_vhost_enqueue", 0, flow);
      flow.metrics.add(Counter.descriptors, rx.descs);
      if (hops.wants(flow, seq)) {
        hops.record(flow, seq, env.comp, "pop", {
          q: vq.name,
          head: rx.head,
          descs: rx.descs,
          bytes: rx.written,
        });
      }
      t = translateHop(
        env,
        dev,
        rx.ring.chain.addr[rx.ring.chain.readable] as number,
        flow,
        seq,
        rx.descs,
        rx.written,
        t,
      );
      // copy_mbuf_to_desc: the one RX copy, mbuf → guest buffer (header included).
      t = hops.charge(env.ctx, t, "memcpy", rx.written, flow);
      flow.metrics.add(Counter.copies);
      flow.metrics.add(Counter.bytes_copied, rx.written);
      if (hops.wants(flow, seq)) {
        hops.record(flow, seq, env.comp, "copy", { bytes: rx.written, from: "mbuf", to: "guest" });
        hops.at(env.ctx, t);
        const used = rx.ring.nextUsed;
        hops.record(flow, seq, env.comp, "add-used", {
          q: vq.name,
          head: rx.head,
          len: rx.written,
          used: typeof used === "number" ? used : used.slot,
        });
      }
    } else {
      t = hops.charge(env.ctx, t, "dpdk_vhost_enqueue", 0, undefined);
      t = hops.charge(env.ctx, t, "memcpy", rx.written, undefined);
    }
  }
  if (sent > 0 || io.irq.size > 0) {
    rx.flush();
    vq.counters.enqueued += sent;
    vq.counters.bursts++;
    t = vringCall(env, vq, io, t);
  }
  return { sent, end: t, blocked };
}
