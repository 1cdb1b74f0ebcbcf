/**
 * `-netdev user` (slirp): QEMU's own TCP/IP stack inside the QEMU process, NATing the guest
 * onto the host's sockets. The lab models the part a datapath comparison needs and no more:
 * QEMU's userspace virtio-net device on the main loop (userspace_net.ts), and slirp's
 * gateway as a traffic endpoint `VM.NETDEV.host` (10.0.2.2, MAC 52:55:0a:00:02:02) that
 * receives the guest's frames and answers pings, running on the same QEMU thread. The guest
 * gets slirp's DHCP address (`dhcpstart`, 10.0.2.15). Frames for other destinations leave
 * the lab through host sockets and are counted `no_route`.
 *
 * @module
 */

import { ok, type Result } from "../result.ts";
import type { CpuContext } from "../sim/cpu_context.ts";
import { Counter } from "../trace/metrics.ts";
import { parseIpv4 } from "../traffic/address.ts";
import type { Endpoint, FrameBuilder } from "../datapath/endpoint.ts";
import type { PacketId, TrafficFlow } from "../datapath/flow_table.ts";
import type { PacketGroup } from "../datapath/hop.ts";
import type { DatapathPath } from "../datapath/path_table.ts";
import type { DeviceRing } from "../datapath/net_datapath.ts";
import type { VirtioNetTx } from "../datapath/net_datapath.ts";
import type { Lab } from "../lab.ts";
import { macKey, Skb } from "../net/skb.ts";
import type {
  BackendEnv,
  BackendStart,
  NetBackend,
  NetBackendFactory,
  NetFrontend,
} from "../qemu/net_backend.ts";
import { type QemuNetPeer, QemuUserspaceNet } from "../qemu/userspace_net.ts";
import { ALL_FEATURES, VNET_HDR_FEATURES } from "../qemu/virtio_net_pci.ts";
import type { UserNetdevSpec, VmError } from "../qemu/vm_spec.ts";
import type { Vm } from "../qemu/vm.ts";

/** The slirp datapath, as data. */
export const USER_PATH: DatapathPath = {
  name: "QEMU userspace + slirp",
  qemuInPath: true,
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
      what: "KVM signals the queue's eventfd",
      perBatch: true,
    },
    { role: "qemu", key: "thread_wakeup_remote", what: "QEMU main loop wakes", perBatch: true },
    { role: "qemu", key: "qemu_tx_flush", what: "virtio_net_tx_bh", perBatch: true },
  ],
  tx: [
    { role: "qemu", key: "qemu_virtqueue_pop_push", what: "virtqueue_pop, push" },
    { role: "qemu", key: "memcpy", what: "copy into a slirp mbuf" },
    { role: "qemu", key: "host_stack_rx", what: "slirp_input: IP/UDP/ICMP in QEMU" },
  ],
  rx: [
    { role: "qemu", key: "host_stack_rx", what: "slirp output: if_encap" },
    { role: "qemu", key: "qemu_virtqueue_pop_push", what: "virtio_net_receive" },
    { role: "qemu", key: "memcpy", what: "copy into the guest buffer" },
  ],
  interrupt: [
    { role: "qemu", key: "syscall", what: "virtio_notify → KVM_SIGNAL_MSI" },
    { role: "qemu", key: "irq_inject_posted", what: "posted interrupt" },
  ],
};

/** libslirp's gateway MAC: 52:55 then the gateway's IPv4 address. */
function slirpMac(host: number): Uint8Array {
  return new Uint8Array([
    0x52,
    0x55,
    host >>> 24,
    (host >>> 16) & 0xff,
    (host >>> 8) & 0xff,
    host & 0xff,
  ]);
}

const FCS = 4;

/** slirp's gateway: a traffic endpoint inside QEMU. */
class SlirpGateway implements Endpoint, QemuNetPeer {
  readonly name: string;
  readonly kind = "host" as const;
  readonly mac: Uint8Array;
  readonly ip: number;
  readonly mtu = 1500;
  readonly label = "slirp";
  readonly #lab: Lab;
  readonly #vm: Vm;
  readonly #queue: Skb[] = [];
  #bufAlloc: Uint8Array | undefined;
  net: QemuUserspaceNet | undefined;

  constructor(lab: Lab, vm: Vm, name: string, host: number) {
    this.#lab = lab;
    this.#vm = vm;
    this.name = name;
    this.ip = host;
    this.mac = slirpMac(host);
  }

  get ctx(): CpuContext {
    return this.#vm.qemu;
  }

  // Guest → slirp.
  send(
    tx: VirtioNetTx,
    t: number,
    ctx: CpuContext,
    flow: TrafficFlow | undefined,
    seq: number,
  ): number {
    const hops = this.#lab.hops;
    const skb = new Skb(new Uint8Array(tx.frameLen), flow, seq);
    tx.copyFrame(skb.data);
    let now = hops.charge(ctx, t, "memcpy", tx.frameLen, flow);
    if (flow !== undefined) {
      flow.metrics.add(Counter.copies);
      flow.metrics.add(Counter.bytes_copied, tx.frameLen);
      if (hops.wants(flow, seq)) {
        hops.record(flow, seq, "slirp", "copy", { bytes: tx.frameLen, from: "guest", to: "mbuf" });
      }
    }
    now = hops.charge(ctx, now, "host_stack_rx", 0, flow);
    const dst = skb.dstKey;
    const own = macKey(this.mac, 0);
    if (dst !== own && ((skb.data[0] as number) & 1) === 0) {
      this.#lab.net.drop(skb, now, ctx, "slirp", "no_route", "NATed out of the lab");
      return now;
    }
    if (flow !== undefined && hops.wants(flow, seq)) {
      hops.record(flow, seq, "slirp", "receive", { dev: "slirp", bytes: skb.len });
    }
    this.#lab.endpoints.receive(this, now, ctx, "slirp", skb.data, 0, skb.len);
    return now;
  }

  peek(_pair: number): Skb | undefined {
    return this.#queue[0];
  }

  take(_pair: number): Skb | undefined {
    return this.#queue.shift();
  }

  read(_pair: number, t: number, _ctx: CpuContext): { skb: Skb; end: number } | undefined {
    const skb = this.#queue.shift();
    return skb === undefined ? undefined : { skb, end: t };
  }

  drop(
    skb: Skb,
    t: number,
    ctx: CpuContext,
    reason: "mtu_exceeded" | "needs_reset" | "no_rx_buffer" | "device_not_ready",
  ): void {
    this.#lab.net.drop(skb, t, ctx, "slirp", reason);
  }

  // slirp → guest.
  #output(t: number, skb: Skb): void {
    const hops = this.#lab.hops;
    const end = hops.charge(this.#vm.qemu, t, "host_stack_rx", 0, skb.flow);
    if (skb.flow !== undefined && hops.wants(skb.flow, skb.seq)) {
      hops.record(skb.flow, skb.seq, "slirp", "xmit", { dev: "slirp", bytes: skb.len });
    }
    this.#queue.push(skb);
    if (this.#queue.length === 1) this.net?.readable(0, end);
  }

  sendBurst(
    now: number,
    flow: TrafficFlow,
    first: number,
    last: number,
    build: FrameBuilder,
  ): void {
    for (let seq = first; seq <= last; seq++) {
      const buf = this.#bufAlloc ??= new Uint8Array(65536);
      const len = build(buf, 0, seq);
      flow.metrics.onSend(now, len + FCS);
      this.#output(now, Skb.copyOf(buf, 0, len, flow, seq));
    }
  }

  sendFrame(t: number, frame: Uint8Array, len: number, id: PacketId): void {
    this.#output(t, Skb.copyOf(frame, 0, len, id.flow, id.seq));
  }
}

/** `-netdev user`. */
export class UserBackend implements NetBackend {
  readonly type = "user";
  readonly id: string;
  readonly label = "slirp";
  readonly features: bigint = ALL_FEATURES & ~VNET_HDR_FEATURES;
  readonly maxQueuePairs = 1;
  readonly hostNotifier = false;
  readonly path: DatapathPath = USER_PATH;
  readonly guestIp: number;
  /** slirp's gateway endpoint. */
  readonly gateway: SlirpGateway;
  readonly #net: QemuUserspaceNet;
  #frontend: NetFrontend | undefined;

  constructor(lab: Lab, vm: Vm, nd: UserNetdevSpec) {
    this.id = nd.id;
    const host = parseIpv4(nd.host);
    const guest = parseIpv4(nd.dhcpstart);
    this.guestIp = guest.ok ? guest.value : 0x0a00020f;
    this.gateway = new SlirpGateway(
      lab,
      vm,
      `${vm.name}.${nd.id}.host`,
      host.ok ? host.value : 0x0a000202,
    );
    this.#net = new QemuUserspaceNet(lab, this.gateway);
    this.gateway.net = this.#net;
  }

  get peerEndpoint(): Endpoint {
    return this.gateway;
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
      `netdev ${this.id}: user (slirp in QEMU; gateway ${this.gateway.name})`,
    ];
  }

  destroy(_t: number): void {
    this.#net.stop();
  }
}

/** The factory of `-netdev user`. */
export const USER_BACKEND: NetBackendFactory = {
  type: "user",
  create(env: BackendEnv): Result<NetBackend, VmError> {
    const nd = env.netdev;
    if (nd.kind !== "user") throw new Error("user factory given another netdev");
    return ok(new UserBackend(env.lab, env.vm, nd));
  },
};
