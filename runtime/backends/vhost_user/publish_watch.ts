/**
 * How a polling back-end learns, in the lab, that a guest published buffers it was asked
 * not to kick for. A real PMD finds them by spinning on the avail index; the lab does not
 * run every empty poll iteration (runtime/backends/dpdk/pmd_thread.ts), so something must
 * tell the thread *when* the buffers appeared.
 *
 * The intended source is the guest driver itself: when `kick_prepare` says no, the VM calls
 * the backend's `published(index, t, group)` (requested from the VM engineer in commit
 * 0197657). Until the VM does, this watch stands in: one event per lab, scheduled right after
 * the next event of anybody else (every state change of the simulation happens in an event),
 * runs each watcher's check, which compares the guest's avail index with what it saw last
 * and passes a hint to the poller. The watch goes quiet when nothing else is scheduled (then
 * nothing can change) and is re-armed by the backend on its next start or kick.
 *
 * When the watch goes quiet it tells its {@link PublishWatch.onQuiet} listeners: a polling
 * back-end then *parks* — it enables guest notifications on its receive rings, so that the
 * guest's next publication (a later `run`, which the quiet watch would not see) kicks once and
 * wakes it; it disables them again at that kick. A parked back-end costs a later run one kick,
 * like the first burst of the first run; the VM's publish hook makes parking unnecessary.
 *
 * @example
 * ```ts
 * import { Scheduler } from "../../sim/scheduler.ts";
 * import { PublishWatch } from "./publish_watch.ts";
 * const sched = new Scheduler();
 * const w = new PublishWatch(sched);
 * let checks = 0;
 * w.add(() => checks++);
 * sched.at(10, () => {});
 * sched.at(20, () => {});
 * w.arm();
 * sched.run();
 * if (checks !== 2 || w.armed) throw new Error("one check after each event, then quiet");
 * ```
 *
 * @module
 */

import type { EventHandle, Scheduler } from "../../sim/scheduler.ts";

/** Runs after another event, at that event's time (ns). */
export type PublishCheck = (now: number) => void;

/** Fires after every other event, at the same time, once its priority-0 peers ran. */
const AFTER_OTHERS = 1;

/** The stand-in publish watch of one lab; see the module documentation. */
export class PublishWatch {
  #sched: Scheduler;
  #checks = new Set<PublishCheck>();
  #quiet = new Set<() => void>();
  #pending: EventHandle | undefined = undefined;

  constructor(sched: Scheduler) {
    this.#sched = sched;
  }

  /** True while a check is scheduled. */
  get armed(): boolean {
    return this.#pending !== undefined;
  }

  /** Watches with `check` until the returned function is called. */
  add(check: PublishCheck): () => void {
    this.#checks.add(check);
    return () => {
      this.#checks.delete(check);
      if (this.#checks.size === 0 && this.#pending !== undefined) {
        this.#sched.cancel(this.#pending);
        this.#pending = undefined;
      }
    };
  }

  /** Calls `fn` whenever the watch goes quiet, until the returned function is called. */
  onQuiet(fn: () => void): () => void {
    this.#quiet.add(fn);
    return () => this.#quiet.delete(fn);
  }

  /** Schedules a check after the next event, if none is scheduled. */
  arm(): void {
    if (this.#pending !== undefined || this.#checks.size === 0) return;
    const next = this.#sched.peekTime();
    if (next === undefined) return;
    this.#pending = this.#sched.at(next, (now) => this.#fire(now), AFTER_OTHERS);
  }

  #fire(now: number): void {
    this.#pending = undefined;
    for (const c of [...this.#checks]) c(now);
    this.arm();
    if (this.#pending === undefined) { for (const q of [...this.#quiet]) q(); }
  }
}

const WATCHES = new WeakMap<object, PublishWatch>();

/** The watch of the lab that owns `sched`. */
export function publishWatchOf(owner: object, sched: Scheduler): PublishWatch {
  let w = WATCHES.get(owner);
  if (w === undefined) {
    w = new PublishWatch(sched);
    WATCHES.set(owner, w);
  }
  return w;
}
