/**
 * The hop helper every datapath uses: charge a cost key of the resolved profile on a CPU
 * context for a packet, count the packet's metric counters, and record a trace hop only when
 * the recorder wants that packet. With tracing off nothing is allocated: the caller guards
 * the details object literal with {@link Hops.wants}.
 *
 * The pattern for one hop:
 *
 * ```ts ignore
 * const end = hops.charge(vcpu, t, "vmexit_light", 0, flow);
 * flow.metrics.add(Counter.vmexits);
 * if (hops.wants(flow, seq)) hops.record(flow, seq, "kvm", "vmexit", { reason: "ept-misconfig", exit: "light", q: "tx0" });
 * ```
 *
 * `record` uses the start, cost and context of the last `charge`, so a hop line shows when
 * the job actually ran (after queueing) and what it cost. A hop that serves a batch (one
 * kick for a burst of 32, one wake-up for the packets of a vhost run) is charged once and
 * recorded per sampled packet of the batch with the batch size ({@link PacketGroup}); a
 * wake-up charged before its packets are known is {@link PacketGroup.mark}ed and recorded
 * once they are.
 *
 * Costs marked `delay` in the profile (a propagation, a DMA latency) do not occupy the
 * context: they only move the end time.
 *
 * @example
 * ```ts
 * import { Metrics, Counter } from "../trace/metrics.ts";
 * import { Recorder } from "../trace/recorder.ts";
 * import { COST_KEYS, resolveCosts, type CostEntry, type CostKey } from "../sim/cost.ts";
 * import { Hops } from "./hop.ts";
 * const entries = Object.fromEntries(COST_KEYS.map((k): [CostKey, CostEntry] =>
 *   [k, { ns: 100, cycles: false, charge: "cpu", basis: "example" }])) as Record<CostKey, CostEntry>;
 * const costs = resolveCosts({ name: "x", referenceGhz: 3, entries });
 * const m = new Metrics();
 * const rec = new Recorder({ level: "sample", samplePackets: 1 });
 * const hops = new Hops(rec, costs);
 * const vcpu = m.addContext("vcpu", "vm1:vcpu0");
 * const metrics = m.addFlow("t1");
 * const flow = { name: "t1", metrics };
 * const end = hops.charge(vcpu, 0, "vmexit_light", 0, flow);
 * metrics.add(Counter.vmexits);
 * if (hops.wants(flow, 1)) {
 *   hops.record(flow, 1, "kvm", "vmexit", { reason: "ept-misconfig", exit: "light", q: "tx0" });
 * }
 * if (end !== 100 || rec.events().length !== 1) throw new Error("one hop of 100 ns");
 * ```
 *
 * @module
 */

import type { CostKey, Costs } from "../sim/cost.ts";
import type { CpuContext } from "../sim/cpu_context.ts";
import type { DropReason, HopAction, HopDetailsMap } from "../trace/event.ts";
import type { FlowMetrics } from "../trace/metrics.ts";
import type { Recorder } from "../trace/recorder.ts";

/** What a hop needs to know of a traffic. */
export interface HopFlow {
  readonly name: string;
  readonly metrics: FlowMetrics;
}

/** Charges costs and records hops; one per lab. */
export class Hops {
  /** The recorder hops go to. */
  recorder: Recorder;
  /** Start of the job of the last {@link charge} (ns). */
  t = 0;
  /** Cost of the last {@link charge} (ns). */
  dur = 0;
  /** Context of the last {@link charge}. */
  ctx: CpuContext | undefined = undefined;
  #costs: Costs;
  #ns: Costs["ns"];
  #perByte: Costs["perByteNs"];
  #charge: Costs["charge"];

  /** A helper over `recorder` charging `costs`. */
  constructor(recorder: Recorder, costs: Costs) {
    this.recorder = recorder;
    this.#costs = costs;
    this.#ns = costs.ns;
    this.#perByte = costs.perByteNs;
    this.#charge = costs.charge;
  }

  /** The costs in force. */
  get costs(): Costs {
    return this.#costs;
  }

  /** Replaces the costs (a `set cost`, a `host cpu ghz=` change). */
  setCosts(costs: Costs): void {
    this.#costs = costs;
    this.#ns = costs.ns;
    this.#perByte = costs.perByteNs;
    this.#charge = costs.charge;
  }

  /** The cost of one `key` event on `bytes` bytes (ns). */
  cost(key: CostKey, bytes = 0): number {
    return this.#ns[key] + this.#perByte[key] * bytes;
  }

  /**
   * Runs a `key` job of `bytes` on `ctx`, ready at `readyAt`, for `flow` (undefined: shared
   * work). Returns when it ends. A `delay` cost does not occupy the context.
   */
  charge(
    ctx: CpuContext,
    readyAt: number,
    key: CostKey,
    bytes: number,
    flow: HopFlow | undefined,
  ): number {
    const ns = this.#ns[key] + this.#perByte[key] * bytes;
    this.ctx = ctx;
    this.dur = ns;
    if (this.#charge[key] === "delay") {
      this.t = readyAt;
      return readyAt + ns;
    }
    const end = ctx.exec(readyAt, ns, flow === undefined ? -1 : flow.metrics.index);
    this.t = ctx.lastStart;
    return end;
  }

  /** Runs `ns` of work that is not a profile key (a sum of keys, a scaled key). */
  chargeNs(ctx: CpuContext, readyAt: number, ns: number, flow: HopFlow | undefined): number {
    this.ctx = ctx;
    this.dur = ns;
    const end = ctx.exec(readyAt, ns, flow === undefined ? -1 : flow.metrics.index);
    this.t = ctx.lastStart;
    return end;
  }

  /** Marks a free hop (no cost) at `t` on `ctx`, for a following {@link record}. */
  at(ctx: CpuContext, t: number): void {
    this.ctx = ctx;
    this.t = t;
    this.dur = 0;
  }

  /** Should hops of packet `seq` of `flow` be recorded? Allocation-free. */
  wants(flow: HopFlow, seq: number): boolean {
    return this.recorder.wants(flow.name, seq);
  }

  /** Records a hop with the start, cost and context of the last charge. */
  record<A extends HopAction>(
    flow: HopFlow,
    seq: number,
    comp: string,
    action: A,
    details: HopDetailsMap[A],
  ): void {
    this.recorder.hop({
      type: "hop",
      t: this.t,
      dur: this.dur,
      ctx: this.ctx?.name ?? "",
      comp,
      action,
      flow: flow.name,
      pkt: seq,
      details,
    });
  }

  /**
   * Counts a drop of packet `seq` at `t` on `ctx` and records its drop hop when the recorder
   * samples it. Every packet that does not arrive goes through here exactly once.
   */
  drop(
    flow: HopFlow,
    seq: number,
    ctx: CpuContext,
    t: number,
    comp: string,
    reason: DropReason,
    detail?: string,
  ): void {
    flow.metrics.onDrop(t, reason);
    if (this.recorder.wantsDrop(flow.name, seq, reason)) {
      this.recorder.hop({
        type: "hop",
        t,
        dur: 0,
        ctx: ctx.name,
        comp,
        action: "drop",
        flow: flow.name,
        pkt: seq,
        details: detail === undefined ? { reason } : { reason, detail },
      });
    }
  }

  /** A packet group for batched hops (see {@link PacketGroup}); one per call site. */
  group(): PacketGroup {
    return new PacketGroup(this);
  }
}

/**
 * The packets a batched hop is for (the burst a kick announces, the used buffers an
 * interrupt reports): how many, the first one (whose traffic the shared cost is charged to),
 * and the sampled ones, for which {@link PacketGroup.record} writes the hop with the batch
 * size. One object per call site, reused; nothing is allocated when tracing is off.
 */
export class PacketGroup {
  /** The first packet's traffic (undefined: empty group). */
  flow: HopFlow | undefined = undefined;
  /** The first packet's sequence number. */
  seq = 0;
  /** Packets in the group. */
  size = 0;
  readonly #hops: Hops;
  readonly #flows: HopFlow[] = [];
  readonly #seqs: number[] = [];
  readonly #counted: HopFlow[] = [];
  #mt = 0;
  #md = 0;
  #mc: CpuContext | undefined = undefined;

  constructor(hops: Hops) {
    this.#hops = hops;
  }

  /** Remembers the last charged hop (start, cost, context) for {@link recordMark}. */
  mark(): void {
    this.#mt = this.#hops.t;
    this.#md = this.#hops.dur;
    this.#mc = this.#hops.ctx;
  }

  /** Records the {@link mark}ed hop for every sampled packet of the group. */
  recordMark<A extends HopAction>(comp: string, action: A, details: HopDetailsMap[A]): void {
    const h = this.#hops;
    for (let i = 0; i < this.#flows.length; i++) {
      h.recorder.hop({
        type: "hop",
        t: this.#mt,
        dur: this.#md,
        ctx: this.#mc?.name ?? "",
        comp,
        action,
        flow: (this.#flows[i] as HopFlow).name,
        pkt: this.#seqs[i] as number,
        details,
      });
    }
  }

  /** Empties the group. */
  reset(): void {
    this.flow = undefined;
    this.seq = 0;
    this.size = 0;
    this.#flows.length = 0;
    this.#seqs.length = 0;
    this.#counted.length = 0;
  }

  /** Adds packet `seq` of `flow`. */
  add(flow: HopFlow, seq: number): void {
    if (this.size === 0) {
      this.flow = flow;
      this.seq = seq;
    }
    this.size++;
    if (this.#hops.wants(flow, seq)) {
      this.#flows.push(flow);
      this.#seqs.push(seq);
    }
  }

  /** Adds every packet of `other`. */
  addGroup(other: PacketGroup): void {
    if (other.size === 0) return;
    if (this.size === 0) {
      this.flow = other.flow;
      this.seq = other.seq;
    }
    this.size += other.size;
    for (let i = 0; i < other.#flows.length; i++) {
      this.#flows.push(other.#flows[i] as HopFlow);
      this.#seqs.push(other.#seqs[i] as number);
    }
  }

  /** True when some packet of the group is sampled (then build details and {@link record}). */
  get sampled(): boolean {
    return this.#flows.length > 0;
  }

  /** Adds `counter` once to each distinct traffic of the group. */
  count(counter: number, n = 1): void {
    if (this.size === 0) return;
    const first = this.flow as HopFlow;
    first.metrics.add(counter, n);
    if (this.#flows.length === 0) return;
    this.#counted.length = 0;
    this.#counted.push(first);
    for (const f of this.#flows) {
      if (!this.#counted.includes(f)) {
        this.#counted.push(f);
        f.metrics.add(counter, n);
      }
    }
  }

  /** Records the last charged hop for every sampled packet of the group. */
  record<A extends HopAction>(comp: string, action: A, details: HopDetailsMap[A]): void {
    const h = this.#hops;
    for (let i = 0; i < this.#flows.length; i++) {
      h.record(this.#flows[i] as HopFlow, this.#seqs[i] as number, comp, action, details);
    }
  }
}
