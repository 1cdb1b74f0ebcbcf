/**
 * Word expansion: a parsed {@link Word} → an {@link ExpandedWord} (quotes removed, `${name}`
 * substituted), each character keeping the source offset it came from as `lang/word.ts`
 * documents. An interpolation is never split into several words (no shell word splitting):
 * `${list}` with blanks in its value stays one word.
 *
 * Interpreter diagnostics of this module: E0601 undefined variable (with a "did you mean"
 * over the defined names), E0607 a word longer than {@link MAX_WORD_LENGTH} characters once
 * expanded (`let a = ${a}${a}` repeated would otherwise exhaust memory).
 *
 * @example Expanding a word of a parsed command
 * ```ts
 * import { parse } from "./parse.ts";
 * import { expandWord } from "./expand.ts";
 * import { subSpan } from "./word.ts";
 * const text = 'vdpa dev add name "vdpa${i}" mgmtdev vdpasim_net';
 * const { program } = parse(text, { source: "a.vdpa" });
 * const s = program.statements[0];
 * const w = s?.kind === "command" ? s.words[4] : undefined;
 * if (!w) throw new Error("five words expected");
 * const r = expandWord(w, new Map([["i", "0"]]));
 * if (!r.word || r.word.text !== "vdpa0") throw new Error("vdpa0 expected");
 * const at = subSpan(r.word, 4, 5); // the "0": the whole `${i}`
 * if (text.slice(at.start, at.end) !== "${i}") throw new Error("wrong span");
 * ```
 *
 * @module
 */

import type { Word } from "./ast.ts";
import { type Diagnostic, error } from "./diagnostic.ts";
import { suggest } from "./suggest.ts";
import type { ExpandedWord } from "./word.ts";

/** The longest an expanded word may be, in UTF-16 code units (1 Mi). */
export const MAX_WORD_LENGTH = 1 << 20;

/** Where variable values come from: a lookup function, or a map of the defined names. */
export type VariableLookup = ((name: string) => string | undefined) | ReadonlyMap<string, string>;

/** Options of {@link expandWord}. */
export interface ExpandOptions {
  /**
   * The defined names, for "did you mean" on an undefined variable (taken from the map's
   * keys when `lookup` is a map).
   */
  readonly names?: Iterable<string> | (() => Iterable<string>);
}

/** The expanded word, or the diagnostic that prevented expansion. */
export type ExpandResult =
  | { readonly word: ExpandedWord; readonly diagnostic?: undefined }
  | { readonly diagnostic: Diagnostic; readonly word?: undefined };

function valueOf(lookup: VariableLookup, name: string): string | undefined {
  return typeof lookup === "function" ? lookup(name) : lookup.get(name);
}

function namesOf(lookup: VariableLookup, options: ExpandOptions): Iterable<string> {
  const names = options.names;
  if (typeof names === "function") return names();
  if (names) return names;
  return typeof lookup === "function" ? [] : lookup.keys();
}

/**
 * The diagnostic for an undefined variable `name` written at `span` (E0601).
 *
 * @example
 * ```ts
 * import { undefinedVariable } from "./expand.ts";
 * const d = undefinedVariable("nn", { source: "a", start: 2, end: 7 }, ["n", "vm"]);
 * if (d.help[0] !== "did you mean `n`?") throw new Error("suggestion expected");
 * ```
 */
export function undefinedVariable(
  name: string,
  span: ExpandedWord["span"],
  defined: Iterable<string>,
): Diagnostic {
  const best = suggest(name, defined, { limit: 1 })[0];
  return error("E0601", `undefined variable \`${name}\``, {
    span,
    label: "not defined here",
    notes: ["variables are defined by `let NAME = VALUE`, by a `for` loop, or by the host"],
    help: best === undefined ? [] : [`did you mean \`${best}\`?`],
  });
}

function tooLong(word: Word, at: Word["span"]): Diagnostic {
  return error("E0607", "the word is too long once expanded", {
    span: at,
    label: "this value makes it too long",
    secondary: [{ span: word.span, message: "in this word" }],
    notes: [`an expanded word holds at most ${MAX_WORD_LENGTH} characters`],
  });
}

/**
 * Expands one word: removes quotes and escapes, substitutes each `${name}` with its value.
 * An undefined variable gives a diagnostic at its `${…}` instead of a word.
 *
 * @example An undefined variable
 * ```ts
 * import { parse } from "./parse.ts";
 * import { expandWord } from "./expand.ts";
 * const { program } = parse("show vq vm${nn}.eth0", { source: "a.vdpa" });
 * const s = program.statements[0];
 * const w = s?.kind === "command" ? s.words[2] : undefined;
 * if (!w) throw new Error("three words expected");
 * const r = expandWord(w, (name) => (name === "n" ? "1" : undefined), { names: ["n"] });
 * if (r.diagnostic?.code !== "E0601") throw new Error("E0601 expected");
 * if (r.diagnostic.help[0] !== "did you mean `n`?") throw new Error("suggestion expected");
 * ```
 */
export function expandWord(
  word: Word,
  lookup: VariableLookup,
  options: ExpandOptions = {},
): ExpandResult {
  const only = word.parts[0];
  // The common case: one bare run, verbatim in the source.
  if (word.parts.length === 1 && only?.kind === "text" && !only.offsets) {
    return { word: { text: only.text, span: word.span, quoted: word.quoted } };
  }
  let text = "";
  const offsets: number[] = [];
  let end = word.span.start;
  for (const part of word.parts) {
    if (part.kind === "text") {
      text += part.text;
      if (part.offsets) {
        for (let i = 0; i < part.text.length; i++) offsets.push(part.offsets[i] ?? part.span.end);
        end = part.offsets[part.text.length] ?? part.span.end;
      } else {
        for (let i = 0; i < part.text.length; i++) offsets.push(part.span.start + i);
        end = part.span.start + part.text.length;
      }
    } else {
      const value = valueOf(lookup, part.name);
      if (value === undefined) {
        return { diagnostic: undefinedVariable(part.name, part.span, namesOf(lookup, options)) };
      }
      if (text.length + value.length > MAX_WORD_LENGTH) {
        return { diagnostic: tooLong(word, part.span) };
      }
      text += value;
      // word.ts: characters produced by `${name}` all map to the offset of `$`.
      for (let i = 0; i < value.length; i++) offsets.push(part.span.start);
      end = part.span.end;
    }
  }
  offsets.push(end);
  return { word: { text, span: word.span, quoted: word.quoted, offsets } };
}

/** The expanded words, or every diagnostic found while expanding them. */
export type ExpandWordsResult =
  | { readonly words: ExpandedWord[]; readonly diagnostics?: undefined }
  | { readonly diagnostics: Diagnostic[]; readonly words?: undefined };

/**
 * Expands every word of a statement; reports each undefined variable, not only the first.
 *
 * @example
 * ```ts
 * import { parse } from "./parse.ts";
 * import { expandWords } from "./expand.ts";
 * const { program } = parse("ping ${a} ${b}", { source: "a.vdpa" });
 * const s = program.statements[0];
 * if (s?.kind !== "command") throw new Error("command expected");
 * const r = expandWords(s.words, new Map());
 * if (r.diagnostics?.length !== 2) throw new Error("both undefined variables expected");
 * ```
 */
export function expandWords(
  words: readonly Word[],
  lookup: VariableLookup,
  options: ExpandOptions = {},
): ExpandWordsResult {
  const out: ExpandedWord[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const w of words) {
    // A word may name several undefined variables: report each of them.
    const r = expandWord(w, lookup, options);
    if (r.word) {
      out.push(r.word);
      continue;
    }
    const missing = w.parts.filter((p) =>
      p.kind === "var" && valueOf(lookup, p.name) === undefined
    );
    if (missing.length === 0) diagnostics.push(r.diagnostic);
    for (const part of missing) {
      if (part.kind !== "var") continue;
      diagnostics.push(undefinedVariable(part.name, part.span, namesOf(lookup, options)));
    }
  }
  return diagnostics.length > 0 ? { diagnostics } : { words: out };
}
