/**
 * Source spans and the source registry.
 *
 * A {@link Span} is a half-open range of UTF-16 offsets (what peggy reports) in one named
 * source. Line and column are computed only when a diagnostic is rendered, from the
 * line index of a {@link SourceFile}.
 *
 * @example Locating an offset
 * ```ts
 * import { SourceFile } from "./span.ts";
 * const f = new SourceFile("a.vdpa", "modprobe vdpa\nlsmod\n");
 * const pos = f.position(14);
 * if (pos.line !== 2 || pos.column !== 1) throw new Error("wrong position");
 * ```
 *
 * @module
 */

/** A half-open range `[start, end)` of UTF-16 offsets in the source named `source`. */
export interface Span {
  readonly source: string;
  readonly start: number;
  readonly end: number;
}

/** A one-based line and column (the column counts UTF-16 code units, like editors do). */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/** Builds a span. */
export function span(source: string, start: number, end: number): Span {
  return { source, start, end };
}

/** The smallest span that covers both `a` and `b` (which must share a source). */
export function joinSpans(a: Span, b: Span): Span {
  return { source: a.source, start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };
}

/** True when `inner` lies within `outer` (same source, inclusive bounds). */
export function spanContains(outer: Span, inner: Span): boolean {
  return outer.source === inner.source && inner.start >= outer.start && inner.end <= outer.end;
}

/** The text of one source and its line index. */
export class SourceFile {
  readonly name: string;
  readonly text: string;
  readonly #lineStarts: number[];

  constructor(name: string, text: string) {
    this.name = name;
    this.text = text;
    const starts = [0];
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) === 10) starts.push(i + 1);
    }
    this.#lineStarts = starts;
  }

  /** Number of lines (a trailing newline does not start a new line of its own). */
  get lineCount(): number {
    const n = this.#lineStarts.length;
    return this.text.endsWith("\n") ? n - 1 : n;
  }

  /** One-based position of `offset`; offsets past the end clamp to the end. */
  position(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.#lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.#lineStarts[mid] ?? 0) <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: o - (this.#lineStarts[lo] ?? 0) + 1 };
  }

  /** Offset at which one-based `line` starts. */
  lineStart(line: number): number {
    return this.#lineStarts[Math.max(0, Math.min(line - 1, this.#lineStarts.length - 1))] ?? 0;
  }

  /** Text of one-based `line`, without its line terminator. */
  lineText(line: number): string {
    const start = this.lineStart(line);
    let end = this.text.indexOf("\n", start);
    if (end < 0) end = this.text.length;
    if (end > start && this.text.charCodeAt(end - 1) === 13) end--;
    return this.text.slice(start, end);
  }
}

/** Every source a session has seen, by name: files, stdin, each REPL line. */
export class SourceMap {
  readonly #files = new Map<string, SourceFile>();

  /** Registers (or replaces) a source and returns it. */
  add(name: string, text: string): SourceFile {
    const f = new SourceFile(name, text);
    this.#files.set(name, f);
    return f;
  }

  /** The source called `name`, if registered. */
  get(name: string): SourceFile | undefined {
    return this.#files.get(name);
  }

  /** Names of all registered sources in registration order. */
  names(): string[] {
    return [...this.#files.keys()];
  }
}
