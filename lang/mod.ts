/**
 * The `.vdpa` language: parsing, word expansion, quantities, suggestions, diagnostics and
 * their rendering, and the interpreter core. Syntax only: what a command means is given by
 * the executor the host injects (see `stdlib/`).
 *
 * A script is one statement per line (`;` separates statements on a line, `\` + newline
 * continues one, `#` starts a comment at the start of a word). Words are shell-like: bare,
 * `'single'` or `"double"` quoted, with `${name}` interpolated in bare and double-quoted
 * words. Lab statements with syntax of their own: `let n = 4`, `for i in 1..${n} { … }`,
 * `include "common.vdpa"`; every other statement is a command, a list of words.
 *
 * @example Check a script and render its errors the way rustc does
 * ```ts
 * import { Interpreter, renderDiagnostics } from "./mod.ts";
 * const lab = new Interpreter({ mode: "check", executor: () => {} });
 * const r = await lab.runText('let n = 4\nfor i in 1..${nn} {\n  run\n}\n', "lab.vdpa");
 * if (r.status !== "failed") throw new Error("expected an undefined variable");
 * const text = renderDiagnostics(r.diagnostics, lab.sources);
 * if (!text.startsWith("error[E0601]: undefined variable `nn`\n --> lab.vdpa:2:13\n")) {
 *   throw new Error(text);
 * }
 * if (!text.includes("= help: did you mean `n`?")) throw new Error(text);
 * ```
 *
 * @module
 */

export type {
  CommandStatement,
  ForStatement,
  IncludeStatement,
  LetStatement,
  Program,
  Statement,
  TextPart,
  VarPart,
  Word,
  WordPart,
} from "./ast.ts";
export { walkStatements } from "./ast.ts";
export {
  isVariableName,
  MAX_BLOCK_DEPTH,
  parse,
  type ParseOptions,
  type ParseResult,
} from "./parse.ts";
export {
  type ExpandOptions,
  type ExpandResult,
  expandWord,
  expandWords,
  type ExpandWordsResult,
  MAX_WORD_LENGTH,
  undefinedVariable,
  type VariableLookup,
} from "./expand.ts";
export {
  parseQuantity,
  type Quantity,
  type QuantityKind,
  type QuantityOptions,
  type QuantityResult,
} from "./quantity.ts";
export { didYouMean, editDistance, suggest, type SuggestOptions } from "./suggest.ts";
export {
  type DiagnosticJson,
  diagnosticToJson,
  type JsonLabel,
  type JsonRange,
  renderDiagnostic,
  renderDiagnostics,
  type RenderOptions,
  renderShort,
  renderSummary,
} from "./render.ts";
export {
  type CommandContext,
  type CommandExecutor,
  DEFAULT_MAX_ITERATIONS,
  type FileReader,
  Interpreter,
  type InterpreterOptions,
  memoryFileReader,
  type Mode,
  normalizePath,
  type ReadResult,
  resolveInclude,
  type RunOutcome,
  type RunTextOptions,
} from "./interpreter.ts";
export * from "./span.ts";
export * from "./diagnostic.ts";
export * from "./word.ts";
export * from "./props.ts";
