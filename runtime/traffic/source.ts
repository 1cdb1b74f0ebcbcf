/**
 * Drives a {@link FlowSchedule} on the scheduler one burst at a time: each burst's event
 * schedules the next, so a traffic of `count=1e12` holds one pending event, never a queue of
 * 10^12 (issue 7). A `run 10ms` that stops in the middle resumes exactly where it left off,
 * and `stop()` ends the traffic early (the packets never sent are simply not counted).
 *
 * @example
 * ```ts
 * import { Scheduler } from "../sim/scheduler.ts";
 * import { qemuMac } from "./address.ts";
 * import { planUdpFlow } from "./flow.ts";
 * import { TrafficSource } from "./source.ts";
 * const plan = planUdpFlow({
 *   flowId: 1, frameBytes: 64, count: 1e12, rate: { kind: "pps", pps: 1e6 }, burst: 32,
 *   srcMac: qemuMac(0), dstMac: qemuMac(1), srcIp: 1, dstIp: 2,
 * });
 * if (!plan.ok) throw new Error("valid");
 * const sched = new Scheduler();
 * let sent = 0;
 * const src = new TrafficSource(plan.value, {
 *   sched,
 *   onBurst: (_now, first, last) => { sent += last - first + 1; },
 * });
 * src.start();
 * sched.run({ until: 1_000_000 }); // 1 ms of a 10^12-packet traffic
 * if (sent !== 1024 || sched.pending !== 1) throw new Error(`${sent} ${sched.pending}`);
 * ```
 *
 * @module
 */

import type { EventHandle, Scheduler } from "../sim/scheduler.ts";
import type { FlowSchedule } from "./flow.ts";

/** Called at each burst's send time with the burst's first and last sequence numbers. */
export type BurstHandler = (now: number, first: number, last: number) => void;

/** Options of {@link TrafficSource}. */
export interface TrafficSourceOptions {
  /** The scheduler the bursts run on. */
  readonly sched: Scheduler;
  /** Receives each burst. */
  readonly onBurst: BurstHandler;
  /** Scheduler priority of the burst events (default 0). */
  readonly priority?: number;
  /** Called once after the last burst was handed over. */
  readonly onDone?: (now: number) => void;
}

/** Hands a schedule's bursts to `onBurst`, one pending event at a time. */
export class TrafficSource {
  /** What is sent. */
  readonly schedule: FlowSchedule;
  readonly #sched: Scheduler;
  readonly #onBurst: BurstHandler;
  readonly #onDone: ((now: number) => void) | undefined;
  readonly #priority: number;
  /** The burst event, one function for every source (the source is its argument). */
  static readonly #fire = (now: number, src: TrafficSource): void => src.#burst(now);
  #next = 1;
  #pending: EventHandle | undefined;
  #started = false;
  #stopped = false;

  /** A source for `schedule`; nothing happens before {@link start}. */
  constructor(schedule: FlowSchedule, options: TrafficSourceOptions) {
    this.schedule = schedule;
    this.#sched = options.sched;
    this.#onBurst = options.onBurst;
    this.#onDone = options.onDone;
    this.#priority = options.priority ?? 0;
  }

  /** Schedules the first burst (at its send time, or now if that has passed). */
  start(): void {
    if (this.#started) throw new Error("TrafficSource already started");
    this.#started = true;
    this.#arm();
  }

  /** Ends the traffic: no further burst. Returns false if it had already finished. */
  stop(): boolean {
    if (this.#stopped || this.done) return false;
    this.#stopped = true;
    if (this.#pending !== undefined) this.#sched.cancel(this.#pending);
    this.#pending = undefined;
    return true;
  }

  /** The next sequence number to send (count + 1 when done). */
  get nextSeq(): number {
    return this.#next;
  }

  /** True when every packet was handed over. */
  get done(): boolean {
    return this.#next > this.schedule.count;
  }

  /** True after {@link stop}. */
  get stopped(): boolean {
    return this.#stopped;
  }

  #arm(): void {
    const at = Math.max(this.schedule.sendTime(this.#next), this.#sched.now);
    this.#pending = this.#sched.at(at, TrafficSource.#fire, this.#priority, this);
  }

  #burst(now: number): void {
    this.#pending = undefined;
    const s = this.schedule;
    const first = this.#next;
    const last = Math.min(first + s.burst - 1, s.count);
    this.#next = last + 1;
    this.#onBurst(now, first, last);
    if (this.#stopped) return;
    if (this.done) this.#onDone?.(now);
    else this.#arm();
  }
}
