/**
 * Comma lists inside one word, with an exact span for every key and value:
 *
 * - QEMU (`tap,id=n0,vhost=on`): an item is `key=value` or a bare `key`; `,,` is an escaped comma
 *   inside a value; the first item written without `=` is the value of the option's implied key
 *   (`type` for -netdev, `driver` for -device …) and is marked `implicit`; a bare key later in
 *   the list is QEMU's deprecated short-form boolean (`server`, `nowait`) and is kept value-less.
 * - DPDK devargs (`iface=/tmp/s,queues=2`, rte_kvargs): no escape, but a `[…]` value may hold
 *   commas (`corelist=[0,1]`).
 *
 * A trailing comma is accepted (QEMU stops at the end of the string); an empty item in the
 * middle is an error.
 *
 * @example
 * ```ts
 * import { Diagnostics } from "../diagnostic.ts";
 * import { literalWord } from "../word.ts";
 * import { parseCommaList } from "./prop_list.ts";
 * const w = literalWord("tap,id=n0", { source: "a", start: 8, end: 17 });
 * const list = parseCommaList(w, new Diagnostics(), { dialect: "qemu", impliedKey: "type" });
 * const first = list.items[0];
 * if (first?.key.value !== "type" || first.implicit !== true || first.value?.value !== "tap") {
 *   throw new Error("implicit type expected");
 * }
 * ```
 *
 * @module
 */

import type { Diagnostics } from "../diagnostic.ts";
import type { Span } from "../span.ts";
import type { Prop, PropList } from "../props.ts";
import { type ExpandedWord, located, subSpan } from "../word.ts";
import { report } from "./report.ts";

/** Options of {@link parseCommaList}. */
export interface CommaListOptions {
  readonly dialect: "qemu" | "dpdk";
  /** Index in the word's text where the list starts (after `net_vhost0,` for example). */
  readonly from?: number;
  /** QEMU's implied key for a first item without `=`. */
  readonly impliedKey?: string;
  /** The option the list belongs to (`-chardev`), for messages. */
  readonly option?: string;
  /** Warn on QEMU short-form booleans (off for `-cpu`, whose `+feature` items are not QemuOpts). */
  readonly warnFlags?: boolean;
}

/** Parses the comma list in `word` (from `options.from`) into located props. */
export function parseCommaList(
  word: ExpandedWord,
  diags: Diagnostics,
  options: CommaListOptions,
): PropList {
  const t = word.text;
  const from = options.from ?? 0;
  const items: Prop[] = [];
  let i = from;
  let first = true;
  while (i < t.length) {
    const itemStart = i;
    let j = i;
    while (j < t.length && t[j] !== "=" && t[j] !== ",") j++;
    let end: number;
    if (t[j] === "=") {
      const [value, k] = readValue(t, j + 1, options.dialect);
      end = k;
      const key = t.slice(i, j);
      if (key === "") {
        report(diags, "E0110", `property value \`${value}\` has no name`, {
          span: subSpan(word, itemStart, end),
          label: "expected `key=value`",
          help: ["write the property name before `=`"],
        });
      }
      items.push({
        span: subSpan(word, itemStart, end),
        key: located(key, subSpan(word, i, j)),
        value: located(value, subSpan(word, j + 1, end)),
      });
    } else if (first && options.impliedKey !== undefined) {
      const [value, k] = readValue(t, i, options.dialect);
      end = k;
      if (value === "") {
        report(diags, "E0110", `empty \`${options.impliedKey}\` at the start of the list`, {
          span: subSpan(word, itemStart, Math.min(end + 1, t.length)),
          label: `expected a ${options.impliedKey} here`,
          help: [`start the list with the ${options.impliedKey}, e.g. \`${example(options)}\``],
        });
      }
      const span = subSpan(word, itemStart, end);
      items.push({
        span,
        key: located(options.impliedKey, span),
        value: located(value, span),
        implicit: true,
      });
    } else {
      end = j;
      const name = t.slice(i, j);
      if (name === "") {
        report(diags, "E0110", "empty item in a property list", {
          span: subSpan(word, itemStart, Math.min(itemStart + 1, t.length)),
          label: "two commas with nothing between them",
          help: ["remove the extra comma"],
        });
      } else {
        const span = subSpan(word, itemStart, end);
        items.push({ span, key: located(name, span) });
        if (
          options.dialect === "qemu" && options.warnFlags !== false && name !== "help" &&
          name !== "?"
        ) {
          warnShortFormBoolean(diags, name, span, options.option);
        }
      }
    }
    first = false;
    if (end >= t.length) break;
    i = end + 1; // skip the separating comma
  }
  return { span: subSpan(word, from, t.length), items };
}

/** Reads a value up to the next separating comma; returns the unescaped value and the end index. */
function readValue(t: string, start: number, dialect: "qemu" | "dpdk"): [string, number] {
  let value = "";
  let k = start;
  let depth = 0;
  while (k < t.length) {
    const c = t[k] as string;
    if (dialect === "qemu" && c === ",") {
      // QEMU get_opt_value(): ",," is a literal comma, a single "," ends the value.
      if (t[k + 1] === ",") {
        value += ",";
        k += 2;
        continue;
      }
      break;
    }
    if (dialect === "dpdk") {
      // rte_kvargs: a bracketed list keeps its commas.
      if (c === "[") depth++;
      else if (c === "]" && depth > 0) depth--;
      else if (c === "," && depth === 0) break;
    }
    value += c;
    k++;
  }
  return [value, k];
}

function warnShortFormBoolean(
  diags: Diagnostics,
  name: string,
  span: Span,
  option: string | undefined,
): void {
  const off = name.startsWith("no") && name.length > 2;
  const key = off ? name.slice(2) : name;
  const fix = `${key}=${off ? "off" : "on"}`;
  report(diags, "W0012", `short-form boolean option \`${name}\` is deprecated`, {
    span,
    label: `means \`${fix}\``,
    notes: [
      `QEMU prints: warning: short-form boolean option '${name}' deprecated` +
      (option ? ` (in \`${option}\`)` : ""),
    ],
    help: [`write \`${fix}\``],
  });
}

const EXAMPLES: Readonly<Record<string, string>> = {
  "-netdev": "tap,id=n0",
  "-device": "virtio-net-pci,netdev=n0",
  "-chardev": "socket,id=c0,path=/tmp/s",
  "-object": "memory-backend-memfd,id=mem0,size=4G,share=on",
  "-machine": "q35,accel=kvm",
  "-numa": "node,memdev=mem0",
  "-nic": "tap,model=virtio-net-pci",
  "-net": "nic,model=virtio",
};

function example(options: CommaListOptions): string {
  return EXAMPLES[options.option ?? ""] ?? `${options.impliedKey}=…`;
}
