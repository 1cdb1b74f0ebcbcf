/**
 * Traffic flows: what a `traffic` statement asks for, the deterministic send schedule, and
 * the sink's bookkeeping that keeps the books balanced (sent = delivered + dropped +
 * in flight, every drop with a reason).
 *
 * **Spec.** A UDP flow has a frame `size` (FCS included, see `frame.ts`), either a `count`
 * or a `duration`, a rate (packets/s, a wire bit rate, or `line` for a link's speed), a
 * `burst` (packets handed over back to back) and a number of `flows` (distinct UDP source
 * ports, for RSS/multi-queue). A bit rate counts wire bits, preamble and gap included, so
 * `rate=10Gbps` on a 10G link is line rate.
 *
 * **Schedule.** Packets are numbered from 1. Packet k belongs to burst ⌊(k−1)/burst⌋, and
 * burst b starts at `start + b · burst / pps` seconds, computed by multiplication (never by
 * accumulating an interval), so time does not drift over 10^12 packets. Packet k uses
 * source port `srcPort + (k−1) mod flows`. A duration sends every whole burst that starts
 * before it ends.
 *
 * **Sink.** {@link FlowSink} verifies each frame (checksums, marker, every payload byte),
 * counts it delivered, dropped (`bad_checksum`, `corrupt_payload`) or duplicate, and
 * detects reordering with a 4096-packet window; it keeps no per-packet state beyond that
 * window, so memory does not grow with the count.
 *
 * @example Line rate at 10G, 64 B, bursts of 32
 * ```ts
 * import { planUdpFlow } from "./flow.ts";
 * import { qemuMac } from "./address.ts";
 * const plan = planUdpFlow({
 *   flowId: 1, frameBytes: 64, count: 100, rate: { kind: "line", linkBps: 10e9 }, burst: 32,
 *   srcMac: qemuMac(0), dstMac: qemuMac(1), srcIp: 0x0a000001, dstIp: 0x0a000002,
 * });
 * if (!plan.ok) throw new Error("valid spec");
 * const s = plan.value;
 * if (s.sendTime(32) !== 0 || Math.round(s.sendTime(33)) !== 2150) throw new Error("bursts");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import type { FlowMetrics } from "../trace/metrics.ts";
import type { Mac } from "./address.ts";
import {
  ETH_MIN_FRAME,
  type FrameProblem,
  isChecksumProblem,
  MAX_FRAME,
  newUdpFrameInfo,
  PAYLOAD_HEADER_LEN,
  UdpFrameBuilder,
  verifyUdpFrameAt,
} from "./frame.ts";
import {
  echoFrameBytes,
  type EchoInfo,
  newEchoInfo,
  PING_DEFAULT_PAYLOAD,
  verifyEchoReply,
} from "./icmp.ts";
import { linePps } from "./line_rate.ts";

/** How fast a flow sends. */
export type RateSpec =
  /** Packets per second. */
  | { readonly kind: "pps"; readonly pps: number }
  /** Wire bits per second (preamble and gap included). */
  | { readonly kind: "bps"; readonly bps: number }
  /** The line rate of a link of `linkBps`. */
  | { readonly kind: "line"; readonly linkBps: number };

/** A UDP traffic as a script describes it. */
export interface UdpFlowSpec {
  /** Carried in every payload (the sink checks it). */
  readonly flowId: number;
  /** Frame size with FCS (`size=`), 64 … 65,553. */
  readonly frameBytes: number;
  /** Packets to send; give this or `durationNs`. */
  readonly count?: number;
  /** Send for this long; give this or `count`. */
  readonly durationNs?: number;
  /** Packets/s, wire bits/s or line rate. */
  readonly rate: RateSpec;
  /** Packets per burst (default 1). */
  readonly burst?: number;
  /** Distinct source ports (default 1). */
  readonly flows?: number;
  /** When the first burst goes (default 0). */
  readonly startNs?: number;
  /** Source MAC of every frame. */
  readonly srcMac: Readonly<Mac>;
  /** Destination MAC of every frame. */
  readonly dstMac: Readonly<Mac>;
  /** Source IPv4 address (u32). */
  readonly srcIp: number;
  /** Destination IPv4 address (u32). */
  readonly dstIp: number;
  /** First source port (default 1024). */
  readonly srcPort?: number;
  /** Destination port (default 9, discard). */
  readonly dstPort?: number;
}

/** What is wrong with a flow spec. `field` is the script's option name. */
export type FlowSpecError =
  | {
    readonly kind: "out-of-range";
    readonly field: "size" | "count" | "duration" | "rate" | "burst" | "flows" | "port";
    readonly value: number;
    readonly min: number;
    readonly max: number;
  }
  | { readonly kind: "count-and-duration" }
  | { readonly kind: "no-count-or-duration" };

/** One lowercase line (the only formatter of {@link FlowSpecError}). */
export function describeFlowSpecError(e: FlowSpecError): string {
  switch (e.kind) {
    case "out-of-range":
      return `\`${e.field}\` = ${e.value} is out of range [${e.min}, ${e.max}]`;
    case "count-and-duration":
      return "give either `count` or `duration`, not both";
    case "no-count-or-duration":
      return "give `count` or `duration`";
  }
}

/** The largest count a schedule accepts (sequence numbers stay exact doubles). */
export const MAX_COUNT: number = Number.MAX_SAFE_INTEGER;

function checkRange(
  errors: FlowSpecError[],
  field: "size" | "count" | "duration" | "rate" | "burst" | "flows" | "port",
  value: number,
  min: number,
  max: number,
  integer: boolean,
): void {
  if (!(value >= min && value <= max) || (integer && !Number.isInteger(value))) {
    errors.push({ kind: "out-of-range", field, value, min, max });
  }
}

/** A validated flow: its schedule and its frames. */
export class FlowSchedule {
  /** Carried in every payload. */
  readonly flowId: number;
  /** Frame size with FCS. */
  readonly frameBytes: number;
  /** Packets in total. */
  readonly count: number;
  /** Packets per burst. */
  readonly burst: number;
  /** Distinct source ports. */
  readonly flows: number;
  /** Packets per second. */
  readonly pps: number;
  /** Time between the starts of two bursts (ns). */
  readonly burstIntervalNs: number;
  /** Send time of the first burst (ns). */
  readonly startNs: number;
  readonly #spec: UdpFlowSpec | undefined;
  readonly #builders: (UdpFrameBuilder | undefined)[];

  /** Use {@link planUdpFlow} or {@link planPing}. */
  constructor(
    p: {
      flowId: number;
      frameBytes: number;
      count: number;
      burst: number;
      flows: number;
      pps: number;
      startNs: number;
    },
    spec: UdpFlowSpec | undefined,
  ) {
    this.flowId = p.flowId;
    this.frameBytes = p.frameBytes;
    this.count = p.count;
    this.burst = p.burst;
    this.flows = p.flows;
    this.pps = p.pps;
    this.burstIntervalNs = (p.burst / p.pps) * 1e9;
    this.startNs = p.startNs;
    this.#spec = spec;
    this.#builders = new Array(spec ? p.flows : 0);
  }

  /** When packet `seq` (from 1) is handed over. */
  sendTime(seq: number): number {
    return this.startNs + Math.floor((seq - 1) / this.burst) * this.burstIntervalNs;
  }

  /** The sub-flow (0 … flows−1) of packet `seq`: its source port is `srcPort + subflow`. */
  subflow(seq: number): number {
    return (seq - 1) % this.flows;
  }

  /** True if packet `seq` is the last of its burst (or of the flow): time to kick. */
  endsBurst(seq: number): boolean {
    return seq % this.burst === 0 || seq === this.count;
  }

  /** Bytes a frame occupies in memory (no FCS). */
  get frameLength(): number {
    return this.frameBytes - 4;
  }

  /**
   * Writes UDP packet `seq` into `buf[off…]`; returns its length. Throws for a ping
   * schedule (use `icmp.ts`).
   */
  buildFrame(buf: Uint8Array, seq: number, off = 0): number {
    const spec = this.#spec;
    if (spec === undefined) throw new Error("This schedule has no UDP frames");
    const sub = this.subflow(seq);
    let b = this.#builders[sub];
    if (b === undefined) {
      b = new UdpFrameBuilder({
        srcMac: spec.srcMac,
        dstMac: spec.dstMac,
        srcIp: spec.srcIp,
        dstIp: spec.dstIp,
        srcPort: (spec.srcPort ?? 1024) + sub,
        dstPort: spec.dstPort ?? 9,
        flowId: this.flowId,
        frameBytes: this.frameBytes,
      });
      this.#builders[sub] = b;
    }
    return b.build(buf, seq, off);
  }
}

/** Validates a UDP flow spec into a schedule; every problem is reported. */
export function planUdpFlow(spec: UdpFlowSpec): Result<FlowSchedule, FlowSpecError[]> {
  const errors: FlowSpecError[] = [];
  checkRange(errors, "size", spec.frameBytes, ETH_MIN_FRAME, MAX_FRAME, true);
  const burst = spec.burst ?? 1;
  const flows = spec.flows ?? 1;
  const srcPort = spec.srcPort ?? 1024;
  checkRange(errors, "burst", burst, 1, 1 << 20, true);
  checkRange(errors, "port", srcPort, 0, 0xffff, true);
  checkRange(errors, "port", spec.dstPort ?? 9, 0, 0xffff, true);
  checkRange(errors, "flows", flows, 1, 0x10000 - Math.min(srcPort, 0xffff), true);
  let pps = 0;
  switch (spec.rate.kind) {
    case "pps":
      checkRange(errors, "rate", spec.rate.pps, 1e-3, 1e12, false);
      pps = spec.rate.pps;
      break;
    case "bps":
      checkRange(errors, "rate", spec.rate.bps, 1, 1e15, false);
      pps = linePps(spec.rate.bps, spec.frameBytes);
      break;
    case "line":
      checkRange(errors, "rate", spec.rate.linkBps, 1, 1e15, false);
      pps = linePps(spec.rate.linkBps, spec.frameBytes);
      break;
  }
  let count = 0;
  if (spec.count !== undefined && spec.durationNs !== undefined) {
    errors.push({ kind: "count-and-duration" });
  } else if (spec.count !== undefined) {
    checkRange(errors, "count", spec.count, 1, MAX_COUNT, true);
    count = spec.count;
  } else if (spec.durationNs !== undefined) {
    checkRange(errors, "duration", spec.durationNs, 1, 1e18, false);
    if (errors.length === 0) {
      const interval = (burst / pps) * 1e9;
      count = Math.ceil(spec.durationNs / interval) * burst;
      if (count > MAX_COUNT) {
        errors.push({
          kind: "out-of-range",
          field: "duration",
          value: spec.durationNs,
          min: 1,
          max: Math.floor(MAX_COUNT / pps * 1e9),
        });
      }
    }
  } else {
    errors.push({ kind: "no-count-or-duration" });
  }
  if (errors.length > 0) return err(errors);
  return ok(
    new FlowSchedule({
      flowId: spec.flowId >>> 0,
      frameBytes: spec.frameBytes,
      count,
      burst,
      flows,
      pps,
      startNs: spec.startNs ?? 0,
    }, spec),
  );
}

/** A `ping` as a script describes it. */
export interface PingSpec {
  /** Carried in every request's payload. */
  readonly flowId: number;
  /** Requests to send. */
  readonly count: number;
  /** Between requests (ping `-i`, default 1 s). */
  readonly intervalNs?: number;
  /** ICMP payload bytes (ping `-s`, default 56, at least 16). */
  readonly payloadBytes?: number;
  /** Send time of the first request (default 0). */
  readonly startNs?: number;
}

/** Validates a ping into a schedule (one request per interval). */
export function planPing(spec: PingSpec): Result<FlowSchedule, FlowSpecError[]> {
  const errors: FlowSpecError[] = [];
  const interval = spec.intervalNs ?? 1e9;
  const payload = spec.payloadBytes ?? PING_DEFAULT_PAYLOAD;
  checkRange(errors, "count", spec.count, 1, MAX_COUNT, true);
  checkRange(errors, "rate", interval, 1, 1e18, false);
  checkRange(errors, "size", payload, PAYLOAD_HEADER_LEN, 65535 - 28, true);
  if (errors.length > 0) return err(errors);
  return ok(
    new FlowSchedule({
      flowId: spec.flowId >>> 0,
      frameBytes: echoFrameBytes(payload),
      count: spec.count,
      burst: 1,
      flows: 1,
      pps: 1e9 / interval,
      startNs: spec.startNs ?? 0,
    }, undefined),
  );
}

/** What the sink did with a frame. */
export type SinkOutcome =
  | "delivered"
  | "duplicate"
  | "bad_checksum"
  | "corrupt_payload"
  /** The frame belongs to another flow; nothing was counted. */
  | "foreign";

const WINDOW = 4096;

/** Verifies arriving frames of one flow and counts them into its metrics. */
export class FlowSink {
  /** Where the counts go. */
  readonly metrics: FlowMetrics;
  /** The flow's schedule (count, sizes, send times). */
  readonly schedule: FlowSchedule;
  readonly #udp = newUdpFrameInfo();
  readonly #echo: EchoInfo = newEchoInfo();
  readonly #seen = new Uint32Array(WINDOW / 32);
  #highest = 0;
  #lastProblem: FrameProblem | undefined;
  #lastSeq = 0;

  /** A sink counting into `metrics` for the flow `schedule` describes. */
  constructor(metrics: FlowMetrics, schedule: FlowSchedule) {
    this.metrics = metrics;
    this.schedule = schedule;
  }

  /** The problem behind the last `bad_checksum` / `corrupt_payload` outcome. */
  get lastProblem(): FrameProblem | undefined {
    return this.#lastProblem;
  }

  /** The sequence number of the last frame identified (delivered or duplicate). */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /**
   * A UDP frame of this flow arrived at `t` (`frame` = exactly the received bytes).
   * Latency is measured from `sentAt`, default the packet's scheduled send time.
   */
  receiveUdp(t: number, frame: Uint8Array, sentAt?: number): SinkOutcome {
    return this.receiveUdpAt(t, frame, 0, frame.length, sentAt);
  }

  /** {@link receiveUdp} for the `len`-byte frame at `buf[off]`, verified in place. */
  receiveUdpAt(
    t: number,
    buf: Uint8Array,
    off: number,
    len: number,
    sentAt?: number,
  ): SinkOutcome {
    const p = verifyUdpFrameAt(buf, off, len, this.#udp);
    if (p !== undefined) return this.#bad(t, p);
    if (this.#udp.flowId !== this.schedule.flowId) return "foreign";
    return this.#accept(t, this.#udp.seq, sentAt);
  }

  /** An echo reply of this ping arrived at `t`; latency is the round trip. */
  receiveEchoReply(t: number, frame: Uint8Array, sentAt?: number): SinkOutcome {
    const p = verifyEchoReply(frame, this.#echo);
    if (p !== undefined) return this.#bad(t, p);
    if (this.#echo.flowId !== this.schedule.flowId) return "foreign";
    return this.#accept(t, this.#echo.seq, sentAt);
  }

  #bad(t: number, p: FrameProblem): SinkOutcome {
    this.#lastProblem = p;
    const reason = isChecksumProblem(p) ? "bad_checksum" : "corrupt_payload";
    this.metrics.onDrop(t, reason);
    return reason;
  }

  #accept(t: number, seq: number, sentAt: number | undefined): SinkOutcome {
    if (seq < 1 || seq > this.schedule.count) {
      return this.#bad(t, { kind: "bad-sequence", seq, count: this.schedule.count });
    }
    this.#lastSeq = seq;
    const seen = this.#seen;
    if (seq > this.#highest) {
      // Slide the window: forget the sequence numbers that fall out of it.
      const gap = seq - this.#highest;
      if (gap >= WINDOW) seen.fill(0);
      else {
        for (let s = this.#highest + 1; s <= seq; s++) {
          const b = s % WINDOW;
          seen[b >>> 5] = (seen[b >>> 5] as number) & ~(1 << (b & 31));
        }
      }
      this.#highest = seq;
    } else if (seq > this.#highest - WINDOW) {
      const b = seq % WINDOW;
      if (((seen[b >>> 5] as number) >>> (b & 31)) & 1) {
        this.metrics.onDuplicate();
        return "duplicate";
      }
      this.metrics.onReorder();
    } else {
      // Older than the window: cannot tell a duplicate, count it late.
      this.metrics.onReorder();
    }
    const b = seq % WINDOW;
    seen[b >>> 5] = (seen[b >>> 5] as number) | (1 << (b & 31));
    const sent = sentAt ?? this.schedule.sendTime(seq);
    this.metrics.onDeliver(t, this.schedule.frameBytes, t - sent);
    return "delivered";
  }
}

/** Where the books of a traffic do not balance. */
export type ConservationViolation =
  /** More delivered + dropped than sent: a datapath counted a packet twice. */
  | {
    readonly kind: "over-counted";
    readonly sent: number;
    readonly delivered: number;
    readonly dropped: number;
  }
  /** The run is over but packets are neither delivered nor dropped. */
  | { readonly kind: "stuck"; readonly inFlight: number };

/** One lowercase line (the only formatter of {@link ConservationViolation}). */
export function describeConservationViolation(v: ConservationViolation): string {
  switch (v.kind) {
    case "over-counted":
      return `delivered (${v.delivered}) + dropped (${v.dropped}) exceeds sent (${v.sent})`;
    case "stuck":
      return `${v.inFlight} packet${v.inFlight === 1 ? " is" : "s are"} neither delivered ` +
        "nor dropped after the run ended";
  }
}

/**
 * Checks sent = delivered + dropped + in flight. With `finished` (no event left), in flight
 * must also be 0.
 */
export function checkConservation(
  m: FlowMetrics,
  options: { finished?: boolean } = {},
): ConservationViolation | undefined {
  if (m.inFlight < 0) {
    return { kind: "over-counted", sent: m.sent, delivered: m.delivered, dropped: m.dropped };
  }
  if (options.finished && m.inFlight > 0) return { kind: "stuck", inFlight: m.inFlight };
  return undefined;
}
