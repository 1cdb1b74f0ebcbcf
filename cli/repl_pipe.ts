/**
 * Piped input to the REPL (`vdpa-lab repl < session.vdpa`): no prompt, no echo, and the same
 * output, diagnostics and exit status as `vdpa-lab run -` on the same text, so a transcript
 * can be tested. Meta command lines (`.save FILE`, `.load FILE` …) may appear between
 * statements; the script around them runs in pieces that keep their line numbers, so a
 * diagnostic points at `<stdin>:LINE:COL` of the text as it was piped. Like a script, the run
 * stops at the first error.
 *
 * @example
 * ```ts
 * import { pipedSegments } from "./repl_pipe.ts";
 * const segs = pipedSegments("let a = 1\n.vars\nlet b = 'x\n.y'\n");
 * const kinds = segs.map((s) => s.kind).join();
 * if (kinds !== "script,meta,script") throw new Error(kinds); // `.y` is inside a quote
 * ```
 *
 * @module
 */

import { parse } from "../lang/parse.ts";
import { isMetaLine } from "./meta.ts";
import type { ReplCore } from "./repl_core.ts";

/** A piece of piped input: script lines (blanked elsewhere) or one meta command line. */
export type PipedSegment =
  | {
    readonly kind: "script";
    /** The whole input with every line outside the piece emptied (line numbers kept). */
    readonly text: string;
  }
  | { readonly kind: "meta"; readonly line: string };

/** Splits piped text at the meta command lines that stand outside any open construct. */
export function pipedSegments(text: string): PipedSegment[] {
  const lines = text.split("\n");
  const out: PipedSegment[] = [];
  let start = 0;
  const piece = (from: number, to: number) =>
    lines.map((l, i) => (i >= from && i < to ? l : "")).join("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (!isMetaLine(line)) continue;
    const before = lines.slice(start, i).join("\n");
    if (parse(before, { source: "<stdin>" }).incomplete) continue;
    if (before.trim() !== "") out.push({ kind: "script", text: piece(start, i) });
    out.push({ kind: "meta", line });
    start = i + 1;
  }
  if (lines.slice(start).join("\n").trim() !== "" || out.length === 0) {
    out.push({ kind: "script", text: start === 0 ? text : piece(start, lines.length) });
  }
  return out;
}

/** Runs piped text through the REPL; returns the exit status (1 after an error). */
export async function runPiped(core: ReplCore, text: string): Promise<number> {
  for (const seg of pipedSegments(text)) {
    if (seg.kind === "meta") {
      const r = await core.entry(seg.line);
      if (r === "exit") break;
      if (r === "failed" || r === "interrupted") break;
      continue;
    }
    const outcome = await core.script(seg.text, "<stdin>");
    if (outcome.status !== "ok") break;
  }
  return core.failed ? 1 : 0;
}
