/**
 * `-netdev tap` (virtio-vhost-vdpa.md §9.1): QEMU opens the tap (one fd per queue) and, with
 * `vhost=off`, moves every packet itself on its main loop — TX `writev()` of the guest's
 * buffer into the tap (copy #1 into an skb, then `tun_get_user` and the bridge, on QEMU's
 * thread), RX `read()` of the tap into QEMU's buffer (copy #1) and from there into the
 * guest's buffer (copy #2), interrupts by KVM_SIGNAL_MSI. With `vhost=on` the same factory
 * builds the vhost-net backend (vhost_net.ts).
 *
 * @module
 */

import { ok, type Result } from "../result.ts";
import type { CpuContext } from "../sim/cpu_context.ts";
import { Counter } from "../trace/metrics.ts";
import type { PacketGroup } from "../datapath/hop.ts";
import type { TrafficFlow } from "../datapath/flow_table.ts";
import type { DatapathPath } from "../datapath/path_table.ts";
import type { DeviceRing } from "../datapath/net_datapath.ts";
import type { VirtioNetTx } from "../datapath/net_datapath.ts";
import type { Lab } from "../lab.ts";
import { Skb } from "../net/skb.ts";
import { closeTap, type OpenTap, openTap } from "../net/tap_open.ts";
import type {
  BackendEnv,
  BackendStart,
  NetBackend,
  NetBackendFactory,
  NetFrontend,
} from "../qemu/net_backend.ts";
import { type QemuNetPeer, QemuUserspaceNet } from "../qemu/userspace_net.ts";
import { ALL_FEATURES, VNET_HDR_FEATURES } from "../qemu/virtio_net_pci.ts";
import type { TapNetdevSpec, VmError } from "../qemu/vm_spec.ts";
import { VhostNetBackend } from "./vhost_net.ts";

/** The QEMU userspace + tap datapath, as data. */
export const QEMU_TAP_PATH: DatapathPath = {
  name: "QEMU userspace + tap",
  qemuInPath: true,
  copies: { tx: 1, rx: 2 },
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
      what: "KVM signals the queue's eventfd",
      perBatch: true,
    },
    {
      role: "qemu",
      key: "thread_wakeup_remote",
      what: "QEMU main loop wakes from ppoll",
      perBatch: true,
    },
    { role: "qemu", key: "syscall", what: "event_notifier_test_and_clear", perBatch: true },
    {
      role: "qemu",
      key: "qemu_tx_flush",
      what: "virtio_net_tx_bh, up to x-txburst 256",
      perBatch: true,
    },
  ],
  tx: [
    { role: "qemu", key: "qemu_virtqueue_pop_push", what: "virtqueue_pop maps the buffer; push" },
    { role: "qemu", key: "tap_syscall_user", what: "writev() on the tap fd" },
    { role: "qemu", key: "memcpy", what: "copy #1: guest buffer → skb" },
    { role: "qemu", key: "tap_write_kernel", what: "tun_get_user, netif_receive_skb" },
    { role: "qemu", key: "bridge_forward", what: "br_handle_frame → egress port" },
  ],
  rx: [
    {
      role: "qemu",
      key: "thread_wakeup_remote",
      what: "tap fd readable wakes the main loop",
      perBatch: true,
    },
    { role: "qemu", key: "tap_syscall_user", what: "read() on the tap fd" },
    { role: "qemu", key: "tap_read_kernel", what: "tun_do_read" },
    { role: "qemu", key: "memcpy", what: "copy #1: skb → QEMU buffer" },
    { role: "qemu", key: "qemu_virtqueue_pop_push", what: "virtio_net_receive pops an RX buffer" },
    { role: "qemu", key: "memcpy", what: "copy #2: QEMU buffer → guest buffer" },
  ],
  interrupt: [
    { role: "qemu", key: "syscall", what: "virtio_notify → KVM_SIGNAL_MSI" },
    { role: "qemu", key: "irq_inject_posted", what: "posted interrupt to the running vCPU" },
    { role: "vcpu", key: "guest_irq_to_napi", what: "vring_interrupt → NAPI" },
  ],
};

/** The QEMU side of a tap: what `writev`/`read` on its fds do. */
class TapPeer implements QemuNetPeer {
  readonly label: string;
  readonly #lab: Lab;
  readonly #tap: OpenTap;

  constructor(lab: Lab, tap: OpenTap) {
    this.#lab = lab;
    this.#tap = tap;
    this.label = tap.ifname;
  }

  send(
    tx: VirtioNetTx,
    t: number,
    ctx: CpuContext,
    flow: TrafficFlow | undefined,
    seq: number,
  ): number {
    const hops = this.#lab.hops;
    const ifname = this.#tap.ifname;
    const traced = flow !== undefined && hops.wants(flow, seq);
    // qemu_sendv_packet_async → tap_receive_iov → writev(): the vnet header goes too.
    let now = hops.charge(ctx, t, "tap_syscall_user", 0, flow);
    if (flow !== undefined) {
      flow.metrics.add(Counter.syscalls);
      flow.metrics.add(Counter.user_kernel_switches, 2);
    }
    const bytes = tx.frameLen + (this.#tap.vnetHdr ? tx.hdrLen : 0);
    if (traced) hops.record(flow, seq, "qemu", "syscall", { name: "writev", fd: ifname, bytes });
    const skb = new Skb(new Uint8Array(tx.frameLen), flow, seq);
    tx.copyFrame(skb.data);
    now = hops.charge(ctx, now, "memcpy", bytes, flow);
    if (flow !== undefined) {
      flow.metrics.add(Counter.copies);
      flow.metrics.add(Counter.bytes_copied, bytes);
    }
    if (traced) hops.record(flow, seq, "tun", "copy", { bytes, from: "guest", to: "skb" });
    now = hops.charge(ctx, now, "tap_write_kernel", 0, flow);
    if (traced) hops.record(flow, seq, "tun", "xmit", { dev: ifname, bytes: skb.len });
    this.#lab.net.netifReceive(ifname, skb, now, ctx);
    return now;
  }

  peek(pair: number): Skb | undefined {
    return this.#tap.queues[pair]?.peek();
  }

  take(pair: number): Skb | undefined {
    return this.#tap.queues[pair]?.shift();
  }

  read(pair: number, t: number, ctx: CpuContext): { skb: Skb; end: number } | undefined {
    const q = this.#tap.queues[pair];
    const skb = q?.shift();
    if (skb === undefined) return undefined;
    const hops = this.#lab.hops;
    const flow = skb.flow;
    const seq = skb.seq;
    const traced = flow !== undefined && hops.wants(flow, seq);
    let now = hops.charge(ctx, t, "tap_syscall_user", 0, flow);
    const hdr = this.#tap.vnetHdr ? 12 : 0;
    if (flow !== undefined) {
      flow.metrics.add(Counter.syscalls);
      flow.metrics.add(Counter.user_kernel_switches, 2);
    }
    if (traced) {
      hops.record(flow, seq, "qemu", "syscall", {
        name: "read",
        fd: this.#tap.ifname,
        bytes: skb.len + hdr,
      });
    }
    now = hops.charge(ctx, now, "tap_read_kernel", 0, flow);
    if (traced) hops.record(flow, seq, "tun", "receive", { dev: this.#tap.ifname, bytes: skb.len });
    // Copy #1: the skb into QEMU's buffer (tun_do_read → copy_to_iter).
    now = hops.charge(ctx, now, "memcpy", skb.len + hdr, flow);
    if (flow !== undefined) {
      flow.metrics.add(Counter.copies);
      flow.metrics.add(Counter.bytes_copied, skb.len + hdr);
    }
    if (traced) {
      hops.record(flow, seq, "tun", "copy", { bytes: skb.len + hdr, from: "skb", to: "qemu" });
    }
    return { skb, end: now };
  }

  drop(
    skb: Skb,
    t: number,
    ctx: CpuContext,
    reason: "mtu_exceeded" | "needs_reset" | "no_rx_buffer" | "device_not_ready",
  ): void {
    this.#lab.net.drop(skb, t, ctx, "qemu.virtio-net", reason);
  }
}

/** `-netdev tap,vhost=off`: QEMU's own datapath over a tap. */
export class QemuTapBackend implements NetBackend {
  readonly type = "tap";
  readonly id: string;
  readonly label = "qemu-tap";
  readonly features: bigint;
  readonly maxQueuePairs: number;
  readonly hostNotifier = false;
  readonly path: DatapathPath = QEMU_TAP_PATH;
  readonly #lab: Lab;
  readonly #owner: string;
  readonly #tap: OpenTap;
  readonly #net: QemuUserspaceNet;
  #frontend: NetFrontend | undefined;

  constructor(lab: Lab, owner: string, nd: TapNetdevSpec, tap: OpenTap) {
    this.#lab = lab;
    this.#owner = owner;
    this.id = nd.id;
    this.#tap = tap;
    this.maxQueuePairs = nd.queues;
    // virtio_net_get_features: no vnet header, no offloads.
    this.features = tap.vnetHdr ? ALL_FEATURES : ALL_FEATURES & ~VNET_HDR_FEATURES;
    this.#net = new QemuUserspaceNet(lab, new TapPeer(lab, tap));
    tap.queues.forEach((q, k) => {
      q.owner = { label: owner, readable: (_q, t) => this.#net.readable(k, t) };
    });
  }

  /** The tap's name. */
  get hostNetdev(): string {
    return this.#tap.ifname;
  }

  /** QEMU's userspace datapath (for `show vq`). */
  get datapath(): QemuUserspaceNet {
    return this.#net;
  }

  attach(frontend: NetFrontend): Result<void, VmError> {
    this.#frontend = frontend;
    return ok(undefined);
  }

  start(s: BackendStart): Result<void, string> {
    const fe = this.#frontend;
    if (fe === undefined) return { ok: false, error: "no frontend" };
    return this.#net.start(fe, s);
  }

  stop(_t: number): void {
    this.#net.stop();
  }

  kick(index: number, t: number, group: PacketGroup): void {
    this.#net.kick(index, t, group);
  }

  deviceRing(index: number): DeviceRing | undefined {
    const k = index >> 1;
    return index % 2 === 0 ? this.#net.rx(k)?.ring : this.#net.tx(k)?.ring;
  }

  describe(): readonly string[] {
    return [
      `netdev ${this.id}: tap ${this.#tap.ifname} vhost=off (QEMU userspace datapath on ${
        this.#frontend?.vm.qemu.name ?? "qemu"
      })`,
      `  fds ${this.#tap.fds.map((f) => f.fd).join(",")} vnet_hdr ${
        this.#tap.vnetHdr ? "on" : "off"
      }`,
      ...this.#tap.queues.map((q) =>
        `  tap queue ${q.index}: ${q.length} waiting, ${q.queued} queued, ${q.drops} dropped (full)`
      ),
    ];
  }

  destroy(t: number): void {
    this.#net.stop();
    closeTap(this.#lab, this.#owner, this.#tap, t);
  }
}

/** The factory of `-netdev tap`: QEMU userspace with vhost=off, vhost-net with vhost=on. */
export const TAP_BACKEND: NetBackendFactory = {
  type: "tap",
  create(env: BackendEnv): Result<NetBackend, VmError> {
    const nd = env.netdev;
    if (nd.kind !== "tap") throw new Error("tap factory given a non-tap netdev");
    const owner = `qemu:${env.vm.name}`;
    const tap = openTap(env.lab, owner, nd);
    if (!tap.ok) return tap;
    if (nd.vhost) {
      const v = VhostNetBackend.create(env.lab, env.vm, nd, tap.value);
      if (!v.ok) closeTap(env.lab, owner, tap.value, env.lab.now);
      return v;
    }
    return ok(new QemuTapBackend(env.lab, owner, nd, tap.value));
  },
};
