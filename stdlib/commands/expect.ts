/**
 * `expect METRIC OP VALUE` (`expect t1.delivered == 20000`, `expect t1.per_packet.vmexits
 * == 0`, `expect t1.latency.p99_ns < 50us`, `expect t1.bottleneck == vhost-4100`): checks a
 * metric of the last runs against a value. Metric paths are those of `run --json`
 * (runtime/trace/metric_path.ts). Values with units are compared in the metric's unit: times
 * in ns, `mpps` against packet rates, `gbps` against bit rates. A failed expectation is an
 * error showing the actual value; an unknown path suggests the closest one. In `check` mode
 * only the traffic name is checked.
 *
 * @module
 */

import { error } from "../../lang/diagnostic.ts";
import type { CompareOp, Expect } from "../../lang/commands/mod.ts";
import { describeMetricPathError, resolveMetricPath } from "../../runtime/trace/metric_path.ts";
import type { Executor, ExecutorTable } from "../exec.ts";

function compare(a: number | string, op: CompareOp, b: number | string): boolean {
  switch (op) {
    case "==":
      return typeof a === "number" && typeof b === "number"
        ? Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b))
        : a === b;
    case "!=":
      return !compare(a, "==", b);
    case "<":
      return a < b;
    case "<=":
      return a < b || compare(a, "==", b);
    case ">":
      return a > b;
    case ">=":
      return a > b || compare(a, "==", b);
  }
}

/** The right-hand side in the unit of metric `path`. */
function rhsValue(cmd: Expect): number | string {
  const q = cmd.rhsQuantity;
  if (q === undefined) return cmd.rhs.value;
  const leaf = cmd.lhs.parts[cmd.lhs.parts.length - 1]?.value ?? "";
  if (q.kind === "packet-rate" && leaf === "mpps") return q.value / 1e6;
  if (q.kind === "bit-rate" && (leaf === "gbps" || leaf === "wire_gbps")) return q.value / 1e9;
  return q.value;
}

function show(v: number | string): string {
  return typeof v === "number" ? String(Math.round(v * 1e6) / 1e6) : v;
}

const expect: Executor<Expect> = (cmd, cx) => {
  const flowName = cmd.lhs.parts[0]?.value ?? "";
  if (cx.mode === "check") {
    if (cx.lab.traffic(flowName) === undefined) {
      cx.diagnostics.push(error("E0507", `no traffic named \`${flowName}\``, {
        span: cmd.lhs.parts[0]?.span ?? cmd.lhs.span,
        label: "not declared before this line",
      }));
    }
    return;
  }
  const r = resolveMetricPath(cx.lab.metrics.summaries(), cmd.lhs.text);
  if (!r.ok) {
    const e = r.error;
    const help = "suggestion" in e && e.suggestion
      ? [
        `did you mean \`${
          e.kind === "unknown-metric" ? `${e.traffic}.${e.suggestion}` : e.suggestion
        }\`?`,
      ]
      : [];
    cx.diagnostics.push(error("E0507", describeMetricPathError(e), {
      span: cmd.lhs.span,
      label: "no such metric",
      help,
    }));
    return;
  }
  const actual = r.value;
  const want = rhsValue(cmd);
  if (!compare(actual, cmd.op.value, want)) {
    cx.diagnostics.push(
      error("E0506", `expectation failed: ${cmd.lhs.text} ${cmd.op.value} ${cmd.rhs.value}`, {
        span: cmd.lhs.span,
        label: `actual ${show(actual)}`,
        secondary: [{ span: cmd.rhs.span, message: `expected ${cmd.op.value} ${show(want)}` }],
        notes: [`${cmd.lhs.text} = ${show(actual)}`],
      }),
    );
  }
};

/** The executors of this file. */
export const EXPECT_EXECUTORS: ExecutorTable = { expect };
