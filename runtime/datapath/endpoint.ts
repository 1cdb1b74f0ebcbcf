/**
 * Traffic endpoints: where a `traffic` or `ping` starts and ends, named as a user sees them —
 * `vm1.eth0` (a guest interface; `vm1.net0` by netdev id works too), a host netdev (`tap0`,
 * `br0`, `eth0` of virtio_vdpa), or `wire` (the peer beyond a physical port). Each kind sends
 * the way the real thing does: a guest app on a vCPU hands frames to the guest driver, frames
 * arrive from the wire at the port's speed, the host stack transmits from a host thread. An
 * endpoint's receiving side hands every frame that reaches its stack to
 * {@link EndpointHost.receive}, which verifies it against the traffic's sink, answers pings
 * and records the `deliver` hop.
 *
 * Components provide endpoints through an {@link EndpointProvider} registered with the lab:
 * VMs provide their interfaces, the host network its netdevs and wires, other engines (a
 * virtio_vdpa host netdev, a VFIO VF in a guest) their own.
 *
 * @module
 */

import type { CpuContext } from "../sim/cpu_context.ts";
import type { Mac } from "../traffic/address.ts";
import type { PacketId, TrafficFlow } from "./flow_table.ts";

/** What kind of thing sends and receives at an endpoint. */
export type EndpointKind = "guest" | "host" | "wire";

/** Builds the frame of packet `seq` into `buf` at `off`; returns its length (no FCS). */
export type FrameBuilder = (buf: Uint8Array, off: number, seq: number) => number;

/** A place traffic starts or ends. */
export interface Endpoint {
  /** Canonical name (`vm1.eth0`, `tap0`, `wire`). */
  readonly name: string;
  readonly kind: EndpointKind;
  /** The interface's MAC (frames to it carry it as destination). */
  readonly mac: Readonly<Mac>;
  /** The interface's IPv4 address (u32). */
  readonly ip: number;
  /** The interface MTU (IP bytes). */
  readonly mtu: number;
  /** The context the endpoint's own software runs on (guest vCPU, host softirq, wire). */
  readonly ctx: CpuContext;
  /**
   * The host netdev the endpoint is reached through (a guest's tap, a wire's port, a host
   * stack's own netdev), if any: a bridge flooding a frame sends the copy that counts there.
   */
  readonly attachment?: string | undefined;
  /**
   * Sends packets `first…last` of `flow` handed over at `now` (one burst). Each frame is
   * built by `build`; a packet the endpoint cannot send is counted as dropped here.
   */
  sendBurst(now: number, flow: TrafficFlow, first: number, last: number, build: FrameBuilder): void;
  /**
   * Sends one ready frame from this endpoint's stack at `t` (a ping reply). `frame[0, len)`
   * is copied before this returns.
   */
  sendFrame(t: number, frame: Uint8Array, len: number, id: PacketId): void;
}

/** Finds endpoints by name; `undefined` when the name is not its to answer. */
export interface EndpointProvider {
  /** A name this provider owns (`vm1.eth0`), or undefined. */
  endpoint(name: string): Endpoint | undefined;
  /** Every endpoint name it provides now (for did-you-mean and `show topology`). */
  endpointNames(): readonly string[];
}

/** What the receiving side of an endpoint calls into. */
export interface EndpointHost {
  /**
   * A frame reached the stack of `at` at `t`, on `ctx`, after the component `comp`
   * (`guest.virtio-net`, `host.stack`, `wire`) took it: verifies it, counts the delivery (or
   * the corruption drop), records the `deliver` hop and answers an echo request.
   * `frame[off, off+len)` is read before this returns.
   */
  receive(
    at: Endpoint,
    t: number,
    ctx: CpuContext,
    comp: string,
    frame: Uint8Array,
    off: number,
    len: number,
  ): void;
}
