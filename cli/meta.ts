/**
 * The REPL's meta commands: a line that starts with a dot and a letter (`.help`, `.load FILE`,
 * `.save FILE`, `.vars`, `.reset`, `.exit`). A path such as `./build/app/dpdk-testpmd` is a
 * command, not a meta command.
 *
 * @example
 * ```ts
 * import { parseMeta } from "./meta.ts";
 * const m = parseMeta('  .save "my lab.vdpa"');
 * if (m?.kind !== "command" || m.name !== ".save" || m.arg !== "my lab.vdpa") throw new Error("save");
 * if (parseMeta("./build/app/dpdk-testpmd -- -i") !== undefined) throw new Error("a path");
 * ```
 *
 * @module
 */

import { suggest } from "../lang/suggest.ts";
import { META_COMMANDS } from "./complete.ts";

/** A meta command line, or an unknown one (with suggestions). */
export type MetaLine =
  | { readonly kind: "command"; readonly name: string; readonly arg?: string }
  | { readonly kind: "unknown"; readonly name: string; readonly suggestions: readonly string[] }
  | { readonly kind: "bad-arg"; readonly name: string; readonly problem: string };

const META_RE = /^\s*(\.[A-Za-z][\w-]*)(?:\s+(.*?))?\s*$/;

/** True when `line` is a meta command line (known or not). */
export function isMetaLine(line: string): boolean {
  return META_RE.test(line) && !line.includes("\n");
}

function unquote(arg: string): string {
  const q = arg[0];
  if ((q === '"' || q === "'") && arg.length >= 2 && arg.endsWith(q)) return arg.slice(1, -1);
  return arg;
}

/** Parses a meta command line; undefined when the line is a script statement. */
export function parseMeta(line: string): MetaLine | undefined {
  if (line.includes("\n")) return undefined;
  const m = META_RE.exec(line);
  if (!m) return undefined;
  const name = m[1] as string;
  const arg = m[2] === undefined || m[2] === "" ? undefined : unquote(m[2]);
  const kind = Object.hasOwn(META_COMMANDS, name) ? META_COMMANDS[name] : undefined;
  if (kind === undefined) {
    return { kind: "unknown", name, suggestions: suggest(name, Object.keys(META_COMMANDS)) };
  }
  if (kind === "file" && arg === undefined) {
    return { kind: "bad-arg", name, problem: `${name} needs a FILE` };
  }
  if (kind === "none" && arg !== undefined) {
    return { kind: "bad-arg", name, problem: `${name} takes no argument` };
  }
  return { kind: "command", name, ...(arg !== undefined ? { arg } : {}) };
}
