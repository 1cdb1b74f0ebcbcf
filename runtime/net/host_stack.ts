/**
 * The host's own network stack on one netdev, as a traffic endpoint: `ping vm1.eth0 tap0`
 * answers from the host, `traffic t1 from eth0 to eth0` sends from a host application
 * (virtio_vdpa's netdev), `traffic … to br0` ends in the host. Sending runs on a host
 * application thread (sendmsg, UDP/IP output, `dev_queue_xmit` in the caller's context);
 * receiving runs in the receive softirq (`ip_rcv` and the UDP/ICMP layer).
 *
 * @module
 */

import type { Endpoint, FrameBuilder } from "../datapath/endpoint.ts";
import type { PacketId, TrafficFlow } from "../datapath/flow_table.ts";
import type { CpuContext } from "../sim/cpu_context.ts";
import type { Mac } from "../traffic/address.ts";
import type { Lab } from "../lab.ts";
import { Skb } from "./skb.ts";

const FCS = 4;

/** The host stack behind one netdev. */
export class HostStackEndpoint implements Endpoint {
  readonly name: string;
  readonly kind = "host" as const;
  readonly ip: number;
  /** Receive side: the host's NET_RX softirq. */
  readonly ctx: CpuContext;
  /** Send side: the host application's thread. */
  readonly app: CpuContext;
  readonly #lab: Lab;
  readonly #buf = new Uint8Array(65536);

  constructor(lab: Lab, dev: string, ip: number) {
    this.#lab = lab;
    this.name = dev;
    this.ip = ip;
    this.ctx = lab.context("softirq", "softirq:cpu0");
    this.app = lab.context("process", `app:${dev}`);
  }

  /** Reached through its own netdev. */
  get attachment(): string {
    return this.name;
  }

  get mac(): Readonly<Mac> {
    const dev = this.#lab.host.net.get(this.name);
    return new Uint8Array(dev === undefined ? [0, 0, 0, 0, 0, 0] : this.#lab.host.net.mac(dev));
  }

  get mtu(): number {
    return this.#lab.host.net.get(this.name)?.mtu ?? 1500;
  }

  sendBurst(
    now: number,
    flow: TrafficFlow,
    first: number,
    last: number,
    build: FrameBuilder,
  ): void {
    const lab = this.#lab;
    const hops = lab.hops;
    let t = now;
    for (let seq = first; seq <= last; seq++) {
      const len = build(this.#buf, 0, seq);
      flow.metrics.onSend(now, len + FCS);
      // sendmsg: a syscall, then UDP/IP output in the caller's context.
      t = hops.charge(this.app, t, "syscall", 0, flow);
      if (hops.wants(flow, seq)) {
        hops.record(flow, seq, "host.stack", "syscall", { name: "sendmsg", bytes: len });
      }
      t = hops.charge(this.app, t, "host_stack_rx", 0, flow);
      if (hops.wants(flow, seq)) {
        hops.record(flow, seq, "host.stack", "xmit", { dev: this.name, bytes: len });
      }
      if (len - 14 > this.mtu) {
        hops.drop(
          flow,
          seq,
          this.app,
          t,
          "host.stack",
          "mtu_exceeded",
          `${this.name} mtu ${this.mtu}`,
        );
        continue;
      }
      lab.net.stackXmit(this.name, Skb.copyOf(this.#buf, 0, len, flow, seq), t, this.app);
    }
  }

  sendFrame(t: number, frame: Uint8Array, len: number, id: PacketId): void {
    const lab = this.#lab;
    const flow = id.flow;
    const end = lab.hops.charge(this.ctx, t, "host_stack_rx", 0, flow);
    if (flow !== undefined && lab.hops.wants(flow, id.seq)) {
      lab.hops.record(flow, id.seq, "host.stack", "xmit", { dev: this.name, bytes: len });
    }
    lab.net.stackXmit(this.name, Skb.copyOf(frame, 0, len, flow, id.seq), end, this.ctx);
  }

  /** A frame for this host reached the stack on `ctx` at `t` (after netif_receive). */
  receive(skb: Skb, t: number, ctx: CpuContext): void {
    const lab = this.#lab;
    const flow = skb.flow;
    const end = lab.hops.charge(ctx, t, "host_stack_rx", 0, flow);
    if (flow !== undefined && lab.hops.wants(flow, skb.seq)) {
      lab.hops.record(flow, skb.seq, "host.stack", "receive", { dev: this.name, bytes: skb.len });
    }
    lab.endpoints.receive(this, end, ctx, "host.stack", skb.data, 0, ipLength(skb));
  }
}

/**
 * The frame as ip_rcv keeps it: an IPv4 packet followed by junk (a guest's oversize chain
 * written to a tap) is trimmed to its header's total length (pskb_trim_rcsum).
 */
function ipLength(skb: Skb): number {
  const b = skb.data;
  if (skb.len < 34 || b[12] !== 0x08 || b[13] !== 0x00) return skb.len;
  const total = ((b[16] as number) << 8) | (b[17] as number);
  return total >= 20 && 14 + total < skb.len ? 14 + total : skb.len;
}
