/**
 * Building command diagnostics: the severity comes from the code table, so a code cannot be
 * emitted with the wrong severity.
 *
 * @example
 * ```ts
 * import { Diagnostics } from "../diagnostic.ts";
 * import { report } from "./report.ts";
 * const diags = new Diagnostics();
 * report(diags, "E0100", "unknown command `vdap`", { span: { source: "a", start: 0, end: 4 } });
 * if (diags.items[0]?.severity !== "error") throw new Error("error expected");
 * ```
 *
 * @module
 */

import { diagnostic, type DiagnosticOptions, type Diagnostics } from "../diagnostic.ts";
import { suggest } from "../suggest.ts";
import { COMMAND_CODES, type CommandCode } from "./codes.ts";

/** Appends a diagnostic with `code`'s severity to `diags`. */
export function report(
  diags: Diagnostics,
  code: CommandCode,
  message: string,
  options: DiagnosticOptions = {},
): void {
  diags.push(diagnostic(COMMAND_CODES[code].severity, code, message, options));
}

/** `did you mean `x`?` for a help line, or undefined when there is no suggestion. */
export function didYouMeanHelp(suggestion: string | undefined): string[] {
  return suggestion === undefined ? [] : [`did you mean \`${suggestion}\`?`];
}

/**
 * The did-you-mean help line for `word` among `candidates` (lang/suggest.ts, with `-` and `_`
 * alike), as a list that is empty when nothing is close.
 */
export function suggestHelp(word: string, candidates: Iterable<string>): string[] {
  return didYouMeanHelp(suggest(word, candidates, { dashUnderscore: true, limit: 1 })[0]);
}
