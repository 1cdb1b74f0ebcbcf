/**
 * Applies a statement's output filters (`lsmod | grep vdpa`, `vdpa dev show | head -n 1`,
 * `ls /dev | wc -l`) to the text the command printed, the way the real tools would.
 *
 * @example
 * ```ts
 * import { applyFilters } from "./output_filter.ts";
 * const s = { source: "a", start: 0, end: 1 };
 * const out = applyFilters("vdpa 1\nvhost 2\nvdpa_sim 3\n", [{
 *   kind: "grep", span: s, pattern: { value: "vdpa", span: s },
 *   ignoreCase: false, invert: false, extended: false, fixed: false, wordMatch: false, count: false,
 * }]);
 * if (out !== "vdpa 1\nvdpa_sim 3\n") throw new Error(JSON.stringify(out));
 * ```
 *
 * @module
 */

import type { OutputFilter } from "../lang/commands/mod.ts";

function lines(text: string): string[] {
  if (text === "") return [];
  const ls = text.split("\n");
  if (ls[ls.length - 1] === "") ls.pop();
  return ls;
}

function joinLines(ls: readonly string[]): string {
  return ls.length === 0 ? "" : `${ls.join("\n")}\n`;
}

/** Escapes a fixed string for use in a RegExp. */
function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Converts a POSIX basic regular expression (grep's default) to a JavaScript one: in a BRE,
 * `+ ? | ( ) { }` are literal and their backslashed forms are the operators.
 */
function breToJs(pattern: string): string {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "\\" && i + 1 < pattern.length) {
      const n = pattern[i + 1] as string;
      out += "+?|(){}".includes(n) ? n : `\\${n}`;
      i++;
    } else if ("+?|(){}".includes(c)) {
      out += `\\${c}`;
    } else {
      out += c;
    }
  }
  return out;
}

function grepRegExp(f: Extract<OutputFilter, { kind: "grep" }>): RegExp | undefined {
  const p = f.pattern.value;
  let src = f.fixed ? escapeRegExp(p) : f.extended ? p : breToJs(p);
  if (f.wordMatch) src = `(?<![\\w])(?:${src})(?![\\w])`;
  try {
    return new RegExp(src, f.ignoreCase ? "i" : "");
  } catch {
    return undefined;
  }
}

/**
 * Filters `text` through each filter in order. A grep pattern JavaScript cannot compile
 * matches as a fixed string (the command parser has already reported nothing wrong).
 */
export function applyFilters(text: string, filters: readonly OutputFilter[]): string {
  let out = text;
  for (const f of filters) {
    const ls = lines(out);
    switch (f.kind) {
      case "grep": {
        const re = grepRegExp(f) ??
          new RegExp(escapeRegExp(f.pattern.value), f.ignoreCase ? "i" : "");
        const kept = ls.filter((l) => re.test(l) !== f.invert);
        out = f.count ? `${kept.length}\n` : joinLines(kept);
        break;
      }
      case "head":
        out = joinLines(ls.slice(0, Math.max(0, f.lines.value)));
        break;
      case "tail":
        out = joinLines(f.lines.value <= 0 ? [] : ls.slice(-f.lines.value));
        break;
      case "wc":
        out = `${ls.length}\n`;
        break;
    }
  }
  return out;
}
