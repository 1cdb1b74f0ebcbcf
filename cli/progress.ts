/**
 * Progress of a long run on standard error: a one-line spinner (with a percentage when the run
 * reports how far it is) that appears only after a run has taken about a second, only on a
 * terminal, and is erased when the run ends, so short runs and piped output never see it.
 *
 * The hook a run reports through is {@link ProgressReporter}: the lab's run loop calls it now
 * and then with what it has done and awaits the returned promise, which gives the event loop a
 * turn (about every 50 ms of wall time) so the REPL can see Ctrl-C while a run is going on.
 *
 * @example
 * ```ts
 * import { Progress } from "./progress.ts";
 * let out = "";
 * let now = 0;
 * const p = new Progress({ write: (t) => void (out += t), now: () => now, enabled: true });
 * p.start("run");
 * p.update({ done: 10, total: 100 });
 * if (out !== "") throw new Error("nothing in the first second");
 * now = 1500;
 * p.update({ done: 50, total: 100 });
 * if (!out.includes("run 50%")) throw new Error(out);
 * p.stop();
 * if (!out.endsWith("\r\x1b[K")) throw new Error("the line is erased");
 * ```
 *
 * @module
 */

import type { RunProgressInfo } from "../stdlib/exec.ts";

/** How far a run is. */
export interface RunProgress {
  /** Units done (packets, events, ns of virtual time: the reporter chooses). */
  readonly done: number;
  /** Units in all, when known. */
  readonly total?: number;
  /** What is running now (`t1`, `10ms`). */
  readonly label?: string;
}

/** What a run calls with its progress; awaiting it lets the terminal react (Ctrl-C). */
export type ProgressReporter = (progress: RunProgress) => Promise<void>;

/** Options of {@link Progress}. */
export interface ProgressOptions {
  /** Writes to standard error. */
  readonly write: (text: string) => void;
  /** Wall-clock milliseconds. */
  readonly now: () => number;
  /** False: draws nothing (not a terminal, `--quiet`, `--json`). */
  readonly enabled: boolean;
  /** Quiet time before the line appears (default 1000 ms). */
  readonly delayMs?: number;
}

const FRAMES = ["|", "/", "-", "\\"];
/** Redraw at most this often. */
const REDRAW_MS = 100;
/** Give the event loop a turn at most this often. */
const YIELD_MS = 50;

/** The spinner line of one run at a time. */
export class Progress {
  readonly #o: ProgressOptions;
  #label = "";
  #startedAt: number | undefined;
  #drawnAt: number | undefined;
  #yieldedAt = 0;
  #frame = 0;
  #last: RunProgress | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: ProgressOptions) {
    this.#o = options;
  }

  /** A run starts; with a timer the spinner turns even while the run awaits. */
  start(label: string, options: { readonly timer?: boolean } = {}): void {
    this.stop();
    this.#label = label;
    this.#startedAt = this.#o.now();
    this.#yieldedAt = this.#startedAt;
    this.#last = undefined;
    if (this.#o.enabled && options.timer) {
      this.#timer = setInterval(() => this.#tick(), REDRAW_MS);
    }
  }

  /** The run reports progress. */
  update(p: RunProgress): void {
    this.#last = p;
    this.#tick();
  }

  /** A {@link ProgressReporter} that draws and yields to the event loop now and then. */
  reporter(): ProgressReporter {
    return (p) => {
      this.update(p);
      const now = this.#o.now();
      if (now - this.#yieldedAt < YIELD_MS) return Promise.resolve();
      this.#yieldedAt = now;
      return new Promise((resolve) => setTimeout(resolve, 0));
    };
  }

  /**
   * Erases the line, if drawn, before other output goes to the terminal; the run goes on and
   * the line comes back at the next redraw.
   */
  clear(): void {
    if (this.#drawnAt === undefined) return;
    this.#o.write("\r\x1b[K");
    this.#drawnAt = undefined;
  }

  /** The run ended: erase the line. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#drawnAt !== undefined) this.#o.write("\r\x1b[K");
    this.#drawnAt = undefined;
    this.#startedAt = undefined;
  }

  /** Draws the line if the run is old enough and the last draw is not too recent. */
  #tick(): void {
    if (!this.#o.enabled || this.#startedAt === undefined) return;
    const now = this.#o.now();
    const elapsed = now - this.#startedAt;
    if (elapsed < (this.#o.delayMs ?? 1000)) return;
    if (this.#drawnAt !== undefined && now - this.#drawnAt < REDRAW_MS) return;
    this.#drawnAt = now;
    const frame = FRAMES[this.#frame++ % FRAMES.length];
    const p = this.#last;
    const pct = p?.total !== undefined && p.total > 0
      ? ` ${Math.min(100, Math.floor((p.done / p.total) * 100))}%`
      : "";
    const label = p?.label !== undefined ? ` ${p.label}` : "";
    const secs = (elapsed / 1000).toFixed(1);
    this.#o.write(`\r${frame} ${this.#label}${pct}${label} (${secs} s, Ctrl-C stops)\x1b[K`);
  }
}

/** A run's progress as the spinner shows it: virtual time of `run DURATION`, else packets. */
export function runProgressOf(p: RunProgressInfo): RunProgress {
  const label = `${formatVirtual(p.doneNs)} virtual`;
  if (p.totalNs !== undefined) return { done: p.doneNs, total: p.totalNs, label };
  return { done: p.sent, ...(p.count !== undefined ? { total: p.count } : {}), label };
}

function formatVirtual(ns: number): string {
  if (ns < 1e3) return `${ns} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(1)} us`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(1)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}
