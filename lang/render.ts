/**
 * Rendering of diagnostics, in rustc's form:
 *
 * ```text
 * error[E0201]: unknown module `vdpasim_net`
 *  --> lab.vdpa:3:10
 *   |
 * 3 | modprobe vdpasim_net
 *   |          ^^^^^^^^^^^ not a kernel module
 *   |
 *   = help: did you mean `vdpa_sim_net`?
 * ```
 *
 * Carets (`^`) mark the primary label, dashes (`-`) secondary ones; labels in another source
 * get their own snippet under ` ::: file:line:col`; lines far apart are separated by `...`;
 * a span over several lines is drawn with a bar in a left margin (`/`, `|`, `|_^`). A line
 * longer than 512 UTF-16 units is shown as windows of 40 units around each span's start and
 * end, joined by `...` (rustc trims long lines the same way), so a diagnostic on a 1 MB line
 * costs its spans, not the line. Tabs
 * are shown as four spaces and East Asian wide characters as two columns, so that carets
 * line up. Colour (ANSI) is off unless asked for; the CLI decides from the terminal and
 * `NO_COLOR`.
 *
 * Also here: the one-line short form (`file:line:col: error[CODE]: message`) and the JSON
 * form for `--json`.
 *
 * Lines and columns are one-based; columns count UTF-16 code units, as editors do.
 *
 * @example
 * ```ts
 * import { error } from "./diagnostic.ts";
 * import { renderDiagnostic } from "./render.ts";
 * import { SourceMap } from "./span.ts";
 * const sources = new SourceMap();
 * sources.add("lab.vdpa", "modprobe vdpasim_net\n");
 * const d = error("E0201", "unknown module `vdpasim_net`", {
 *   span: { source: "lab.vdpa", start: 9, end: 20 },
 *   label: "not a kernel module",
 *   help: ["did you mean `vdpa_sim_net`?"],
 * });
 * const text = renderDiagnostic(d, sources);
 * if (!text.includes("  |          ^^^^^^^^^^^ not a kernel module\n")) throw new Error(text);
 * ```
 *
 * @module
 */

import type { Diagnostic, Label, Severity } from "./diagnostic.ts";
import type { SourceFile, SourceMap, Span } from "./span.ts";

/** Options of {@link renderDiagnostic}. */
export interface RenderOptions {
  /** Emit ANSI colour escapes (default false). */
  readonly color?: boolean;
}

type Style = "plain" | "error" | "warning" | "secondary" | "gutter" | "bold";

const ANSI: Record<Style, string> = {
  plain: "",
  error: "\x1b[1;31m",
  warning: "\x1b[1;33m",
  secondary: "\x1b[1;34m",
  gutter: "\x1b[1;34m",
  bold: "\x1b[1m",
};
const RESET = "\x1b[0m";
const TAB = "    ";
/** Placeholder for the cell a wide character also covers: prints as nothing. */
const WIDE_TAIL = "\u0000";

/** One output line, painted cell by cell so that marks can be placed at columns. */
class Row {
  readonly #chars: string[] = [];
  readonly #styles: Style[] = [];

  get length(): number {
    return this.#chars.length;
  }

  #set(c: number, cell: string, style: Style): void {
    while (this.#chars.length < c) {
      this.#chars.push(" ");
      this.#styles.push("plain");
    }
    this.#chars[c] = cell;
    this.#styles[c] = style;
  }

  /** Writes `text` (one cell per code point) starting at cell `col`. */
  put(col: number, text: string, style: Style): this {
    let c = col;
    for (const ch of text) this.#set(c++, ch, style);
    return this;
  }

  /** Appends `text` after the last cell. */
  add(text: string, style: Style): this {
    return this.put(this.#chars.length, text, style);
  }

  /** Places laid-out source cells ("" is the second half of a wide character). */
  cells(col: number, cells: readonly string[]): this {
    cells.forEach((cell, i) => this.#set(col + i, cell === "" ? WIDE_TAIL : cell, "plain"));
    return this;
  }

  toString(color: boolean): string {
    let end = this.#chars.length;
    while (end > 0 && (this.#chars[end - 1] === " " || this.#chars[end - 1] === WIDE_TAIL)) end--;
    let out = "";
    let current: Style = "plain";
    for (let i = 0; i < end; i++) {
      const ch = this.#chars[i] ?? " ";
      const style = this.#styles[i] ?? "plain";
      if (color && style !== current && ch !== " ") {
        if (current !== "plain") out += RESET;
        if (style !== "plain") out += ANSI[style];
        current = style;
      }
      if (ch !== WIDE_TAIL) out += ch;
    }
    if (color && current !== "plain") out += RESET;
    return out;
  }
}

/** Display width of one code point: 2 for East Asian wide and fullwidth, 0 for combining. */
function charWidth(cp: number): number {
  if (cp >= 0x300 && cp <= 0x36f) return 0;
  if (cp === 0x200b || cp === 0x200d || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

/** A source line laid out for display: its cells, and the display column of each UTF-16 index. */
interface DisplayLine {
  readonly cells: readonly string[];
  /** `columns[i]` is the display column of UTF-16 index `i`; `columns[length]` the end. */
  readonly columns: readonly number[];
}

function layout(text: string): DisplayLine {
  const cells: string[] = [];
  const columns: number[] = [];
  let i = 0;
  while (i < text.length) {
    const cp = text.codePointAt(i) ?? 0;
    const units = cp > 0xffff ? 2 : 1;
    for (let u = 0; u < units; u++) columns.push(cells.length);
    if (cp === 9) {
      for (const ch of TAB) cells.push(ch);
    } else {
      const w = charWidth(cp);
      const ch = String.fromCodePoint(cp);
      if (w === 0 && cells.length > 0) cells[cells.length - 1] += ch;
      else {
        cells.push(ch);
        if (w === 2) cells.push("");
      }
    }
    i += units;
  }
  columns.push(cells.length);
  return { cells, columns };
}

/** Lines up to this many UTF-16 units are shown whole; longer ones are windowed. */
const WHOLE_LINE = 512;
/** UTF-16 units shown on each side of a span's start and end in a windowed line. */
const CONTEXT = 40;
/** What stands for the elided parts of a windowed line. */
const ELLIPSIS = "...";

/** A shown part of a line: UTF-16 offsets `[from, to)` in it, laid out from column `col`. */
interface Segment {
  readonly from: number;
  readonly to: number;
  readonly col: number;
  readonly columns: readonly number[];
}

/**
 * A line as shown: whole, or (longer than {@link WHOLE_LINE}) only the parts around the
 * offsets that marks point at, with `...` for the rest, as rustc trims long lines. Building
 * it costs the shown parts, not the line: a 1 MB line renders like a short one.
 */
class ShownLine {
  readonly cells: string[] = [];
  readonly #segments: Segment[] = [];
  readonly #length: number;

  /** `text` from `start` to `end` (a line without its terminator); `points` relative to it. */
  constructor(text: string, start: number, end: number, points: readonly number[]) {
    const length = end - start;
    this.#length = length;
    if (length <= WHOLE_LINE) {
      this.#add(text, start, 0, length);
      return;
    }
    const wanted = points.length > 0 ? points : [0];
    const ranges = [...wanted].sort((a, b) => a - b).map((p): [number, number] => [
      Math.max(0, p - CONTEXT),
      Math.min(length, p + CONTEXT),
    ]);
    const merged: [number, number][] = [];
    for (const r of ranges) {
      const last = merged[merged.length - 1];
      // A gap no wider than the ellipsis is shown: `...` would hide nothing.
      if (last && r[0] <= last[1] + ELLIPSIS.length) last[1] = Math.max(last[1], r[1]);
      else merged.push(r);
    }
    for (const [a, b] of merged) {
      // Never cut a surrogate pair: a low surrogate belongs to the unit before it.
      const from = a > 0 && isLowSurrogate(text.charCodeAt(start + a)) ? a - 1 : a;
      const to = b < length && isLowSurrogate(text.charCodeAt(start + b)) ? b + 1 : b;
      if (from > 0) this.#ellipsis();
      this.#add(text, start, from, to);
    }
    const last = this.#segments[this.#segments.length - 1];
    if (last && last.to < length) this.#ellipsis();
  }

  #ellipsis(): void {
    for (const ch of ELLIPSIS) this.cells.push(ch);
  }

  #add(text: string, start: number, from: number, to: number): void {
    const l = layout(text.slice(start + from, start + to));
    this.#segments.push({ from, to, col: this.cells.length, columns: l.columns });
    for (const c of l.cells) this.cells.push(c);
  }

  /** Display column of UTF-16 index `i` of the line (an elided index: its `...`). */
  column(i: number): number {
    const at = Math.max(0, Math.min(i, this.#length));
    let before: Segment | undefined;
    for (const seg of this.#segments) {
      if (at < seg.from) return before === undefined ? 0 : seg.col - ELLIPSIS.length;
      if (at <= seg.to) return seg.col + (seg.columns[at - seg.from] ?? 0);
      before = seg;
    }
    return before === undefined ? 0 : before.col + (before.columns[before.to - before.from] ?? 0);
  }
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/** A label located in its source: lines are one-based, columns are display columns (0-based). */
interface Placed {
  readonly label: Label;
  readonly startLine: number;
  readonly startCol: number;
  readonly endLine: number;
  /** Exclusive; at least `startCol + 1` on a single line. */
  readonly endCol: number;
  /** The span starts at or before the first non-blank of its line (drawn with `/`). */
  readonly startsLine: boolean;
}

function severityStyle(s: Severity): Style {
  return s === "error" ? "error" : "warning";
}

class Snippet {
  readonly #file: SourceFile;
  readonly #lines = new Map<number, ShownLine>();
  /** Per line, the UTF-16 offsets (in the line) that marks point at: they stay visible. */
  readonly #points = new Map<number, number[]>();

  /** A snippet of `file` that will show `labels`. */
  constructor(file: SourceFile, labels: readonly Label[]) {
    this.#file = file;
    for (const l of labels) {
      const [start, end] = this.#bounds(l);
      for (const o of [start, end]) {
        const line = file.position(o).line;
        let list = this.#points.get(line);
        if (list === undefined) this.#points.set(line, list = []);
        list.push(o - file.lineStart(line));
      }
    }
  }

  /** The label's span clamped to the text, without the line terminator it may swallow. */
  #bounds(label: Label): [number, number] {
    const text = this.#file.text;
    const start = Math.max(0, Math.min(label.span.start, text.length));
    let end = Math.max(start, Math.min(label.span.end, text.length));
    // A span that swallows its line's terminator ends on that line, not at the next.
    while (end > start && (text[end - 1] === "\n" || text[end - 1] === "\r")) end--;
    return [start, end];
  }

  line(n: number): ShownLine {
    let l = this.#lines.get(n);
    if (!l) {
      const file = this.#file;
      const text = file.text;
      if (n > file.lineCount && n > 1) {
        l = new ShownLine("", 0, 0, []);
      } else {
        const start = file.lineStart(n);
        let end = text.indexOf("\n", start);
        if (end < 0) end = text.length;
        if (end > start && text.charCodeAt(end - 1) === 13) end--;
        l = new ShownLine(text, start, end, this.#points.get(n) ?? []);
      }
      this.#lines.set(n, l);
    }
    return l;
  }

  /** Display column of source offset `offset` on one-based line `line`. */
  #column(line: number, offset: number): number {
    return this.line(line).column(offset - this.#file.lineStart(line));
  }

  place(label: Label): Placed {
    const [start, end] = this.#bounds(label);
    const s = this.#file.position(start);
    const e = this.#file.position(end);
    const startCol = this.#column(s.line, start);
    let endCol = this.#column(e.line, end);
    if (e.line === s.line && endCol <= startCol) endCol = startCol + 1;
    return {
      label,
      startLine: s.line,
      startCol,
      endLine: e.line,
      endCol,
      startsLine: onlyBlanks(this.#file.text, this.#file.lineStart(s.line), start),
    };
  }
}

/** True when `text[from, to)` is all white space (stops at the first character that is not). */
function onlyBlanks(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!/\s/.test(text[i] ?? "")) return false;
  return true;
}

interface Group {
  readonly source: string;
  readonly labels: Label[];
}

function groupBySource(labels: readonly Label[]): Group[] {
  const groups: Group[] = [];
  const primary = labels.find((l) => l.primary);
  const ordered = primary ? [primary, ...labels.filter((l) => l !== primary)] : [...labels];
  for (const l of ordered) {
    let g = groups.find((x) => x.source === l.span.source);
    if (!g) {
      g = { source: l.span.source, labels: [] };
      groups.push(g);
    }
    g.labels.push(l);
  }
  return groups;
}

/** The lines a group shows, ascending; lines strictly inside a long multi-line span are elided. */
function shownLines(placed: readonly Placed[]): number[] {
  const lines = new Set<number>();
  for (const p of placed) {
    lines.add(p.startLine);
    lines.add(p.endLine);
    if (p.endLine - p.startLine <= 4) {
      for (let n = p.startLine + 1; n < p.endLine; n++) lines.add(n);
    } else {
      lines.add(p.startLine + 1);
      lines.add(p.endLine - 1);
    }
  }
  const sorted = [...lines].sort((a, b) => a - b);
  // A gap of exactly one line costs as much as `...`: show the line instead.
  const out: number[] = [];
  for (const n of sorted) {
    const prev = out[out.length - 1];
    if (prev !== undefined && n - prev === 2) out.push(prev + 1);
    out.push(n);
  }
  return out;
}

function maxLineShown(d: Diagnostic, sources: SourceMap): number {
  let max = 0;
  for (const g of groupBySource(d.labels)) {
    const file = sources.get(g.source);
    if (!file) continue;
    const snippet = new Snippet(file, g.labels);
    for (const n of shownLines(g.labels.map((l) => snippet.place(l)))) max = Math.max(max, n);
  }
  return max;
}

/** Renders the labels of one source: the source lines with their marks. */
function renderGroup(
  rows: Row[],
  placed: readonly Placed[],
  snippet: Snippet,
  width: number,
  severity: Severity,
): void {
  const multi = placed.filter((p) => p.endLine > p.startLine).sort((a, b) =>
    a.startLine - b.startLine || a.startCol - b.startCol
  );
  const single = placed.filter((p) => p.endLine === p.startLine);
  const margin = multi.length > 0 ? multi.length + 1 : 0;
  const text = width + 3 + margin; // cell where source text starts
  const markStyle = (l: Label): Style => (l.primary ? severityStyle(severity) : "secondary");
  const mark = (l: Label): string => (l.primary ? "^" : "-");
  const gutter = (num?: number): Row => {
    const r = new Row();
    if (num !== undefined) r.put(0, String(num).padStart(width), "gutter");
    return r.put(width + 1, "|", "gutter");
  };
  /** Bars of multi-line spans that run through the annotation rows under line `n`. */
  const bars = (r: Row, n: number, closed: ReadonlySet<Placed>) => {
    multi.forEach((p, j) => {
      const open = p.startLine < n || (p.startLine === n && p.startsLine);
      if (open && n <= p.endLine && !closed.has(p)) r.put(width + 3 + j, "|", markStyle(p.label));
    });
  };

  const lines = shownLines(placed);
  let prev: number | undefined;
  for (const n of lines) {
    if (prev !== undefined && n - prev > 1) {
      const r = new Row().put(0, "...", "gutter");
      multi.forEach((p, j) => {
        if (p.startLine < n && n <= p.endLine) r.put(width + 3 + j, "|", markStyle(p.label));
      });
      rows.push(r);
    }
    prev = n;
    const src = gutter(n);
    multi.forEach((p, j) => {
      if (p.startLine === n && p.startsLine) src.put(width + 3 + j, "/", markStyle(p.label));
      else if (p.startLine < n && n <= p.endLine) src.put(width + 3 + j, "|", markStyle(p.label));
    });
    src.cells(text, snippet.line(n).cells);
    rows.push(src);

    const closed = new Set<Placed>();
    // Single-line labels on this line: one row of marks, then hanging messages.
    const here = single.filter((p) => p.startLine === n).sort((a, b) => a.startCol - b.startCol);
    if (here.length > 0) {
      const marks = gutter();
      bars(marks, n, closed);
      for (const pass of [false, true]) {
        for (const p of here) {
          if (p.label.primary !== pass) continue;
          marks.put(
            text + p.startCol,
            mark(p.label).repeat(p.endCol - p.startCol),
            markStyle(p.label),
          );
        }
      }
      const withMessage = here.filter((p) => p.label.message !== "");
      const inline = withMessage[withMessage.length - 1];
      // The rightmost message goes on the marks row, after the last mark; the others hang.
      const lineEnd = Math.max(...here.map((p) => p.endCol));
      if (inline) marks.put(text + lineEnd + 1, inline.label.message, markStyle(inline.label));
      rows.push(marks);
      const hanging = withMessage.slice(0, -1);
      if (hanging.length > 0) {
        const connector = gutter();
        bars(connector, n, closed);
        for (const p of hanging) connector.put(text + p.startCol, "|", markStyle(p.label));
        rows.push(connector);
        for (let k = hanging.length - 1; k >= 0; k--) {
          const r = gutter();
          bars(r, n, closed);
          for (let i = 0; i < k; i++) {
            const q = hanging[i];
            if (q) r.put(text + q.startCol, "|", markStyle(q.label));
          }
          const p = hanging[k];
          if (p) r.put(text + p.startCol, p.label.message, markStyle(p.label));
          rows.push(r);
        }
      }
    }
    // Multi-line spans starting mid-line: `____^` from the margin to the first character.
    multi.forEach((p, j) => {
      if (p.startLine !== n || p.startsLine) return;
      const r = gutter();
      bars(r, n, closed);
      const style = markStyle(p.label);
      r.put(width + 4 + j, "_".repeat(Math.max(0, text + p.startCol - (width + 4 + j))), style);
      r.put(text + p.startCol, mark(p.label), style);
      rows.push(r);
    });
    // Multi-line spans ending here: `|___^ message`.
    multi.forEach((p, j) => {
      if (p.endLine !== n) return;
      const r = gutter();
      bars(r, n, closed);
      const style = markStyle(p.label);
      const at = text + Math.max(0, p.endCol - 1);
      r.put(width + 3 + j, "|", style);
      r.put(width + 4 + j, "_".repeat(Math.max(0, at - (width + 4 + j))), style);
      r.put(at, mark(p.label), style);
      if (p.label.message !== "") r.put(at + 2, p.label.message, style);
      rows.push(r);
      closed.add(p);
    });
  }
}

/**
 * Renders one diagnostic in the rustc form; the result ends with a newline. Labels whose
 * source is not in `sources` are shown by name only.
 */
export function renderDiagnostic(
  d: Diagnostic,
  sources: SourceMap,
  options: RenderOptions = {},
): string {
  const color = options.color ?? false;
  const rows: Row[] = [];
  const sev = severityStyle(d.severity);
  const head = new Row().add(d.code ? `${d.severity}[${d.code}]` : d.severity, sev);
  head.add(": ", "bold").add(d.message, "bold");
  rows.push(head);

  const width = Math.max(1, String(maxLineShown(d, sources)).length);
  let snippets = 0;
  groupBySource(d.labels).forEach((g, index) => {
    const arrow = index === 0 ? "-->" : ":::";
    const file = sources.get(g.source);
    const r = new Row().put(width, arrow, "gutter");
    if (!file) {
      rows.push(r.add(` ${g.source}`, "plain"));
      return;
    }
    const snippet = new Snippet(file, g.labels);
    const placed = g.labels.map((l) => snippet.place(l));
    const first = index === 0
      ? placed[0]
      : [...placed].sort((a, b) => a.label.span.start - b.label.span.start)[0];
    const pos = file.position(first?.label.span.start ?? 0);
    rows.push(r.add(` ${g.source}:${pos.line}:${pos.column}`, "plain"));
    rows.push(new Row().put(width + 1, "|", "gutter"));
    renderGroup(rows, placed, snippet, width, d.severity);
    snippets++;
  });

  if (snippets > 0 && d.notes.length + d.help.length > 0) {
    rows.push(new Row().put(width + 1, "|", "gutter"));
  }
  const subs: [string, string][] = [
    ...d.notes.map((n): [string, string] => ["note", n]),
    ...d.help.map((h): [string, string] => ["help", h]),
  ];
  for (const [kind, message] of subs) {
    const [first = "", ...rest] = message.split("\n");
    const prefix = `= ${kind}: `;
    rows.push(
      new Row().put(width + 1, "=", "gutter").add(` ${kind}:`, "bold").add(` ${first}`, "plain"),
    );
    for (const line of rest) rows.push(new Row().put(width + 1 + prefix.length, line, "plain"));
  }
  return rows.map((r) => r.toString(color)).join("\n") + "\n";
}

/** Renders several diagnostics, separated by blank lines. */
export function renderDiagnostics(
  diagnostics: readonly Diagnostic[],
  sources: SourceMap,
  options: RenderOptions = {},
): string {
  return diagnostics.map((d) => renderDiagnostic(d, sources, options)).join("\n");
}

function primaryLabel(d: Diagnostic): Label | undefined {
  return d.labels.find((l) => l.primary) ?? d.labels[0];
}

/**
 * The one-line form: `file:line:col: error[CODE]: message` (without a location when the
 * diagnostic has no span).
 *
 * @example
 * ```ts
 * import { error } from "./diagnostic.ts";
 * import { renderShort } from "./render.ts";
 * import { SourceMap } from "./span.ts";
 * const sources = new SourceMap();
 * sources.add("a.vdpa", "run\nrun 10xs\n");
 * const d = error("E0021", "unknown unit `xs` in `10xs`", {
 *   span: { source: "a.vdpa", start: 10, end: 12 },
 * });
 * if (renderShort(d, sources) !== "a.vdpa:2:7: error[E0021]: unknown unit `xs` in `10xs`") {
 *   throw new Error(renderShort(d, sources));
 * }
 * ```
 */
export function renderShort(d: Diagnostic, sources: SourceMap): string {
  const head = `${d.code ? `${d.severity}[${d.code}]` : d.severity}: ${d.message}`;
  const label = primaryLabel(d);
  if (!label) return head;
  const file = sources.get(label.span.source);
  if (!file) return `${label.span.source}: ${head}`;
  const pos = file.position(label.span.start);
  return `${label.span.source}:${pos.line}:${pos.column}: ${head}`;
}

/** A located range in the JSON form: one-based lines and columns, the end exclusive. */
export interface JsonRange {
  /** The source's name. */
  readonly file: string;
  /** One-based line of the start. */
  readonly line: number | null;
  /** One-based column (UTF-16 units) of the start. */
  readonly column: number | null;
  /** One-based line of the end. */
  readonly end_line: number | null;
  /** One-based column just past the end. */
  readonly end_column: number | null;
}

/** A label in the JSON form. */
export interface JsonLabel extends JsonRange {
  /** The label's text (may be empty). */
  readonly message: string;
  /** True for the label that says where the problem is. */
  readonly primary: boolean;
}

/**
 * The stable JSON form of a diagnostic (for `--json`). The location fields are those of the
 * primary label and are null when the diagnostic has none (or its source is unknown).
 */
export interface DiagnosticJson {
  /** `error` or `warning`. */
  readonly severity: Severity;
  /** The stable code, e.g. `E0001`. */
  readonly code: string;
  /** What is wrong. */
  readonly message: string;
  /** The primary label's source. */
  readonly file: string | null;
  /** One-based line of the primary label. */
  readonly line: number | null;
  /** One-based column of the primary label. */
  readonly column: number | null;
  /** One-based line where the primary label ends. */
  readonly end_line: number | null;
  /** One-based column just past the primary label. */
  readonly end_column: number | null;
  /** Every label, the primary first. */
  readonly labels: readonly JsonLabel[];
  /** The `= note:` lines. */
  readonly notes: readonly string[];
  /** The `= help:` lines. */
  readonly help: readonly string[];
}

function range(span: Span, sources: SourceMap): JsonRange {
  const file = sources.get(span.source);
  if (!file) {
    return { file: span.source, line: null, column: null, end_line: null, end_column: null };
  }
  const s = file.position(span.start);
  const e = file.position(span.end);
  return {
    file: span.source,
    line: s.line,
    column: s.column,
    end_line: e.line,
    end_column: e.column,
  };
}

/**
 * The JSON form of a diagnostic.
 *
 * @example
 * ```ts
 * import { error } from "./diagnostic.ts";
 * import { diagnosticToJson } from "./render.ts";
 * import { SourceMap } from "./span.ts";
 * const sources = new SourceMap();
 * sources.add("a.vdpa", "modprobe vdpasim_net\n");
 * const j = diagnosticToJson(error("E0201", "unknown module", {
 *   span: { source: "a.vdpa", start: 9, end: 20 },
 * }), sources);
 * if (j.line !== 1 || j.column !== 10 || j.end_column !== 21) throw new Error("wrong range");
 * ```
 */
export function diagnosticToJson(d: Diagnostic, sources: SourceMap): DiagnosticJson {
  const label = primaryLabel(d);
  const at = label
    ? range(label.span, sources)
    : { file: null, line: null, column: null, end_line: null, end_column: null };
  return {
    severity: d.severity,
    code: d.code,
    message: d.message,
    file: at.file,
    line: at.line,
    column: at.column,
    end_line: at.end_line,
    end_column: at.end_column,
    labels: d.labels.map((l) => ({
      ...range(l.span, sources),
      message: l.message,
      primary: l.primary,
    })),
    notes: [...d.notes],
    help: [...d.help],
  };
}

/**
 * A closing summary line (`error: 2 errors and 1 warning`), or "" when the list is empty.
 *
 * @example
 * ```ts
 * import { error, warning } from "./diagnostic.ts";
 * import { renderSummary } from "./render.ts";
 * const s = renderSummary([error("E0001", "a"), error("E0002", "b"), warning("W0001", "c")]);
 * if (s !== "error: 2 errors and 1 warning\n") throw new Error(s);
 * ```
 */
export function renderSummary(
  diagnostics: readonly Diagnostic[],
  options: RenderOptions = {},
): string {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  if (diagnostics.length === 0) return "";
  const parts = [];
  if (errors > 0) parts.push(`${errors} error${errors === 1 ? "" : "s"}`);
  if (warnings > 0) parts.push(`${warnings} warning${warnings === 1 ? "" : "s"}`);
  const row = new Row().add(errors > 0 ? "error" : "warning", errors > 0 ? "error" : "warning");
  row.add(`: ${parts.join(" and ")}`, "bold");
  return row.toString(options.color ?? false) + "\n";
}
