/**
 * The lab's endpoint registry and the receiving end of every datapath. Providers (VMs, the
 * host network, other engines) answer names; {@link Endpoints.resolve} asks them in
 * registration order and suggests a close name when none answers. {@link Endpoints.receive}
 * is where a frame that reached a stack is verified against its traffic's sink (every byte),
 * counted, answered (an echo request becomes a reply sent from the same endpoint) and given
 * its `deliver` hop.
 *
 * A copy of a frame that reaches a stack other than its traffic's destination (a bridge
 * flooded it) is discarded without being counted: the copy that reaches the destination
 * counts.
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import { didYouMean } from "../sim/suggest.ts";
import type { CpuContext } from "../sim/cpu_context.ts";
import { echoReplyInPlace } from "../traffic/icmp.ts";
import type { Hops } from "./hop.ts";
import type { Endpoint, EndpointHost, EndpointProvider } from "./endpoint.ts";
import { type FlowTable, newPacketId, type PacketId, type TrafficFlow } from "./flow_table.ts";

/** Why an endpoint name names nothing. */
export interface EndpointError {
  readonly kind: "unknown-endpoint";
  readonly name: string;
  readonly known: readonly string[];
  readonly suggestion: string | undefined;
}

/** One lowercase line (the only formatter of {@link EndpointError}). */
export function describeEndpointError(e: EndpointError): string {
  return `no endpoint \`${e.name}\`` +
    (e.suggestion ? `; did you mean \`${e.suggestion}\`?` : "") +
    (e.known.length > 0
      ? ` (endpoints: ${e.known.map((k) => `\`${k}\``).join(", ")})`
      : " (no VM interface, host netdev or wire exists yet)");
}

const ICMP_TYPE_OFFSET = 34;
const ICMP_ECHO_REQUEST = 8;

/** Endpoint providers and frame delivery. */
export class Endpoints implements EndpointHost {
  readonly #providers: EndpointProvider[] = [];
  readonly #flows: FlowTable;
  readonly #hopsOf: () => Hops;
  readonly #id = newPacketId();
  readonly #reply = new Uint8Array(65536);
  /** Frames discarded because they reached a stack that was not their destination. */
  foreign = 0;
  /** Traffics a switch has flooded: copies of their packets may reach other stacks. */
  readonly #flooded = new WeakSet<TrafficFlow>();

  /** `hops` gives the lab's hop helper (it exists once costs are known). */
  constructor(flows: FlowTable, hops: () => Hops) {
    this.#flows = flows;
    this.#hopsOf = hops;
  }

  /**
   * A switch (a Linux bridge, OVS) sent copies of a packet of `flow` to several ports: the
   * copies that reach other stacks are not the packet, and their loss is not its loss.
   */
  flooded(flow: TrafficFlow): void {
    this.#flooded.add(flow);
  }

  /** Whether a switch has flooded copies of `flow`'s packets ({@link Endpoints.flooded}). */
  wasFlooded(flow: TrafficFlow): boolean {
    return this.#flooded.has(flow);
  }

  /** Adds a provider; later providers are asked after earlier ones. */
  register(p: EndpointProvider): void {
    this.#providers.push(p);
  }

  /** Every endpoint name, in provider order. */
  names(): string[] {
    return this.#providers.flatMap((p) => p.endpointNames());
  }

  /** The endpoint called `name`. */
  resolve(name: string): Result<Endpoint, EndpointError> {
    for (const p of this.#providers) {
      const e = p.endpoint(name);
      if (e !== undefined) return ok(e);
    }
    const known = this.names();
    return err({ kind: "unknown-endpoint", name, known, suggestion: didYouMean(name, known) });
  }

  /**
   * Whether the copy of `frame` (at `off`) that reached `at` is the one its traffic counts:
   * the destination's copy of a UDP frame or an echo request, the source's copy of an echo
   * reply. Fills `id` with the packet. A frame lost at `at` is dropped only when this holds.
   */
  countsAt(at: Endpoint, frame: Uint8Array, off: number, id: PacketId): boolean {
    if (!this.#flows.identify(frame, off, id)) return false;
    const flow = id.flow;
    if (flow === undefined) return false;
    if (flow.kind === "ping" && frame[off + ICMP_TYPE_OFFSET] !== ICMP_ECHO_REQUEST) {
      return flow.src === undefined || flow.src === at;
    }
    return flow.dst === undefined || flow.dst === at;
  }

  receive(
    at: Endpoint,
    t: number,
    ctx: CpuContext,
    comp: string,
    frame: Uint8Array,
    off: number,
    len: number,
  ): void {
    const id = this.#id;
    if (!this.#flows.identify(frame, off, id)) return;
    this.#receive(at, t, ctx, comp, frame, off, len);
  }

  /**
   * {@link receive} of a frame its caller identified already (`known`, filled by
   * {@link FlowTable.identify} on the same bytes): the payload header is not read again.
   */
  receiveKnown(
    at: Endpoint,
    t: number,
    ctx: CpuContext,
    comp: string,
    frame: Uint8Array,
    off: number,
    len: number,
    known: Readonly<PacketId>,
  ): void {
    // copied: an echo reply goes out with this id, and the caller's may be reused meanwhile
    const id = this.#id;
    id.flow = known.flow;
    id.seq = known.seq;
    this.#receive(at, t, ctx, comp, frame, off, len);
  }

  /** The frame's packet is in `#id`. */
  #receive(
    at: Endpoint,
    t: number,
    ctx: CpuContext,
    comp: string,
    frame: Uint8Array,
    off: number,
    len: number,
  ): void {
    const id = this.#id;
    const flow = id.flow;
    if (flow === undefined) return;
    const seq = id.seq;
    if (flow.kind === "ping") {
      const hops = this.#hopsOf();
      const bytes = frame.subarray(off, off + len);
      const request = frame[off + ICMP_TYPE_OFFSET] === ICMP_ECHO_REQUEST;
      if (request) {
        if (flow.dst !== undefined && flow.dst !== at) {
          return this.#foreign(flow, seq, at, flow.dst, t, ctx, comp);
        }
        const reply = this.#reply;
        if (len > reply.length) {
          // No IPv4 packet is that long: the stack cannot have read it as an echo request.
          hops.drop(flow, seq, ctx, t, comp, "mtu_exceeded", `${len} bytes`);
          return;
        }
        reply.set(bytes);
        const r = reply.subarray(0, len);
        if (echoReplyInPlace(r) !== undefined) {
          hops.drop(flow, seq, ctx, t, comp, "bad_checksum", "echo request failed verification");
          return;
        }
        if (hops.wants(flow, seq)) {
          hops.at(ctx, t);
          hops.record(flow, seq, comp, "reply", { kind: "icmp-echo", bytes: len });
        }
        at.sendFrame(t, reply, len, id);
        return;
      }
      if (flow.src !== undefined && flow.src !== at) {
        return this.#foreign(flow, seq, at, flow.src, t, ctx, comp);
      }
      this.#finish(flow.sink.receiveEchoReply(t, bytes), at, t, ctx, comp, flow, seq, len);
      return;
    }
    if (flow.dst !== undefined && flow.dst !== at) {
      return this.#foreign(flow, seq, at, flow.dst, t, ctx, comp);
    }
    // verified where it lies: no copy, no view
    this.#finish(flow.sink.receiveUdpAt(t, frame, off, len), at, t, ctx, comp, flow, seq, len);
  }

  /**
   * A frame of `flow` reached `at`, a stack that is not `want`, which discards it (Linux:
   * PACKET_OTHERHOST, dropped by ip_rcv). Unless a switch flooded the traffic (then this may
   * be a copy, and the packet itself is elsewhere), this was the packet: it is dropped here.
   */
  #foreign(
    flow: NonNullable<ReturnType<FlowTable["get"]>>,
    seq: number,
    at: Endpoint,
    want: Endpoint,
    t: number,
    ctx: CpuContext,
    comp: string,
  ): void {
    this.foreign++;
    if (this.wasFlooded(flow)) return;
    this.#hopsOf().drop(
      flow,
      seq,
      ctx,
      t,
      comp,
      "no_route",
      `reached ${at.name}, not ${want.name}`,
    );
  }

  #finish(
    outcome: string,
    at: Endpoint,
    t: number,
    ctx: CpuContext,
    comp: string,
    flow: NonNullable<ReturnType<FlowTable["get"]>>,
    seq: number,
    len: number,
  ): void {
    const hops = this.#hopsOf();
    if (outcome === "delivered") {
      if (hops.wants(flow, seq)) {
        hops.at(ctx, t);
        hops.record(flow, seq, comp, "deliver", {
          dev: at.name,
          bytes: len + 4,
          latency: t - flow.schedule.sendTime(seq),
        });
      }
      return;
    }
    if (outcome === "bad_checksum" || outcome === "corrupt_payload") {
      // The sink counted the drop; record its hop when sampled.
      if (hops.recorder.wantsDrop(flow.name, seq, outcome)) {
        const p = flow.sink.lastProblem;
        hops.recorder.hop({
          type: "hop",
          t,
          dur: 0,
          ctx: ctx.name,
          comp,
          action: "drop",
          flow: flow.name,
          pkt: seq,
          details: { reason: outcome, ...(p ? { detail: p.kind } : {}) },
        });
      }
    }
  }
}
