/**
 * The syntax tree of a `.vdpa` script, as `parse()` returns it.
 *
 * Every node carries a {@link Span}; a child's span always lies inside its parent's, and
 * the parts that errors point at (a keyword, a variable name, a brace) carry their own
 * spans. Only four statement kinds are grammar: `let`, `for`, `include`, and the command
 * (a list of words, which the command parsers in `lang/commands/` turn into typed nodes).
 *
 * A statement with a syntax error is left out of the tree (its diagnostics say why), so
 * every node here is well formed: `let` has a name and a value, `for` has a variable, a
 * non-empty list of items and a closed block.
 *
 * @example Reading a parsed program
 * ```ts
 * import { parse } from "./parse.ts";
 * const { program } = parse("let n = 4\nmodprobe vdpa_sim_net\n", { source: "a.vdpa" });
 * const [first, second] = program.statements;
 * if (first?.kind !== "let" || first.name !== "n") throw new Error("let expected");
 * if (second?.kind !== "command" || second.words.length !== 2) throw new Error("command expected");
 * ```
 *
 * @module
 */

import type { Span } from "./span.ts";

/**
 * Literal text of a word: a bare run (with its backslash escapes), the inside of a
 * single-quoted string, or a stretch of a double-quoted string between interpolations.
 */
export interface TextPart {
  /** Discriminant. */
  readonly kind: "text";
  /** The source this part was read from, quotes and backslashes included. */
  readonly span: Span;
  /** The text it stands for: quotes and escaping backslashes removed. */
  readonly text: string;
  /** True inside `'…'` or `"…"`. */
  readonly quoted: boolean;
  /**
   * `offsets[i]` is the source offset of `text[i]`; `offsets[text.length]` is the offset
   * just past the last character. An escaped character maps to its backslash. Absent when
   * `text` is the source verbatim at `span.start` (a bare run without escapes).
   */
  readonly offsets?: readonly number[];
}

/** An interpolation, `${name}`. */
export interface VarPart {
  /** Discriminant. */
  readonly kind: "var";
  /** From `$` to `}` inclusive. */
  readonly span: Span;
  /** The variable's name: letters, digits and `_`, not starting with a digit. */
  readonly name: string;
  /** Where the name is, between the braces. */
  readonly nameSpan: Span;
}

/** One piece of a word. */
export type WordPart = TextPart | VarPart;

/**
 * A shell-like word: adjacent parts with no blank between them (`net_vhost0,iface="${p}"`
 * is one word of three parts).
 */
export interface Word {
  /** The whole word, quotes included. */
  readonly span: Span;
  /** True if any part is quoted: a quoted word is never an operator or keyword. */
  readonly quoted: boolean;
  /** At least one part, in source order. */
  readonly parts: readonly WordPart[];
}

/** A command: every statement that is not `let`, `for` or `include`. */
export interface CommandStatement {
  /** Discriminant. */
  readonly kind: "command";
  /** From the first word to the last. */
  readonly span: Span;
  /** At least one word. An unquoted `>` or `>>` is a word of its own. */
  readonly words: readonly Word[];
}

/** `let NAME = VALUE`: binds a variable to one word (which may interpolate). */
export interface LetStatement {
  /** Discriminant. */
  readonly kind: "let";
  /** From `let` to the value. */
  readonly span: Span;
  /** Where `let` is. */
  readonly keywordSpan: Span;
  /** The variable bound. */
  readonly name: string;
  /** Where the name is. */
  readonly nameSpan: Span;
  /** The value: one word, expanded when the statement runs. */
  readonly value: Word;
}

/**
 * `for NAME in ITEMS { … }`: ITEMS is one word that expands to an inclusive integer range
 * (`1..${n}`), or a list of words, one iteration each.
 */
export interface ForStatement {
  /** Discriminant. */
  readonly kind: "for";
  /** From `for` to the closing `}`. */
  readonly span: Span;
  /** Where `for` is. */
  readonly keywordSpan: Span;
  /** The loop variable. */
  readonly variable: string;
  /** Where the loop variable is. */
  readonly variableSpan: Span;
  /** At least one word. */
  readonly items: readonly Word[];
  /** Where the block's `{` is. */
  readonly openSpan: Span;
  /** Where the block's `}` is. */
  readonly closeSpan: Span;
  /** The statements of the block. */
  readonly body: readonly Statement[];
}

/** `include PATH`: runs another script, its path relative to the including file. */
export interface IncludeStatement {
  /** Discriminant. */
  readonly kind: "include";
  /** From `include` to the path. */
  readonly span: Span;
  /** Where `include` is. */
  readonly keywordSpan: Span;
  /** The path, relative to the including file once expanded. */
  readonly path: Word;
}

/** Any statement. */
export type Statement = CommandStatement | LetStatement | ForStatement | IncludeStatement;

/** A parsed script. */
export interface Program {
  /** The source name every span of this program refers to. */
  readonly source: string;
  /** The well-formed statements, in source order. */
  readonly statements: readonly Statement[];
}

/**
 * Calls `visit` on every statement of `statements` in source order, descending into `for`
 * bodies (a loop before its body).
 *
 * @example Counting commands, loops included
 * ```ts
 * import { parse } from "./parse.ts";
 * import { walkStatements } from "./ast.ts";
 * const { program } = parse("run\nfor i in a b {\n  show stats\n}\n", { source: "a" });
 * let commands = 0;
 * walkStatements(program.statements, (s) => {
 *   if (s.kind === "command") commands++;
 * });
 * if (commands !== 2) throw new Error("two commands expected");
 * ```
 */
export function walkStatements(
  statements: readonly Statement[],
  visit: (s: Statement) => void,
): void {
  for (const s of statements) {
    visit(s);
    if (s.kind === "for") walkStatements(s.body, visit);
  }
}
