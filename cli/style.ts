/**
 * Terminal styles for what the CLI itself prints (the prompt, headers, notes). Diagnostics are
 * coloured by `lang/render`. Colour is on only for a terminal without `NO_COLOR`
 * (https://no-color.org), or when asked for with `--color=always`.
 *
 * @example
 * ```ts
 * import { style, useColor } from "./style.ts";
 * if (useColor("auto", { isTerminal: true, noColor: true })) throw new Error("NO_COLOR wins");
 * if (style(false).bold("x") !== "x") throw new Error("plain without colour");
 * if (style(true).bold("x") !== "\x1b[1mx\x1b[0m") throw new Error("bold");
 * ```
 *
 * @module
 */

/** Whether to colour: `always`, `never`, or `auto` (a terminal and no NO_COLOR). */
export function useColor(
  setting: "auto" | "always" | "never",
  out: { readonly isTerminal: boolean; readonly noColor: boolean },
): boolean {
  if (setting === "always") return true;
  if (setting === "never") return false;
  return out.isTerminal && !out.noColor;
}

/** Painters; identity functions without colour. */
export interface Style {
  readonly color: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  green(text: string): string;
  cyan(text: string): string;
}

function painter(color: boolean, code: string): (text: string) => string {
  return color ? (text) => `\x1b[${code}m${text}\x1b[0m` : (text) => text;
}

/** The styles, coloured or plain. */
export function style(color: boolean): Style {
  return {
    color,
    bold: painter(color, "1"),
    dim: painter(color, "2"),
    red: painter(color, "31"),
    yellow: painter(color, "33"),
    green: painter(color, "32"),
    cyan: painter(color, "36"),
  };
}
