/**
 * Property lists: the `key=value` items of a QEMU comma list (`tap,id=n0,vhost=on`), of a
 * DPDK `--vdev` argument (`net_vhost0,iface=/tmp/s,queues=2`) or of a lab statement
 * (`size=64 count=1000`). The syntax layer keeps keys and values as located strings; what
 * they mean (types, defaults, allowed values) is the business of the catalogs in `stdlib/`.
 *
 * @example
 * ```ts
 * import type { PropList } from "./props.ts";
 * import { findProp } from "./props.ts";
 * const s = { source: "a", start: 0, end: 1 };
 * const list: PropList = {
 *   span: s,
 *   items: [{ span: s, key: { value: "vhost", span: s }, value: { value: "on", span: s } }],
 * };
 * if (findProp(list, "vhost")?.value?.value !== "on") throw new Error("vhost=on expected");
 * ```
 *
 * @module
 */

import type { Span } from "./span.ts";
import type { Located } from "./word.ts";

/** One item: `key=value`, or a bare `key` (a QEMU legacy flag like `server` or `nowait`). */
export interface Prop {
  /** The whole item. */
  readonly span: Span;
  readonly key: Located<string>;
  /** Absent for a bare flag; an empty string for `key=`. */
  readonly value?: Located<string>;
  /**
   * Set on the first item of a QEMU list written without `type=` (`tap` in `tap,id=n0`):
   * the parser stores it as key `type` (or `driver`), and marks it implicit.
   */
  readonly implicit?: true;
}

/** An ordered list of properties. Duplicates are kept; checkers report them. */
export interface PropList {
  readonly span: Span;
  readonly items: readonly Prop[];
}

/** The last item with `key` (QEMU and DPDK let a later item win), if any. */
export function findProp(list: PropList, key: string): Prop | undefined {
  for (let i = list.items.length - 1; i >= 0; i--) {
    const p = list.items[i];
    if (p && p.key.value === key) return p;
  }
  return undefined;
}
