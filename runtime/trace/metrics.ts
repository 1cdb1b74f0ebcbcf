/**
 * Streamed metrics: per-traffic counters, drops by reason, a latency histogram, and the
 * CPU contexts whose busy time gives throughput and the bottleneck. Everything is a counter
 * or a fixed-size histogram, so a run of 10^12 packets costs the same memory as a run of 10,
 * and the hot path (`add`, `onSend`, `onDeliver`) allocates nothing.
 *
 * {@link Metrics.summary} turns one traffic into a {@link FlowSummary}: a plain object with
 * stable snake_case field names. That object is what `run --json` prints and what
 * `expect t1.per_packet.vmexits == 0` reads (see `metric_path.ts` for the dotted paths).
 *
 * Definitions:
 * - `per_packet.X` = total X / packets sent.
 * - Throughput counts delivered frames between the first send and the last delivery;
 *   `gbps` counts frame bytes (FCS included, see `traffic/frame.ts`), `wire_gbps` adds the
 *   20 B of preamble and inter-frame gap per frame.
 * - `cpu_ns.<ctx>` is the work a context did for this traffic; `utilisation.<ctx>` is the
 *   fraction of the traffic's active interval the context was busy with any work; the
 *   `bottleneck` is the most utilised context (ties: the first created).
 *
 * @example
 * ```ts
 * import { Counter, Metrics } from "./metrics.ts";
 * const m = new Metrics();
 * const vcpu = m.addContext("vcpu", "vcpu0");
 * const t1 = m.addFlow("t1");
 * t1.onSend(0, 64);
 * const end = vcpu.exec(0, 700, t1.index);
 * t1.add(Counter.vmexits);
 * t1.onDeliver(end, 64, end - 0);
 * const s = m.summary("t1");
 * if (s.per_packet.vmexits !== 1 || s.bottleneck !== "vcpu0") throw new Error("summary");
 * ```
 *
 * @module
 */

import { CpuContext, type CpuContextKind, type CpuContextOptions } from "../sim/cpu_context.ts";
import type { BusyMark } from "../sim/cpu_context.ts";
import { DROP_REASONS, type DropReason } from "./event.ts";
import { Histogram } from "./histogram.ts";

/** Counted events, in summary order. */
export const COUNTERS = [
  /** VM exits of any kind. */
  "vmexits",
  /** The subset of exits that went to userspace (QEMU). */
  "vmexits_userspace",
  /** Driver → device notifications sent. */
  "kicks",
  /** Notifications the driver skipped because the device asked not to be kicked. */
  "kicks_suppressed",
  /** Interrupts delivered as posted interrupts (no exit). */
  "interrupts_posted",
  /** Interrupts that needed an injection exit. */
  "interrupts_exit",
  /** Interrupts the device skipped (NO_INTERRUPT / EVENT_IDX). */
  "interrupts_suppressed",
  /** User ↔ kernel mode switches on the host. */
  "user_kernel_switches",
  /** Thread context switches on the host. */
  "context_switches",
  /** Wake-ups of sleeping threads. */
  "wakeups",
  /** Host system calls. */
  "syscalls",
  /** CPU copies of packet data. */
  "copies",
  /** Bytes copied by those copies. */
  "bytes_copied",
  /** Address translations (memory table, IOTLB). */
  "translations",
  /** IOTLB hits. */
  "iotlb_hits",
  /** IOTLB misses. */
  "iotlb_misses",
  /** Misses that needed a round trip to userspace (vhost device IOTLB). */
  "iotlb_miss_roundtrips",
  /** Device DMA operations. */
  "dma_ops",
  /** Bytes moved by DMA. */
  "dma_bytes",
  /** Descriptors processed by the device side. */
  "descriptors",
  /** Hardware doorbell writes. */
  "doorbells",
  /** NAPI poll runs. */
  "napi_polls",
  /** vhost requeues after its weight. */
  "requeues",
] as const;

/** One counter name. */
export type CounterName = typeof COUNTERS[number];

/** Counter indices for {@link FlowMetrics.add}: `t1.add(Counter.kicks)`. */
export const Counter: { readonly [K in CounterName]: number } = Object.freeze(
  Object.fromEntries(COUNTERS.map((c, i) => [c, i])) as { [K in CounterName]: number },
);

const DROP_INDEX: { readonly [K in DropReason]: number } = Object.freeze(
  Object.fromEntries(DROP_REASONS.map((r, i) => [r, i])) as { [K in DropReason]: number },
);

/** Latency statistics in a summary (ns). */
export interface LatencySummary {
  /** Deliveries measured. */
  readonly count: number;
  /** Smallest latency. */
  readonly min_ns: number;
  /** Mean latency. */
  readonly mean_ns: number;
  /** Median latency. */
  readonly p50_ns: number;
  /** 90th percentile. */
  readonly p90_ns: number;
  /** 99th percentile. */
  readonly p99_ns: number;
  /** Largest latency. */
  readonly max_ns: number;
}

/** Totals and per-packet figures share these keys. */
export type CounterSummary = { readonly [K in CounterName | "interrupts"]: number };

/** One traffic's results, with stable snake_case field names. */
export interface FlowSummary {
  /** Traffic name. */
  readonly name: string;
  /** Frame size (bytes, FCS included) when all frames have one size, else 0. */
  readonly frame_bytes: number;
  /** Frames sent. */
  readonly sent: number;
  /** Frames delivered intact (duplicates not counted). */
  readonly delivered: number;
  /** Frames dropped, all reasons. */
  readonly dropped: number;
  /** Sent but neither delivered nor dropped yet: sent = delivered + dropped + in_flight. */
  readonly in_flight: number;
  /** Drops per reason (every reason present, zeros included). */
  readonly dropped_by_reason: { readonly [K in DropReason]: number };
  /** Frame bytes sent (FCS included). */
  readonly bytes_sent: number;
  /** Frame bytes delivered (FCS included). */
  readonly bytes_delivered: number;
  /** Deliveries of a sequence number already delivered (not counted in `delivered`). */
  readonly duplicates: number;
  /** Deliveries with a sequence number lower than one delivered before. */
  readonly reordered: number;
  /** First send to last delivery (ns). */
  readonly duration_ns: number;
  /** Million frames/s delivered. */
  readonly mpps: number;
  /** Gbit/s of frame bytes delivered. */
  readonly gbps: number;
  /** Gbit/s on the wire (20 B of preamble and gap per frame added). */
  readonly wire_gbps: number;
  /** Latency from send to delivery (round trip for ping). */
  readonly latency: LatencySummary;
  /** Counter totals, plus `interrupts` = posted + exit-based. */
  readonly totals: CounterSummary;
  /** Totals divided by frames sent. */
  readonly per_packet: CounterSummary;
  /** Work each context did for this traffic (ns). */
  readonly cpu_ns: Readonly<Record<string, number>>;
  /** All contexts' work for this traffic per frame sent (ns). */
  readonly cpu_ns_per_packet: number;
  /** Busy share of each context over the traffic's active interval (any work). */
  readonly utilisation: Readonly<Record<string, number>>;
  /** Idle time polling contexts spent polling (ns). */
  readonly poll_ns: Readonly<Record<string, number>>;
  /** Empty poll iterations of polling contexts. */
  readonly poll_iterations: Readonly<Record<string, number>>;
  /** The most utilised context, or "none". */
  readonly bottleneck: string;
  /** The bottleneck's busy share. */
  readonly bottleneck_utilisation: number;
}

/** Rounds ns figures to ps and ratios to 1e-6 so JSON output is short and stable. */
function r3(x: number): number {
  return Math.round(x * 1e3) / 1e3;
}
function r6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** The counters of one traffic. Created by {@link Metrics.addFlow}. */
export class FlowMetrics {
  /** Index used for per-flow CPU accounting (`ctx.exec(t, ns, flow.index)`). */
  readonly index: number;
  /** Traffic name. */
  readonly name: string;
  /** Latencies of the deliveries. */
  readonly latency: Histogram = new Histogram();
  readonly #counters = new Float64Array(COUNTERS.length);
  readonly #drops = new Float64Array(DROP_REASONS.length);
  readonly #onFirstSend: (t: number) => void;
  #sent = 0;
  #delivered = 0;
  #dropped = 0;
  #bytesSent = 0;
  #bytesDelivered = 0;
  #duplicates = 0;
  #reordered = 0;
  #firstSend = -1;
  #lastDeliver = -1;
  #lastActivity = -1;
  #frameBytes = -1;

  /** Use {@link Metrics.addFlow}. */
  constructor(name: string, links: { index: number; onFirstSend: (t: number) => void }) {
    this.index = links.index;
    this.name = name;
    this.#onFirstSend = links.onFirstSend;
  }

  /** Adds `n` to a counter (`Counter.vmexits`). */
  add(counter: number, n = 1): void {
    this.#counters[counter] = (this.#counters[counter] as number) + n;
  }

  /** The value of a counter. */
  get(counter: CounterName): number {
    return this.#counters[Counter[counter]] as number;
  }

  /** A frame of `bytes` (FCS included) left its source at `t`. */
  onSend(t: number, bytes: number): void {
    if (this.#sent === 0) {
      this.#firstSend = t;
      this.#onFirstSend(t);
    }
    this.#sent++;
    this.#bytesSent += bytes;
    if (this.#frameBytes === -1) this.#frameBytes = bytes;
    else if (this.#frameBytes !== bytes) this.#frameBytes = 0;
    if (t > this.#lastActivity) this.#lastActivity = t;
  }

  /** A frame arrived intact at `t`, `latencyNs` after it was sent. */
  onDeliver(t: number, bytes: number, latencyNs: number): void {
    this.#delivered++;
    this.#bytesDelivered += bytes;
    this.latency.record(latencyNs);
    if (t > this.#lastDeliver) this.#lastDeliver = t;
    if (t > this.#lastActivity) this.#lastActivity = t;
  }

  /** A frame was dropped at `t` for `reason`. */
  onDrop(t: number, reason: DropReason): void {
    const i = DROP_INDEX[reason];
    this.#drops[i] = (this.#drops[i] as number) + 1;
    this.#dropped++;
    if (t > this.#lastActivity) this.#lastActivity = t;
  }

  /** A sequence number arrived again (not counted as delivered). */
  onDuplicate(): void {
    this.#duplicates++;
  }

  /** A sequence number arrived after a higher one. */
  onReorder(): void {
    this.#reordered++;
  }

  /** Frames sent. */
  get sent(): number {
    return this.#sent;
  }
  /** Frames delivered intact. */
  get delivered(): number {
    return this.#delivered;
  }
  /** Frames dropped, all reasons. */
  get dropped(): number {
    return this.#dropped;
  }
  /** Drops for one reason. */
  droppedFor(reason: DropReason): number {
    return this.#drops[DROP_INDEX[reason]] as number;
  }
  /** sent − delivered − dropped. Never negative unless a datapath double-counts. */
  get inFlight(): number {
    return this.#sent - this.#delivered - this.#dropped;
  }
  /** Time of the first send (−1 before). */
  get firstSend(): number {
    return this.#firstSend;
  }
  /** Time of the last delivery (−1 before). */
  get lastDeliver(): number {
    return this.#lastDeliver;
  }
  /** Time of the last send, delivery or drop (−1 before). */
  get lastActivity(): number {
    return this.#lastActivity;
  }
  /** Bytes delivered. */
  get bytesDelivered(): number {
    return this.#bytesDelivered;
  }
  /** Bytes sent. */
  get bytesSent(): number {
    return this.#bytesSent;
  }
  /** Duplicate deliveries seen. */
  get duplicates(): number {
    return this.#duplicates;
  }
  /** Reordered deliveries seen. */
  get reordered(): number {
    return this.#reordered;
  }
  /** Frame size when constant, 0 when mixed, −1 before the first send. */
  get frameBytes(): number {
    return this.#frameBytes;
  }
}

/** Per-context figures for `show stats`. */
export interface ContextSummary {
  /** Context name. */
  readonly name: string;
  /** Context kind. */
  readonly kind: CpuContextKind;
  /** Work done (ns). */
  readonly busy_ns: number;
  /** Jobs run. */
  readonly jobs: number;
  /** Busy share since time 0. */
  readonly utilisation: number;
  /** Most jobs in the system at once. */
  readonly max_backlog: number;
  /** Longest wait of a job (ns). */
  readonly max_wait_ns: number;
  /** True for busy-polling contexts. */
  readonly polling: boolean;
}

/** The accounting of a world: its CPU contexts and its traffics. */
export class Metrics {
  readonly #contexts: CpuContext[] = [];
  readonly #byName = new Map<string, CpuContext>();
  readonly #flows: FlowMetrics[] = [];
  readonly #flowByName = new Map<string, FlowMetrics>();
  /** Busy readings of every context at each flow's first send. */
  readonly #marks: Map<CpuContext, BusyMark>[] = [];

  /** Creates a context; throws if the name is taken (API misuse). */
  addContext(kind: CpuContextKind, name: string, options: CpuContextOptions = {}): CpuContext {
    if (this.#byName.has(name)) throw new Error(`CPU context "${name}" already exists`);
    const c = new CpuContext(kind, name, { ...options, id: this.#contexts.length });
    this.#contexts.push(c);
    this.#byName.set(name, c);
    return c;
  }

  /** A context by name. */
  context(name: string): CpuContext | undefined {
    return this.#byName.get(name);
  }

  /** All contexts in creation order. */
  get contexts(): readonly CpuContext[] {
    return this.#contexts;
  }

  /** Creates a traffic's counters; throws if the name is taken (API misuse). */
  addFlow(name: string): FlowMetrics {
    if (this.#flowByName.has(name)) throw new Error(`Traffic "${name}" already exists`);
    const index = this.#flows.length;
    const marks = new Map<CpuContext, BusyMark>();
    this.#marks.push(marks);
    const f = new FlowMetrics(name, {
      index,
      onFirstSend: (t) => {
        for (const c of this.#contexts) marks.set(c, c.mark(t));
      },
    });
    this.#flows.push(f);
    this.#flowByName.set(name, f);
    return f;
  }

  /** A traffic by name. */
  flow(name: string): FlowMetrics | undefined {
    return this.#flowByName.get(name);
  }

  /** All traffics in creation order. */
  get flows(): readonly FlowMetrics[] {
    return this.#flows;
  }

  /** The summary of one traffic; throws for an unknown name (check with {@link flow}). */
  summary(name: string): FlowSummary {
    const f = this.#flowByName.get(name);
    if (f === undefined) throw new Error(`Unknown traffic "${name}"`);
    return this.#summarize(f);
  }

  /** Every traffic's summary, keyed by name, in creation order. */
  summaries(): Record<string, FlowSummary> {
    const out: Record<string, FlowSummary> = {};
    for (const f of this.#flows) out[f.name] = this.#summarize(f);
    return out;
  }

  /** Per-context figures over `[0, now)`. */
  contextSummaries(now: number): ContextSummary[] {
    return this.#contexts.map((c) => ({
      name: c.name,
      kind: c.kind,
      busy_ns: r3(c.busyAt(now)),
      jobs: c.jobs,
      utilisation: now > 0 ? r6(Math.min(1, c.busyAt(now) / now)) : 0,
      max_backlog: c.maxBacklog,
      max_wait_ns: r3(c.maxWaitNs),
      polling: c.polling,
    }));
  }

  #summarize(f: FlowMetrics): FlowSummary {
    const sent = f.sent;
    const totals = {} as Record<CounterName | "interrupts", number>;
    const perPacket = {} as Record<CounterName | "interrupts", number>;
    for (const c of COUNTERS) totals[c] = f.get(c);
    totals.interrupts = totals.interrupts_posted + totals.interrupts_exit;
    for (const k of Object.keys(totals) as (CounterName | "interrupts")[]) {
      perPacket[k] = sent > 0 ? r6(totals[k] / sent) : 0;
    }
    const dropped = {} as Record<DropReason, number>;
    for (const r of DROP_REASONS) dropped[r] = f.droppedFor(r);

    const duration = f.lastDeliver >= 0 ? f.lastDeliver - f.firstSend : 0;
    const mpps = duration > 0 ? f.delivered / duration * 1e3 : 0;
    const gbps = duration > 0 ? f.bytesDelivered * 8 / duration : 0;
    const wireGbps = duration > 0 ? (f.bytesDelivered + 20 * f.delivered) * 8 / duration : 0;

    // Utilisation over the traffic's active interval, with any work counted.
    const from = f.firstSend;
    const to = f.lastActivity;
    const marks = this.#marks[f.index] as Map<CpuContext, BusyMark>;
    const cpuNs: Record<string, number> = {};
    const util: Record<string, number> = {};
    const pollNs: Record<string, number> = {};
    const pollIt: Record<string, number> = {};
    let cpuSum = 0;
    let bottleneck = "none";
    let best = 0;
    for (const c of this.#contexts) {
      const own = c.busyNsOf(f.index);
      if (own > 0) {
        cpuNs[c.name] = r3(own);
        cpuSum += own;
      }
      if (sent === 0 || !(to > from)) continue;
      const mark = marks.get(c) ?? { t: from, busy: 0 };
      const u = c.utilisationSince(mark, to);
      if (own > 0 || u > 0) util[c.name] = r6(u);
      if (c.polling) {
        pollNs[c.name] = r3(c.pollNsSince(mark, to));
        pollIt[c.name] = c.pollIterationsSince(mark, to);
      }
      if (own > 0 && u > best) {
        best = u;
        bottleneck = c.name;
      }
    }
    const h = f.latency;
    return {
      name: f.name,
      frame_bytes: Math.max(0, f.frameBytes),
      sent,
      delivered: f.delivered,
      dropped: f.dropped,
      in_flight: f.inFlight,
      dropped_by_reason: dropped,
      bytes_sent: f.bytesSent,
      bytes_delivered: f.bytesDelivered,
      duplicates: f.duplicates,
      reordered: f.reordered,
      duration_ns: r3(duration),
      mpps: r6(mpps),
      gbps: r6(gbps),
      wire_gbps: r6(wireGbps),
      latency: {
        count: h.count,
        min_ns: r3(h.min),
        mean_ns: r3(h.mean),
        p50_ns: r3(h.percentile(50)),
        p90_ns: r3(h.percentile(90)),
        p99_ns: r3(h.percentile(99)),
        max_ns: r3(h.max),
      },
      totals,
      per_packet: perPacket,
      cpu_ns: cpuNs,
      cpu_ns_per_packet: sent > 0 ? r3(cpuSum / sent) : 0,
      utilisation: util,
      poll_ns: pollNs,
      poll_iterations: pollIt,
      bottleneck,
      bottleneck_utilisation: r6(best),
    };
  }
}

/** `run --json`: every traffic's summary, two-space indented, fields in a fixed order. */
export function summariesJson(summaries: Readonly<Record<string, FlowSummary>>): string {
  return JSON.stringify(summaries, null, 2);
}
