/**
 * Plain-text tables for `show stats` and the demo's comparison of datapaths: the caller
 * names the columns, the renderer sizes them to their widest cell, right-aligns numbers,
 * and formats numbers deterministically (integers with thousands separators, others with a
 * fixed number of decimals). No colour, no wall clock: golden tests compare the output.
 *
 * @example
 * ```ts
 * import { renderTable } from "./table.ts";
 * const text = renderTable(
 *   [{ header: "datapath" }, { header: "Mpps", decimals: 2 }, { header: "vmexits/pkt", decimals: 2 }],
 *   [["vhost-net", 1.234, 1], ["vhost-vdpa", 14.88, 0]],
 * );
 * if (text.split("\n")[2] !== "vhost-net    1.23         1.00") throw new Error(text);
 * ```
 *
 * @module
 */

/** A column. */
export interface TableColumn {
  /** Column title. */
  readonly header: string;
  /** Default: right for numbers, left for text (decided per cell). */
  readonly align?: "left" | "right";
  /** Decimals for non-integer numbers, and for integers too when set (default: 3 max). */
  readonly decimals?: number;
}

/** A cell: text, a number, or nothing (printed as `-`). */
export type TableCell = string | number | undefined;

/** Integers with `,` every three digits. */
function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** A number as table text. */
export function formatTableNumber(n: number, decimals?: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (decimals !== undefined) {
    const [i, f] = n.toFixed(decimals).split(".");
    return f === undefined ? groupThousands(i ?? "") : `${groupThousands(i ?? "")}.${f}`;
  }
  if (Number.isInteger(n)) return groupThousands(n.toFixed(0));
  const [i, f] = (Math.round(n * 1000) / 1000).toFixed(3).replace(/0+$/, "").split(".");
  return f === undefined || f === "" ? groupThousands(i ?? "") : `${groupThousands(i ?? "")}.${f}`;
}

/**
 * Renders a header line, a rule of dashes, and one line per row. Columns are separated by
 * two spaces; trailing spaces are trimmed. Missing cells print as `-`.
 */
export function renderTable(columns: readonly TableColumn[], rows: readonly TableCell[][]): string {
  const text: string[][] = rows.map((row) =>
    columns.map((c, i) => {
      const v = row[i];
      if (v === undefined) return "-";
      return typeof v === "number" ? formatTableNumber(v, c.decimals) : v;
    })
  );
  const right: boolean[][] = rows.map((row) =>
    columns.map((c, i) =>
      c.align === "right" || (c.align === undefined && typeof row[i] === "number")
    )
  );
  const widths = columns.map((c, i) =>
    Math.max(c.header.length, ...text.map((r) => (r[i] ?? "").length))
  );
  // A column whose cells are all numbers gets a right-aligned header too.
  const headerRight = columns.map((c, i) =>
    c.align === "right" ||
    (c.align === undefined && rows.length > 0 && rows.every((r) => typeof r[i] === "number"))
  );
  const pad = (s: string, w: number, r: boolean) => (r ? s.padStart(w) : s.padEnd(w));
  const lines = [
    columns.map((c, i) => pad(c.header, widths[i] ?? 0, headerRight[i] ?? false)).join("  "),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...text.map((r, ri) =>
      r.map((cell, i) => pad(cell, widths[i] ?? 0, right[ri]?.[i] ?? false)).join("  ")
    ),
  ];
  return lines.map((l) => l.trimEnd()).join("\n");
}
