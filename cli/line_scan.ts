/**
 * A forgiving scanner for the text before the cursor: which statement the cursor is in,
 * the words of that statement typed so far, and the word being typed. It follows the
 * lexical rules of `lang/grammar.peggy` (statements end at a newline, `;` or a lone brace;
 * `\` + newline is a blank; `#` at the start of a word starts a comment; quotes may span
 * lines; an unquoted `>`/`>>` is a word of its own) but never reports errors: completion
 * runs on half-typed input.
 *
 * @example
 * ```ts
 * import { scanLine } from "./line_scan.ts";
 * const s = scanLine("modprobe vdpa; echo vdpa0 > /sys/bus/vd");
 * if (s.words.map((w) => w.text).join(" ") !== "echo vdpa0 >") throw new Error("words");
 * if (s.partial.text !== "/sys/bus/vd" || s.partial.start !== 28) throw new Error("partial");
 * ```
 *
 * @module
 */

/** A whole word of the current statement. */
export interface ScannedWord {
  /** The word's value: quotes removed, escapes resolved, `${name}` kept as written. */
  readonly text: string;
  /** Offset of its first character in the scanned text. */
  readonly start: number;
  /** True when any part of it was quoted (a quoted `|` or `>` is no operator). */
  readonly quoted: boolean;
  /** True when it interpolates a variable (its value is unknown until run time). */
  readonly hasVar: boolean;
}

/** The word under the cursor (possibly empty). */
export interface PartialWord {
  /** Its value so far (quotes removed, escapes resolved, `${name}` kept as written). */
  readonly text: string;
  /** Offset where the word starts in the scanned text. */
  readonly start: number;
  /**
   * Offset from which the raw text equals the end of {@link text} character for character
   * (after the last quote, escape or variable): completion may only replace from here on.
   */
  readonly literalFrom: number;
  /** The quote still open at the cursor. */
  readonly quote?: "'" | '"';
  /** Inside an unclosed `${`: the name typed so far. */
  readonly varName?: string;
  /** True when a completed `${…}` is part of the word. */
  readonly hasVar: boolean;
}

/** What the cursor is in. */
export interface ScanResult {
  /** The whole words of the current statement before the partial word. */
  readonly words: readonly ScannedWord[];
  readonly partial: PartialWord;
  /** The cursor is inside a `#` comment. */
  readonly inComment: boolean;
  /** The current statement is the first of the text (meta commands are only valid there). */
  readonly firstStatement: boolean;
}

const BLANK = /[ \t\r\f\v]/;

interface Building {
  text: string;
  start: number;
  literalFrom: number;
  quoted: boolean;
  hasVar: boolean;
}

/** Scans `text` (everything before the cursor). */
export function scanLine(text: string): ScanResult {
  let words: ScannedWord[] = [];
  let cur: Building | undefined;
  let firstStatement = true;
  let inComment = false;
  let quote: "'" | '"' | undefined;
  let varName: string | undefined;

  const begin = (at: number): Building => {
    cur ??= { text: "", start: at, literalFrom: at, quoted: false, hasVar: false };
    return cur;
  };
  const finish = () => {
    if (cur) {
      words.push({ text: cur.text, start: cur.start, quoted: cur.quoted, hasVar: cur.hasVar });
    }
    cur = undefined;
  };
  const endStatement = () => {
    finish();
    if (words.length > 0) firstStatement = false;
    words = [];
  };
  /** A lone `{` or `}` (followed by a boundary or the cursor) ends a statement. */
  const loneBrace = (i: number): boolean => {
    const next = text[i + 1];
    return cur === undefined && (next === undefined || BLANK.test(next) || next === "\n" ||
      next === ";");
  };

  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inComment) {
      if (c === "\n") {
        inComment = false;
        endStatement();
      }
      continue;
    }
    if (varName !== undefined) {
      const w = cur as Building;
      if (c === "}") {
        w.text += `\${${varName}}`;
        w.hasVar = true;
        w.literalFrom = i + 1;
        varName = undefined;
      } else if (/[ \t\r\n\f\v;"'${\\]/.test(c)) {
        // An unclosed `${`: the grammar ends the variable here; so do we.
        w.text += `\${${varName}`;
        w.hasVar = true;
        varName = undefined;
        i--;
      } else varName += c;
      continue;
    }
    if (quote === "'") {
      const w = cur as Building;
      if (c === "'") {
        quote = undefined;
        w.literalFrom = i + 1;
      } else w.text += c;
      continue;
    }
    if (quote === '"') {
      const w = cur as Building;
      if (c === '"') {
        quote = undefined;
        w.literalFrom = i + 1;
      } else if (c === "\\" && /["\\$]/.test(text[i + 1] ?? "")) {
        w.text += text[i + 1];
        i++;
        w.literalFrom = i + 1;
      } else if (c === "\\" && text[i + 1] === "\n") {
        i++;
        w.literalFrom = i + 1;
      } else if (c === "$" && text[i + 1] === "{") {
        varName = "";
        i++;
      } else w.text += c;
      continue;
    }
    // Outside quotes.
    if (c === "\\") {
      const next = text[i + 1];
      if (next === "\n" || (next === "\r" && text[i + 2] === "\n")) {
        finish();
        i += next === "\r" ? 2 : 1;
        continue;
      }
      if (next === undefined) break; // a trailing backslash: nothing to complete yet
      const w = begin(i);
      w.text += next;
      i++;
      w.literalFrom = i + 1;
      continue;
    }
    if (BLANK.test(c)) {
      finish();
      continue;
    }
    if (c === "\n" || c === ";") {
      endStatement();
      continue;
    }
    if (c === "#" && cur === undefined) {
      inComment = true;
      continue;
    }
    if ((c === "{" || c === "}") && loneBrace(i)) {
      endStatement();
      continue;
    }
    if (c === ">" && text[i + 1] !== "=") {
      finish();
      const double = text[i + 1] === ">";
      words.push({ text: double ? ">>" : ">", start: i, quoted: false, hasVar: false });
      if (double) i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const w = begin(i);
      w.quoted = true;
      quote = c;
      w.literalFrom = i + 1;
      continue;
    }
    if (c === "$" && text[i + 1] === "{") {
      begin(i);
      varName = "";
      i++;
      continue;
    }
    begin(i).text += c;
  }

  const w = cur as Building | undefined;
  const partial: PartialWord = {
    text: w?.text ?? "",
    start: w?.start ?? text.length,
    literalFrom: varName !== undefined ? text.length : w?.literalFrom ?? text.length,
    hasVar: w?.hasVar ?? false,
    ...(quote ? { quote } : {}),
    ...(varName !== undefined ? { varName } : {}),
  };
  return { words, partial, inComment, firstStatement };
}
