/**
 * Text views of the metrics, for `show stats [T]` and the demo's comparison of datapaths:
 *
 * - {@link formatFlowSummary}: one traffic — counts, drops by reason, throughput, latency,
 *   bottleneck, then a table of per-packet costs and a table of CPU contexts.
 * - {@link renderSummaryTable}: one row per (label, summary), one column per metric path
 *   (`mpps`, `per_packet.vmexits`, `latency.p99_ns`, `bottleneck` …), so the caller picks the
 *   columns with the same paths `expect` uses.
 *
 * Like every text form here: fixed layout, deterministic numbers, no wall clock.
 *
 * @example
 * ```ts
 * import { Metrics } from "./metrics.ts";
 * import { renderSummaryTable } from "./stats_text.ts";
 * const m = new Metrics();
 * const f = m.addFlow("t1");
 * f.onSend(0, 64);
 * f.onDeliver(1000, 64, 1000);
 * const text = renderSummaryTable(
 *   [{ label: "vhost-net", summary: m.summary("t1") }],
 *   [{ header: "mpps", path: "mpps", decimals: 3 }, { header: "p50 ns", path: "latency.p50_ns" }],
 * );
 * if (!text.endsWith("vhost-net  1.000   1,000")) throw new Error(text);
 * ```
 *
 * @module
 */

import { COUNTERS } from "./metrics.ts";
import type { FlowSummary } from "./metrics.ts";
import { formatNs } from "./format.ts";
import { describeMetricPathError, resolveMetricPath } from "./metric_path.ts";
import { renderTable, type TableCell } from "./table.ts";

/** Counters always shown per packet, even at zero: the ones that tell datapaths apart. */
const HEADLINE = ["vmexits", "kicks", "interrupts", "copies", "syscalls", "wakeups"];

function pct(x: number): string {
  return `${(Math.round(x * 1000) / 10).toFixed(1)}%`;
}

function fixed(x: number, decimals: number): string {
  return x.toFixed(decimals);
}

function indent(text: string): string {
  return text.split("\n").map((l) => `  ${l}`).join("\n");
}

/** `show stats T`: a block of text describing one traffic. */
export function formatFlowSummary(s: FlowSummary): string {
  const lines: string[] = [];
  const size = s.frame_bytes > 0 ? `, ${s.frame_bytes} B frames` : "";
  lines.push(`traffic ${s.name}${size}`);
  lines.push(
    `  sent ${s.sent}  delivered ${s.delivered}  dropped ${s.dropped}  in flight ${s.in_flight}`,
  );
  const reasons = Object.entries(s.dropped_by_reason).filter(([, n]) => n > 0);
  if (reasons.length > 0) {
    lines.push(`  dropped by reason: ${reasons.map(([r, n]) => `${r} ${n}`).join(", ")}`);
  }
  if (s.duplicates > 0 || s.reordered > 0) {
    lines.push(`  duplicates ${s.duplicates}  reordered ${s.reordered}`);
  }
  lines.push(
    `  throughput ${fixed(s.mpps, 3)} Mpps, ${fixed(s.gbps, 3)} Gbit/s ` +
      `(${fixed(s.wire_gbps, 3)} on the wire) over ${formatNs(s.duration_ns)} ns`,
  );
  const l = s.latency;
  lines.push(
    `  latency p50 ${formatNs(l.p50_ns)} ns, p90 ${formatNs(l.p90_ns)} ns, ` +
      `p99 ${formatNs(l.p99_ns)} ns, max ${formatNs(l.max_ns)} ns, mean ${formatNs(l.mean_ns)} ns`,
  );
  lines.push(
    s.bottleneck === "none"
      ? "  bottleneck none"
      : `  bottleneck ${s.bottleneck} (${pct(s.bottleneck_utilisation)} busy)`,
  );
  lines.push("");
  const keys = [...COUNTERS, "interrupts"].filter((k) =>
    HEADLINE.includes(k) || (s.totals[k as keyof typeof s.totals] ?? 0) > 0
  ) as (keyof typeof s.totals)[];
  lines.push(indent(renderTable(
    [{ header: "per packet" }, { header: "value", decimals: 3 }, { header: "total" }],
    keys.map((k) => [k, s.per_packet[k], s.totals[k]]),
  )));
  const ctxs = [...new Set([...Object.keys(s.cpu_ns), ...Object.keys(s.utilisation)])];
  if (ctxs.length > 0) {
    lines.push("");
    const polling = Object.keys(s.poll_ns).length > 0;
    lines.push(indent(
      renderTable(
        [
          { header: "context" },
          { header: "cpu ns", decimals: 1 },
          { header: "ns/packet", decimals: 1 },
          { header: "busy", align: "right" },
          ...(polling ? [{ header: "poll ns", decimals: 1 }, { header: "poll iterations" }] : []),
        ],
        ctxs.map((c) => {
          const cpu = s.cpu_ns[c] ?? 0;
          const row: TableCell[] = [
            c === s.bottleneck ? `${c} *` : c,
            cpu,
            s.sent > 0 ? cpu / s.sent : 0,
            pct(s.utilisation[c] ?? 0),
          ];
          if (polling) row.push(s.poll_ns[c], s.poll_iterations[c]);
          return row;
        }),
      ),
    ));
    lines.push("  * bottleneck; busy = share of the traffic's active time, all work counted");
  }
  return lines.join("\n");
}

/** A column of {@link renderSummaryTable}: a metric path relative to a traffic. */
export interface SummaryColumn {
  /** Column title. */
  readonly header: string;
  /** `mpps`, `per_packet.vmexits`, `dropped.ring_full`, `cpu_ns.vhost-1234` … */
  readonly path: string;
  /** Decimals for numbers. */
  readonly decimals?: number;
  /** Multiplies numbers before printing (`0.001` shows ns as µs). */
  readonly scale?: number;
}

/** A row of {@link renderSummaryTable}. */
export interface SummaryRow {
  /** First-column text. */
  readonly label: string;
  /** The traffic summary the row reads. */
  readonly summary: FlowSummary;
}

/**
 * One row per summary, one column per metric path, under a first column of labels. A path
 * a summary does not have prints as `-` (a context that exists in one datapath only); a
 * path no summary has is a caller bug and throws with the did-you-mean.
 */
export function renderSummaryTable(
  rows: readonly SummaryRow[],
  columns: readonly SummaryColumn[],
  options: { labelHeader?: string } = {},
): string {
  const cells: TableCell[][] = rows.map((r) => [r.label]);
  for (const col of columns) {
    let any = rows.length === 0;
    let firstError = "";
    rows.forEach((r, i) => {
      const res = resolveMetricPath({ row: r.summary }, `row.${col.path}`);
      if (res.ok) {
        any = true;
        const v = res.value;
        cells[i]?.push(typeof v === "number" && col.scale !== undefined ? v * col.scale : v);
      } else {
        if (firstError === "") firstError = describeMetricPathError(res.error);
        cells[i]?.push(undefined);
      }
    });
    if (!any) throw new Error(`No row has column ${col.path}: ${firstError}`);
  }
  return renderTable(
    [
      { header: options.labelHeader ?? "" },
      ...columns.map((c) => ({
        header: c.header,
        ...(c.decimals !== undefined ? { decimals: c.decimals } : {}),
      })),
    ],
    cells,
  );
}
