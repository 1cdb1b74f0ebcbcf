/**
 * The one stable text form of trace events, used by the REPL, `trace T packet N`, the
 * examples and the golden tests. No wall clock, fixed columns, deterministic numbers:
 *
 * ```text
 *         t(ns)  cost(ns)  context         component           action           details
 *          1200       700  vcpu0           kvm                 vmexit           q=tx0 reason=ept-misconfig exit=light
 * ```
 *
 * - Times and costs are ns, integers when whole, else at most 3 decimals (`16.4`).
 * - Details are `key=value`, keys in one canonical order (the queue first, then indices,
 *   sizes, addresses, names), whatever order the datapath wrote them in.
 * - Addresses (`addr`, `to` of a translation, `iova`, `gpa`, `hva`, `pa`, `uaddr`) print
 *   in hex; rates (`bps`) with a unit; lists comma-separated; text with spaces quoted.
 * - A column wider than its slot pushes the rest right by the overflow and one space.
 *
 * @example
 * ```ts
 * import { formatHop } from "./format.ts";
 * const line = formatHop({
 *   type: "hop", t: 1250, dur: 60, ctx: "vhost-1234", comp: "vhost-net", action: "pop",
 *   flow: "t1", pkt: 1, details: { bytes: 72, q: "tx0", descs: 1, head: 0 },
 * });
 * if (!line.endsWith("pop              q=tx0 head=0 descs=1 bytes=72")) throw new Error(line);
 * ```
 *
 * @module
 */

import type { AnyHopEvent, ControlEvent, DetailValue, TraceEvent } from "./event.ts";
import type { PacketTrace } from "./recorder.ts";

/** Column widths: time, cost, context, component, action. */
const W_T = 12;
const W_DUR = 9;
const W_CTX = 15;
const W_COMP = 19;
const W_ACTION = 16;
const W_PKT = 9;

/** The canonical order of detail keys; others follow alphabetically. */
const KEY_ORDER = [
  "dev",
  "link",
  "q",
  "kind",
  "thread",
  "name",
  "fd",
  "head",
  "descs",
  "ids",
  "avail",
  "used",
  "space",
  "dir",
  "addr",
  "from",
  "to",
  "len",
  "bytes",
  "pkts",
  "found",
  "budget",
  "work",
  "batch",
  "hit",
  "roundtrip",
  "reason",
  "exit",
  "via",
  "vector",
  "why",
  "what",
  "value",
  "bps",
  "latency",
  "detail",
];
const KEY_RANK = new Map(KEY_ORDER.map((k, i) => [k, i]));
const HEX_KEYS = new Set(["addr", "iova", "gpa", "hva", "pa", "uaddr"]);

/** ns as text: whole numbers plain, else up to 3 decimals, no exponent. */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return String(ns);
  const r = Math.round(ns * 1000) / 1000;
  if (Object.is(r, -0) || r === 0) return "0";
  if (Number.isInteger(r)) return r.toFixed(0);
  return r.toFixed(3).replace(/0+$/, "");
}

/** A bit rate with a unit: `10Gbps`, `2.5Gbps`, `100Mbps`. */
export function formatBps(bps: number): string {
  const units: [number, string][] = [[1e12, "Tbps"], [1e9, "Gbps"], [1e6, "Mbps"], [1e3, "Kbps"]];
  for (const [scale, unit] of units) {
    if (bps >= scale) return `${formatNs(bps / scale)}${unit}`;
  }
  return `${formatNs(bps)}bps`;
}

function hex(n: number): string {
  return n >= 0 && Number.isInteger(n) ? `0x${n.toString(16)}` : formatNs(n);
}

function formatValue(key: string, v: DetailValue, hexTo: boolean): string {
  if (typeof v === "number") {
    if (HEX_KEYS.has(key) || (hexTo && key === "to")) return hex(v);
    if (key === "bps") return formatBps(v);
    return formatNs(v);
  }
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "string") return v === "" || /[\s="]/.test(v) ? JSON.stringify(v) : v;
  return v.map((x) => formatNs(x)).join(",");
}

/** The defined keys of `details` in canonical order (shared with the JSON exports). */
export function canonicalKeys(details: Readonly<Record<string, unknown>>): string[] {
  const keys = Object.keys(details).filter((k) => details[k] !== undefined);
  keys.sort((a, b) => {
    const ra = KEY_RANK.get(a) ?? Infinity;
    const rb = KEY_RANK.get(b) ?? Infinity;
    return ra !== rb ? ra - rb : a < b ? -1 : a > b ? 1 : 0;
  });
  return keys;
}

/** `key=value …` in canonical key order; undefined values are left out. */
export function formatDetails(
  details: Readonly<Record<string, DetailValue | undefined>>,
  options: { hexTo?: boolean } = {},
): string {
  return canonicalKeys(details)
    .map((k) => `${k}=${formatValue(k, details[k] as DetailValue, options.hexTo ?? false)}`)
    .join(" ");
}

/** Pads `s` to `w` (left-aligned), always leaving one space after it. */
function col(s: string, w: number): string {
  return s.length >= w ? `${s} ` : s.padEnd(w + 1);
}
function rcol(s: string, w: number): string {
  return s.length >= w ? `${s} ` : `${s.padStart(w)} `;
}

function line(
  t: number,
  dur: number,
  ctx: string,
  comp: string,
  action: string,
  details: string,
  pkt: string | undefined,
): string {
  let s = rcol(formatNs(t), W_T) + " " + rcol(formatNs(dur), W_DUR) + " ";
  if (pkt !== undefined) s += col(pkt, W_PKT);
  s += col(ctx === "" ? "-" : ctx, W_CTX) + col(comp, W_COMP) + col(action, W_ACTION) + details;
  return s.trimEnd();
}

/** The column header (with a `packet` column when `withPacket`). */
export function formatHeader(withPacket = false): string {
  let s = rcol("t(ns)", W_T) + " " + rcol("cost(ns)", W_DUR) + " ";
  if (withPacket) s += col("packet", W_PKT);
  s += col("context", W_CTX) + col("component", W_COMP) + col("action", W_ACTION) + "details";
  return s;
}

/** One hop as a line (no packet column). */
export function formatHop(e: AnyHopEvent): string {
  return line(e.t, e.dur, e.ctx, e.comp, e.action, hopDetails(e), undefined);
}

function hopDetails(e: AnyHopEvent): string {
  return formatDetails(e.details as Readonly<Record<string, DetailValue | undefined>>, {
    hexTo: e.action === "translate",
  });
}

/** One control event as a line (no packet column). */
export function formatControl(e: ControlEvent): string {
  return line(e.t, e.dur, e.ctx, e.comp, e.action, formatDetails(e.details), undefined);
}

/** One event of any type, with the packet column (`t1#3`, `-` for control events). */
export function formatEvent(e: TraceEvent): string {
  switch (e.type) {
    case "hop":
      return line(e.t, e.dur, e.ctx, e.comp, e.action, hopDetails(e), `${e.flow}#${e.pkt}`);
    case "control":
      return line(e.t, e.dur, e.ctx, e.comp, e.action, formatDetails(e.details), "-");
    case "truncated":
      return `${formatNs(e.t).padStart(W_T)} --- trace cap reached: ${e.omitted} more event${
        e.omitted === 1 ? "" : "s"
      } not kept ---`;
  }
}

/** A listing of events with a header line. */
export function formatEvents(events: readonly TraceEvent[]): string {
  return [formatHeader(true), ...events.map(formatEvent)].join("\n");
}

/**
 * `trace T packet N`: a title line, the header and one line per hop. The title gives the
 * hop count, the time from the first hop's start to the last hop's end, and the CPU cost.
 */
export function formatPacketTrace(trace: PacketTrace): string {
  const hops = trace.hops;
  const sum = packetTraceSummary(trace);
  const end = sum.hops === 0
    ? "no hops"
    : sum.fate === "dropped"
    ? `dropped (${sum.reason})`
    : sum.fate;
  const title =
    `packet ${trace.pkt} of ${trace.flow}: ${hops.length} hop${hops.length === 1 ? "" : "s"}, ${
      formatNs(sum.spanNs)
    } ns, cost ${formatNs(sum.costNs)} ns, ${end}` +
    (trace.complete ? "" : " (partial: not every hop was recorded)");
  return [title, formatHeader(false), ...hops.map(formatHop)].join("\n");
}

/** The totals of a packet trace: what its title line says, as data (`trace --json`). */
export interface PacketTraceSummary {
  readonly hops: number;
  /** From the first hop's start to the last hop's end (ns). */
  readonly spanNs: number;
  /** CPU time charged over all hops (ns). */
  readonly costNs: number;
  readonly fate: "delivered" | "dropped" | "in flight";
  /** The drop reason, for a dropped packet. */
  readonly reason?: string;
}

/** The totals of `trace`; see {@link PacketTraceSummary}. */
export function packetTraceSummary(trace: PacketTrace): PacketTraceSummary {
  const hops = trace.hops;
  const first = hops[0];
  const last = hops[hops.length - 1];
  const spanNs = first && last ? last.t + last.dur - first.t : 0;
  let costNs = 0;
  for (const h of hops) costNs += h.dur;
  // Completion hops (TX used-buffer interrupts) may follow the delivery, so the packet's
  // fate is its deliver or drop hop wherever it stands.
  const fate = hops.find((h) => h.action === "deliver" || h.action === "drop");
  if (fate?.action === "drop") {
    return {
      hops: hops.length,
      spanNs,
      costNs,
      fate: "dropped",
      reason: String(fate.details.reason),
    };
  }
  return {
    hops: hops.length,
    spanNs,
    costNs,
    fate: fate?.action === "deliver" ? "delivered" : "in flight",
  };
}
