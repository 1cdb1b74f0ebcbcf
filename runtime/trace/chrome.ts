/**
 * Chrome trace-event JSON (the "JSON Array/Object format" that chrome://tracing, Perfetto
 * and speedscope load): one track (thread) per CPU context with a `thread_name` metadata
 * event, one complete slice (`ph: "X"`) per hop, instant events (`ph: "i"`) for control-plane
 * steps, and flow arrows (`ph: "s"` / `"t"` / `"f"`) that follow each packet from hop to hop.
 *
 * Timestamps are µs with ns precision (`ts = round(ns) / 1000`; a slice's `dur` is the
 * difference of its rounded end and start, so adjacent slices never overlap). Objects are
 * built with a fixed key order and `args` use the text form's canonical key order, so the
 * same trace always serialises to the same bytes.
 *
 * @example
 * ```ts
 * import { toChromeTrace } from "./chrome.ts";
 * const json = toChromeTrace([
 *   { type: "hop", t: 0, dur: 300, ctx: "vcpu0", comp: "guest.virtio-net", action: "xmit",
 *     flow: "t1", pkt: 1, details: { dev: "eth0", bytes: 64 } },
 *   { type: "hop", t: 1000, dur: 60, ctx: "vhost-1", comp: "vhost-net", action: "pop",
 *     flow: "t1", pkt: 1, details: { q: "tx0", head: 0, descs: 1, bytes: 76 } },
 * ]);
 * const doc = JSON.parse(json);
 * const flows = doc.traceEvents.filter((e: { ph: string }) => e.ph === "s" || e.ph === "f");
 * if (flows.length !== 2) throw new Error("one arrow per packet");
 * ```
 *
 * @module
 */

import type { AnyHopEvent, TraceEvent } from "./event.ts";
import { canonicalKeys } from "./format.ts";

/** Options of {@link toChromeTrace}. */
export interface ChromeTraceOptions {
  /**
   * Context names in track order (e.g. `metrics.contexts.map((c) => c.name)`), so tracks
   * exist and keep their order even when a context recorded nothing. Contexts seen only in
   * events follow in order of first appearance.
   */
  contexts?: readonly string[];
  /** The process name shown above the tracks (default `vdpa-lab`). */
  processName?: string;
}

const PID = 1;
/** Control events with no context go on their own track. */
const CONTROL_TRACK = "control-plane";

function us(ns: number): number {
  return Math.round(ns) / 1000;
}

function args(details: Readonly<Record<string, unknown>>, extra: Record<string, unknown>) {
  const out: Record<string, unknown> = { ...extra };
  for (const k of canonicalKeys(details)) out[k] = details[k];
  return out;
}

/** Serialises events as a Chrome trace-event JSON object. */
export function toChromeTrace(
  events: readonly TraceEvent[],
  options: ChromeTraceOptions = {},
): string {
  const tids = new Map<string, number>();
  const tidOf = (name: string): number => {
    let tid = tids.get(name);
    if (tid === undefined) {
      tid = tids.size + 1;
      tids.set(name, tid);
    }
    return tid;
  };
  for (const c of options.contexts ?? []) tidOf(c);
  for (const e of events) {
    if (e.type === "hop") tidOf(e.ctx);
    else if (e.type === "control") tidOf(e.ctx === "" ? CONTROL_TRACK : e.ctx);
  }

  const out: Record<string, unknown>[] = [];
  out.push({
    name: "process_name",
    ph: "M",
    pid: PID,
    tid: 0,
    args: { name: options.processName ?? "vdpa-lab" },
  });
  for (const [name, tid] of tids) {
    out.push({ name: "thread_name", ph: "M", pid: PID, tid, args: { name } });
    out.push({ name: "thread_sort_index", ph: "M", pid: PID, tid, args: { sort_index: tid } });
  }

  // Hops grouped by packet, in order, for the flow arrows.
  const packets = new Map<string, AnyHopEvent[]>();
  for (const e of events) {
    if (e.type === "hop") {
      const start = Math.round(e.t);
      out.push({
        name: e.action,
        cat: e.comp,
        ph: "X",
        ts: start / 1000,
        dur: (Math.round(e.t + e.dur) - start) / 1000,
        pid: PID,
        tid: tidOf(e.ctx),
        args: args(e.details as Record<string, unknown>, { packet: `${e.flow}#${e.pkt}` }),
      });
      const key = `${e.flow}#${e.pkt}`;
      let list = packets.get(key);
      if (list === undefined) {
        list = [];
        packets.set(key, list);
      }
      list.push(e);
    } else if (e.type === "control") {
      out.push({
        name: e.action,
        cat: e.comp,
        ph: "i",
        s: "t",
        ts: us(e.t),
        pid: PID,
        tid: tidOf(e.ctx === "" ? CONTROL_TRACK : e.ctx),
        args: args(e.details, {}),
      });
    } else {
      out.push({
        name: `trace cap reached: ${e.omitted} events not kept`,
        cat: "trace",
        ph: "i",
        s: "g",
        ts: us(e.t),
        pid: PID,
        tid: 0,
      });
    }
  }

  let id = 0;
  for (const [key, hops] of packets) {
    if (hops.length < 2) continue;
    id++;
    hops.forEach((h, i) => {
      const ph = i === 0 ? "s" : i === hops.length - 1 ? "f" : "t";
      const ev: Record<string, unknown> = {
        name: key,
        cat: "packet",
        ph,
        id,
        ts: us(h.t),
        pid: PID,
        tid: tidOf(h.ctx),
      };
      // Bind the arrow's end to the slice that encloses it, not to the next slice.
      if (ph === "f") ev.bp = "e";
      out.push(ev);
    });
  }
  return JSON.stringify({ displayTimeUnit: "ns", traceEvents: out });
}
