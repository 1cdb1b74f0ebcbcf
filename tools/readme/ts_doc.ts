/**
 * Reads the one-line documentation of members straight from TypeScript source: the fields of
 * an `interface` (with their types) and the elements of a `const` string array, each with the
 * `/** … *\/` comment above it. The README's tables of `run --json` fields, counters, drop
 * reasons and trace actions come from here, so they say what the code says.
 *
 * Only the shapes this project writes are understood: members one per line (or per comment),
 * nested `{ … }` types skipped over by brace depth. A member without a comment is returned
 * with an empty `doc`, so callers can refuse undocumented members.
 *
 * @example
 * ```ts
 * import { interfaceMembers, arrayMembers } from "./ts_doc.ts";
 * const src = `export interface A {\n  /** The name. *\/\n  readonly name: string;\n}\n` +
 *   `export const XS = [\n  /** First. *\/\n  "x",\n] as const;\n`;
 * const a = interfaceMembers(src, "A");
 * if (a[0]?.name !== "name" || a[0].doc !== "The name." || a[0].type !== "string") throw new Error("A");
 * if (arrayMembers(src, "XS")[0]?.doc !== "First.") throw new Error("XS");
 * ```
 *
 * @module
 */

/** One documented member. */
export interface Member {
  /** The field name, or the string element. */
  readonly name: string;
  /** The JSDoc text, on one line; empty when there is none. */
  readonly doc: string;
  /** The declared type (interfaces only), on one line. */
  readonly type?: string;
}

/** The text of a JSDoc comment body on one line: leading `*` and blanks removed. */
function docText(comment: string): string {
  return comment
    .replace(/^\/\*\*/, "")
    .replace(/\*\/$/, "")
    .split("\n")
    .map((l) => l.replace(/^\s*\*\s?/, "").trim())
    .filter((l) => l !== "")
    .join(" ");
}

/** The text between the `{` or `[` that opens at `open` and its matching closer. */
function block(src: string, open: number): string {
  const opener = src[open];
  const closer = opener === "{" ? "}" : "]";
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (c === "/" && src[i + 1] === "*") {
      i = src.indexOf("*/", i + 2) + 1;
      if (i === 0) break;
      continue;
    }
    if (c === "/" && src[i + 1] === "/") {
      i = src.indexOf("\n", i);
      if (i < 0) break;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") {
      const end = src.indexOf(c, i + 1);
      if (end < 0) break;
      i = end;
      continue;
    }
    if (c === "{" || c === "[") depth++;
    if (c === "}" || c === "]") {
      depth--;
      if (depth === 0 && c === closer) return src.slice(open + 1, i);
    }
  }
  throw new Error(`unbalanced ${opener} at offset ${open}`);
}

function find(src: string, re: RegExp, what: string): number {
  const m = re.exec(src);
  if (!m) throw new Error(`${what} not found`);
  return m.index + m[0].length - 1;
}

/** Splits a block body into top-level pieces with the comment that precedes each. */
function pieces(body: string, separator: RegExp): { comment: string; text: string }[] {
  const out: { comment: string; text: string }[] = [];
  let comment = "";
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= body.length; i++) {
    const c = body[i];
    if (c === "/" && body[i + 1] === "*") {
      const end = body.indexOf("*/", i + 2);
      if (depth === 0 && body.slice(start, i).trim() === "") {
        comment = body.slice(i, end + 2);
        start = end + 2;
      }
      i = end + 1;
      continue;
    }
    if (c === "/" && body[i + 1] === "/") {
      const end = body.indexOf("\n", i);
      if (depth === 0 && body.slice(start, i).trim() === "") start = end < 0 ? body.length : end;
      i = end < 0 ? body.length : end;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") {
      i = body.indexOf(c, i + 1);
      continue;
    }
    if (c === "{" || c === "[" || c === "(" || c === "<") depth++;
    if (c === "}" || c === "]" || c === ")" || (c === ">" && body[i - 1] !== "=")) depth--;
    if (i === body.length || (depth === 0 && c !== undefined && separator.test(c))) {
      const text = body.slice(start, i).trim();
      if (text !== "") {
        out.push({ comment, text });
        comment = "";
      }
      start = i + 1;
    }
  }
  return out;
}

/** The fields of `interface name { … }` in `src`, in declaration order. */
export function interfaceMembers(src: string, name: string): Member[] {
  const open = find(src, new RegExp(`interface\\s+${name}\\b[^{]*\\{`), `interface ${name}`);
  return pieces(block(src, open), /[;\n]/).flatMap(({ comment, text }) => {
    const m = /^(?:readonly\s+)?"?([\w-]+)"?\??\s*:\s*([\s\S]*)$/.exec(text);
    if (!m) return [];
    const type = (m[2] as string).replace(/\s+/g, " ").replace(/;$/, "").trim();
    return [{ name: m[1] as string, doc: docText(comment), type }];
  });
}

/** The string literals of each element of `const name = [ … ]` (elements that are tuples). */
export function arrayTuples(src: string, name: string): string[][] {
  const open = find(src, new RegExp(`const\\s+${name}\\b[\\s\\S]*?=\\s*\\[`), `const ${name}`);
  return pieces(block(src, open), /,/).map(({ text }) =>
    [...text.matchAll(/"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'/g)].map((m) => m[1] ?? m[2] ?? "")
  );
}

/** The string elements of `const name = [ … ]` in `src`, in order. */
export function arrayMembers(src: string, name: string): Member[] {
  const open = find(src, new RegExp(`const\\s+${name}\\b[\\s\\S]*?=\\s*\\[`), `const ${name}`);
  return pieces(block(src, open), /,/).flatMap(({ comment, text }) => {
    const m = /^["']([^"']*)["']$/.exec(text);
    return m ? [{ name: m[1] as string, doc: docText(comment) }] : [];
  });
}
