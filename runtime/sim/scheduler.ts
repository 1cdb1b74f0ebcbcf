/**
 * The discrete-event engine: a binary heap of events ordered by (time, priority, seq) on a
 * virtual clock in nanoseconds. `seq` is an insertion counter, so events at the same time
 * and priority fire in the order they were scheduled (SimPy's rule) and a run is the same
 * byte for byte every time.
 *
 * Scheduling allocates exactly one entry object (which is also the cancellable handle);
 * nothing else is allocated per event. {@link Scheduler.post} schedules without a handle and
 * recycles its entry once it fired, so a hot path that never cancels allocates nothing. A
 * handler that would end by scheduling its own continuation can ask
 * {@link Scheduler.continueAt} whether that continuation would be the very next event; if
 * so it simply carries on (the clock moves, the event counts as fired) instead of going
 * through the heap — same order, same clock, fewer heap operations. A run can stop on a
 * time limit, an event budget, or a `shouldStop` callback polled every `checkEvery` events
 * (how a REPL Ctrl-C ends a long run), and a later `run()` resumes exactly where it stopped.
 *
 * @example Events fire in time order, ties in scheduling order
 * ```ts
 * import { Scheduler } from "./scheduler.ts";
 * const s = new Scheduler();
 * const seen: string[] = [];
 * s.at(20, () => seen.push("late"));
 * s.at(10, () => seen.push("a"));
 * s.at(10, () => seen.push("b"));
 * s.after(5, (now) => seen.push(`first@${now}`));
 * s.run();
 * if (seen.join() !== "first@5,a,b,late") throw new Error(seen.join());
 * ```
 *
 * @module
 */

/** What an event runs: `now` is the event's time, `arg` what was passed when scheduling. */
export type EventFn<T = undefined> = (now: number, arg: T) => void;

/** A scheduled event; pass it to {@link Scheduler.cancel}. */
export interface EventHandle {
  /** When the event fires (ns). */
  readonly time: number;
  /** Lower fires first among events at the same time. */
  readonly priority: number;
  /** True until the event fires or is cancelled. */
  readonly pending: boolean;
}

const PENDING = 0;
const FIRED = 1;
const CANCELLED = 2;

class Entry implements EventHandle {
  time: number;
  priority: number;
  seq: number;
  fn: EventFn<unknown> | undefined;
  arg: unknown;
  state: number;
  /** Scheduled by {@link Scheduler.post}: nobody holds it, it is reused once fired. */
  pooled: boolean;
  constructor(
    time: number,
    priority: number,
    seq: number,
    fn: EventFn<unknown>,
    arg: unknown,
    pooled: boolean,
  ) {
    this.time = time;
    this.priority = priority;
    this.seq = seq;
    this.fn = fn;
    this.arg = arg;
    this.state = PENDING;
    this.pooled = pooled;
  }
  get pending(): boolean {
    return this.state === PENDING;
  }
}

// Event order, written out inline where the heap compares two entries ("a before b"): earlier
// time, then lower priority, then scheduled first (seq).

/** Options of {@link Scheduler.run}. */
export interface RunOptions {
  /** Fire events with time ≤ `until`, then set the clock to `until`. */
  until?: number;
  /** Fire at most this many events in this call. */
  maxEvents?: number;
  /** Polled every `checkEvery` events; returning true stops the run (resumable). */
  shouldStop?: () => boolean;
  /** How often `shouldStop` is polled (default 4096 events). */
  checkEvery?: number;
}

/** Why {@link Scheduler.run} returned. */
export type RunStop =
  /** No event left (with `until`, the clock now reads `until`). */
  | "idle"
  /** The next event is after `until`; the clock now reads `until`. */
  | "until"
  /** `maxEvents` events fired. */
  | "max-events"
  /** `shouldStop` returned true. */
  | "stopped";

/** What a run did. */
export interface RunOutcome {
  /** Why the run returned. */
  readonly stop: RunStop;
  /** Events fired by this call. */
  readonly events: number;
  /** The clock when the run returned (ns). */
  readonly now: number;
}

/** Recycled entries kept at most (a burst of posts beyond this allocates). */
const POOL_MAX = 4096;

/** The event heap and the virtual clock. */
export class Scheduler {
  readonly #heap: Entry[] = [];
  #now = 0;
  #seq = 0;
  #pending = 0;
  #cancelledInHeap = 0;
  #fired = 0;
  #running = false;
  /** Entries of fired posts, ready for reuse. */
  readonly #pool: Entry[] = [];
  // The run in progress (for continueAt): its limits and the events it fired so far,
  // the one firing included.
  #runUntil = Infinity;
  #runMax = Infinity;
  #runCheck = 0;
  #runCount = 0;

  /** The virtual clock (ns). Starts at 0; only moves forward. */
  get now(): number {
    return this.#now;
  }

  /** Events scheduled and neither fired nor cancelled. */
  get pending(): number {
    return this.#pending;
  }

  /** Events fired since creation. */
  get fired(): number {
    return this.#fired;
  }

  /**
   * Schedules `fn` at absolute time `time` (ns, ≥ now). Lower `priority` fires first among
   * events at the same time; equal priorities fire in scheduling order.
   */
  at<T = undefined>(time: number, fn: EventFn<T>, priority = 0, arg?: T): EventHandle {
    if (!(time >= this.#now)) {
      throw new RangeError(
        `Cannot schedule at ${time} ns: the clock already reads ${this.#now} ns`,
      );
    }
    if (!Number.isFinite(priority)) throw new RangeError(`Invalid priority ${priority}`);
    const e = new Entry(time, priority, this.#seq++, fn as EventFn<unknown>, arg, false);
    this.#push(e);
    this.#pending++;
    return e;
  }

  /**
   * {@link at} for an event nobody will cancel: no handle is returned, and the entry is
   * recycled after it fired (a hot path posting one event per packet allocates nothing).
   */
  post<T = undefined>(time: number, fn: EventFn<T>, priority = 0, arg?: T): void {
    if (!(time >= this.#now)) {
      throw new RangeError(
        `Cannot schedule at ${time} ns: the clock already reads ${this.#now} ns`,
      );
    }
    if (!Number.isFinite(priority)) throw new RangeError(`Invalid priority ${priority}`);
    const pool = this.#pool;
    let e: Entry;
    if (pool.length > 0) {
      e = pool.pop() as Entry;
      e.time = time;
      e.priority = priority;
      e.seq = this.#seq++;
      e.fn = fn as EventFn<unknown>;
      e.arg = arg;
      e.state = PENDING;
    } else e = new Entry(time, priority, this.#seq++, fn as EventFn<unknown>, arg, true);
    this.#push(e);
    this.#pending++;
  }

  /**
   * Called by a handler, as the last thing it does, instead of scheduling its own
   * continuation at `time` with `priority`: true when that continuation would be the next
   * event to fire anyway (no pending event comes before it, the run's time limit, event
   * budget and stop polling allow it). The clock then reads `time` and the continuation
   * counts as a fired event; the caller runs it right away. False: schedule it as usual.
   *
   * Only valid at the tail of a handler the scheduler itself called (nothing of the
   * current event may run after the continuation), never from code that outlives the
   * event (a caller that goes on after the handler returns would run out of order).
   */
  continueAt(time: number, priority = 0): boolean {
    if (!this.#running || !(time >= this.#now) || time > this.#runUntil) return false;
    const count = this.#runCount;
    if (count >= this.#runMax || (this.#runCheck > 0 && count % this.#runCheck === 0)) {
      return false;
    }
    this.#dropCancelledTop();
    const top = this.#heap[0];
    // An event at the same time and priority was scheduled earlier: it goes first.
    if (top !== undefined && (top.time < time || (top.time === time && top.priority <= priority))) {
      return false;
    }
    this.#now = time;
    this.#fired++;
    this.#runCount = count + 1;
    return true;
  }

  /** Schedules `fn` `delay` ns from now (delay ≥ 0). */
  after<T = undefined>(delay: number, fn: EventFn<T>, priority = 0, arg?: T): EventHandle {
    if (!(delay >= 0)) throw new RangeError(`Invalid delay ${delay} ns`);
    return this.at(this.#now + delay, fn, priority, arg);
  }

  /** Cancels a pending event. Returns false if it already fired or was cancelled. */
  cancel(handle: EventHandle): boolean {
    const e = handle as Entry;
    if (e.state !== PENDING) return false;
    e.state = CANCELLED;
    e.fn = undefined;
    e.arg = undefined;
    this.#pending--;
    this.#cancelledInHeap++;
    // Timers that are re-armed over and over would otherwise fill the heap with corpses.
    if (this.#cancelledInHeap > 64 && this.#cancelledInHeap * 2 > this.#heap.length) {
      this.#compact();
    }
    return true;
  }

  /** Time of the next pending event, or undefined when idle. */
  peekTime(): number | undefined {
    this.#dropCancelledTop();
    return this.#heap[0]?.time;
  }

  /** Fires the next event. Returns false when there is none. */
  step(): boolean {
    this.#dropCancelledTop();
    const e = this.#pop();
    if (!e) return false;
    this.#fire(e);
    return true;
  }

  /** Fires events until a stop condition; see {@link RunOptions}. Resumable. */
  run(options: RunOptions = {}): RunOutcome {
    if (this.#running) throw new Error("Scheduler.run() is not reentrant");
    const until = options.until ?? Infinity;
    const maxEvents = options.maxEvents ?? Infinity;
    const shouldStop = options.shouldStop;
    const checkEvery = Math.max(1, Math.floor(options.checkEvery ?? 4096));
    if (until < this.#now) {
      throw new RangeError(`Cannot run until ${until} ns: the clock already reads ${this.#now} ns`);
    }
    this.#running = true;
    this.#runUntil = until;
    this.#runMax = maxEvents;
    this.#runCheck = shouldStop !== undefined ? checkEvery : 0;
    this.#runCount = 0;
    const heap = this.#heap;
    let stop: RunStop = "idle";
    try {
      for (;;) {
        const n = this.#runCount;
        if (n >= maxEvents) {
          stop = "max-events";
          break;
        }
        if (shouldStop !== undefined && n % checkEvery === 0 && n > 0 && shouldStop()) {
          stop = "stopped";
          break;
        }
        const top = heap[0];
        if (top === undefined) {
          stop = "idle";
          break;
        }
        if (top.state === CANCELLED) {
          this.#pop();
          this.#cancelledInHeap--;
          continue;
        }
        if (top.time > until) {
          stop = "until";
          break;
        }
        this.#pop();
        this.#runCount = n + 1;
        // #fire, inlined: the loop runs once per event
        const time = top.time;
        this.#now = time;
        const fn = top.fn as EventFn<unknown>;
        const arg = top.arg;
        top.state = FIRED;
        top.fn = undefined;
        top.arg = undefined;
        this.#pending--;
        this.#fired++;
        if (top.pooled && this.#pool.length < POOL_MAX) this.#pool.push(top);
        fn(time, arg);
      }
      if ((stop === "until" || stop === "idle") && until !== Infinity) this.#now = until;
    } finally {
      this.#running = false;
      this.#runUntil = Infinity;
      this.#runMax = Infinity;
    }
    return { stop, events: this.#runCount, now: this.#now };
  }

  #fire(e: Entry): void {
    const time = e.time;
    this.#now = time;
    const fn = e.fn;
    const arg = e.arg;
    e.state = FIRED;
    e.fn = undefined;
    e.arg = undefined;
    this.#pending--;
    this.#fired++;
    if (e.pooled && this.#pool.length < POOL_MAX) this.#pool.push(e);
    fn?.(time, arg);
  }

  #dropCancelledTop(): void {
    const h = this.#heap;
    while (h.length > 0 && (h[0] as Entry).state === CANCELLED) {
      this.#pop();
      this.#cancelledInHeap--;
    }
  }

  #compact(): void {
    // In place: run() holds on to the heap array. Keys are unique (seq), so any valid heap of
    // the live entries pops them in the same order.
    const h = this.#heap;
    const live = h.filter((e) => e.state === PENDING);
    h.length = 0;
    this.#cancelledInHeap = 0;
    for (const e of live) this.#push(e);
  }

  #push(e: Entry): void {
    const h = this.#heap;
    const time = e.time;
    const priority = e.priority;
    const seq = e.seq;
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as Entry;
      const pt = parent.time;
      // stop once the parent fires first (parent before e)
      if (
        pt < time ||
        (pt === time &&
          (parent.priority < priority || (parent.priority === priority && parent.seq < seq)))
      ) break;
      h[i] = parent;
      i = p;
    }
    h[i] = e;
  }

  #pop(): Entry | undefined {
    const h = this.#heap;
    const top = h[0];
    if (top === undefined) return undefined;
    const last = h.pop() as Entry;
    const n = h.length;
    if (n > 0) {
      const lt = last.time;
      const lp = last.priority;
      const ls = last.seq;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        let c = l;
        let child = h[l] as Entry;
        if (l + 1 < n) {
          const right = h[l + 1] as Entry;
          const rt = right.time;
          const ct = child.time;
          // right before child
          if (
            rt < ct ||
            (rt === ct &&
              (right.priority < child.priority ||
                (right.priority === child.priority && right.seq < child.seq)))
          ) {
            c = l + 1;
            child = right;
          }
        }
        const ct = child.time;
        // stop once `last` fires first (child not before last)
        if (
          !(ct < lt ||
            (ct === lt && (child.priority < lp || (child.priority === lp && child.seq < ls))))
        ) break;
        h[i] = child;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
