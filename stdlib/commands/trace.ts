/**
 * `trace T packet N [--json]`: every hop of one packet of a traffic — where it ran, what it
 * cost, what it did — in the one stable text form (runtime/trace/format.ts), or as JSON. A
 * packet whose hops were not kept says why (not sampled, tracing off, not sent yet).
 *
 * `--json` (or `vdpa-lab run --json`) prints `{ flow, pkt, hops: [{ type, t, dur, ctx, comp,
 * action, flow, pkt, details }], complete, summary: { hops, span_ns, cost_ns, fate, reason? } }`.
 *
 * @module
 */

import { error } from "../../lang/diagnostic.ts";
import type { Trace } from "../../lang/commands/mod.ts";
import { formatPacketTrace, packetTraceSummary } from "../../runtime/trace/format.ts";
import { describePacketTraceUnavailable } from "../../runtime/trace/recorder.ts";
import type { Executor, ExecutorTable } from "../exec.ts";

const trace: Executor<Trace> = (cmd, cx) => {
  if (cx.mode === "check") {
    if (cx.lab.traffic(cmd.flow.value) === undefined) {
      cx.diagnostics.push(error("E0505", `no traffic named \`${cmd.flow.value}\``, {
        span: cmd.flow.span,
        label: "not declared before this line",
      }));
    }
    return;
  }
  const flow = cx.lab.traffic(cmd.flow.value);
  const sent = flow?.metrics.sent;
  const r = cx.lab.recorder.packetTrace(
    cmd.flow.value,
    cmd.packet.value,
    sent !== undefined ? { sent } : {},
  );
  if (!r.ok) {
    const e = r.error;
    cx.diagnostics.push(error("E0505", describePacketTraceUnavailable(e), {
      span: e.kind === "unknown-flow" ? cmd.flow.span : cmd.packet.span,
      label: e.kind === "unknown-flow" ? "no such traffic" : "no hops for this packet",
      ...(e.kind === "unknown-flow" && e.suggestion
        ? { help: [`did you mean \`${e.suggestion}\`?`] }
        : {}),
    }));
    return;
  }
  if (cmd.json || cx.settings.json) {
    const sum = packetTraceSummary(r.value);
    const summary = {
      hops: sum.hops,
      span_ns: sum.spanNs,
      cost_ns: sum.costNs,
      fate: sum.fate,
      ...(sum.reason !== undefined ? { reason: sum.reason } : {}),
    };
    cx.print(`${JSON.stringify({ ...r.value, summary }, null, 2)}\n`);
  } else cx.print(`${formatPacketTrace(r.value)}\n`);
};

/** The executors of this file. */
export const TRACE_EXECUTORS: ExecutorTable = { trace };
