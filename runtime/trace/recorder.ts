/**
 * The trace recorder, with three levels:
 *
 * - `off`: nothing is recorded; the metrics still count. {@link Recorder.wants} is false for
 *   every packet, so a datapath that guards its hop with it allocates nothing per hop.
 * - `sample` (default): the full hop list of the first `samplePackets` packets of each
 *   traffic, the drop hop of the first `sampleDrops` drops of each reason, and every
 *   control-plane event.
 * - `full`: everything, up to `maxEvents`; past the cap, events are counted, not kept, and
 *   {@link Recorder.events} ends with a `truncated` marker.
 *
 * The guard pattern for a datapath hop:
 *
 * ```ts ignore
 * if (rec.wants(flow.name, seq)) {
 *   rec.hop({ type: "hop", t, dur, ctx: vhost.name, comp: "vhost-net", action: "pop",
 *             flow: flow.name, pkt: seq, details: { q: "tx0", head, descs, bytes } });
 * }
 * ```
 *
 * and for a drop (which samples the first drops of each reason even for unsampled packets):
 * `if (rec.wantsDrop(flow.name, seq, reason)) rec.hop({ … action: "drop" … })`.
 *
 * @example
 * ```ts
 * import { Recorder } from "./recorder.ts";
 * const rec = new Recorder({ level: "sample", samplePackets: 2 });
 * rec.addFlow("t1");
 * for (const pkt of [1, 2, 3]) {
 *   if (rec.wants("t1", pkt)) {
 *     rec.hop({ type: "hop", t: pkt * 100, dur: 0, ctx: "vcpu0", comp: "app", action: "deliver",
 *               flow: "t1", pkt, details: { dev: "eth0", bytes: 64, latency: 0 } });
 *   }
 * }
 * const one = rec.packetTrace("t1", 1);
 * if (!one.ok || one.value.hops.length !== 1) throw new Error("packet 1 is sampled");
 * const three = rec.packetTrace("t1", 3, { sent: 3 });
 * if (three.ok || three.error.kind !== "not-sampled") throw new Error("packet 3 is not");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import { didYouMean } from "../sim/suggest.ts";
import {
  type AnyHopEvent,
  type ControlEvent,
  DROP_REASONS,
  type DropReason,
  type HopEvent,
  isTerminal,
  type TraceEvent,
} from "./event.ts";

/** How much the recorder keeps. */
export type TraceLevel = "off" | "sample" | "full";

/** The levels, in order of detail. */
export const TRACE_LEVELS: readonly TraceLevel[] = ["off", "sample", "full"];

/** Options of {@link Recorder}. */
export interface RecorderOptions {
  /** Default `sample`. */
  level?: TraceLevel;
  /** Packets per traffic whose hops `sample` keeps (default 8). */
  samplePackets?: number;
  /** Drops per reason whose drop hop `sample` keeps (default 8). */
  sampleDrops?: number;
  /** Cap on kept events at any level (default 1,000,000). */
  maxEvents?: number;
}

/** The hops of one packet. */
export interface PacketTrace {
  /** Traffic name. */
  readonly flow: string;
  /** Sequence number, from 1. */
  readonly pkt: number;
  /** The hops in time order (ties in recording order). */
  readonly hops: readonly AnyHopEvent[];
  /** True when the list has its `deliver` or `drop` hop and no hop of it was left out. */
  readonly complete: boolean;
}

/** Why a packet's hops cannot be shown. */
export type PacketTraceUnavailable =
  | { readonly kind: "tracing-off"; readonly flow: string; readonly pkt: number }
  | {
    readonly kind: "unknown-flow";
    readonly flow: string;
    readonly known: readonly string[];
    readonly suggestion: string | undefined;
  }
  | {
    readonly kind: "not-sent";
    readonly flow: string;
    readonly pkt: number;
    readonly sent: number;
  }
  | {
    readonly kind: "not-sampled";
    readonly flow: string;
    readonly pkt: number;
    readonly samplePackets: number;
  }
  | {
    readonly kind: "truncated";
    readonly flow: string;
    readonly pkt: number;
    readonly maxEvents: number;
  }
  | { readonly kind: "no-hops"; readonly flow: string; readonly pkt: number };

/** One lowercase line per reason (the only formatter of {@link PacketTraceUnavailable}). */
export function describePacketTraceUnavailable(u: PacketTraceUnavailable): string {
  switch (u.kind) {
    case "tracing-off":
      return `no hops of packet ${u.pkt} of \`${u.flow}\`: tracing is off ` +
        "(use `trace level sample` or `full` before `run`)";
    case "unknown-flow":
      return `no traffic named \`${u.flow}\`` +
        (u.suggestion ? `; did you mean \`${u.suggestion}\`?` : "") +
        (u.known.length > 0 ? ` (traffics: ${u.known.map((k) => `\`${k}\``).join(", ")})` : "");
    case "not-sent":
      return `\`${u.flow}\` has sent ${u.sent} packet${u.sent === 1 ? "" : "s"}; ` +
        `there is no packet ${u.pkt}`;
    case "not-sampled":
      return `packet ${u.pkt} of \`${u.flow}\` was not sampled: the sample level keeps ` +
        `packets 1 to ${u.samplePackets} of each traffic (use \`trace level full\`)`;
    case "truncated":
      return `packet ${u.pkt} of \`${u.flow}\` came after the trace reached its cap of ` +
        `${u.maxEvents} events`;
    case "no-hops":
      return `packet ${u.pkt} of \`${u.flow}\` has no recorded hops yet`;
  }
}

/** Options of {@link Recorder.packetTrace}. */
export interface PacketTraceOptions {
  /** Packets the traffic has sent (from its metrics), to tell "not sent" apart. */
  sent?: number;
}

/** A copy sorted by `t`; Array.prototype.sort is stable, so ties keep recording order. */
function byTime<E extends { readonly t: number }>(events: readonly E[]): E[] {
  return events.slice().sort((a, b) => a.t - b.t);
}

/** Keeps trace events according to a {@link TraceLevel}. */
export class Recorder {
  /** The level this recorder keeps. */
  readonly level: TraceLevel;
  /** Packets per traffic kept at `sample`. */
  readonly samplePackets: number;
  /** Drops per reason kept at `sample`. */
  readonly sampleDrops: number;
  /** Cap on kept events. */
  readonly maxEvents: number;
  readonly #events: TraceEvent[] = [];
  /**
   * The hops of each packet, by traffic. Built from {@link #events} when a packet's trace is
   * asked for (events before `#indexed` are in it), not per hop: a full trace records tens
   * of hops per packet and is rarely queried packet by packet.
   */
  readonly #byPacket = new Map<string, Map<number, AnyHopEvent[]>>();
  #indexed = 0;
  /** The traffic of the last recorded hop (known to be declared). */
  #lastFlow = "";
  readonly #flows: string[] = [];
  readonly #dropsSeen = new Float64Array(DROP_REASONS.length);
  readonly #dropIndex = new Map<DropReason, number>(DROP_REASONS.map((r, i) => [r, i]));
  /** Packets whose only kept hop is a sampled drop. */
  readonly #dropOnly = new Set<string>();
  #omitted = 0;
  #firstOmittedT = 0;
  readonly #full: boolean;
  readonly #sampleOn: boolean;

  /** A recorder; invalid options are API misuse and throw. */
  constructor(options: RecorderOptions = {}) {
    this.level = options.level ?? "sample";
    this.samplePackets = options.samplePackets ?? 8;
    this.sampleDrops = options.sampleDrops ?? 8;
    this.maxEvents = options.maxEvents ?? 1_000_000;
    for (
      const [k, v] of [
        ["samplePackets", this.samplePackets],
        ["sampleDrops", this.sampleDrops],
        ["maxEvents", this.maxEvents],
      ] as const
    ) {
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`Invalid ${k} ${v}`);
    }
    this.#full = this.level === "full";
    this.#sampleOn = this.level === "sample";
  }

  /** Declares a traffic (so `packetTrace` can tell an unknown name from a silent one). */
  addFlow(name: string): void {
    if (!this.#byPacket.has(name)) {
      this.#flows.push(name);
      this.#byPacket.set(name, new Map());
    }
  }

  /** Traffics declared or seen, in order. */
  get flows(): readonly string[] {
    return this.#flows;
  }

  /** Should the hops of packet `pkt` of `flow` be recorded? Allocation-free. */
  wants(_flow: string, pkt: number): boolean {
    return this.#full || (this.#sampleOn && pkt <= this.samplePackets);
  }

  /**
   * Should this drop hop be recorded? True for wanted packets and, at `sample`, for the first
   * `sampleDrops` drops of each reason (each call for an unwanted packet uses one slot).
   */
  wantsDrop(flow: string, pkt: number, reason: DropReason): boolean {
    if (this.wants(flow, pkt)) return true;
    if (!this.#sampleOn) return false;
    const i = this.#dropIndex.get(reason) as number;
    if ((this.#dropsSeen[i] as number) >= this.sampleDrops) return false;
    this.#dropsSeen[i] = (this.#dropsSeen[i] as number) + 1;
    this.#dropOnly.add(`${flow}#${pkt}`);
    return true;
  }

  /** Records a hop (guard with {@link wants} / {@link wantsDrop}). */
  hop<A extends HopEvent["action"]>(e: HopEvent<A>): void {
    if (this.level === "off") return;
    if (this.#events.length >= this.maxEvents) {
      this.#omit(e.t);
      return;
    }
    this.#events.push(e as unknown as AnyHopEvent);
    if (e.flow !== this.#lastFlow) {
      this.addFlow(e.flow);
      this.#lastFlow = e.flow;
    }
  }

  /** Adds the hops recorded since the last call to the per-packet index. */
  #index(): void {
    const events = this.#events;
    for (let i = this.#indexed; i < events.length; i++) {
      const ev = events[i] as TraceEvent;
      if (ev.type !== "hop") continue;
      const perFlow = this.#byPacket.get(ev.flow) as Map<number, AnyHopEvent[]>;
      let list = perFlow.get(ev.pkt);
      if (list === undefined) {
        list = [];
        perFlow.set(ev.pkt, list);
      }
      list.push(ev);
    }
    this.#indexed = events.length;
  }

  /** Records a control-plane event (at `sample` and `full`). */
  control(e: ControlEvent): void {
    if (this.level === "off") return;
    if (this.#events.length >= this.maxEvents) {
      this.#omit(e.t);
      return;
    }
    this.#events.push(e);
  }

  #omit(t: number): void {
    if (this.#omitted === 0) this.#firstOmittedT = t;
    this.#omitted++;
  }

  /** Forgets every kept event and sample count (declared traffics stay). */
  clear(): void {
    this.#events.length = 0;
    this.#indexed = 0;
    for (const perFlow of this.#byPacket.values()) perFlow.clear();
    this.#dropsSeen.fill(0);
    this.#dropOnly.clear();
    this.#omitted = 0;
    this.#firstOmittedT = 0;
  }

  /** Events not kept because of the cap. */
  get omitted(): number {
    return this.#omitted;
  }

  /** Events kept so far (without building the sorted list {@link events} returns). */
  get kept(): number {
    return this.#events.length;
  }

  /**
   * Events kept, in time order (ties in recording order: datapaths may record a hop when
   * they reserve it, before earlier hops of other contexts), plus a `truncated` marker if
   * the cap was hit.
   */
  events(): TraceEvent[] {
    const out = byTime(this.#events);
    if (this.#omitted > 0) {
      out.push({ type: "truncated", t: this.#firstOmittedT, omitted: this.#omitted });
    }
    return out;
  }

  /** The hops of packet `pkt` (from 1) of `flow`, or why they are not available. */
  packetTrace(
    flow: string,
    pkt: number,
    options: PacketTraceOptions = {},
  ): Result<PacketTrace, PacketTraceUnavailable> {
    this.#index();
    const perFlow = this.#byPacket.get(flow);
    if (perFlow === undefined) {
      return err({
        kind: "unknown-flow",
        flow,
        known: [...this.#flows],
        suggestion: didYouMean(flow, this.#flows),
      });
    }
    const sent = options.sent;
    if (!Number.isInteger(pkt) || pkt < 1 || (sent !== undefined && pkt > sent)) {
      return err({ kind: "not-sent", flow, pkt, sent: sent ?? 0 });
    }
    const hops = perFlow.get(pkt);
    if (hops === undefined || hops.length === 0) {
      if (this.level === "off") return err({ kind: "tracing-off", flow, pkt });
      if (this.#sampleOn && pkt > this.samplePackets) {
        return err({ kind: "not-sampled", flow, pkt, samplePackets: this.samplePackets });
      }
      if (this.#omitted > 0) {
        return err({ kind: "truncated", flow, pkt, maxEvents: this.maxEvents });
      }
      return err({ kind: "no-hops", flow, pkt });
    }
    const partial = this.#dropOnly.has(`${flow}#${pkt}`);
    return ok({ flow, pkt, hops: byTime(hops), complete: hops.some(isTerminal) && !partial });
  }
}
