/**
 * A poll-mode thread (a DPDK lcore running testpmd's forwarding loop, an OVS-DPDK PMD
 * thread): it never sleeps and never waits for a notification — it polls its receive queues
 * back to back. The lab runs it event by event without simulating every empty iteration:
 *
 * - while a pass over its queues finds packets, the next pass starts when that one ends
 *   (bursts of 32 follow each other);
 * - when a pass finds nothing, the thread keeps polling on its core (the context is a
 *   *polling* CpuContext, so its idle time is reported as poll time and poll iterations)
 *   but no event is scheduled;
 * - when work appears at `t` (a guest published buffers, a frame reached a port), the thread
 *   notices it at the end of the poll iteration in progress ({@link CpuContext.discover}):
 *   no kick, no wake-up, no context switch.
 *
 * @example A thread drains 70 packets in bursts of 32, then polls on
 * ```ts
 * import { Lab } from "../../lab.ts";
 * import { COST_KEYS, type CostEntry, type CostKey } from "../../sim/cost.ts";
 * import { PmdThread } from "./pmd_thread.ts";
 * const lab = new Lab({ hostCatalog: { modules: {}, nicModels: {} } });
 * const entries = Object.fromEntries(COST_KEYS.map((k): [CostKey, CostEntry] =>
 *   [k, { ns: 50, cycles: false, charge: "cpu", basis: "example" }])) as Record<CostKey, CostEntry>;
 * lab.setCostProfile({ name: "example", referenceGhz: 3, entries });
 * let left = 70;
 * const pmd = new PmdThread(lab, 3, (now) => {
 *   const n = Math.min(32, left);
 *   left -= n;
 *   return { found: n, end: now + n * 10 };
 * });
 * pmd.notice(0);
 * lab.run();
 * if (left !== 0 || pmd.busyPasses !== 3 || pmd.busy) throw new Error("32 + 32 + 6, then idle polling");
 * ```
 *
 * @module
 */

import type { CpuContext } from "../../sim/cpu_context.ts";
import type { Lab } from "../../lab.ts";

/**
 * A pass at time `t` runs before the other events of `t`: it reads the rings as they are at
 * `t`, not after what other contexts do at `t` (a guest step at `t` publishes its buffer at
 * the end of that step, later than `t`).
 */
const BEFORE_OTHERS = -1;

/** What one pass over the thread's queues did. */
export interface PassResult {
  /** Packets found on any queue. */
  readonly found: number;
  /** When the pass ended (ns). */
  readonly end: number;
}

/** One poll-mode thread; see the module documentation. */
export class PmdThread {
  /** The polling context (`pmd:core3`). */
  readonly ctx: CpuContext;
  /** Passes that found packets. */
  busyPasses = 0;
  #lab: Lab;
  #pass: (now: number) => PassResult;
  #scheduled = false;
  #stopped = false;

  /** A thread on lcore `core` whose loop body is `pass` (named `pmd:coreN` unless `name`). */
  constructor(lab: Lab, core: number, pass: (now: number) => PassResult, name?: string) {
    this.#lab = lab;
    this.ctx = lab.context("pmd", name ?? `pmd:core${core}`, {
      polling: true,
      pollIterationNs: Math.max(1, lab.costs.ns.poll_iteration_empty),
    });
    this.#pass = pass;
  }

  /** True while a pass is scheduled (the thread is busy forwarding). */
  get busy(): boolean {
    return this.#scheduled;
  }

  /** Work became available at `t`: the thread finds it on its next poll iteration. */
  notice(t: number): void {
    if (this.#scheduled || this.#stopped) return;
    this.#scheduled = true;
    const at = Math.max(t, this.ctx.discover(t), this.#lab.now);
    this.#lab.sched.at(at, (now) => this.#run(now), BEFORE_OTHERS);
  }

  #run(now: number): void {
    this.#scheduled = false;
    if (this.#stopped) return;
    const r = this.#pass(now);
    if (r.found === 0) return;
    this.busyPasses++;
    this.#scheduled = true;
    this.#lab.sched.at(Math.max(r.end, now), (t) => this.#run(t), BEFORE_OTHERS);
  }

  /** Stops polling (`stop` in testpmd, the port or the thread goes away). */
  stop(): void {
    this.#stopped = true;
  }

  /** Polls again after {@link stop}. */
  resume(): void {
    this.#stopped = false;
  }
}
