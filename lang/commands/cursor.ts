/**
 * A cursor over the words of one command, and the small conversions every parser needs
 * (a word as a located string, the span of several words, path arguments with glob detection).
 *
 * @example
 * ```ts
 * import { literalWord } from "../word.ts";
 * import { WordCursor } from "./cursor.ts";
 * const w = (t: string, at: number) => literalWord(t, { source: "a", start: at, end: at + t.length });
 * const c = new WordCursor([w("dev", 0), w("show", 4)]);
 * if (c.next()?.text !== "dev" || c.peek()?.text !== "show") throw new Error("cursor order");
 * ```
 *
 * @module
 */

import type { Span } from "../span.ts";
import { joinSpans } from "../span.ts";
import { type ExpandedWord, type Located, located, sourceOffset, subSpan } from "../word.ts";
import type { PathArg } from "./ast.ts";

/** Sequential access to words, remembering the last word taken (for "missing value" spans). */
export class WordCursor {
  readonly #words: readonly ExpandedWord[];
  #index = 0;

  constructor(words: readonly ExpandedWord[], start = 0) {
    this.#words = words;
    this.#index = start;
  }

  /** The next word without taking it. */
  peek(offset = 0): ExpandedWord | undefined {
    return this.#words[this.#index + offset];
  }

  /** Takes the next word. */
  next(): ExpandedWord | undefined {
    const w = this.#words[this.#index];
    if (w) this.#index++;
    return w;
  }

  /** True when every word has been taken. */
  get done(): boolean {
    return this.#index >= this.#words.length;
  }

  /** Index of the next word. */
  get index(): number {
    return this.#index;
  }

  /** Number of words not yet taken. */
  get remaining(): number {
    return this.#words.length - this.#index;
  }

  /** The words not yet taken (the cursor does not move). */
  rest(): readonly ExpandedWord[] {
    return this.#words.slice(this.#index);
  }

  /** The word taken last, if any. */
  get previous(): ExpandedWord | undefined {
    return this.#index > 0 ? this.#words[this.#index - 1] : undefined;
  }

  /** Takes every remaining word. */
  drain(): readonly ExpandedWord[] {
    const r = this.rest();
    this.#index = this.#words.length;
    return r;
  }
}

/** A word as a located string. */
export function loc(w: ExpandedWord): Located<string> {
  return located(w.text, w.span);
}

/** The span from the first to the last of `words` (which must not be empty). */
export function wordsSpan(words: readonly ExpandedWord[]): Span {
  const first = words[0];
  const last = words[words.length - 1];
  if (!first || !last) throw new Error("wordsSpan needs at least one word");
  return joinSpans(first.span, last.span);
}

/** The zero-width span just past `w`: where a missing value would have been. */
export function spanAfter(w: ExpandedWord): Span {
  return { source: w.span.source, start: w.span.end, end: w.span.end };
}

/** True if `w` is the unquoted operator `op` (a quoted `">"` is just text). */
export function isOperator(w: ExpandedWord | undefined, op: string): boolean {
  return w !== undefined && !w.quoted && w.text === op;
}

/** True if `w` looks like an option (`-x`, `--xyz`) and is not quoted. */
export function isOptionWord(w: ExpandedWord | undefined): boolean {
  return w !== undefined && !w.quoted && w.text.length > 1 && w.text.startsWith("-");
}

/** A path argument; `glob` is set when an unquoted word contains `*`, `?` or `[`. */
export function pathArg(w: ExpandedWord): PathArg {
  return { value: w.text, span: w.span, glob: !w.quoted && /[*?[]/.test(w.text) };
}

/** The last path component (`/usr/libexec/qemu-kvm` → `qemu-kvm`). */
export function basename(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  const i = trimmed.lastIndexOf("/");
  return i < 0 ? trimmed : trimmed.slice(i + 1);
}

/** Characters `[from, to)` of `w` as a word of their own, with exact source offsets. */
export function sliceWord(w: ExpandedWord, from: number, to: number = w.text.length): ExpandedWord {
  const offsets: number[] = [];
  for (let i = from; i <= to; i++) offsets.push(sourceOffset(w, i));
  return { text: w.text.slice(from, to), span: subSpan(w, from, to), quoted: w.quoted, offsets };
}

/**
 * `record[key]` for a key that came from the script: an own property only, so that words such
 * as `constructor` or `valueOf` are not mistaken for table entries.
 */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
