/**
 * Dotted metric paths, as `expect` and `show stats` name them: `t1.sent`, `t1.dropped`,
 * `t1.dropped.ring_full`, `t1.per_packet.vmexits`, `t1.latency.p99_ns`, `t1.mpps`,
 * `t1.bottleneck`, `t1.cpu_ns.vhost-1234` … The first segment is the traffic; the rest
 * walks its {@link FlowSummary}, with one alias: `dropped.<reason>` reads
 * `dropped_by_reason.<reason>` (so `t1.dropped` stays a number).
 *
 * A path that names nothing comes back as an error value that lists what exists at the
 * deepest level that matched, with a did-you-mean.
 *
 * @example
 * ```ts
 * import { Metrics } from "./metrics.ts";
 * import { resolveMetricPath } from "./metric_path.ts";
 * const m = new Metrics();
 * m.addFlow("t1").onSend(0, 64);
 * const all = m.summaries();
 * const r = resolveMetricPath(all, "t1.in_flight");
 * if (!r.ok || r.value !== 1) throw new Error("one packet in flight");
 * const bad = resolveMetricPath(all, "t1.per_packet.vmexit");
 * if (bad.ok || bad.error.kind !== "unknown-metric" || bad.error.suggestion !== "per_packet.vmexits") {
 *   throw new Error("did you mean");
 * }
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import { didYouMean } from "../sim/suggest.ts";
import type { FlowSummary } from "./metrics.ts";

/** What a path reads: a number, or a name (`bottleneck`). */
export type MetricValue = number | string;

/** Why a path names nothing. */
export type MetricPathError =
  | { readonly kind: "empty-path"; readonly path: string }
  | {
    readonly kind: "unknown-traffic";
    readonly traffic: string;
    readonly known: readonly string[];
    readonly suggestion: string | undefined;
  }
  | {
    readonly kind: "unknown-metric";
    readonly traffic: string;
    /** The path after the traffic name. */
    readonly metric: string;
    /** The names that exist where the path went wrong (relative to the traffic). */
    readonly known: readonly string[];
    readonly suggestion: string | undefined;
  }
  | {
    readonly kind: "not-a-leaf";
    readonly path: string;
    readonly children: readonly string[];
  };

/** One lowercase line per error (the only formatter of {@link MetricPathError}). */
export function describeMetricPathError(e: MetricPathError): string {
  const list = (xs: readonly string[]) => xs.map((x) => `\`${x}\``).join(", ");
  switch (e.kind) {
    case "empty-path":
      return `\`${e.path}\` is not a metric path; write TRAFFIC.METRIC, e.g. \`t1.delivered\``;
    case "unknown-traffic":
      return `no traffic named \`${e.traffic}\`` +
        (e.suggestion ? `; did you mean \`${e.suggestion}\`?` : "") +
        (e.known.length > 0 ? ` (traffics: ${list(e.known)})` : " (no traffic defined)");
    case "unknown-metric":
      return `traffic \`${e.traffic}\` has no metric \`${e.metric}\`` +
        (e.suggestion ? `; did you mean \`${e.suggestion}\`?` : "") +
        (e.known.length > 0 ? ` (available: ${list(e.known)})` : "");
    case "not-a-leaf":
      return `\`${e.path}\` is a group, not a number; pick one of ${list(e.children)}`;
  }
}

type Node = MetricValue | { readonly [k: string]: Node };

/** The tree a traffic's paths walk: the summary plus the `dropped.<reason>` alias. */
function treeOf(s: FlowSummary): Record<string, Node> {
  const tree: Record<string, Node> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === "name") continue;
    tree[k] = v as Node;
  }
  return tree;
}

/** Every leaf path of a traffic (relative, with the `dropped.<reason>` aliases). */
export function metricLeafPaths(s: FlowSummary): string[] {
  const out: string[] = [];
  const walk = (node: Node, prefix: string) => {
    if (typeof node !== "object") {
      out.push(prefix);
      return;
    }
    for (const [k, v] of Object.entries(node)) walk(v, prefix === "" ? k : `${prefix}.${k}`);
  };
  walk(treeOf(s), "");
  for (const r of Object.keys(s.dropped_by_reason)) out.push(`dropped.${r}`);
  return out;
}

/** Resolves `traffic.metric.path` against the summaries of a run. */
export function resolveMetricPath(
  summaries: Readonly<Record<string, FlowSummary>>,
  path: string,
): Result<MetricValue, MetricPathError> {
  const parts = path.split(".");
  const traffic = parts[0] ?? "";
  if (traffic === "" || parts.some((p) => p === "")) return err({ kind: "empty-path", path });
  const s = Object.hasOwn(summaries, traffic) ? summaries[traffic] : undefined;
  if (s === undefined) {
    const known = Object.keys(summaries);
    return err({
      kind: "unknown-traffic",
      traffic,
      known,
      suggestion: didYouMean(traffic, known),
    });
  }
  const rest = parts.slice(1);
  if (rest.length === 0) {
    return err({ kind: "not-a-leaf", path, children: Object.keys(treeOf(s)) });
  }
  // The alias: `dropped.<reason>` → dropped_by_reason.<reason>.
  if (rest[0] === "dropped" && rest.length > 1) rest[0] = "dropped_by_reason";
  let node: Node = treeOf(s);
  for (let i = 0; i < rest.length; i++) {
    const seg = rest[i] as string;
    if (typeof node !== "object" || !Object.hasOwn(node, seg)) {
      const here = typeof node === "object" ? Object.keys(node) : [];
      const prefix = rest.slice(0, i).join(".").replace(/^dropped_by_reason\b/, "dropped");
      const metric = parts.slice(1).join(".");
      const known = here.map((k) => (prefix === "" ? k : `${prefix}.${k}`));
      return err({
        kind: "unknown-metric",
        traffic,
        metric,
        known,
        suggestion: didYouMean(metric, metricLeafPaths(s)),
      });
    }
    node = (node as Record<string, Node>)[seg] as Node;
  }
  if (typeof node === "object") {
    return err({ kind: "not-a-leaf", path, children: Object.keys(node) });
  }
  return ok(node);
}
