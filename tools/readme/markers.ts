/**
 * Generation markers in a `*.src.md` file: HTML comments that name what to put in their place.
 *
 * ```text
 * <!-- KIND: ARGUMENTS -->
 * <!-- KIND: ARGUMENTS
 * body lines (a script, REPL input …)
 * -->
 * ```
 *
 * A marker stands alone on its lines; its replacement takes exactly its place. Comments whose
 * first word is not followed by `:` are ordinary comments and stay.
 *
 * @example
 * ```ts
 * import { findMarkers } from "./markers.ts";
 * const ms = findMarkers("a\n<!-- help: vdpa -->\n<!-- repl: t\nlsmod\n-->\n<!-- note -->\n");
 * if (ms.length !== 2 || ms[0]?.kind !== "help" || ms[1]?.body !== "lsmod\n") throw new Error("markers");
 * ```
 *
 * @module
 */

/** One marker, with where it stands in the text. */
export interface Marker {
  readonly kind: string;
  /** The rest of the first line, trimmed. */
  readonly args: string;
  /** The lines between the first line and `-->` (each ending in a newline); absent on one line. */
  readonly body?: string;
  /** Offsets of the whole comment. */
  readonly start: number;
  readonly end: number;
  /** 1-based line of the comment, for messages. */
  readonly line: number;
}

const MARKER_RE = /^<!--[ \t]*([a-z][\w-]*):[ \t]*([^\n]*?)[ \t]*(?:\n([\s\S]*?))?-->[ \t]*$/gm;

/** Every marker of `text`, in order. */
export function findMarkers(text: string): Marker[] {
  const out: Marker[] = [];
  for (const m of text.matchAll(MARKER_RE)) {
    const start = m.index;
    const line = text.slice(0, start).split("\n").length;
    const body = m[3];
    out.push({
      kind: m[1] as string,
      args: (m[2] as string).replace(/-->$/, "").trim(),
      ...(body !== undefined ? { body } : {}),
      start,
      end: start + m[0].length,
      line,
    });
  }
  return out;
}

/** `text` with each marker replaced by what `render` returns for it (markers in order). */
export async function replaceMarkers(
  text: string,
  render: (m: Marker) => Promise<string>,
): Promise<string> {
  let out = "";
  let at = 0;
  for (const m of findMarkers(text)) {
    out += text.slice(at, m.start) + await render(m);
    at = m.end;
  }
  return out + text.slice(at);
}
