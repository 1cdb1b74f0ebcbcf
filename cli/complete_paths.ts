/**
 * Path completion: the simulated host's file system (sysfs, /dev, /proc) for the commands that
 * touch it, and the real one for scripts and output files. Only the last path component is
 * replaced, so a list of choices shows names, not whole paths.
 *
 * @example
 * ```ts
 * import { hostPath } from "./complete_paths.ts";
 * import { emptySources } from "./complete.ts";
 * const src = { ...emptySources(), hostDir: (d: string) => (d === "/sys/" ? ["bus/", "module/"] : []) };
 * const o = hostPath({ text: "/sys/b", start: 0, literalFrom: 0, hasVar: false }, src);
 * if (o.at !== 5 || o.items[0]?.text !== "bus/") throw new Error(JSON.stringify(o));
 * ```
 *
 * @module
 */

import type { CompletionSources, Item, Offer } from "./complete.ts";
import type { PartialWord } from "./line_scan.ts";

const NOTHING: Offer = { at: 0, items: [] };

/** Entries of a directory as items: directories go on, files end the word. */
function dirItems(entries: readonly string[]): Item[] {
  return entries.map((e) => ({ text: e, final: !e.endsWith("/") }));
}

/** Paths of the simulated host (absolute only: the lab's shell has no working directory). */
export function hostPath(p: PartialWord, src: CompletionSources): Offer {
  if (p.text === "") {
    return { at: 0, items: ["/sys/", "/dev/", "/proc/"].map((text) => ({ text, final: false })) };
  }
  if (!p.text.startsWith("/")) return NOTHING;
  const slash = p.text.lastIndexOf("/");
  const dir = p.text.slice(0, slash + 1);
  return { at: slash + 1, items: dirItems(src.hostDir(dir)) };
}

/** Paths of the real file system. */
export function localPath(p: PartialWord, src: CompletionSources): Offer {
  const slash = p.text.lastIndexOf("/");
  const dir = slash < 0 ? "" : p.text.slice(0, slash + 1);
  const name = p.text.slice(slash + 1);
  const entries = src.localDir(dir === "" ? "." : dir).filter((e) =>
    name.startsWith(".") || !e.startsWith(".")
  );
  return { at: slash + 1, items: dirItems(entries) };
}
