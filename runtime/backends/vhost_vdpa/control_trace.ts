/**
 * Where the vDPA and VFIO control planes record their steps: a clock and a sink of
 * {@link ControlEvent}s (the lab's recorder, or an array in a test). Each step names the
 * context it ran on (`qemu-vm1:main` for QEMU's ioctls, the kernel otherwise) and its
 * component (`vhost-vdpa`, `vfio`, `qemu`).
 *
 * @example Collecting the steps of a test
 * ```ts
 * import { arrayControlTrace } from "./control_trace.ts";
 * const { trace, events } = arrayControlTrace();
 * trace.emit({ type: "control", t: trace.now(), dur: 0, ctx: "", comp: "vhost-vdpa",
 *   action: "ioctl", details: { name: "VHOST_SET_OWNER" } });
 * if (events[0]?.details.name !== "VHOST_SET_OWNER") throw new Error("recorded");
 * ```
 *
 * @module
 */

import type { ControlEvent, DetailValue } from "../../trace/event.ts";

/** A clock and a sink for control-plane events. */
export interface ControlTrace {
  /** Virtual time (ns). */
  now(): number;
  /** Records one step. */
  emit(e: ControlEvent): void;
}

/** A trace that drops everything at time 0 (a control plane nobody watches). */
export const NO_CONTROL_TRACE: ControlTrace = { now: () => 0, emit: () => {} };

/** A trace that keeps every event in an array, at a fixed or advancing clock. */
export function arrayControlTrace(
  clock: () => number = () => 0,
): { readonly trace: ControlTrace; readonly events: ControlEvent[] } {
  const events: ControlEvent[] = [];
  return { trace: { now: clock, emit: (e) => events.push(e) }, events };
}

/** One control step with the usual fields filled. */
export function controlEvent(
  trace: ControlTrace,
  at: { readonly ctx: string; readonly comp: string },
  action: ControlEvent["action"],
  details: Readonly<Record<string, DetailValue | undefined>>,
): ControlEvent {
  return { type: "control", t: trace.now(), dur: 0, ctx: at.ctx, comp: at.comp, action, details };
}

/** A control event as one line (golden tests of bring-up sequences). */
export function formatControlStep(e: ControlEvent): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(e.details)) {
    if (v === undefined || k === "name") continue;
    parts.push(`${k}=${formatValue(k, v)}`);
  }
  const name = e.details.name;
  const head = typeof name === "string" ? `${e.action} ${name}` : e.action;
  return `${e.comp}: ${head}${parts.length > 0 ? ` ${parts.join(" ")}` : ""}`;
}

const HEX_KEYS = new Set([
  "iova",
  "size",
  "uaddr",
  "vaddr",
  "desc",
  "avail",
  "used",
  "addr",
  "gpa",
  "hva",
  "pa",
  "features",
  "offered",
  "acked",
  "first",
  "last",
  "status",
  "value",
]);

function formatValue(key: string, v: DetailValue): string {
  if (typeof v === "number") return HEX_KEYS.has(key) ? `0x${v.toString(16)}` : String(v);
  if (typeof v === "boolean") return v ? "on" : "off";
  if (typeof v === "string") return /\s/.test(v) ? JSON.stringify(v) : v;
  return v.join(",");
}
