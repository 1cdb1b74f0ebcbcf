/**
 * The peer beyond a physical port (`host nic ens1f0 … speed=25Gbps`): the traffic endpoint
 * `wire`. Frames the host sends out of the port are serialized at the port's speed on the
 * port's transmit link (a `wire` context, so back-to-back frames queue behind each other),
 * travel the cable (`wire_latency`) and reach the peer, which verifies them. Frames the peer
 * sends are serialized on the receive link, DMA'd into host memory (`pcie_dma_latency`) and
 * handed to the host's receive softirq.
 *
 * @module
 */

import type { Endpoint, FrameBuilder } from "../datapath/endpoint.ts";
import type { PacketId, TrafficFlow } from "../datapath/flow_table.ts";
import type { CpuContext } from "../sim/cpu_context.ts";
import type { Mac } from "../traffic/address.ts";
import { serializationNs } from "../traffic/line_rate.ts";
import type { Lab } from "../lab.ts";
import { Skb } from "./skb.ts";

const FCS = 4;

/** The far end of a physical port. */
export class Wire implements Endpoint {
  readonly name: string;
  readonly kind = "wire" as const;
  readonly mac: Readonly<Mac>;
  readonly ip: number;
  readonly mtu = 9000;
  /** The peer's own context (its stack). */
  readonly ctx: CpuContext;
  /** The port's transmit link (host → peer). */
  readonly tx: CpuContext;
  /** The port's receive link (peer → host). */
  readonly rx: CpuContext;
  /** The port netdev. */
  readonly port: string;
  /** Reached through its port. */
  get attachment(): string {
    return this.port;
  }
  readonly #lab: Lab;
  readonly #buf = new Uint8Array(65536);

  constructor(lab: Lab, port: string, options: { mac: Mac; ip: number; name: string }) {
    this.#lab = lab;
    this.port = port;
    this.name = options.name;
    this.mac = options.mac;
    this.ip = options.ip;
    this.ctx = lab.context("wire", `wire:${port}`);
    this.tx = lab.context("wire", `wire:${port}:tx`);
    this.rx = lab.context("wire", `wire:${port}:rx`);
  }

  /** The port's speed (bits/s), from the kernel's netdev. */
  get bps(): number {
    const dev = this.#lab.host.net.get(this.port);
    return (dev?.speedMbps ?? 10000) * 1e6;
  }

  /**
   * The host transmits `skb` out of the port; its driver finished at `t`. Serializes it on
   * the transmit link and delivers it to the peer.
   */
  fromHost(skb: Skb, t: number): void {
    const lab = this.#lab;
    if (!lab.net.wireUp(this.port)) {
      // No link: the port cannot put the frame on the cable.
      return lab.net.drop(skb, t, this.tx, this.port, "link_down", `${this.port} has no link`);
    }
    const hops = lab.hops;
    const flow = skb.flow;
    const bps = this.bps;
    const ser = serializationNs(skb.len + FCS, bps);
    const end = hops.chargeNs(this.tx, t, ser, flow);
    if (flow !== undefined && hops.wants(flow, skb.seq)) {
      hops.record(flow, skb.seq, this.port, "serialize", {
        link: this.port,
        bytes: skb.len + FCS,
        bps,
      });
    }
    const arrive = hops.charge(this.ctx, end, "wire_latency", 0, flow);
    lab.sched.at(arrive, (now) => {
      lab.endpoints.receive(this, now, this.ctx, "wire", skb.data, 0, skb.len);
    });
  }

  sendBurst(
    now: number,
    flow: TrafficFlow,
    first: number,
    last: number,
    build: FrameBuilder,
  ): void {
    for (let seq = first; seq <= last; seq++) {
      const len = build(this.#buf, 0, seq);
      flow.metrics.onSend(now, len + FCS);
      this.#inject(now, Skb.copyOf(this.#buf, 0, len, flow, seq));
    }
  }

  sendFrame(t: number, frame: Uint8Array, len: number, id: PacketId): void {
    this.#inject(t, Skb.copyOf(frame, 0, len, id.flow, id.seq));
  }

  /** A frame from the peer: serialize on the receive link, DMA, then the host's softirq. */
  #inject(t: number, skb: Skb): void {
    const lab = this.#lab;
    if (!lab.net.wireUp(this.port)) {
      // The peer has no link to send on.
      return lab.net.drop(skb, t, this.ctx, "wire", "link_down", `${this.port} has no link`);
    }
    const hops = lab.hops;
    const flow = skb.flow;
    const bps = this.bps;
    const ser = serializationNs(skb.len + FCS, bps);
    const end = hops.chargeNs(this.rx, t, ser, flow);
    if (flow !== undefined && hops.wants(flow, skb.seq)) {
      hops.record(flow, skb.seq, "wire", "serialize", {
        link: this.port,
        bytes: skb.len + FCS,
        bps,
      });
    }
    const dma = hops.charge(this.rx, end, "pcie_dma_latency", 0, flow);
    if (flow !== undefined && hops.wants(flow, skb.seq)) {
      hops.record(flow, skb.seq, this.port, "receive", { dev: this.port, bytes: skb.len });
    }
    lab.sched.at(dma, (now) => lab.net.nicReceive(this.port, skb, now));
  }
}
