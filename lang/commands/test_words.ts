/**
 * Test input for the command parsers: script text through the real front end (lang/parse.ts,
 * then lang/expand.ts with the given variables), so tests see exactly the words a script
 * produces: quotes removed, offsets kept, `>` split off as its own word.
 *
 * @example
 * ```ts
 * import { testStatements } from "./test_words.ts";
 * const [first] = testStatements(`echo 'a b' > /x ; lsmod`);
 * if (first?.map((w) => w.text).join("|") !== "echo|a b|>|/x") throw new Error("split");
 * if (first?.[1]?.offsets?.[0] !== 6) throw new Error("offset of a quoted character");
 * ```
 *
 * @module
 */

import { Diagnostics } from "../diagnostic.ts";
import { expandWords } from "../expand.ts";
import { parse } from "../parse.ts";
import type { Span } from "../span.ts";
import type { ExpandedWord } from "../word.ts";
import type { Command } from "./ast.ts";
import { parseCommand } from "./mod.ts";

/** The expanded words of every command statement of `text`, in order. */
export function testStatements(
  text: string,
  source = "test.vdpa",
  variables: ReadonlyMap<string, string> = new Map(),
): ExpandedWord[][] {
  const r = parse(text, { source });
  if (r.diagnostics.some((d) => d.severity === "error")) {
    throw new Error(`test input does not parse: ${r.diagnostics.map((d) => d.message).join("; ")}`);
  }
  const out: ExpandedWord[][] = [];
  for (const s of r.program.statements) {
    if (s.kind !== "command") throw new Error(`test input has a ${s.kind} statement`);
    const e = expandWords(s.words, variables);
    if (!e.words) {
      throw new Error(
        `test input does not expand: ${e.diagnostics.map((d) => d.message).join("; ")}`,
      );
    }
    out.push(e.words);
  }
  return out;
}

/** The words of a text that holds exactly one statement. */
export function testWords(
  text: string,
  source = "test.vdpa",
  variables: ReadonlyMap<string, string> = new Map(),
): ExpandedWord[] {
  const all = testStatements(text, source, variables);
  if (all.length !== 1) throw new Error(`testWords expects one statement, got ${all.length}`);
  return all[0] as ExpandedWord[];
}

/** One statement parsed for a test: the node, the diagnostics and a span → text helper. */
export interface ParsedForTest {
  readonly cmd: Command | undefined;
  readonly diags: Diagnostics;
  /** The source text under `span`. */
  at(span: Span): string;
  /** The codes of every diagnostic, in order. */
  readonly codes: string[];
}

/** Parses `text` (one statement) through parse → expand → {@link parseCommand}. */
export function parseForTest(text: string, variables?: ReadonlyMap<string, string>): ParsedForTest {
  const diags = new Diagnostics();
  const cmd = parseCommand(testWords(text, "test.vdpa", variables), diags);
  return {
    cmd,
    diags,
    at: (span: Span) => text.slice(span.start, span.end),
    codes: diags.items.map((d) => d.code),
  };
}
