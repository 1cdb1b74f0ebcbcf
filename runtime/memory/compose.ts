/**
 * Chaining translators: IOVA → HVA (a vhost IOTLB) then HVA → GPA (a memory table) gives a
 * device the path from the addresses in its descriptors to the bytes in guest memory.
 *
 * @example
 * ```ts
 * import { composeTranslators } from "./compose.ts";
 * import { IDENTITY, newTranslateResult, VHOST_ACCESS_RO } from "./translator.ts";
 * const out = newTranslateResult();
 * const t = composeTranslators(IDENTITY, IDENTITY);
 * if (!t.translate(0x1000, 8, VHOST_ACCESS_RO, out) || out.addr !== 0x1000) throw new Error();
 * ```
 *
 * @module
 */

import {
  type Access,
  newTranslateResult,
  type TranslateResult,
  type Translator,
} from "./translator.ts";

/**
 * A translator that applies `first`, then `second` to the result. The contiguous run it
 * reports is the shorter of the two runs; faults of either step are passed through (a fault
 * of the second step names the intermediate address).
 */
export function composeTranslators(first: Translator, second: Translator): Translator {
  const mid = newTranslateResult();
  return {
    translate(addr: number, len: number, access: Access, out: TranslateResult): boolean {
      if (!first.translate(addr, len, access, mid)) {
        out.fault = mid.fault;
        return false;
      }
      if (!second.translate(mid.addr, mid.len, access, out)) return false;
      return true;
    },
  };
}
