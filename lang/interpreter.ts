/**
 * The interpreter core: variables, `for` loops, `include`, and dispatch of every command
 * statement (its words expanded) to an injected executor. It knows nothing of the
 * simulator: the executor (from `stdlib/`) gives commands their meaning and reports its
 * diagnostics into the shared {@link Diagnostics} collector.
 *
 * Semantics:
 * - One variable namespace. `let NAME = VALUE` binds or rebinds; names the host predefined
 *   are read-only. A `for` variable is bound inside its body only, then restored.
 * - `for v in A..B { … }`: when the list is one unquoted word that expands to two integers
 *   joined by `..`, it is an inclusive range, counting down when A > B (as `{5..1}` in bash);
 *   otherwise each expanded word is one iteration. A run stops a loop with an error
 *   beyond `maxIterations` iterations in total (default 1,000,000).
 * - `include PATH`: PATH is relative to the including file (to `cwd` for `<stdin>` and
 *   REPL input) and read through the injected reader; including a file that is already
 *   being included is a cycle, and a chain of more than `maxIncludeDepth` nested includes
 *   (default 64, as deep as bash lets `source` nest) stops at the include that goes deeper.
 * - A source with a syntax error does not run. In `run` mode the first error stops the run;
 *   in `check` mode every statement is checked and all errors are collected (a variable
 *   whose `let` failed is not reported again where it is used).
 * - `interrupted()` is asked before every statement and loop iteration.
 *
 * Diagnostics: E06xx, one line each in {@link INTERPRETER_CODES} (E0601 and E0607 are
 * reported by `expand.ts`; E0608 is include nesting too deep).
 *
 * @example A script with a loop, run line by line as a REPL would
 * ```ts
 * import { Interpreter } from "./interpreter.ts";
 * const seen: string[] = [];
 * const lab = new Interpreter({
 *   executor: (words) => {
 *     seen.push(words.map((w) => w.text).join(" "));
 *   },
 * });
 * await lab.runText("let n = 2", "<repl:1>");
 * const r = await lab.runText("for i in 1..${n} {\n  vdpa dev add name vdpa${i} mgmtdev vdpasim_net\n}", "<repl:2>");
 * if (r.status !== "ok") throw new Error("expected ok");
 * if (seen[1] !== "vdpa dev add name vdpa2 mgmtdev vdpasim_net") throw new Error(seen.join("|"));
 * ```
 *
 * @module
 */

import type {
  CommandStatement,
  ForStatement,
  IncludeStatement,
  LetStatement,
  Statement,
  Word,
} from "./ast.ts";
import { type Diagnostic, Diagnostics, error, type Severity } from "./diagnostic.ts";
import { expandWord, undefinedVariable } from "./expand.ts";
import { parse } from "./parse.ts";
import { joinSpans, SourceMap, type Span } from "./span.ts";
import type { ExpandedWord } from "./word.ts";

/** One interpreter code: its severity and what it means. */
export interface InterpreterCodeInfo {
  readonly severity: Severity;
  readonly summary: string;
}

/** Every code the interpreter core reports. */
export const INTERPRETER_CODES = {
  E0601: { severity: "error", summary: "undefined variable" },
  E0602: { severity: "error", summary: "too many loop iterations" },
  E0603: { severity: "error", summary: "an included file cannot be read" },
  E0604: { severity: "error", summary: "include cycle" },
  E0605: { severity: "error", summary: "malformed or out-of-bounds range in `for`" },
  E0606: { severity: "error", summary: "assignment to a predefined variable" },
  E0607: { severity: "error", summary: "a word too long once expanded" },
  E0608: { severity: "error", summary: "include nesting too deep" },
} as const satisfies Record<string, InterpreterCodeInfo>;

/** `run` stops at the first error; `check` collects all of them. */
export type Mode = "run" | "check";

/** What the executor gets besides the words of a command. */
export interface CommandContext {
  /** The statement being executed (for spans). */
  readonly statement: CommandStatement;
  /** Where the executor reports its diagnostics. */
  readonly diagnostics: Diagnostics;
  /** `run` or `check`. */
  readonly mode: Mode;
  /** Every source seen so far, for executors that render or quote source text. */
  readonly sources: SourceMap;
  /** The variables defined now. */
  readonly variables: ReadonlyMap<string, string>;
  /** Spans of the `include` statements that led to this statement, outermost first. */
  readonly includedFrom: readonly Span[];
}

/** Executes one command statement; reports problems into `ctx.diagnostics`. */
export type CommandExecutor = (
  words: ExpandedWord[],
  ctx: CommandContext,
) => void | Promise<void>;

/** The text of a file, or why it could not be read (e.g. `No such file or directory`). */
export type ReadResult = { readonly text: string } | { readonly error: string };

/** Reads an included file; the host decides which paths it may read. */
export type FileReader = (path: string) => ReadResult | Promise<ReadResult>;

/** Options of {@link Interpreter}. */
export interface InterpreterOptions {
  /** Gives commands their meaning. */
  readonly executor: CommandExecutor;
  /** Reads included files; without one, `include` is an error. */
  readonly readFile?: FileReader;
  /** Default `run`. */
  readonly mode?: Mode;
  /** Predefined, read-only variables. */
  readonly variables?: Iterable<readonly [string, string]>;
  /** Asked before each statement: true stops the run (Ctrl-C in the REPL). */
  readonly interrupted?: () => boolean;
  /** Most loop iterations a run may execute (default 1,000,000). */
  readonly maxIterations?: number;
  /** Most nested includes a run may open (default {@link DEFAULT_MAX_INCLUDE_DEPTH}). */
  readonly maxIncludeDepth?: number;
  /** Shared with the host to render diagnostics (default: a new one). */
  readonly sources?: SourceMap;
  /** Shared with the executor (default: a new one). */
  readonly diagnostics?: Diagnostics;
  /** Directory that includes from `<stdin>` and `<repl:N>` are relative to (default `.`). */
  readonly cwd?: string;
}

/** How a run ended, with the diagnostics it added. */
export interface RunOutcome {
  /**
   * `ok`: no new error; `failed`: at least one; `interrupted`: `interrupted()` said stop;
   * `incomplete`: the input ends inside an open construct (only with `allowIncomplete`).
   */
  readonly status: "ok" | "failed" | "interrupted" | "incomplete";
  /** The diagnostics this run added (syntax, interpreter and executor ones). */
  readonly diagnostics: readonly Diagnostic[];
}

/** Options of {@link Interpreter.runText}. */
export interface RunTextOptions {
  /**
   * Return `incomplete` (reporting nothing) when the text ends inside a quote, a block or
   * after a trailing `\`, so a REPL can read another line.
   */
  readonly allowIncomplete?: boolean;
}

/** The default {@link InterpreterOptions.maxIterations}. */
export const DEFAULT_MAX_ITERATIONS = 1_000_000;

/**
 * The default {@link InterpreterOptions.maxIncludeDepth}: no hand-written lab nests deeper,
 * and a chain that does is generated (a symlink to `.` makes `include d/x.vdpa` a new path at
 * every level) or self-similar; each level holds its parsed source, so the depth is bounded.
 */
export const DEFAULT_MAX_INCLUDE_DEPTH = 64;

/** How many files of a long include chain its note names at each end. */
const CHAIN_ENDS = 3;

const RANGE_RE = /^(-?\d+)\.\.(-?\d+)$/;
/** A word that was surely meant as a range but is not one (`1..x`, `1..`). */
const RANGE_LIKE_RE = /^-?[\w$]*\.\.-?[\w$]*$/;

type Flow = "next" | "stop" | "interrupted";

/** An entry of the include stack: a source being executed and where it was included. */
interface Frame {
  readonly path: string;
  readonly includedAt?: Span;
}

function isPseudoSource(name: string): boolean {
  return name.startsWith("<");
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  if (i < 0) return ".";
  return i === 0 ? "/" : path.slice(0, i);
}

/** `a/./b/../c` → `a/c`; keeps leading `..` of relative paths and a leading `/`. */
export function normalizePath(path: string): string {
  const absolute = path.startsWith("/");
  const out: string[] = [];
  for (const seg of path.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === ".." && out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else if (seg === ".." && absolute) continue;
    else out.push(seg);
  }
  const joined = out.join("/");
  if (absolute) return `/${joined}`;
  return joined === "" ? "." : joined;
}

/**
 * The path `include PATH` names, written in the source called `from`: relative to that
 * file's directory, or to `cwd` when `from` is `<stdin>` or `<repl:N>`.
 *
 * @example
 * ```ts
 * import { resolveInclude } from "./interpreter.ts";
 * if (resolveInclude("labs/vdpa/sim.vdpa", "../common.vdpa") !== "labs/common.vdpa") {
 *   throw new Error("relative to the including file");
 * }
 * if (resolveInclude("<repl:2>", "x.vdpa", "/home/me") !== "/home/me/x.vdpa") throw new Error("cwd");
 * ```
 */
export function resolveInclude(from: string, path: string, cwd = "."): string {
  if (path.startsWith("/")) return normalizePath(path);
  const base = isPseudoSource(from) ? cwd : dirname(from);
  return normalizePath(`${base}/${path}`);
}

/**
 * A file reader over an in-memory set of files (scripts embedded in a program, the
 * examples of the documentation).
 *
 * @example
 * ```ts
 * import { Interpreter, memoryFileReader } from "./interpreter.ts";
 * const lines: string[] = [];
 * const lab = new Interpreter({
 *   executor: (words) => void lines.push(words.map((w) => w.text).join(" ")),
 *   readFile: memoryFileReader({ "labs/common.vdpa": "modprobe vdpa_sim_net\n" }),
 * });
 * await lab.runText('include "common.vdpa"\nrun\n', "labs/main.vdpa");
 * if (lines.join("; ") !== "modprobe vdpa_sim_net; run") throw new Error(lines.join("; "));
 * ```
 */
export function memoryFileReader(files: Readonly<Record<string, string>>): FileReader {
  const byPath = new Map(Object.entries(files).map(([p, t]) => [normalizePath(p), t]));
  return (path) => {
    const text = byPath.get(normalizePath(path));
    return text === undefined ? { error: "No such file or directory" } : { text };
  };
}

/** A run's own collector that also forwards every diagnostic to the collector it wraps. */
class RunDiagnostics extends Diagnostics {
  readonly #into: Diagnostics;

  constructor(into: Diagnostics) {
    super();
    this.#into = into;
  }

  override push(d: Diagnostic): void {
    super.push(d);
    this.#into.push(d);
  }
}

/**
 * Runs scripts statement by statement. State (variables, sources, diagnostics) persists
 * across calls, so a REPL calls {@link Interpreter.runText} once per input.
 */
export class Interpreter {
  readonly #executor: CommandExecutor;
  readonly #readFile: FileReader | undefined;
  readonly #interrupted: () => boolean;
  readonly #maxIterations: number;
  readonly #maxIncludeDepth: number;
  readonly #cwd: string;
  readonly #sources: SourceMap;
  readonly #diagnostics: Diagnostics;
  /** The current run's diagnostics (forwarded to {@link Interpreter.diagnostics}). */
  #run: Diagnostics;
  readonly #variables = new Map<string, string>();
  readonly #predefined = new Set<string>();
  /** Variables whose `let` failed in check mode: uses are not reported again. */
  readonly #poisoned = new Set<string>();
  #mode: Mode;
  #iterations = 0;
  #scanned = 0;
  #errorCount = 0;

  /** Creates an interpreter with no variables but the predefined ones. */
  constructor(options: InterpreterOptions) {
    this.#executor = options.executor;
    this.#readFile = options.readFile;
    this.#mode = options.mode ?? "run";
    this.#interrupted = options.interrupted ?? (() => false);
    this.#maxIterations = options.maxIterations ?? DEFAULT_MAX_ITERATIONS;
    this.#maxIncludeDepth = options.maxIncludeDepth ?? DEFAULT_MAX_INCLUDE_DEPTH;
    this.#cwd = options.cwd ?? ".";
    this.#sources = options.sources ?? new SourceMap();
    this.#diagnostics = options.diagnostics ?? new Diagnostics();
    this.#run = this.#diagnostics;
    for (const [name, value] of options.variables ?? []) this.define(name, value);
  }

  /** Every source run so far (files, includes, `<stdin>`, REPL inputs). */
  get sources(): SourceMap {
    return this.#sources;
  }

  /** Every diagnostic reported so far, by the interpreter and by the executor. */
  get diagnostics(): Diagnostics {
    return this.#diagnostics;
  }

  /** The variables defined now. */
  get variables(): ReadonlyMap<string, string> {
    return this.#variables;
  }

  /** `run` or `check`. */
  get mode(): Mode {
    return this.#mode;
  }

  set mode(mode: Mode) {
    this.#mode = mode;
  }

  /** Defines a read-only variable (the host's predefined ones). */
  define(name: string, value: string): void {
    this.#variables.set(name, value);
    this.#predefined.add(name);
    this.#poisoned.delete(name);
  }

  /**
   * Parses and runs `text`, registered in the source map as `source` (a path, `<stdin>`,
   * `<repl:N>`).
   */
  async runText(text: string, source: string, options: RunTextOptions = {}): Promise<RunOutcome> {
    const parsed = parse(text, { source });
    if (parsed.incomplete && options.allowIncomplete) {
      return { status: "incomplete", diagnostics: [] };
    }
    const outer = this.#beginRun();
    let flow: Flow = "next";
    try {
      this.#iterations = 0;
      this.#sources.add(source, text);
      this.#run.pushAll(parsed.diagnostics);
      if (!parsed.diagnostics.some((d) => d.severity === "error")) {
        const errorsBefore = this.#errors();
        flow = await this.#block(parsed.program.statements, [{ path: source }], errorsBefore);
      }
    } finally {
      this.#endRun(outer);
    }
    const added = outer.run.items;
    if (flow === "interrupted") return { status: "interrupted", diagnostics: added };
    return {
      status: added.some((d) => d.severity === "error") ? "failed" : "ok",
      diagnostics: added,
    };
  }

  /**
   * Starts collecting one run's diagnostics on their own: the shared collector keeps identical
   * diagnostics once, so a source run again (the REPL's `.load` twice) would otherwise add
   * nothing, come back `ok` and, in run mode, not stop at its first error.
   */
  #beginRun(): { run: Diagnostics; saved: Diagnostics; scanned: number; errors: number } {
    const saved = { saved: this.#run, scanned: this.#scanned, errors: this.#errorCount };
    this.#run = new RunDiagnostics(this.#run);
    this.#scanned = 0;
    this.#errorCount = 0;
    return { run: this.#run, ...saved };
  }

  #endRun(outer: { saved: Diagnostics; scanned: number; errors: number }): void {
    this.#run = outer.saved;
    this.#scanned = outer.scanned;
    this.#errorCount = outer.errors;
  }

  /** Reads `path` through the reader and runs it. */
  async runFile(path: string): Promise<RunOutcome> {
    const read = await this.#read(path);
    if ("error" in read) {
      const d = error("E0603", `cannot read \`${path}\``, { notes: [read.error] });
      this.#run.push(d);
      return { status: "failed", diagnostics: [d] };
    }
    return await this.runText(read.text, path);
  }

  async #read(path: string): Promise<ReadResult> {
    if (!this.#readFile) return { error: "this session cannot read files" };
    return await this.#readFile(path);
  }

  /** Errors reported so far (scanning only what was added since the last call). */
  #errors(): number {
    const items = this.#run.items;
    for (; this.#scanned < items.length; this.#scanned++) {
      if (items[this.#scanned]?.severity === "error") this.#errorCount++;
    }
    return this.#errorCount;
  }

  #report(d: Diagnostic): void {
    this.#run.push(d);
  }

  /** After a statement: should the run stop? */
  #after(errorsBefore: number): Flow {
    return this.#mode === "run" && this.#errors() > errorsBefore ? "stop" : "next";
  }

  async #block(
    statements: readonly Statement[],
    stack: readonly Frame[],
    errorsBefore: number,
  ): Promise<Flow> {
    for (const s of statements) {
      if (this.#interrupted()) return "interrupted";
      const flow = await this.#statement(s, stack);
      if (flow !== "next") return flow;
      if (this.#after(errorsBefore) === "stop") return "stop";
    }
    return "next";
  }

  #statement(s: Statement, stack: readonly Frame[]): Promise<Flow> | Flow {
    switch (s.kind) {
      case "command":
        return this.#command(s, stack);
      case "let":
        return this.#let(s);
      case "for":
        return this.#for(s, stack);
      case "include":
        return this.#include(s, stack);
    }
  }

  /** Expands words; on failure reports (unless the variable is poisoned) and returns undefined. */
  #expand(words: readonly Word[]): ExpandedWord[] | undefined {
    const out: ExpandedWord[] = [];
    let failed = false;
    for (const w of words) {
      const r = expandWord(w, this.#variables);
      if (r.word) {
        out.push(r.word);
        continue;
      }
      failed = true;
      const undefinedParts = w.parts.filter((p) =>
        p.kind === "var" && !this.#variables.has(p.name)
      );
      if (undefinedParts.length === 0) this.#report(r.diagnostic);
      for (const part of undefinedParts) {
        if (part.kind !== "var" || this.#poisoned.has(part.name)) continue;
        this.#report(undefinedVariable(part.name, part.span, this.#variables.keys()));
      }
    }
    return failed ? undefined : out;
  }

  async #command(s: CommandStatement, stack: readonly Frame[]): Promise<Flow> {
    const words = this.#expand(s.words);
    if (!words) return "next";
    const includedFrom = stack.flatMap((f) => (f.includedAt ? [f.includedAt] : []));
    await this.#executor(words, {
      statement: s,
      diagnostics: this.#run,
      mode: this.#mode,
      sources: this.#sources,
      variables: this.#variables,
      includedFrom,
    });
    return "next";
  }

  #assignable(name: string, at: Span): boolean {
    if (!this.#predefined.has(name)) return true;
    this.#report(error("E0606", `cannot assign to \`${name}\`: it is predefined`, {
      span: at,
      label: "predefined by the host",
      help: ["choose another name"],
    }));
    return false;
  }

  #let(s: LetStatement): Flow {
    if (!this.#assignable(s.name, s.nameSpan)) return "next";
    const value = this.#expand([s.value])?.[0];
    if (!value) {
      this.#poisoned.add(s.name);
      return "next";
    }
    this.#variables.set(s.name, value.text);
    this.#poisoned.delete(s.name);
    return "next";
  }

  /** The values a loop iterates over, or undefined after reporting why there are none. */
  #loopValues(s: ForStatement): string[] | undefined {
    const words = this.#expand(s.items);
    if (!words) return undefined;
    const only = words.length === 1 ? words[0] : undefined;
    if (!only) return words.map((w) => w.text);
    // A quoted word is never a range (as it is never a keyword): `for s in '1..2'` is literal.
    const m = only.quoted ? null : RANGE_RE.exec(only.text);
    if (!m) {
      if (RANGE_LIKE_RE.test(only.text) && !only.quoted) {
        this.#report(error("E0605", `malformed range \`${only.text}\``, {
          span: only.span,
          label: "not two integers joined by `..`",
          help: ["write an inclusive range of integers, e.g. `1..4` or `0..${n}`"],
        }));
        return undefined;
      }
      return [only.text];
    }
    const from = Number(m[1]);
    const to = Number(m[2]);
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) {
      this.#report(error("E0605", `range \`${only.text}\` is out of bounds`, {
        span: only.span,
        label: "an end is not a safe integer",
      }));
      return undefined;
    }
    const count = Math.abs(to - from) + 1;
    if (this.#iterations + count > this.#maxIterations) {
      this.#tooMany(s, count);
      return undefined;
    }
    const step = to >= from ? 1 : -1;
    return Array.from({ length: count }, (_, i) => String(from + i * step));
  }

  #tooMany(s: ForStatement, count?: number): void {
    const limit = this.#maxIterations.toLocaleString("en-US");
    const items = joinSpans(
      s.items[0]?.span ?? s.keywordSpan,
      s.items[s.items.length - 1]?.span ?? s.keywordSpan,
    );
    this.#report(error("E0602", `too many loop iterations (the limit is ${limit})`, {
      span: items,
      label: count === undefined
        ? "the limit is reached in this loop"
        : `${count.toLocaleString("en-US")} iterations`,
      secondary: [{ span: s.keywordSpan, message: "in this loop" }],
      notes: ["the limit counts every iteration of a run, nested loops included"],
      help: ["a lab needs few iterations: use a smaller range"],
    }));
  }

  async #for(s: ForStatement, stack: readonly Frame[]): Promise<Flow> {
    if (!this.#assignable(s.variable, s.variableSpan)) return "next";
    const values = this.#loopValues(s);
    if (!values) return "next";
    const had = this.#variables.has(s.variable);
    const saved = this.#variables.get(s.variable);
    const wasPoisoned = this.#poisoned.delete(s.variable);
    try {
      for (const v of values) {
        if (this.#interrupted()) return "interrupted";
        if (++this.#iterations > this.#maxIterations) {
          this.#tooMany(s);
          return "stop";
        }
        this.#variables.set(s.variable, v);
        const flow = await this.#block(s.body, stack, this.#errors());
        if (flow !== "next") return flow;
      }
      return "next";
    } finally {
      if (had && saved !== undefined) this.#variables.set(s.variable, saved);
      else this.#variables.delete(s.variable);
      if (wasPoisoned) this.#poisoned.add(s.variable);
    }
  }

  async #include(s: IncludeStatement, stack: readonly Frame[]): Promise<Flow> {
    const word = this.#expand([s.path])?.[0];
    if (!word) return "next";
    const from = s.span.source;
    const path = resolveInclude(from, word.text, this.#cwd);
    const cycleAt = stack.findIndex((f) => f.path === path);
    if (cycleAt >= 0) {
      const chain = [...stack.slice(cycleAt).map((f) => f.path), path];
      const secondary = stack.slice(cycleAt + 1).flatMap((f, i) =>
        f.includedAt
          ? [{
            span: f.includedAt,
            message: `\`${stack[cycleAt + i]?.path}\` includes \`${f.path}\``,
          }]
          : []
      );
      this.#report(error("E0604", `include cycle: \`${path}\` is already being included`, {
        span: word.span,
        label: `includes \`${path}\` again`,
        secondary,
        notes: [`the include chain: ${chain.map((p) => `\`${p}\``).join(" → ")}`],
        help: ["move what both files need into a third file and include that one from each"],
      }));
      return "next";
    }
    // The stack holds the running source and one frame per include open above it.
    if (stack.length > this.#maxIncludeDepth) return this.#tooDeep(word, path, stack);
    const read = await this.#read(path);
    if ("error" in read) {
      const notes = [read.error];
      if (path !== word.text) {
        notes.push(`\`${word.text}\` resolves to \`${path}\` (relative to the including file)`);
      }
      this.#report(error("E0603", `cannot read \`${word.text}\``, {
        span: word.span,
        label: "included here",
        notes,
      }));
      return "next";
    }
    const parsed = parse(read.text, { source: path });
    this.#sources.add(path, read.text);
    this.#run.pushAll(parsed.diagnostics);
    if (parsed.diagnostics.some((d) => d.severity === "error")) return "next";
    return await this.#block(
      parsed.program.statements,
      [...stack, { path, includedAt: s.span }],
      this.#errors(),
    );
  }

  /** E0608 at the include that would open one file more than the depth allows. */
  #tooDeep(word: ExpandedWord, path: string, stack: readonly Frame[]): Flow {
    const limit = this.#maxIncludeDepth;
    const chain = [...stack.map((f) => `\`${f.path}\``), `\`${path}\``];
    const shown = chain.length <= 2 * CHAIN_ENDS + 1 ? chain : [
      ...chain.slice(0, CHAIN_ENDS),
      `… ${chain.length - 2 * CHAIN_ENDS} more …`,
      ...chain.slice(-CHAIN_ENDS),
    ];
    const first = stack[1]?.includedAt;
    this.#report(error("E0608", `include nesting too deep (the limit is ${limit} files)`, {
      span: word.span,
      label: `the ${ordinal(stack.length)} nested include`,
      ...(first ? { secondary: [{ span: first, message: "the chain starts here" }] } : {}),
      notes: [`the include chain: ${shown.join(" → ")}`],
      help: [
        "include the files one after another from one file; a chain this deep is usually a " +
        "path that grows at every level (a symlink to its own directory)",
      ],
    }));
    return "next";
  }
}

/** `1st`, `2nd`, `3rd`, `4th` … `11th`, `21st`. */
function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? "th" : ["th", "st", "nd", "rd"][n % 10] ?? "th";
  return `${n}${suffix}`;
}
