/**
 * The traffics of a lab as the datapaths see them, and how a frame is recognised: every
 * frame the lab sends (UDP or ICMP echo) carries the payload header of
 * `traffic/_payload.ts` — marker "vdpa", flow id, 64-bit sequence — right after the
 * Ethernet, IPv4 and UDP/ICMP headers, at byte 42 of the frame. A device that pops a chain
 * reads those 16 bytes (through its own translation) and knows which traffic and which
 * packet it is carrying; no side channel travels with the bytes.
 *
 * {@link PacketId} is a reusable out-parameter, so identification allocates nothing.
 *
 * @example
 * ```ts
 * import { Metrics } from "../trace/metrics.ts";
 * import { FlowSink, planUdpFlow } from "../traffic/flow.ts";
 * import { qemuMac } from "../traffic/address.ts";
 * import { FlowTable, newPacketId } from "./flow_table.ts";
 * const m = new Metrics();
 * const table = new FlowTable();
 * const plan = planUdpFlow({ flowId: 1, frameBytes: 64, count: 4, rate: { kind: "pps", pps: 1e6 },
 *   srcMac: qemuMac(0), dstMac: qemuMac(1), srcIp: 1, dstIp: 2 });
 * if (!plan.ok) throw new Error("plan");
 * const metrics = m.addFlow("t1");
 * table.add({ name: "t1", id: 1, kind: "udp", metrics, schedule: plan.value,
 *   sink: new FlowSink(metrics, plan.value) });
 * const frame = new Uint8Array(60);
 * plan.value.buildFrame(frame, 3);
 * const id = newPacketId();
 * if (!table.identify(frame, 0, id) || id.flow?.name !== "t1" || id.seq !== 3) throw new Error();
 * ```
 *
 * @module
 */

import type { FlowMetrics } from "../trace/metrics.ts";
import type { Endpoint } from "./endpoint.ts";
import type { FlowSchedule, FlowSink } from "../traffic/flow.ts";
import { PAYLOAD_MAGIC } from "../traffic/frame.ts";

/** Offset of the payload header in every frame the lab sends (14 + 20 + 8). */
export const PAYLOAD_HEADER_OFFSET = 42;

/** What a traffic is: a UDP stream or a ping (ICMP echo requests and replies). */
export type TrafficKind = "udp" | "ping";

/** One traffic (`traffic t1 …` or a `ping`) as the datapaths see it. */
export interface TrafficFlow {
  /** The name scripts use (`t1`, `ping1`). */
  readonly name: string;
  /** The id carried in every payload (1, 2, …). */
  readonly id: number;
  readonly kind: TrafficKind;
  /** Its counters (the hop helper adds to them). */
  readonly metrics: FlowMetrics;
  /** Its send schedule (sizes, count, send times). */
  readonly schedule: FlowSchedule;
  /** Verifies arriving frames and counts deliveries. */
  readonly sink: FlowSink;
  /** Where it starts (absent in unit tests that drive a datapath alone). */
  readonly src?: Endpoint;
  /** Where it ends: only this endpoint's stack delivers it (others drop flooded copies). */
  readonly dst?: Endpoint;
}

/** Filled by {@link FlowTable.identify}. */
export interface PacketId {
  /** The traffic, or undefined when the frame is not one of ours. */
  flow: TrafficFlow | undefined;
  /** The packet's sequence number (from 1). */
  seq: number;
}

/** A fresh out-parameter to reuse. */
export function newPacketId(): PacketId {
  return { flow: undefined, seq: 0 };
}

function be32(b: Uint8Array, o: number): number {
  return (((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) |
    (b[o + 3] as number)) >>> 0;
}

/** The traffics of a lab, by payload id. */
export class FlowTable {
  readonly #byId: (TrafficFlow | undefined)[] = [];
  readonly #byName = new Map<string, TrafficFlow>();
  readonly #all: TrafficFlow[] = [];

  /** Registers a traffic; its id must be new (API misuse otherwise). */
  add(flow: TrafficFlow): void {
    if (this.#byId[flow.id] !== undefined || this.#byName.has(flow.name)) {
      throw new Error(`Traffic "${flow.name}" (id ${flow.id}) is already registered`);
    }
    this.#byId[flow.id] = flow;
    this.#byName.set(flow.name, flow);
    this.#all.push(flow);
  }

  /** A traffic by name. */
  get(name: string): TrafficFlow | undefined {
    return this.#byName.get(name);
  }

  /** A traffic by payload id. */
  byId(id: number): TrafficFlow | undefined {
    return this.#byId[id];
  }

  /** Every traffic in creation order. */
  get all(): readonly TrafficFlow[] {
    return this.#all;
  }

  /** The next free payload id. */
  get nextId(): number {
    return this.#all.length + 1;
  }

  /**
   * Reads the payload header of the frame that starts at `frame[off]` (the 16 bytes at
   * `off + 42`). True and `out` filled when it is a packet of a known traffic.
   */
  identify(frame: Uint8Array, off: number, out: PacketId): boolean {
    const at = off + PAYLOAD_HEADER_OFFSET;
    out.flow = undefined;
    out.seq = 0;
    if (at < 0 || at + 16 > frame.length) return false;
    return this.identifyHeader(frame, at, out);
  }

  /** Like {@link identify} for the 16 header bytes at `hdr[at]`. */
  identifyHeader(hdr: Uint8Array, at: number, out: PacketId): boolean {
    out.flow = undefined;
    out.seq = 0;
    if (be32(hdr, at) !== PAYLOAD_MAGIC) return false;
    const flow = this.#byId[be32(hdr, at + 4)];
    if (flow === undefined) return false;
    out.flow = flow;
    out.seq = be32(hdr, at + 8) * 4294967296 + be32(hdr, at + 12);
    return true;
  }
}
