/**
 * CPU contexts as servers. Every hop of a datapath runs on one: a guest vCPU, the QEMU main
 * loop or an iothread, a vhost worker, a DPDK PMD core, a softirq, a kernel thread, a
 * device pipeline, the wire. A context serves one job at a time in arrival order:
 * `exec(readyAt, costNs)` starts the job at `max(readyAt, busyUntil)` and keeps the context
 * busy for `costNs`. Throughput then emerges from the busiest context and latency from the
 * path plus the queueing in front of each context.
 *
 * Busy time is kept in total and per flow (a small index handed out by the metrics), so the
 * per-traffic summary can name the bottleneck. Polling contexts (PMD cores, vhost busy-poll)
 * burn their core even when idle: their idle time is reported as poll time and poll
 * iterations, separately from work. Interval figures (utilisation, poll time) start from a
 * {@link BusyMark} taken when the interval begins.
 *
 * `exec` allocates nothing (the backlog ring grows only when a new high-water mark needs it).
 * Callers get exact FIFO order when they call `exec` at the time the work becomes ready (from
 * a scheduler event); chaining reservations into the future is allowed and orders jobs by
 * call order.
 *
 * @example Two jobs ready at the same time queue behind each other
 * ```ts
 * import { CpuContext } from "./cpu_context.ts";
 * const vhost = new CpuContext("vhost", "vhost-1234");
 * const end1 = vhost.exec(100, 50);   // starts at 100
 * const end2 = vhost.exec(100, 50);   // waits for the first job
 * if (end1 !== 150 || end2 !== 200 || vhost.lastStart !== 150) throw new Error("FIFO server");
 * if (vhost.maxBacklog !== 2) throw new Error("two jobs were in the system");
 * ```
 *
 * @module
 */

/** What a context is. `name` says which one. */
export type CpuContextKind =
  /** A guest vCPU thread (guest kernel and guest apps run here). */
  | "vcpu"
  /** QEMU's main loop. */
  | "qemu"
  /** A QEMU iothread. */
  | "iothread"
  /** A vhost kernel worker ("vhost-<pid>"), also vhost_vdpa work. */
  | "vhost"
  /** A DPDK poll-mode core (testpmd, OVS-DPDK). */
  | "pmd"
  /** Host NET_RX/NET_TX softirq. */
  | "softirq"
  /** Another kernel thread (vdpa_sim worker, ksoftirqd). */
  | "kthread"
  /** A host userspace process that is not QEMU or a PMD. */
  | "process"
  /** A hardware pipeline (NIC, vDPA device, IOMMU walker). */
  | "device"
  /** A link: serialization at line rate. */
  | "wire";

/** Every kind, in a stable order. */
export const CPU_CONTEXT_KINDS: readonly CpuContextKind[] = [
  "vcpu",
  "qemu",
  "iothread",
  "vhost",
  "pmd",
  "softirq",
  "kthread",
  "process",
  "device",
  "wire",
];

/** Options of {@link CpuContext}. */
export interface CpuContextOptions {
  /** Small integer, unique in a world (trace track order); default 0. */
  id?: number;
  /** The context busy-polls (a PMD core): idle time counts as poll time. */
  polling?: boolean;
  /** Length of one empty poll iteration (ns); needed when `polling`. */
  pollIterationNs?: number;
}

/** A busy-time reading taken at the start of an interval ({@link CpuContext.mark}). */
export interface BusyMark {
  /** When the reading was taken (ns). */
  readonly t: number;
  /** Busy ns up to then. */
  readonly busy: number;
}

/** Context names appear in metric paths (`t1.cpu_ns.vhost-1234`), so no dots or spaces. */
const NAME_RE = /^[A-Za-z0-9_:-]+$/;

/** The job a caller got wrong (out of line: {@link CpuContext.exec} stays small enough to inline). */
function invalidJob(name: string, readyAt: number, costNs: number): never {
  throw new RangeError(`Invalid job on ${name}: readyAt=${readyAt} cost=${costNs}`);
}

/** A server with a FIFO queue and busy-time accounting. */
export class CpuContext {
  /** Small integer, unique in a world; used for trace tracks. */
  readonly id: number;
  /** What the context is. */
  readonly kind: CpuContextKind;
  /** Unique, stable name: `vcpu0`, `qemu-main`, `vhost-1234`, `pmd2`, `wire-ens1f0`. */
  readonly name: string;
  /** True for busy-polling contexts. */
  readonly polling: boolean;
  /** One empty poll iteration (ns); 0 when not polling. */
  readonly pollIterationNs: number;

  #busyUntil = 0;
  #lastStart = 0;
  #busyNs = 0;
  #jobs = 0;
  #waitNs = 0;
  #maxWaitNs = 0;
  #maxBacklog = 0;
  /** busy ns per flow; slot 0 is work not attributed to a flow. */
  #perFlow = new Float64Array(8);
  /** Ring of start and end times of jobs that may still be in the system (monotonic). */
  #starts = new Float64Array(16);
  #ends = new Float64Array(16);
  #head = 0;
  #count = 0;

  /** A context; throws on a name that cannot appear in a metric path. */
  constructor(kind: CpuContextKind, name: string, options: CpuContextOptions = {}) {
    if (!NAME_RE.test(name)) {
      throw new TypeError(`Invalid CPU context name "${name}": use letters, digits, _ : -`);
    }
    this.id = options.id ?? 0;
    this.kind = kind;
    this.name = name;
    this.polling = options.polling ?? false;
    this.pollIterationNs = this.polling ? (options.pollIterationNs ?? 0) : 0;
    if (this.polling && !(this.pollIterationNs > 0)) {
      throw new RangeError(`Polling context "${name}" needs pollIterationNs > 0`);
    }
  }

  /**
   * Runs a job of `costNs` that is ready at `readyAt`, attributed to `flow` (−1 = shared
   * work such as a batch wake-up). Returns the end time; the start is {@link lastStart}.
   */
  exec(readyAt: number, costNs: number, flow = -1): number {
    // `readyAt - readyAt` is NaN for NaN and ±Infinity (Number.isFinite without a call).
    if (!(costNs >= 0) || readyAt - readyAt !== 0) invalidJob(this.name, readyAt, costNs);
    // Jobs that ended by readyAt have left the system (the ring read into locals once).
    let ends = this.#ends;
    let mask = ends.length - 1;
    let head = this.#head;
    let count = this.#count;
    while (count > 0 && (ends[head] as number) <= readyAt) {
      head = (head + 1) & mask;
      count--;
    }
    const busyUntil = this.#busyUntil;
    const start = readyAt > busyUntil ? readyAt : busyUntil;
    const end = start + costNs;
    const wait = start - readyAt;
    this.#waitNs += wait;
    if (wait > this.#maxWaitNs) this.#maxWaitNs = wait;
    if (costNs > 0) {
      if (count === mask + 1) {
        this.#head = head;
        this.#count = count;
        this.#growRing();
        ends = this.#ends;
        mask = ends.length - 1;
        head = 0;
      }
      const at = (head + count) & mask;
      this.#starts[at] = start;
      ends[at] = end;
      count++;
      if (count > this.#maxBacklog) this.#maxBacklog = count;
    }
    this.#head = head;
    this.#count = count;
    this.#busyUntil = end;
    this.#lastStart = start;
    this.#busyNs += costNs;
    this.#jobs++;
    const slot = flow + 1;
    let perFlow = this.#perFlow;
    if (slot >= perFlow.length) {
      this.#growFlows(slot);
      perFlow = this.#perFlow;
    }
    perFlow[slot] = (perFlow[slot] as number) + costNs;
    return end;
  }

  /**
   * When a polling context notices work that became ready at `readyAt`: if it is busy, the
   * work simply queues (returns `readyAt`); if idle, at the end of the poll iteration in
   * progress (iterations run back to back from the end of the last job). Non-polling
   * contexts are notified, so they notice at `readyAt`.
   */
  discover(readyAt: number): number {
    // A busy poller finds the work when its current job ends; exec() queues it there.
    if (!this.polling || readyAt <= this.#busyUntil) return readyAt;
    const it = this.pollIterationNs;
    const idle = readyAt - this.#busyUntil;
    return this.#busyUntil + Math.ceil(idle / it) * it;
  }

  /** True if no job runs or waits at time `t` (a sleeping thread needs a wake-up). */
  isIdleAt(t: number): boolean {
    return this.#busyUntil <= t;
  }

  /** End of the last reserved job (ns). */
  get busyUntil(): number {
    return this.#busyUntil;
  }

  /** Start of the job of the last {@link exec} call (ns). */
  get lastStart(): number {
    return this.#lastStart;
  }

  /** Total busy (work) ns, reserved jobs included. */
  get busyNs(): number {
    return this.#busyNs;
  }

  /** Busy ns attributed to `flow` (−1 = shared work). */
  busyNsOf(flow: number): number {
    return this.#perFlow[flow + 1] ?? 0;
  }

  /**
   * Busy ns accumulated up to time `t`: all work minus the part of reserved jobs that lies
   * after `t`. Exact for `t` at or after the `readyAt` of the latest {@link exec} (the
   * current clock, typically); for an earlier instant take the reading at that instant.
   */
  busyAt(t: number): number {
    if (t >= this.#busyUntil) return this.#busyNs;
    let after = 0;
    const cap = this.#ends.length;
    for (let i = 0; i < this.#count; i++) {
      const at = (this.#head + i) & (cap - 1);
      const end = this.#ends[at] as number;
      if (end <= t) continue;
      const start = this.#starts[at] as number;
      after += end - (start > t ? start : t);
    }
    return this.#busyNs - after;
  }

  /** A reading of {@link busyAt} at `t`, to measure an interval that starts now. */
  mark(t: number): BusyMark {
    return { t, busy: this.busyAt(t) };
  }

  /** Fraction of `[mark.t, to)` spent working. */
  utilisationSince(mark: BusyMark, to: number): number {
    if (!(to > mark.t)) return 0;
    return Math.min(1, Math.max(0, (this.busyAt(to) - mark.busy) / (to - mark.t)));
  }

  /** Idle ns a polling context spent polling in `[mark.t, to)`; 0 for others. */
  pollNsSince(mark: BusyMark, to: number): number {
    if (!this.polling || !(to > mark.t)) return 0;
    return Math.max(0, to - mark.t - (this.busyAt(to) - mark.busy));
  }

  /** Empty poll iterations in `[mark.t, to)` (whole iterations, rounded down). */
  pollIterationsSince(mark: BusyMark, to: number): number {
    return this.polling ? Math.floor(this.pollNsSince(mark, to) / this.pollIterationNs) : 0;
  }

  /** Jobs executed. */
  get jobs(): number {
    return this.#jobs;
  }

  /** Total ns jobs waited between ready and start. */
  get waitNs(): number {
    return this.#waitNs;
  }

  /** Longest wait of a single job (ns). */
  get maxWaitNs(): number {
    return this.#maxWaitNs;
  }

  /** High-water mark of jobs in the system (in service plus waiting) at an arrival. */
  get maxBacklog(): number {
    return this.#maxBacklog;
  }

  #growRing(): void {
    const cap = this.#ends.length;
    const starts = new Float64Array(cap * 2);
    const ends = new Float64Array(cap * 2);
    for (let i = 0; i < this.#count; i++) {
      const at = (this.#head + i) & (cap - 1);
      starts[i] = this.#starts[at] as number;
      ends[i] = this.#ends[at] as number;
    }
    this.#starts = starts;
    this.#ends = ends;
    this.#head = 0;
  }

  #growFlows(slot: number): void {
    let n = this.#perFlow.length;
    while (n <= slot) n *= 2;
    const next = new Float64Array(n);
    next.set(this.#perFlow);
    this.#perFlow = next;
  }
}
