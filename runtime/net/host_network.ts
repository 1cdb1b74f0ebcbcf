/**
 * The host's network data plane: what happens to a frame between the netdevs the kernel
 * model (runtime/host) keeps — taps, Linux bridges, physical ports and their wires, the host
 * stack. The kernel's netdev table stays the truth for which devices exist, whether they are
 * up, their MTU, carrier and bridge ports; this adds the queues, the forwarding databases,
 * the links and the per-hop costs.
 *
 * Two entry points move frames:
 * - {@link HostNetwork.netifReceive}: a frame enters the host through a netdev (the owner of
 *   a tap wrote it, a NIC received it). A bridge port hands it to its bridge
 *   (`bridge_forward`), which forwards or floods it; an unbridged device delivers it to the
 *   host stack when it is addressed to it.
 * - {@link HostNetwork.devXmit}: a frame leaves through a netdev: a tap queues it for its
 *   owner, a physical port sends it on the wire, a bridge forwards it to its ports, and
 *   a netdev driven by another engine (virtio_vdpa's `eth0`, a VF) goes to the driver set
 *   with {@link HostNetwork.setDriver}.
 *
 * Every frame that goes nowhere is dropped with a reason: `link_down` (a device down or
 * without carrier), `mtu_exceeded` (larger than the egress MTU), `queue_full` (tap queue at
 * txqueuelen), `no_route` (not for this host and nowhere to go).
 *
 * @module
 */

import { HOST_ENGINES } from "../backends/registry.ts";
import type { Endpoint, EndpointProvider } from "../datapath/endpoint.ts";
import type { CpuContext } from "../sim/cpu_context.ts";
import type { DropReason } from "../trace/event.ts";
import type { HostEvent } from "../host/host_event.ts";
import type { Netdev } from "../host/netdev.ts";
import type { Lab } from "../lab.ts";
import { BridgeFdb } from "./bridge.ts";
import { HostStackEndpoint } from "./host_stack.ts";
import { isGroupKey, macKey, type Skb } from "./skb.ts";
import { TapPlane } from "./tap.ts";
import { Wire } from "./wire.ts";
import { ICMP_ECHO_REQUEST } from "../traffic/icmp.ts";

/** Offset of the ICMP type in an Ethernet/IPv4 echo (14 + 20). */
const ICMP_TYPE_OFFSET = 34;

/** A netdev whose transmit path another engine implements (virtio_vdpa, a VF representor). */
export interface HostNetdevDriver {
  /** The host sends `skb` out of the netdev at `t`, on `ctx` (the caller's context). */
  xmit(skb: Skb, t: number, ctx: CpuContext): void;
}

/** Something that watches frames on a netdev (`capture IFACE`). */
export type FrameTap = (t: number, frame: Uint8Array, off: number, len: number) => void;

/** The host network data plane; see the module documentation. */
export class HostNetwork implements EndpointProvider {
  readonly #lab: Lab;
  readonly #taps = new Map<string, TapPlane>();
  readonly #fdbs = new Map<string, BridgeFdb>();
  readonly #wires = new Map<string, Wire>();
  readonly #stacks = new Map<string, HostStackEndpoint>();
  readonly #drivers = new Map<string, HostNetdevDriver>();
  /** Embedded-switch steering of physical ports (VFs: vDPA, VFIO), asked before the PF. */
  readonly #steering = new Map<string, (skb: Skb, t: number) => boolean>();
  readonly #captures = new Map<string, FrameTap[]>();
  /** Running ports of each bridge, rebuilt after a link event. */
  readonly #ports = new Map<string, string[]>();
  /** The MAC each netdev answers to (a bridge: its lowest port's), as FDB keys. */
  readonly #macKeys = new Map<string, number>();
  /** Physical ports whose cable is down (`inject link-down`). */
  readonly #cableDown = new Set<string>();

  constructor(lab: Lab) {
    this.#lab = lab;
  }

  /** Link state changed somewhere: forget cached bridge ports. */
  onHostEvent(e: HostEvent): void {
    for (const engine of HOST_ENGINES) engine.onHostEvent(this.#lab, e);
    switch (e.kind) {
      case "link-up":
      case "link-down":
      case "carrier":
      case "master-change":
        this.#macKeys.clear();
        this.#ports.clear();
        break;
      case "netdev-create":
        this.#ports.clear();
        this.#macKeys.clear();
        break;
      case "netdev-remove":
        this.#ports.clear();
        this.#macKeys.clear();
        this.#taps.delete(e.ifname);
        this.#fdbs.delete(e.ifname);
        this.#stacks.delete(e.ifname);
        break;
    }
  }

  /** The data plane of tap `name` (created on first use). */
  tap(name: string): TapPlane {
    let t = this.#taps.get(name);
    if (t === undefined) {
      t = new TapPlane(name);
      this.#taps.set(name, t);
    }
    return t;
  }

  /** The forwarding database of bridge `name`. */
  fdb(name: string): BridgeFdb {
    let f = this.#fdbs.get(name);
    if (f === undefined) {
      f = new BridgeFdb(name);
      this.#fdbs.set(name, f);
    }
    return f;
  }

  /** The wire beyond physical port `port`, or undefined when it is not a physical port. */
  wire(port: string): Wire | undefined {
    let w = this.#wires.get(port);
    if (w !== undefined) return w;
    const dev = this.#lab.host.net.get(port);
    if (dev === undefined || dev.kind !== "phys") return undefined;
    const name = this.#wireName(port);
    // A locally administered unicast address for the peer, derived from the port's.
    const own = this.#lab.host.net.mac(dev);
    const mac = new Uint8Array([0x02, own[1], own[2], own[3], own[4], own[5] ^ 0x80]);
    w = new Wire(this.#lab, port, { mac, ip: this.#lab.ipFor(name), name });
    this.#wires.set(port, w);
    // The peer is a live network: its traffic taught the bridge where it is.
    this.learn(port, mac);
    return w;
  }

  /**
   * The name of the wire beyond physical port `port` (`wire` for the first port, `wire:PORT`
   * for others), without creating it; undefined when `port` is not a physical port.
   */
  wireName(port: string): string | undefined {
    const w = this.#wires.get(port);
    if (w !== undefined) return w.name;
    const dev = this.#lab.host.net.get(port);
    if (dev === undefined || dev.kind !== "phys") return undefined;
    return this.#wireName(port);
  }

  #physPorts(): Netdev[] {
    return this.#lab.host.net.list().filter((d) => d.kind === "phys");
  }

  #wireName(port: string): string {
    const phys = this.#physPorts();
    return phys.length > 0 && phys[0]?.name === port ? "wire" : `wire:${port}`;
  }

  /** True unless the cable of physical port `port` was taken down. */
  wireUp(port: string): boolean {
    return !this.#cableDown.has(port);
  }

  /**
   * The cable of physical port `port` goes down or comes back (the peer's link, a pulled
   * cable): the port's driver reports the carrier change (netif_carrier_off/on from its link
   * event, so `ip link` shows NO-CARRIER and the bridge stops using the port), and frames
   * either way are dropped `link_down` while it is down. Returns false when `port` is not a
   * physical port; true otherwise (also when nothing changed).
   */
  setWireLink(port: string, up: boolean): boolean {
    const dev = this.#lab.host.net.get(port);
    if (dev === undefined || dev.kind !== "phys") return false;
    if (up === !this.#cableDown.has(port)) return true;
    if (up) this.#cableDown.delete(port);
    else this.#cableDown.add(port);
    // The driver's own carrier (a NIC engine may set one) and the cable.
    if (!this.#carrierWrapped.has(port)) {
      const driver = dev.carrierFn;
      dev.carrierFn = () => !this.#cableDown.has(port) && (driver?.() ?? true);
      this.#carrierWrapped.add(port);
    }
    this.#lab.control({
      comp: port,
      action: "note",
      details: { name: up ? "link up" : "link down", detail: up ? "carrier on" : "carrier off" },
    });
    this.#lab.host.net.sync();
    return true;
  }

  readonly #carrierWrapped = new Set<string>();

  /** Another engine drives netdev `name`'s transmit path. */
  setDriver(name: string, driver: HostNetdevDriver | undefined): void {
    if (driver === undefined) this.#drivers.delete(name);
    else this.#drivers.set(name, driver);
  }

  /**
   * Whether frames sent out of netdev `name` go somewhere: taps, bridges and physical ports
   * have their data plane here; a virtio or VF netdev needs the driver its engine sets.
   */
  hasDatapath(name: string): boolean {
    const d = this.#lab.host.net.get(name);
    if (d === undefined) return false;
    if (this.#drivers.has(name)) return true;
    return d.kind === "tap" || d.kind === "tun" || d.kind === "bridge" || d.kind === "phys";
  }

  /**
   * The NIC's embedded switch on physical port `port`: frames from the wire it claims (a VF's
   * MAC: a vDPA device, a VF given to a guest) never reach the PF's netdev.
   */
  setSteering(port: string, steer: ((skb: Skb, t: number) => boolean) | undefined): void {
    if (steer === undefined) this.#steering.delete(port);
    else this.#steering.set(port, steer);
  }

  /** Watches every frame that passes netdev `name` (either direction). */
  addCapture(name: string, tap: FrameTap): void {
    const list = this.#captures.get(name) ?? [];
    list.push(tap);
    this.#captures.set(name, list);
  }

  /** Stops watching. */
  removeCapture(name: string, tap: FrameTap): void {
    const list = this.#captures.get(name);
    const i = list?.indexOf(tap) ?? -1;
    if (list !== undefined && i >= 0) list.splice(i, 1);
  }

  #capture(dev: string, t: number, skb: Skb): void {
    const list = this.#captures.get(dev);
    if (list === undefined) return;
    for (const c of list) c(t, skb.data, 0, skb.len);
  }

  /** The host stack endpoint of netdev `name`. */
  stack(name: string): HostStackEndpoint | undefined {
    let s = this.#stacks.get(name);
    if (s !== undefined) return s;
    const dev = this.#lab.host.net.get(name);
    if (dev === undefined || dev.kind === "loopback") return undefined;
    s = new HostStackEndpoint(this.#lab, name, this.#lab.ipFor(name));
    this.#stacks.set(name, s);
    return s;
  }

  // -- endpoints ------------------------------------------------------------------------------

  endpoint(name: string): Endpoint | undefined {
    if (name === "wire") {
      const first = this.#physPorts()[0];
      return first === undefined ? undefined : this.wire(first.name);
    }
    if (name.startsWith("wire:")) return this.wire(name.slice(5));
    return this.stack(name);
  }

  endpointNames(): readonly string[] {
    const out: string[] = [];
    const phys = this.#physPorts();
    if (phys.length > 0) out.push("wire");
    for (const p of phys.slice(1)) out.push(`wire:${p.name}`);
    for (const d of this.#lab.host.net.list()) if (d.kind !== "loopback") out.push(d.name);
    return out;
  }

  // -- frames ---------------------------------------------------------------------------------

  /**
   * An address was seen on netdev `dev` (a guest came up behind a tap, a wire's peer talked):
   * the bridge `dev` is a port of learns it there.
   */
  learn(dev: string, mac: Readonly<Uint8Array>): void {
    const master = this.#lab.host.net.get(dev)?.master;
    if (master === undefined) return;
    const key = macKey(mac as Uint8Array, 0);
    this.fdb(master).forward(key, 0xffffffffffff, dev, []);
  }

  /** Drops `skb` at `t` on `ctx` (counted once, with a hop when sampled). */
  drop(skb: Skb, t: number, ctx: CpuContext, comp: string, reason: DropReason, detail?: string) {
    const flow = skb.flow;
    // A flooded shadow copy dying is not the packet dying.
    if (flow === undefined || skb.shadow) return;
    this.#lab.hops.drop(flow, skb.seq, ctx, t, comp, reason, detail);
  }

  /** The FDB key of the MAC netdev `d` answers to. */
  #macKey(d: Netdev): number {
    let k = this.#macKeys.get(d.name);
    if (k === undefined) {
      k = macKey(new Uint8Array(this.#lab.host.net.mac(d)), 0);
      this.#macKeys.set(d.name, k);
    }
    return k;
  }

  /** A flood's copy of `skb`: not the packet, and the endpoints are told so. */
  #shadow(skb: Skb): Skb {
    if (skb.flow !== undefined) this.#lab.endpoints.flooded(skb.flow);
    return skb.clone();
  }

  /** The port of bridge `name` whose own address is FDB key `dst`, if any. */
  #localPort(name: string, dst: number): string | undefined {
    for (const p of this.#lab.host.net.ports(name)) if (this.#macKey(p) === dst) return p.name;
    return undefined;
  }

  #running(name: string): string[] {
    let ports = this.#ports.get(name);
    if (ports === undefined) {
      const net = this.#lab.host.net;
      ports = net.ports(name).filter((p) => net.isRunning(p)).map((p) => p.name);
      this.#ports.set(name, ports);
    }
    return ports;
  }

  /**
   * A frame enters the host through netdev `dev` at `t`, on `ctx` (the tap writer's context,
   * the NIC's softirq): bridge it, or hand it to the host stack.
   */
  netifReceive(dev: string, skb: Skb, t: number, ctx: CpuContext): void {
    const net = this.#lab.host.net;
    const d = net.get(dev);
    if (d === undefined) return this.drop(skb, t, ctx, dev, "no_route", `${dev} is gone`);
    if (!d.up) return this.drop(skb, t, ctx, dev, "link_down", `${dev} is down`);
    this.#capture(dev, t, skb);
    if (d.master !== undefined) return this.#bridge(d.master, dev, skb, t, ctx);
    this.#local(d, skb, t, ctx);
  }

  /** A frame addressed to the host arrives on `d` (or is not for us and is dropped). */
  #local(d: Netdev, skb: Skb, t: number, ctx: CpuContext): void {
    const dst = skb.dstKey;
    const own = this.#macKey(d);
    if (dst !== own && !isGroupKey(dst)) {
      // eth_type_trans: PACKET_OTHERHOST, dropped by ip_rcv.
      return this.drop(skb, t, ctx, d.name, "no_route", `not addressed to ${d.name}`);
    }
    const s = this.stack(d.name);
    if (s === undefined) return this.drop(skb, t, ctx, d.name, "no_route");
    s.receive(skb, t, ctx);
  }

  #bridge(name: string, ingress: string, skb: Skb, t: number, ctx: CpuContext): void {
    const lab = this.#lab;
    const net = lab.host.net;
    const br = net.get(name);
    if (br === undefined || !br.up) {
      return this.drop(skb, t, ctx, name, "link_down", `bridge ${name} is down`);
    }
    const flow = skb.flow;
    const end = lab.hops.charge(ctx, t, "bridge_forward", 0, flow);
    const ports = this.#running(name);
    const dst = skb.dstKey;
    const out = this.fdb(name).forward(skb.srcKey, dst, ingress, ports);
    const own = this.#macKey(br);
    if (flow !== undefined && lab.hops.wants(flow, skb.seq)) {
      lab.hops.record(flow, skb.seq, name, "forward", {
        from: ingress,
        to: out.length === 1 ? out[0] as string : dst === own ? name : `flood(${out.length})`,
      });
    }
    // br_handle_frame_finish: the bridge's address and each port's own are local FDB
    // entries; a frame to one goes up the host stack (br_pass_frame_up), never out of a port.
    const local = dst === own ? name : this.#localPort(name, dst);
    if (local !== undefined) {
      this.#capture(name, end, skb);
      // Linux answers for any of its addresses there: the stack the traffic names, if local.
      const reply = flow?.kind === "ping" && skb.data[ICMP_TYPE_OFFSET] !== ICMP_ECHO_REQUEST;
      const want = (reply ? flow?.src : flow?.dst)?.attachment;
      const at = want === name || (want !== undefined && net.get(want)?.master === name)
        ? want
        : local;
      const s = this.stack(at);
      if (s === undefined) return this.drop(skb, end, ctx, name, "no_route");
      s.receive(skb, end, ctx);
      return;
    }
    if (out.length === 0) {
      // Nothing forwards it: because the other ports are down, or because there are none.
      const down = net.ports(name).filter((p) => p.name !== ingress && !net.isRunning(p));
      if (down.length > 0) {
        const names = down.map((p) => p.name).join(", ");
        return this.drop(skb, end, ctx, name, "link_down", `${name} ports down: ${names}`);
      }
      return this.drop(skb, end, ctx, name, "no_route", `no port of ${name} leads there`);
    }
    // Flooding: the copy that counts goes towards the traffic's destination; the others
    // are shadows (they cost what they cost, their loss is not the packet's).
    // A ping's reply travels back to its source.
    const reply = flow?.kind === "ping" && skb.data[ICMP_TYPE_OFFSET] !== ICMP_ECHO_REQUEST;
    const towards = reply ? flow?.src : flow?.dst;
    const target = towards?.attachment;
    if (towards !== undefined && target === undefined) {
      // The destination is behind no host netdev (a vhost-user, vDPA or VFIO guest): no
      // copy of the flood can reach it, so the packet ends here.
      this.drop(
        skb,
        end,
        ctx,
        name,
        "no_route",
        `${name} floods it; ${towards.name} is not behind it`,
      );
      for (const o of out) this.devXmit(o, this.#shadow(skb), end, ctx);
      return;
    }
    let primary = target === undefined ? out.length - 1 : -1;
    for (let i = 0; i < out.length; i++) if (out[i] === target) primary = i;
    const via = target !== undefined ? net.get(target) : undefined;
    // (A frame that came in through the destination's port is going the other way: a reply.)
    if (via?.master === name && target !== ingress && !net.isRunning(via)) {
      // The destination's port is in this bridge but down (br_port_carrier_check disabled
      // it): the copy that counts cannot get there; the flood's copies are shadows.
      this.drop(skb, end, ctx, name, "link_down", `${name} port down: ${target}`);
      for (const o of out) this.devXmit(o, this.#shadow(skb), end, ctx);
      return;
    }
    if (primary < 0) {
      // The destination's port is not among them (gone, or behind another bridge): every
      // copy reaches a host that discards it, so the packet ends here.
      this.drop(skb, end, ctx, name, "no_route", `${name} floods it; ${target} does not forward`);
    }
    for (let i = 0; i < out.length; i++) {
      this.devXmit(out[i] as string, i === primary ? skb : this.#shadow(skb), end, ctx);
    }
  }

  /**
   * The host stack of netdev `dev` sends `skb` at `t`, on `ctx`. On a bridge port that is the
   * bridge's business: the port's addresses are the bridge's local ones (frames to them come
   * up through the bridge), so what the host sends from them goes down through the bridge too.
   */
  stackXmit(dev: string, skb: Skb, t: number, ctx: CpuContext): void {
    const net = this.#lab.host.net;
    const d = net.get(dev);
    if (d?.master === undefined) return this.devXmit(dev, skb, t, ctx);
    if (!net.isRunning(d)) {
      return this.drop(skb, t, ctx, dev, "link_down", `${dev} has no carrier or is down`);
    }
    this.devXmit(d.master, skb, t, ctx);
  }

  /** A frame leaves the host through netdev `dev` at `t`, on `ctx`. */
  devXmit(dev: string, skb: Skb, t: number, ctx: CpuContext): void {
    const lab = this.#lab;
    const net = lab.host.net;
    const d = net.get(dev);
    if (d === undefined) return this.drop(skb, t, ctx, dev, "no_route", `${dev} is gone`);
    if (!net.isRunning(d)) {
      return this.drop(skb, t, ctx, dev, "link_down", `${dev} has no carrier or is down`);
    }
    // is_skb_forwardable / dev_queue_xmit: the L3 length must fit the egress MTU.
    if (skb.len - 14 > d.mtu) {
      return this.drop(
        skb,
        t,
        ctx,
        dev,
        "mtu_exceeded",
        `${skb.len - 14} > mtu ${d.mtu} of ${dev}`,
      );
    }
    this.#capture(dev, t, skb);
    const driver = this.#drivers.get(dev);
    if (driver !== undefined) return driver.xmit(skb, t, ctx);
    switch (d.kind) {
      case "tap":
      case "tun": {
        const plane = this.tap(dev);
        skb.hash = flowHash(skb);
        const q = plane.select(skb);
        if (q === undefined) return this.drop(skb, t, ctx, dev, "link_down", `${dev} has no queue`);
        const flow = skb.flow;
        if (flow !== undefined && lab.hops.wants(flow, skb.seq)) {
          lab.hops.at(ctx, t);
          lab.hops.record(flow, skb.seq, dev, "xmit", { dev, bytes: skb.len, q: `q${q.index}` });
        }
        // tun_net_xmit at `t`: the frame reaches the socket queue then, not before (its
        // reader must not see it early); a full queue drops it (tx_dropped).
        this.#lab.sched.at(t, (now) => {
          // Its reader closed the tap in between (QEMU exited): tun_net_xmit finds no queue.
          if (q.owner === undefined) {
            return this.drop(skb, now, ctx, dev, "link_down", `${dev} closed`);
          }
          if (!q.push(skb, now)) {
            this.drop(skb, now, ctx, dev, "queue_full", `${dev} queue ${q.index}`);
          }
        });
        return;
      }
      case "phys": {
        const w = this.wire(dev);
        if (w === undefined) return this.drop(skb, t, ctx, dev, "no_route");
        const flow = skb.flow;
        const end = lab.hops.charge(ctx, t, "host_nic_xmit", 0, flow);
        if (flow !== undefined && lab.hops.wants(flow, skb.seq)) {
          lab.hops.record(flow, skb.seq, dev, "xmit", { dev, bytes: skb.len });
        }
        return w.fromHost(skb, end);
      }
      case "bridge":
        // br_dev_xmit: the host's own frame enters the bridge from the bridge device itself
        // (not a port, so every port may get it) and is forwarded like any other.
        return this.#bridge(dev, dev, skb, t, ctx);
      default:
        return this.drop(skb, t, ctx, dev, "no_route", `nothing transmits on ${dev}`);
    }
  }

  /** A physical port received `skb` from its wire at `t` (after DMA): the NIC's softirq. */
  nicReceive(port: string, skb: Skb, t: number): void {
    if (this.#steering.get(port)?.(skb, t)) return;
    const ctx = this.#lab.context("softirq", "softirq:cpu0");
    this.netifReceive(port, skb, t, ctx);
  }
}

/** `skb_get_hash` for UDP/IPv4 frames: the port pair, so one flow stays on one queue. */
function flowHash(skb: Skb): number {
  const b = skb.data;
  if (b.length < 38) return 0;
  return (((b[34] as number) << 8 | (b[35] as number)) * 31 + ((b[36] as number) << 8 |
    (b[37] as number))) >>> 0;
}
