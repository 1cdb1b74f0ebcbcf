/**
 * `parse()`: script text → {@link Program} + syntax diagnostics.
 *
 * The generated parser (from `grammar.peggy`) accepts every input and returns a concrete
 * tree that records what is missing or unclosed; this module lowers it to the AST and
 * turns each defect into a located diagnostic, so one call reports every syntax error of
 * a file. Statements with an error are left out of the program.
 *
 * Syntax diagnostics: E0001–E0019 and W0001, one line each in {@link SYNTAX_CODES}.
 *
 * @example Parsing, with every error of the file reported
 * ```ts
 * import { parse } from "./parse.ts";
 * const r = parse('modprobe "vdpa\nlet = 3\nrun\n', { source: "a.vdpa" });
 * const codes = r.diagnostics.map((d) => d.code);
 * if (codes.join() !== "E0001,E0010") throw new Error(`got ${codes}`);
 * if (r.program.statements.length !== 1) throw new Error("only `run` is well formed");
 * ```
 *
 * @module
 */

import type {
  CstDouble,
  CstFor,
  CstInclude,
  CstItem,
  CstLet,
  CstName,
  CstVar,
  CstWord,
} from "./_grammar.js";
import { parse as parseCst } from "./_grammar.js";
import type { ForStatement, Program, Statement, TextPart, VarPart, Word, WordPart } from "./ast.ts";
import { type Diagnostic, error, primarySpan, type Severity, warning } from "./diagnostic.ts";
import { joinSpans, type Span } from "./span.ts";

/** Options of {@link parse}. */
export interface ParseOptions {
  /** The source name every span carries (a file path, `<stdin>`, `<repl:3>`). */
  readonly source: string;
  /** The grammar rule to start from; scripts and REPL input both use `Program`. */
  readonly startRule?: "Program";
}

/** What {@link parse} returns. */
export interface ParseResult {
  /** The well-formed statements (those with a syntax error are left out). */
  readonly program: Program;
  /** Syntax errors and warnings, in source order. */
  readonly diagnostics: readonly Diagnostic[];
  /**
   * True when the input ends inside an open construct (a quote, a `for` block or its
   * header, a trailing `\`): a REPL should read another line instead of reporting.
   */
  readonly incomplete: boolean;
}

/** How deeply `for` blocks may nest (the grammar's bound; deeper input is refused). */
export const MAX_BLOCK_DEPTH = 64;

/** One syntax code: its severity and what it means. */
export interface SyntaxCodeInfo {
  readonly severity: Severity;
  readonly summary: string;
}

/** Every code {@link parse} reports (E00xx; E0020–E0024 are `quantity.ts`'s). */
export const SYNTAX_CODES = {
  E0001: { severity: "error", summary: "unterminated quoted string" },
  E0002: { severity: "error", summary: "`${` without a closing `}`" },
  E0003: { severity: "error", summary: "invalid variable name (in `${…}`, `let` or `for`)" },
  E0005: { severity: "error", summary: "`\\` at the end of the input" },
  E0006: { severity: "error", summary: "unmatched `}`" },
  E0007: { severity: "error", summary: "unclosed `{`" },
  E0008: { severity: "error", summary: "`{` where no block can open" },
  E0009: { severity: "error", summary: "`let` without `=`" },
  E0010: { severity: "error", summary: "`let` without a variable name" },
  E0011: { severity: "error", summary: "`let` without a value" },
  E0012: { severity: "error", summary: "`let` with more than one value word" },
  E0013: { severity: "error", summary: "`for` without a loop variable" },
  E0014: { severity: "error", summary: "`for` without `in`" },
  E0015: { severity: "error", summary: "`for` with nothing to iterate over" },
  E0016: { severity: "error", summary: "`for` without `{`" },
  E0017: { severity: "error", summary: "`include` without a path" },
  E0018: { severity: "error", summary: "`include` with more than one path" },
  E0019: { severity: "error", summary: `blocks nested deeper than ${MAX_BLOCK_DEPTH} levels` },
  W0001: { severity: "warning", summary: "`$name` (without braces) is not interpolated" },
} as const satisfies Record<string, SyntaxCodeInfo>;

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Only blanks, line continuations, newlines and comments. */
const TRAILING_NOTHING_RE = /^(?:[ \t\r\f\v\n]|\\\r?\n|#[^\n]*)*$/;

/** True if `name` is a valid variable name: a letter or `_`, then letters, digits, `_`. */
export function isVariableName(name: string): boolean {
  return NAME_RE.test(name);
}

/**
 * Parses a script. Never throws on any input: syntax errors are diagnostics.
 *
 * @example
 * ```ts
 * import { parse } from "./parse.ts";
 * const r = parse("for i in 1..3 {\n  run\n", { source: "<repl:1>" });
 * if (!r.incomplete) throw new Error("an open block is incomplete input");
 * if (r.diagnostics[0]?.code !== "E0007") throw new Error("unclosed `{` expected");
 * ```
 */
export function parse(text: string, options: ParseOptions): ParseResult {
  const cst = parseCst(text, {
    grammarSource: options.source,
    startRule: options.startRule ?? "Program",
  });
  const lowering = new Lowering(text);
  const statements = lowering.items(cst.items);
  const diagnostics = [...lowering.diagnostics].sort(bySourceOrder);
  return {
    program: { source: options.source, statements },
    diagnostics,
    incomplete: lowering.incomplete,
  };
}

function bySourceOrder(a: Diagnostic, b: Diagnostic): number {
  const sa = primarySpan(a);
  const sb = primarySpan(b);
  return (sa?.start ?? 0) - (sb?.start ?? 0) || (sa?.end ?? 0) - (sb?.end ?? 0);
}

function at(s: Span, start: number, end: number = start): Span {
  return { source: s.source, start, end };
}

function code(s: string): string {
  return `\`${s}\``;
}

/**
 * Collects text pieces with their source offsets into text parts. Offsets are computed only
 * for parts that need them (quoted or escaped), as most words are verbatim bare runs.
 */
class TextBuilder {
  #text = "";
  /** Verbatim text has its characters from `start` on; produced text all maps to `start`. */
  #pieces: [text: string, start: number, produced: boolean][] = [];
  #verbatim = true;
  #start = -1;
  #end = -1;
  #textEnd = -1;

  get empty(): boolean {
    return this.#start < 0;
  }

  /** True once a character has been added. */
  get hasText(): boolean {
    return this.#text.length > 0;
  }

  /** Extends the part's span over `[start, end)` without adding text (a quote, a `\`+newline). */
  cover(start: number, end: number, verbatim: boolean): void {
    if (this.#start < 0) this.#start = start;
    this.#end = end;
    if (!verbatim) this.#verbatim = false;
  }

  /** Text found verbatim at `start`. */
  verbatim(text: string, start: number): void {
    this.cover(start, start + text.length, true);
    this.#pieces.push([text, start, false]);
    this.#text += text;
    this.#textEnd = start + text.length;
  }

  /** Text produced by the construct at `[start, end)` (an escape): it maps to `start`. */
  produced(text: string, start: number, end: number): void {
    this.cover(start, end, false);
    this.#pieces.push([text, start, true]);
    this.#text += text;
    this.#textEnd = end;
  }

  take(source: string, quoted: boolean): TextPart {
    const span = at({ source, start: 0, end: 0 }, this.#start, this.#end);
    let part: TextPart;
    if (this.#verbatim && !quoted) {
      part = { kind: "text", span, text: this.#text, quoted };
    } else {
      const offsets: number[] = [];
      for (const [text, start, produced] of this.#pieces) {
        for (let i = 0; i < text.length; i++) offsets.push(produced ? start : start + i);
      }
      const textEnd = this.#textEnd < 0 ? (quoted ? this.#start + 1 : this.#start) : this.#textEnd;
      offsets.push(textEnd);
      part = { kind: "text", span, text: this.#text, quoted, offsets };
    }
    this.reset();
    return part;
  }

  reset(): void {
    this.#text = "";
    this.#pieces = [];
    this.#verbatim = true;
    this.#start = -1;
    this.#end = -1;
    this.#textEnd = -1;
  }
}

/** Lowers the grammar's concrete tree to the AST, collecting diagnostics. */
class Lowering {
  readonly diagnostics: Diagnostic[] = [];
  incomplete = false;
  readonly #text: string;
  #errors = 0;
  /** A block nested too deeply ended the parse early. */
  #truncated = false;

  constructor(text: string) {
    this.#text = text;
  }

  #report(d: Diagnostic): void {
    if (d.severity === "error") this.#errors++;
    this.diagnostics.push(d);
  }

  items(items: readonly CstItem[]): Statement[] {
    const out: Statement[] = [];
    for (const item of items) {
      const before = this.#errors;
      const s = this.#item(item);
      if (s && this.#errors === before) out.push(s);
    }
    return out;
  }

  #item(item: CstItem): Statement | undefined {
    switch (item.type) {
      case "command": {
        const words = item.words.map((w) => this.word(w));
        const first = words[0];
        const last = words[words.length - 1];
        if (!first || !last) throw new Error("Command without words");
        return { kind: "command", span: joinSpans(first.span, last.span), words };
      }
      case "let":
        return this.#let(item);
      case "for":
        return this.#for(item);
      case "include":
        return this.#include(item);
      case "stray":
        if (item.brace === "}") {
          this.#report(error("E0006", "unmatched `}`", {
            span: item.span,
            label: "no block is open here",
            help: [
              "remove it, or open a block with `for NAME in ITEMS {`",
              "to pass a literal brace, quote it: `'}'`",
            ],
          }));
        } else {
          this.#report(error("E0008", "unexpected `{`", {
            span: item.span,
            label: "a block opens only after `for NAME in ITEMS`",
            help: ["to pass a literal brace, quote it: `'{'`"],
          }));
        }
        return undefined;
    }
  }

  #name(name: CstName, what: string): void {
    if (isVariableName(name.text)) return;
    this.#report(error("E0003", `invalid variable name ${code(name.text)}`, {
      span: name.span,
      label: `not a valid ${what} name`,
      help: ["a name starts with a letter or `_` and goes on with letters, digits or `_`"],
    }));
  }

  #let(item: CstLet): Statement | undefined {
    const value = item.value ? this.word(item.value) : undefined;
    const extra = item.extra.map((w) => this.word(w));
    const ends = [item.keyword, item.name?.span, item.eq, value?.span, ...extra.map((w) => w.span)];
    const span = ends.reduce<Span>((a, b) => (b ? joinSpans(a, b) : a), item.keyword);
    const name = item.name;
    if (!name) {
      this.#report(error("E0010", "`let` needs a variable name", {
        span: item.keyword,
        label: "no name follows",
        help: ["write `let NAME = VALUE`, e.g. `let n = 4`"],
      }));
      return undefined;
    }
    this.#name(name, "variable");
    const shown = `let ${name.text}`;
    if (!item.eq) {
      this.#report(error("E0009", `expected \`=\` after ${code(shown)}`, {
        span: value ? value.span : at(name.span, name.span.end),
        label: value ? "expected `=` before this" : "expected `=` here",
        help: [`write \`${shown} = VALUE\``],
      }));
      return undefined;
    }
    if (!value) {
      this.#report(error("E0011", `${code(shown)} has no value`, {
        span: item.eq,
        label: "nothing follows `=`",
        help: [`write \`${shown} = VALUE\`; for an empty value write \`${shown} = ""\``],
      }));
      return undefined;
    }
    const firstExtra = extra[0];
    const lastExtra = extra[extra.length - 1];
    if (firstExtra && lastExtra) {
      this.#report(error("E0012", "`let` takes one word as its value", {
        span: joinSpans(firstExtra.span, lastExtra.span),
        label: extra.length === 1 ? "a second word" : "more words",
        secondary: [{ span: value.span, message: "the value" }],
        help: ['quote a value with blanks: `let NAME = "a b"`'],
      }));
      return undefined;
    }
    return {
      kind: "let",
      span,
      keywordSpan: item.keyword,
      name: name.text,
      nameSpan: name.span,
      value,
    };
  }

  #for(item: CstFor): ForStatement | undefined {
    const before = this.#errors;
    const items = item.items.map((w) => this.word(w));
    const variable = item.variable;
    const lastItem = items[items.length - 1];
    const headerEnd = lastItem?.span ?? item.inKeyword ?? variable?.span ?? item.keyword;
    if (!variable) {
      this.#report(error("E0013", "`for` needs a loop variable", {
        span: item.keyword,
        label: "no variable follows",
        help: ["write `for NAME in ITEMS {`, e.g. `for i in 1..4 {`"],
      }));
    } else {
      this.#name(variable, "loop variable");
      if (!item.inKeyword) {
        const first = items[0];
        this.#report(error("E0014", `expected \`in\` after ${code(`for ${variable.text}`)}`, {
          span: first ? first.span : at(variable.span, variable.span.end),
          label: first ? "expected `in` before this" : "expected `in` here",
          help: [`write \`for ${variable.text} in ITEMS {\``],
        }));
      } else if (items.length === 0) {
        this.#report(error("E0015", "the `for` loop has nothing to iterate over", {
          span: item.inKeyword,
          label: "no items follow",
          help: ["give a range (`1..4`, `1..${n}`) or a list of words (`vm1 vm2`)"],
        }));
      }
    }
    const header = joinSpans(item.keyword, headerEnd);
    if (item.tooDeep && item.open) {
      this.#truncated = true;
      this.#report(error("E0019", "blocks are nested too deeply", {
        span: item.open,
        label: `block ${MAX_BLOCK_DEPTH + 1} levels deep`,
        notes: [
          `blocks nest at most ${MAX_BLOCK_DEPTH} levels; the rest of the input was not read`,
        ],
        help: ["split the script with `include`, or flatten the loops"],
      }));
      return undefined;
    }
    if (!item.open) {
      if (TRAILING_NOTHING_RE.test(this.#text.slice(headerEnd.end))) this.incomplete = true;
      this.#report(error("E0016", "expected `{` after the `for` list", {
        span: at(headerEnd, headerEnd.end),
        label: "the block should open here",
        secondary: [{ span: item.keyword, message: "this loop has no body" }],
        help: ["write the body as a block: `for i in 1..4 {`, the statements, then `}`"],
      }));
    }
    const body = this.items(item.body);
    // After a too-deep block the rest of the input is unread: the `}` were not missing.
    if (item.open && !item.close && !this.#truncated) {
      this.incomplete = true;
      const help = ["add `}` after the last statement of the loop"];
      if (this.#endsWithGluedBrace(item.body)) {
        help.push("a `}` closes a block only when it stands alone: put a blank before it");
      }
      this.#report(error("E0007", "unclosed `{`", {
        span: item.open,
        label: "this `{` is never closed",
        secondary: [{ span: header, message: "the block of this loop" }],
        help,
      }));
    }
    if (this.#errors !== before || !variable || !item.open || !item.close) return undefined;
    return {
      kind: "for",
      span: joinSpans(item.keyword, item.close),
      keywordSpan: item.keyword,
      variable: variable.text,
      variableSpan: variable.span,
      items,
      openSpan: item.open,
      closeSpan: item.close,
      body,
    };
  }

  /** True if the block's last statement ends in a word like `stats}`. */
  #endsWithGluedBrace(body: readonly CstItem[]): boolean {
    const last = body[body.length - 1];
    if (!last || last.type === "stray" || last.type === "for") return false;
    const words = last.type === "let"
      ? [last.value, ...last.extra].filter((w): w is CstWord => w !== null)
      : last.words;
    const w = words[words.length - 1];
    return w !== undefined && this.#text.slice(w.span.start, w.span.end).endsWith("}");
  }

  #include(item: CstInclude): Statement | undefined {
    const words = item.words.map((w) => this.word(w));
    const [path, ...extra] = words;
    if (!path) {
      this.#report(error("E0017", "`include` needs a file path", {
        span: item.keyword,
        label: "no path follows",
        help: ['write `include "common.vdpa"` (relative to this file)'],
      }));
      return undefined;
    }
    const firstExtra = extra[0];
    const lastExtra = extra[extra.length - 1];
    if (firstExtra && lastExtra) {
      this.#report(error("E0018", "`include` takes one path", {
        span: joinSpans(firstExtra.span, lastExtra.span),
        label: "unexpected after the path",
        secondary: [{ span: path.span, message: "the path" }],
        help: ['quote a path with blanks: `include "my lab.vdpa"`'],
      }));
      return undefined;
    }
    return {
      kind: "include",
      span: joinSpans(item.keyword, path.span),
      keywordSpan: item.keyword,
      path,
    };
  }

  /** Lowers a word, reporting its defects (the word is returned either way). */
  word(w: CstWord): Word {
    const source = w.span.source;
    const parts: WordPart[] = [];
    const bare = new TextBuilder();
    let quoted = false;
    const flushBare = () => {
      if (!bare.empty) parts.push(bare.take(source, false));
    };
    for (const p of w.parts) {
      switch (p.type) {
        case "bare":
          bare.verbatim(p.text, p.span.start);
          break;
        case "escape":
          bare.produced(p.text, p.span.start, p.span.end);
          break;
        case "continuation":
          bare.cover(p.span.start, p.span.end, false);
          break;
        case "dangling":
          this.#dangling(p.span);
          bare.cover(p.span.start, p.span.end, false);
          break;
        case "dollar":
          this.#dollar(p.span);
          bare.verbatim("$", p.span.start);
          break;
        case "var":
          flushBare();
          parts.push(this.#var(p));
          break;
        case "single": {
          flushBare();
          quoted = true;
          const q = new TextBuilder();
          const inner = p.closed ? p.span.end - 1 : p.span.end;
          q.cover(p.span.start, p.span.start + 1, false);
          q.verbatim(this.#text.slice(p.span.start + 1, inner), p.span.start + 1);
          q.cover(p.span.start, p.span.end, false);
          parts.push(q.take(source, true));
          if (!p.closed) this.#unterminated(p.span, "'");
          break;
        }
        case "double":
          flushBare();
          quoted = true;
          this.#double(p, parts);
          break;
      }
    }
    flushBare();
    return { span: w.span, quoted, parts };
  }

  #double(p: CstDouble, parts: WordPart[]): void {
    const source = p.span.source;
    const q = new TextBuilder();
    let emitted = false;
    q.cover(p.span.start, p.span.start + 1, false);
    for (const s of p.segments) {
      switch (s.type) {
        case "bare":
          q.verbatim(s.text, s.span.start);
          break;
        case "escape":
          q.produced(s.text, s.span.start, s.span.end);
          break;
        case "continuation":
          q.cover(s.span.start, s.span.end, false);
          break;
        case "dollar":
          this.#dollar(s.span);
          q.verbatim("$", s.span.start);
          break;
        case "var":
          if (q.hasText) parts.push(q.take(source, true));
          else q.reset();
          parts.push(this.#var(s));
          emitted = true;
          break;
      }
    }
    if (p.closed) q.cover(p.span.end - 1, p.span.end, false);
    if (q.hasText || !emitted) parts.push(q.take(source, true));
    if (!p.closed) this.#unterminated(p.span, '"');
  }

  #var(v: CstVar): VarPart {
    const name = v.name;
    if (!v.closed) {
      const shown = isVariableName(name.text) ? name.text : "name";
      this.#report(error("E0002", "`${` without a closing `}`", {
        span: at(v.span, v.span.start, v.span.start + 2),
        label: "this interpolation is never closed",
        help: [
          `write \`\${${shown}}\`; a variable name is letters, digits and \`_\``,
          "for a literal `${`, escape the dollar: `\\${`",
        ],
      }));
    } else if (name.text === "") {
      this.#report(error("E0003", "empty variable name in `${}`", {
        span: v.span,
        label: "no name between the braces",
        help: ["write the variable's name: `${n}`"],
      }));
    } else {
      this.#name(name, "variable");
    }
    return { kind: "var", span: v.span, name: name.text, nameSpan: name.span };
  }

  #dollar(s: Span): void {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.#text.slice(s.end, s.end + 64));
    if (!m) return;
    this.#report(warning("W0001", `\`$${m[0]}\` is not interpolated`, {
      span: at(s, s.start, s.end + m[0].length),
      label: "this is a literal `$`",
      help: [`write \`\${${m[0]}}\` to interpolate, or \`\\$${m[0]}\` for a literal \`$\``],
    }));
  }

  #unterminated(s: Span, quote: "'" | '"'): void {
    this.incomplete = true;
    const kind = quote === "'" ? "single-quoted" : "double-quoted";
    this.#report(error("E0001", `unterminated ${kind} string`, {
      span: at(s, s.start, s.start + 1),
      label: "this quote is never closed",
      help: [`close the string with \`${quote}\``],
    }));
  }

  #dangling(s: Span): void {
    this.incomplete = true;
    this.#report(error("E0005", "`\\` at the end of the input", {
      span: s,
      label: "a line continuation with no next line",
      help: ["remove the `\\`, or continue the statement on the next line"],
    }));
  }
}
