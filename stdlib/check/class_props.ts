/**
 * Typing a property list against a class schema: every `key=value` item of a QEMU comma list,
 * a DPDK devargs list or an OVS settings list is looked up in the class's {@link PropSchema}
 * table and parsed with the owning tool's rules. Problems become located diagnostics:
 * unknown property (E0225, with "did you mean"), invalid value (E0226), removed (E0237),
 * deprecated (W0222), missing required (E0227). Each carries the real tool's text as a note.
 *
 * A bare item (`server`) is what QemuOpts makes of it: the value `on`; `nowait` is `wait=off`
 * when `wait` is a boolean. Later items win over earlier ones, like QEMU and DPDK.
 *
 * @example Typing `tap,id=n0,vhost=on,queues=4`
 * ```ts
 * import { Diagnostics } from "../../lang/diagnostic.ts";
 * import type { PropList } from "../../lang/props.ts";
 * import { findClass } from "../catalog/schema.ts";
 * import { NETDEV_TYPES } from "../catalog/qemu_netdev.ts";
 * import { typeProps } from "./class_props.ts";
 * const s = { source: "x", start: 0, end: 1 };
 * const item = (key: string, value: string) => ({
 *   span: s, key: { value: key, span: s }, value: { value, span: s },
 * });
 * const list: PropList = { span: s, items: [item("id", "n0"), item("vhost", "on")] };
 * const tap = findClass(NETDEV_TYPES, "tap");
 * if (!tap) throw new Error("tap is catalogued");
 * const typed = typeProps(list, new Diagnostics(), { schema: tap, owner: "tap", what: "netdev" });
 * if (typed.get("vhost")?.value !== true) throw new Error("vhost=on is true");
 * ```
 *
 * @module
 */

import { type Diagnostics, error, warning } from "../../lang/diagnostic.ts";
import type { Prop, PropList } from "../../lang/props.ts";
import type { Span } from "../../lang/span.ts";
import { didYouMean, suggest } from "../../lang/suggest.ts";
import {
  type ClassSchema,
  expectedText,
  findProp,
  parseValue,
  type PropSchema,
  type PropValue,
  qemuValueErrorText,
} from "../catalog/schema.ts";

/** One typed property. */
export interface TypedProp {
  readonly key: string;
  readonly value: PropValue;
  /** Where the value was written (the key, for a bare flag). */
  readonly span: Span;
  /** The whole item. */
  readonly item: Prop;
  readonly schema: PropSchema;
}

/** The typed properties of one list, by key (the last item with a key wins). */
export class TypedProps {
  readonly #byKey = new Map<string, TypedProp>();
  /** Every typed item in written order (duplicates included). */
  readonly items: readonly TypedProp[];
  /** The list they came from. */
  readonly list: PropList;

  constructor(list: PropList, items: readonly TypedProp[]) {
    this.list = list;
    this.items = items;
    for (const p of items) this.#byKey.set(p.key, p);
  }

  /** The property `key`, if written (and valid). */
  get(key: string): TypedProp | undefined {
    return this.#byKey.get(key);
  }

  /** True when `key` was written with a valid value. */
  has(key: string): boolean {
    return this.#byKey.has(key);
  }

  /** A boolean property's value, or `dflt`. */
  bool(key: string, dflt: boolean): boolean {
    const v = this.#byKey.get(key)?.value;
    return typeof v === "boolean" ? v : dflt;
  }

  /** A numeric property's value, or `dflt`. */
  num(key: string, dflt: number): number;
  num(key: string, dflt?: number): number | undefined;
  num(key: string, dflt?: number): number | undefined {
    const v = this.#byKey.get(key)?.value;
    return typeof v === "number" ? v : dflt;
  }

  /** A text property's value, or `dflt`. */
  str(key: string, dflt: string): string;
  str(key: string, dflt?: string): string | undefined;
  str(key: string, dflt?: string): string | undefined {
    const v = this.#byKey.get(key)?.value;
    return typeof v === "string" ? v : dflt;
  }
}

/** Options of {@link typeProps}. */
export interface TypePropsOptions {
  readonly schema: ClassSchema;
  /** The class name as QEMU prints it (`virtio-net-pci`, `tap`). */
  readonly owner: string;
  /** What the class is, for messages: `netdev`, `device`, `chardev`, `object`, `vdev`. */
  readonly what: string;
  /**
   * Keys handled by the caller (the head of a class list such as `type` or `driver`, `-nic
   * model=` …): not typed here. An implicit first item whose key is not skipped is typed like
   * any other (`-m 4G` is `size=4G`).
   */
  readonly skip?: readonly string[];
  /** Collects the items of properties that are ignored for I/O (reported once per command). */
  readonly ignoredSink?: Prop[];
  /** Report missing required properties (default true). */
  readonly checkRequired?: boolean;
  /** The span to point at when a required property is missing (default: the list). */
  readonly at?: Span;
  /** Per-key QEMU texts for a missing required property (default `Parameter 'k' is missing`). */
  readonly missingTexts?: Readonly<Record<string, string>>;
  /** How keys are written in this list, for messages (`options:` for OVS interface options). */
  readonly keyPrefix?: string;
}

const ID_HINT = "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.";

/** The note for an unknown property: QEMU's text, or what the other tools do about it. */
function unknownNote(schema: ClassSchema, owner: string, key: string): string {
  switch (schema.style) {
    case "keyval":
      return `QEMU says: Property '${schema.typeName ?? owner}.${key}' not found`;
    case "kvargs":
      return "rte_kvargs_parse() rejects a devarg the PMD does not list: the port is not created";
    case "ovsdb":
      return "OVS ignores an option it does not know: the port would run without it";
    default:
      return `QEMU says: Invalid parameter '${key}'`;
  }
}

/**
 * Types every item of `list` against `options.schema`, pushing diagnostics for what is wrong.
 * Items that fail are left out of the result.
 */
export function typeProps(
  list: PropList,
  diags: Diagnostics,
  options: TypePropsOptions,
): TypedProps {
  const { schema, owner, what } = options;
  const pre = options.keyPrefix ?? "";
  const skip = new Set(options.skip ?? []);
  const out: TypedProp[] = [];
  const qemu = schema.style !== "kvargs" && schema.style !== "ovsdb";
  for (const item of list.items) {
    let key = item.key.value;
    if (skip.has(key)) continue;
    let text = item.value?.value;
    let prop = findProp(schema, key);
    if (text === undefined && qemu) {
      // QemuOpts short form: `server` is server=on, `nowait` is wait=off.
      text = "on";
      if (prop === undefined && key.startsWith("no")) {
        const positive = findProp(schema, key.slice(2));
        if (positive?.type === "bool") {
          key = key.slice(2);
          prop = positive;
          text = "off";
        }
      }
    }
    if (prop === undefined) {
      if (schema.openProps) continue;
      const help = didYouMean(key, Object.keys(schema.props), { dashUnderscore: true });
      diags.push(
        error("E0225", `unknown property \`${pre}${key}\` for ${what} \`${owner}\``, {
          span: item.key.span,
          label: `\`${owner}\` has no property \`${pre}${key}\``,
          notes: [unknownNote(schema, owner, key)],
          ...(help === undefined ? {} : { help: [help] }),
        }),
      );
      continue;
    }
    if (prop.removed !== undefined) {
      diags.push(
        error("E0237", `\`${key}\` is no longer accepted by ${what} \`${owner}\``, {
          span: item.span,
          label: "removed",
          notes: [prop.removed],
        }),
      );
      continue;
    }
    if (text === undefined) {
      diags.push(
        error("E0226", `\`${key}\` needs a value`, {
          span: item.span,
          label: "expected `key=value`",
        }),
      );
      continue;
    }
    const parsed = parseValue(text, prop);
    const valueSpan = item.value?.span ?? item.key.span;
    if (!parsed.ok) {
      const e = parsed.error;
      const real = qemuValueErrorText(e, {
        style: schema.style,
        owner: schema.typeName ?? owner,
        prop: key,
      });
      const help: string[] = [];
      if (e.kind === "not-in-enum") {
        const near = suggest(text, e.values, { limit: 1 })[0];
        if (near !== undefined) help.push(`did you mean \`${near}\`?`);
      }
      const notes = real === undefined ? [] : [`QEMU says: ${real}`];
      if (e.kind === "not-id") notes.push(ID_HINT);
      diags.push(
        error("E0226", `invalid value \`${text}\` for \`${key}\` of ${what} \`${owner}\``, {
          span: valueSpan,
          label: expectedText(e, prop),
          notes,
          help,
        }),
      );
      continue;
    }
    if (prop.deprecated !== undefined) {
      diags.push(
        warning("W0222", `\`${key}\` is deprecated`, {
          span: item.span,
          label: "deprecated",
          notes: [prop.deprecated],
        }),
      );
    }
    // A deprecated property already has its own warning.
    if (!prop.ioRelevant && !prop.deprecated && schema.status === "modelled") {
      options.ignoredSink?.push(item);
    }
    out.push({ key, value: parsed.value, span: valueSpan, item, schema: prop });
  }
  const typed = new TypedProps(list, out);
  if (options.checkRequired ?? true) {
    for (const [key, prop] of Object.entries(schema.props)) {
      if (!prop.required || typed.has(key) || hasFailedItem(list, key)) continue;
      const given = options.missingTexts?.[key];
      const real = given ?? `Parameter '${key}' is missing`;
      const tool = schema.style === "kvargs" ? "DPDK" : schema.style === "ovsdb" ? "OVS" : "QEMU";
      diags.push(
        error("E0227", `${what} \`${owner}\` needs \`${pre}${key}=\``, {
          span: options.at ?? list.span,
          label: `no \`${pre}${key}\` given`,
          notes: qemu || given !== undefined ? [`${tool} says: ${real}`] : [],
          help: [`add \`${pre}${key}=…\`: ${prop.desc}`],
        }),
      );
    }
  }
  return typed;
}

/** True when `key` was written but rejected (so "missing" would be a second error for it). */
function hasFailedItem(list: PropList, key: string): boolean {
  return list.items.some((i) => !i.implicit && i.key.value === key);
}
