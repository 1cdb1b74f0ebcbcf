/**
 * The REPL's banner and first prompt, shown before the lab's modules are loaded. `main.ts`
 * imports only this (and the argument parser) before anything heavy, so an interactive
 * `vdpa-lab repl` shows its prompt at once; lines typed meanwhile are read by the REPL as
 * soon as the session is ready (readline redraws the prompt in place).
 *
 * @example
 * ```ts
 * import { banner } from "./early_prompt.ts";
 * if (!banner("1.0.0").includes(".help")) throw new Error("banner");
 * ```
 *
 * @module
 */

import denoJson from "../deno.json" with { type: "json" };
import { parseCliArgs } from "./args.ts";
import { style, useColor } from "./style.ts";

/** The prompt of a fresh entry. */
export const PROMPT = "vdpa> ";

/** The one-line banner of an interactive REPL. */
export function banner(version: string = denoJson.version): string {
  return `vdpa-lab ${version}: .help for help, Tab completes, Ctrl-D leaves`;
}

/**
 * Prints the banner and the prompt now when `argv` starts an interactive REPL with no FILE
 * (a FILE's output must come before the prompt); returns true when it did.
 */
export function showEarlyPrompt(
  argv: readonly string[],
  term: { readonly stdin: boolean; readonly stdout: boolean; readonly noColor: boolean },
  write: (text: string) => void,
): boolean {
  if (!term.stdin || !term.stdout) return false;
  const parsed = parseCliArgs(argv);
  if (!parsed.ok) return false;
  const a = parsed.value;
  if (a.command !== "repl" || a.files.length > 0) return false;
  const s = style(useColor(a.color, { isTerminal: true, noColor: term.noColor }));
  if (!a.quiet) write(`${s.dim(banner())}\n`);
  write(s.color ? s.bold(PROMPT) : PROMPT);
  return true;
}
