/**
 * Test input for the command parsers: a small shell-like word splitter (blanks separate words;
 * 'single' and "double" quotes; a backslash escapes the next character; `\` + newline joins
 * lines; `#` at the start of a word comments out the rest of the line; `;` and newlines end a
 * statement). Each character keeps its source offset, as lang/word.ts requires. It exists so the
 * command parsers can be tested on their own; scripts are parsed by lang/parse.ts.
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

import type { ExpandedWord } from "../word.ts";

/** The words of every statement of `text`, in order (empty statements dropped). */
export function testStatements(text: string, source = "test.vdpa"): ExpandedWord[][] {
  const statements: ExpandedWord[][] = [];
  let current: ExpandedWord[] = [];
  let i = 0;
  const endStatement = () => {
    if (current.length > 0) statements.push(current);
    current = [];
  };
  while (i < text.length) {
    const c = text[i] as string;
    if (c === "\\" && text[i + 1] === "\n") {
      i += 2;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    if (c === "\n" || c === ";") {
      endStatement();
      i++;
      continue;
    }
    if (c === "#") {
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }
    const start = i;
    let chars = "";
    const offsets: number[] = [];
    let quoted = false;
    let verbatim = true;
    while (i < text.length) {
      const d = text[i] as string;
      if (d === " " || d === "\t" || d === "\r" || d === "\n" || d === ";") break;
      if (d === "\\" && text[i + 1] === "\n") {
        verbatim = false;
        i += 2;
        continue;
      }
      if (d === "\\" && i + 1 < text.length) {
        verbatim = false;
        chars += text[i + 1];
        offsets.push(i + 1);
        i += 2;
        continue;
      }
      if (d === "'" || d === '"') {
        quoted = true;
        verbatim = false;
        i++;
        while (i < text.length && text[i] !== d) {
          if (d === '"' && text[i] === "\\" && /["\\$]/.test(text[i + 1] ?? "")) i++;
          chars += text[i];
          offsets.push(i);
          i++;
        }
        i++; // closing quote (an unterminated quote just ends the word)
        continue;
      }
      chars += d;
      offsets.push(i);
      i++;
    }
    offsets.push(i);
    const span = { source, start, end: i };
    current.push(verbatim ? { text: chars, span, quoted } : { text: chars, span, quoted, offsets });
  }
  endStatement();
  return statements;
}

/** The words of a text that holds exactly one statement. */
export function testWords(text: string, source = "test.vdpa"): ExpandedWord[] {
  const all = testStatements(text, source);
  if (all.length !== 1) throw new Error(`testWords expects one statement, got ${all.length}`);
  return all[0] as ExpandedWord[];
}
