/**
 * `lsmod` as kmod prints it (tools/lsmod.c): a header, then `%-19s %8lu  %d` per module,
 * most recently loaded first, followed by the holders joined with commas.
 *
 * @example
 * ```ts
 * import { formatLsmod } from "./lsmod.ts";
 * const text = formatLsmod([{ name: "vdpa", size: 36864, usedBy: 1, holders: ["vhost_vdpa"] }]);
 * if (text !== "Module                  Size  Used by\nvdpa                   36864  1 vhost_vdpa\n") throw new Error(text);
 * ```
 *
 * @module
 */

import type { LsmodEntry } from "../../runtime/host/kernel.ts";

/** The `lsmod` table, newline-terminated. */
export function formatLsmod(entries: readonly LsmodEntry[]): string {
  let out = "Module                  Size  Used by\n";
  for (const m of entries) {
    const holders = m.holders.length > 0 ? ` ${m.holders.join(",")}` : "";
    out += `${m.name.padEnd(19)} ${String(m.size).padStart(8)}  ${m.usedBy}${holders}\n`;
  }
  return out;
}
