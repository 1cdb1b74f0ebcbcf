/**
 * Expanded words: what a command parser sees after quotes are removed and `${name}` is
 * interpolated. Each character keeps the source offset it came from, so a command parser
 * can point a caret at part of a word (the `vhost=on` inside `tap,id=n0,vhost=on`).
 *
 * @example Pointing at part of a word
 * ```ts
 * import { literalWord, subSpan } from "./word.ts";
 * const w = literalWord("tap,id=n0", { source: "a.vdpa", start: 100, end: 109 });
 * const s = subSpan(w, 4, 9); // "id=n0"
 * if (s.start !== 104 || s.end !== 109) throw new Error("wrong span");
 * ```
 *
 * @module
 */

import type { Span } from "./span.ts";

/** One shell word after expansion. */
export interface ExpandedWord {
  /** The word's text with quotes removed and variables substituted. */
  readonly text: string;
  /** Span of the whole word in the source, quotes included. */
  readonly span: Span;
  /** True if any part of the word was quoted (a quoted word is never an operator or keyword). */
  readonly quoted: boolean;
  /**
   * `offsets[i]` is the source offset of `text[i]`, and `offsets[text.length]` is the offset just
   * past the last character. Characters produced by `${name}` all map to the offset of `$`, and
   * the character after them to the offset past `}`. Absent when `text` is the source verbatim
   * (an unquoted word without escapes or variables): then `text[i]` is at `span.start + i`.
   */
  readonly offsets?: readonly number[];
}

/** A word whose text appears verbatim in the source at `span`. */
export function literalWord(text: string, span: Span, quoted = false): ExpandedWord {
  return { text, span, quoted };
}

/** Source offset of character `i` of `w` (`i` may equal `text.length`). */
export function sourceOffset(w: ExpandedWord, i: number): number {
  const k = Math.max(0, Math.min(i, w.text.length));
  if (w.offsets) return w.offsets[k] ?? w.span.end;
  return w.span.start + k;
}

/**
 * The source span of characters `[from, to)` of `w`. An empty range gives a zero-width span
 * at `from`; a range that would collapse (inside one interpolation) widens to one character.
 */
export function subSpan(w: ExpandedWord, from: number, to: number = w.text.length): Span {
  const start = sourceOffset(w, from);
  let end = sourceOffset(w, to);
  if (to > from && end <= start) end = Math.min(start + 1, w.span.end);
  return { source: w.span.source, start, end: Math.max(start, end) };
}

/** A value together with the span it was written at. */
export interface Located<T> {
  readonly value: T;
  readonly span: Span;
}

/** Pairs a value with a span. */
export function located<T>(value: T, span: Span): Located<T> {
  return { value, span };
}
