/**
 * Every diagnostic code registry of the project, merged: the tables each layer keeps beside the
 * code that reports them. docs/diagnostics.md is generated from {@link allCodes}, and the tests
 * check that the registries and the codes the sources report are the same set.
 *
 * @example
 * ```ts
 * import { allCodes } from "./codes.ts";
 * const e0001 = allCodes().find((c) => c.code === "E0001");
 * if (e0001?.module !== "lang/parse.ts") throw new Error("E0001 is a syntax error");
 * ```
 *
 * @module
 */

import { COMMAND_CODES } from "../../lang/commands/codes.ts";
import type { Severity } from "../../lang/diagnostic.ts";
import { INTERPRETER_CODES } from "../../lang/interpreter.ts";
import { SYNTAX_CODES } from "../../lang/parse.ts";
import { QUANTITY_CODES } from "../../lang/quantity.ts";
import { CHECK_CODES } from "../../stdlib/check/codes.ts";
import { EXECUTOR_CODES } from "../../stdlib/commands/codes.ts";
import { HOST_CODES } from "../../stdlib/host_errors.ts";
import { NAME_CODES } from "../../stdlib/names.ts";

/** One registry: the module that owns it and its table. */
export interface CodeRegistry {
  /** The module that exports the table (relative to the project root). */
  readonly module: string;
  /** The exported name of the table. */
  readonly table: string;
  readonly codes: Readonly<
    Record<string, { readonly severity: Severity; readonly summary: string }>
  >;
}

/** Every registry, in the order of the layers. */
export const CODE_REGISTRIES: readonly CodeRegistry[] = [
  { module: "lang/parse.ts", table: "SYNTAX_CODES", codes: SYNTAX_CODES },
  { module: "lang/quantity.ts", table: "QUANTITY_CODES", codes: QUANTITY_CODES },
  { module: "lang/commands/codes.ts", table: "COMMAND_CODES", codes: COMMAND_CODES },
  { module: "stdlib/names.ts", table: "NAME_CODES", codes: NAME_CODES },
  { module: "stdlib/check/codes.ts", table: "CHECK_CODES", codes: CHECK_CODES },
  { module: "stdlib/host_errors.ts", table: "HOST_CODES", codes: HOST_CODES },
  { module: "stdlib/commands/codes.ts", table: "EXECUTOR_CODES", codes: EXECUTOR_CODES },
  { module: "lang/interpreter.ts", table: "INTERPRETER_CODES", codes: INTERPRETER_CODES },
];

/** One code with the registry it comes from. */
export interface CodeRow {
  readonly code: string;
  readonly severity: Severity;
  readonly summary: string;
  readonly module: string;
}

/** `E0001` < `E0100` < … < `W0001` < …: errors first, then warnings, by number. */
export function compareCodes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Every code of every registry, sorted. Throws if two registries claim one code, or if a
 * code's letter disagrees with its severity (our bug, not the user's).
 */
export function allCodes(registries: readonly CodeRegistry[] = CODE_REGISTRIES): CodeRow[] {
  const seen = new Map<string, string>();
  const rows: CodeRow[] = [];
  for (const r of registries) {
    for (const [code, info] of Object.entries(r.codes)) {
      const other = seen.get(code);
      if (other !== undefined) throw new Error(`${code} is in ${other} and in ${r.module}`);
      seen.set(code, r.module);
      const letter = info.severity === "error" ? "E" : "W";
      if (!code.startsWith(letter)) throw new Error(`${code} has severity ${info.severity}`);
      rows.push({ code, severity: info.severity, summary: info.summary, module: r.module });
    }
  }
  return rows.sort((a, b) => compareCodes(a.code, b.code));
}
