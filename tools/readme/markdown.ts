/**
 * Markdown pieces as `deno fmt` writes them, so a generated file passes `deno fmt --check`:
 * fenced blocks, and tables with every column padded to its widest cell.
 *
 * @example
 * ```ts
 * import { fence, table } from "./markdown.ts";
 * const t = table(["code", "meaning"], [["E0001", "unterminated `|` string"]]);
 * if (t !== "| code  | meaning                  |\n| ----- | ------------------------ |\n" +
 *   "| E0001 | unterminated `\\|` string |") throw new Error(t);
 * const tick3 = "\x60".repeat(3);
 * if (fence("text", "a\n") !== `${tick3}text\na\n${tick3}`) throw new Error("fence");
 * ```
 *
 * @module
 */

/**
 * A fenced code block. `text` keeps its lines, but for the changes `deno fmt` would make: the
 * indentation every non-blank line shares is removed (columns stay aligned), and blanks at the
 * very end are dropped.
 */
export function fence(info: string, text: string): string {
  const lines = (text.endsWith("\n") ? text.slice(0, -1) : text).split("\n");
  const indents = lines.filter((l) => l.trim() !== "").map((l) => /^ */.exec(l)?.[0].length ?? 0);
  const common = indents.length === 0 ? 0 : Math.min(...indents);
  const body = lines.map((l) => l.slice(Math.min(common, /^ */.exec(l)?.[0].length ?? 0)))
    .join("\n").trimEnd();
  if (body.includes("```")) throw new Error("a fenced block cannot hold ```");
  return `\`\`\`${info}\n${body}\n\`\`\``;
}

/** Table cell text: one line, `|` escaped. */
export function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|");
}

/** A table: cells are escaped with {@link cell}; columns padded as `deno fmt` pads them. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [headers, ...rows].map((r) => headers.map((_, i) => cell(r[i] ?? "")));
  const widths = headers.map((_, i) => Math.max(3, ...all.map((r) => width(r[i] as string))));
  const line = (r: readonly string[]) =>
    `| ${r.map((c, i) => c + " ".repeat((widths[i] as number) - width(c))).join(" | ")} |`;
  const [head, ...body] = all;
  return [
    line(head as string[]),
    `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`,
    ...body.map(line),
  ].join("\n");
}

/** Display width as `deno fmt` counts it: one column per code point. */
function width(s: string): number {
  return [...s].length;
}
