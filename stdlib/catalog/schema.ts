/**
 * The typed property-schema machinery behind every catalog of QEMU classes (netdev types,
 * device drivers, chardev backends, object types, machines), DPDK devargs and OVS options.
 *
 * A {@link ClassSchema} is one named class (`tap`, `virtio-net-pci`, `memory-backend-file`)
 * with a table of {@link PropSchema}s. {@link parseValue} turns the text of one property into a
 * typed value with the rules of the tool that owns it (QEMU booleans `on/off/yes/no/true/false/
 * y/n`, integers with `0x`, sizes with `K/M/G/T/P/E` suffixes, MAC and PCI addresses …); a
 * failure is a {@link ValueError}, and {@link qemuValueErrorText} gives the text the real tool
 * prints for it, so diagnostics can quote it.
 *
 * @example Parsing a QEMU size and a bad boolean
 * ```ts
 * import { parseValue, qemuValueErrorText } from "./schema.ts";
 * const size = parseValue("4G", { type: "size", ioRelevant: true, desc: "RAM size" });
 * if (!size.ok || size.value !== 4 * 1024 ** 3) throw new Error("4G is 4 GiB");
 * const bad = parseValue("maybe", { type: "bool", ioRelevant: true, desc: "use vhost-net" });
 * if (bad.ok) throw new Error("maybe is not a boolean");
 * const text = qemuValueErrorText(bad.error, { style: "opts", owner: "tap", prop: "vhost" });
 * if (text !== "Parameter 'vhost' expects 'on' or 'off'") throw new Error(String(text));
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../../runtime/result.ts";

/** How the text of a property is read. */
export type PropType =
  /** QEMU `bool` / bit property: `on|yes|true|y` or `off|no|false|n`. */
  | "bool"
  /** QEMU `OnOffAuto`: `on`, `off` or `auto`. */
  | "onoffauto"
  /** A signed integer (decimal, `0x` hex or `0` octal, like `strtoll(…, 0)`). */
  | "int"
  /** An unsigned integer (same bases). */
  | "uint"
  /** A byte count with an optional `B/K/M/G/T/P/E` suffix (powers of 1024). */
  | "size"
  /** Free text. */
  | "string"
  /** One of `values`. */
  | "enum"
  /** A MAC address `xx:xx:xx:xx:xx:xx` (`-` separators accepted, like QEMU). */
  | "mac"
  /** A host file-system path. */
  | "path"
  /** A QEMU identifier: letters, digits, `-`, `.`, `_`, starting with a letter. */
  | "id"
  /** The id of another object of kind `refKind`. */
  | "ref"
  /** A host PCI address `[DDDD:]BB:DD.F` (vfio-pci `host=`). */
  | "pciaddr"
  /** A guest PCI slot and function `SS[.F]` in hex (`addr=`). */
  | "devfn"
  /** A colon-separated list (`fds=3:4`, `vhostfds=5:6`). */
  | "list";

/** What a `ref` property points at. */
export type RefKind =
  | "netdev"
  | "chardev"
  | "memdev"
  | "iothread"
  | "bus"
  | "device"
  | "drive";

/** One property of a class. */
export interface PropSchema {
  readonly type: PropType;
  /** One line for REPL help and completion. */
  readonly desc: string;
  /** False: accepted, but it changes nothing the lab simulates (reported as ignored). */
  readonly ioRelevant: boolean;
  /** The default value, typed like a parsed value (see {@link PropValue}). */
  readonly default?: PropValue;
  /** A default computed from other settings, in words (`2 × queues + 2`). */
  readonly defaultDesc?: string;
  /** Allowed values of an `enum`. */
  readonly values?: readonly string[];
  /** Inclusive numeric bounds checked at parse time (the C type's range). */
  readonly min?: number;
  readonly max?: number;
  /** Width of the C integer type, for QEMU's `expects uint16_t` texts. */
  readonly width?: 8 | 16 | 32 | 64;
  /** True when the class cannot be created without it. */
  readonly required?: boolean;
  /** For `ref`: which kind of object the value names. */
  readonly refKind?: RefKind;
  /** Still accepted, with this deprecation note. */
  readonly deprecated?: string;
  /** No longer accepted, with this note (when and what replaced it). */
  readonly removed?: string;
}

/**
 * A parsed property value: `boolean` for `bool`, `"on" | "off" | "auto"` for `onoffauto`,
 * `number` for `int`/`uint`/`size`, the text for everything else.
 */
export type PropValue = boolean | number | string;

/**
 * Which parser of the real tool reads the property, which decides its error texts:
 * QEMU's opts-visitor (`-netdev`), its keyval/QOM visitor (`-device`, `-object`, `-machine`),
 * plain QemuOpts (`-chardev`, `-m`, `-smp`, `-numa`, `-name`), DPDK `rte_kvargs` and the OVS
 * database.
 */
export type ParseStyle = "opts" | "keyval" | "qemu-opts" | "kvargs" | "ovsdb";

/** Whether the lab simulates what a class does. */
export type ClassStatus =
  /** Simulated. */
  | "modelled"
  /** Accepted; it has no effect on I/O, so the lab ignores it (a warning says so). */
  | "ignored"
  /** Accepted by the real tool and relevant to I/O, but the lab cannot simulate it. */
  | "unmodelled";

/** One named class: a netdev type, a device driver, a chardev backend, an object type … */
export interface ClassSchema {
  readonly name: string;
  readonly desc: string;
  readonly status: ClassStatus;
  readonly style: ParseStyle;
  readonly props: Readonly<Record<string, PropSchema>>;
  /** Properties not catalogued are accepted unchecked (ignored classes we do not describe). */
  readonly openProps?: boolean;
  /** The type name QEMU prints in `Property 'T.p' …` texts, when it differs from `name`. */
  readonly typeName?: string;
}

/** A catalog of classes of one kind, with alternative names. */
export interface ClassCatalog {
  /** What the classes are, for messages: `device driver`, `netdev type` … */
  readonly kind: string;
  readonly classes: Readonly<Record<string, ClassSchema>>;
  /** Alternative spellings → canonical name (`virtio-net` → `virtio-net-pci`). */
  readonly aliases: Readonly<Record<string, string>>;
}

/** Looks up a class by name or alias. */
export function findClass(catalog: ClassCatalog, name: string): ClassSchema | undefined {
  const canonical = catalog.aliases[name] ?? name;
  return Object.hasOwn(catalog.classes, canonical) ? catalog.classes[canonical] : undefined;
}

/** Every name a class can be written as (canonical names and aliases), for suggestions. */
export function classNames(catalog: ClassCatalog): string[] {
  return [...Object.keys(catalog.classes), ...Object.keys(catalog.aliases)];
}

/** The schema of property `key` of `schema`, if catalogued. */
export function findProp(schema: ClassSchema, key: string): PropSchema | undefined {
  return Object.hasOwn(schema.props, key) ? schema.props[key] : undefined;
}

/** Why a property's text is not a value of its type. */
export type ValueError =
  | { readonly kind: "not-bool"; readonly text: string }
  | { readonly kind: "not-onoffauto"; readonly text: string }
  | { readonly kind: "not-integer"; readonly text: string; readonly signed: boolean }
  | {
    readonly kind: "out-of-range";
    readonly text: string;
    readonly value: number;
    readonly min: number;
    readonly max: number;
    readonly width?: 8 | 16 | 32 | 64;
    readonly signed: boolean;
  }
  | { readonly kind: "not-size"; readonly text: string }
  | { readonly kind: "not-in-enum"; readonly text: string; readonly values: readonly string[] }
  | { readonly kind: "not-mac"; readonly text: string }
  | { readonly kind: "not-pciaddr"; readonly text: string }
  | { readonly kind: "not-devfn"; readonly text: string }
  | { readonly kind: "not-id"; readonly text: string }
  | { readonly kind: "empty"; readonly text: string };

/** Where a value error happened, for {@link qemuValueErrorText}. */
export interface ValueErrorContext {
  readonly style: ParseStyle;
  /** The class (QOM type name for keyval texts: `virtio-net-pci`). */
  readonly owner: string;
  readonly prop: string;
}

const TRUE_WORDS: readonly string[] = ["on", "yes", "true", "y"];
const FALSE_WORDS: readonly string[] = ["off", "no", "false", "n"];

/** QEMU's `qapi_bool_parse`: `on|yes|true|y` → true, `off|no|false|n` → false. */
export function parseBool(text: string): boolean | undefined {
  if (TRUE_WORDS.includes(text)) return true;
  if (FALSE_WORDS.includes(text)) return false;
  return undefined;
}

const INT_RE = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/;

/**
 * An integer read like `strtoll(text, &end, 0)` with nothing left over: decimal, `0x` hex or
 * `0`-prefixed octal, with an optional sign. Undefined when the text is not such a number.
 */
export function parseInteger(text: string): bigint | undefined {
  const m = INT_RE.exec(text);
  if (!m) return undefined;
  const digits = m[2] ?? "";
  let magnitude: bigint;
  if (/^0[xX]/.test(digits)) magnitude = BigInt(digits);
  else if (digits.length > 1 && digits.startsWith("0")) magnitude = BigInt(`0o${digits.slice(1)}`);
  else magnitude = BigInt(digits);
  return m[1] === "-" ? -magnitude : magnitude;
}

const SIZE_UNITS: Readonly<Record<string, bigint>> = {
  b: 1n,
  k: 1n << 10n,
  m: 1n << 20n,
  g: 1n << 30n,
  t: 1n << 40n,
  p: 1n << 50n,
  e: 1n << 60n,
};
const SIZE_RE = /^(0[xX][0-9a-fA-F]+|[0-9]+(?:\.[0-9]*)?)([bBkKmMgGtTpPeE]?)$/;
const U64_MAX = (1n << 64n) - 1n;

/**
 * A byte count read like QEMU's `qemu_strtosz`: an integer (any base `strtoull` accepts) or a
 * decimal fraction, then an optional one-letter suffix `B K M G T P E` (case-insensitive,
 * powers of 1024). A fraction needs a suffix larger than `B`. Without a suffix the number is in
 * `defaultUnit` bytes (1 for properties; `-m` passes MiB).
 */
export function parseSize(text: string, defaultUnit = 1n): bigint | undefined {
  const m = SIZE_RE.exec(text);
  if (!m) return undefined;
  const num = m[1] ?? "";
  const suffix = (m[2] ?? "").toLowerCase();
  const unit = suffix === "" ? defaultUnit : SIZE_UNITS[suffix] ?? 1n;
  let bytes: bigint;
  if (num.includes(".")) {
    // qemu_strtosz: a fraction only makes sense with a unit larger than a byte.
    if (unit === 1n) return undefined;
    const [whole = "0", frac = ""] = num.split(".");
    const scale = 10n ** BigInt(frac.length);
    const n = BigInt(whole) * scale + BigInt(frac === "" ? "0" : frac);
    bytes = (n * unit) / scale;
  } else {
    const n = parseInteger(num);
    if (n === undefined) return undefined;
    bytes = n * unit;
  }
  return bytes > U64_MAX ? undefined : bytes;
}

/** QEMU's `id_wellformed`: letters, digits, `-`, `.`, `_`, starting with a letter. */
export function isQemuId(text: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_.-]*$/.test(text);
}

/** Parses a MAC address (QEMU `set_mac`: six hex pairs separated by `:` or `-`). */
export function parseMac(text: string): string | undefined {
  if (!/^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/.test(text)) return undefined;
  return text.toLowerCase().replaceAll("-", ":");
}

/** Parses a host PCI address `[DDDD:]BB:DD.F` into its canonical `DDDD:BB:DD.F` form. */
export function parsePciAddress(text: string): string | undefined {
  const m = /^(?:([0-9a-fA-F]{1,4}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$/.exec(text);
  if (!m) return undefined;
  const slot = parseInt(m[3] ?? "", 16);
  if (slot > 0x1f) return undefined; // PCI: 5-bit device number
  const hex = (s: string | undefined, w: number) =>
    parseInt(s ?? "0", 16).toString(16).padStart(w, "0");
  return `${hex(m[1], 4)}:${hex(m[2], 2)}:${hex(m[3], 2)}.${m[4]}`;
}

/** Parses a guest PCI `addr=` (`SS[.F]`, hex) into `{ slot, fn }`. */
export function parseDevfn(text: string): { slot: number; fn: number } | undefined {
  const m = /^(?:0[xX])?([0-9a-fA-F]{1,2})(?:\.([0-7]))?$/.exec(text);
  if (!m) return undefined;
  const slot = parseInt(m[1] ?? "", 16);
  if (slot > 0x1f) return undefined;
  return { slot, fn: m[2] === undefined ? 0 : Number(m[2]) };
}

function intRange(prop: PropSchema, signed: boolean): { min: bigint; max: bigint } {
  const width = BigInt(prop.width ?? 64);
  const cMin = signed ? -(1n << (width - 1n)) : 0n;
  const cMax = signed ? (1n << (width - 1n)) - 1n : (1n << width) - 1n;
  return {
    min: prop.min === undefined ? cMin : BigInt(prop.min),
    max: prop.max === undefined ? cMax : BigInt(prop.max),
  };
}

/**
 * Reads `text` as a value of `prop`'s type. Integers and sizes are range-checked against the
 * C type (`width`) and the schema's `min`/`max`.
 */
export function parseValue(text: string, prop: PropSchema): Result<PropValue, ValueError> {
  switch (prop.type) {
    case "bool": {
      const b = parseBool(text);
      return b === undefined ? err({ kind: "not-bool", text }) : ok(b);
    }
    case "onoffauto":
      return text === "on" || text === "off" || text === "auto"
        ? ok(text)
        : err({ kind: "not-onoffauto", text });
    case "int":
    case "uint":
    case "size": {
      const signed = prop.type === "int";
      const n = prop.type === "size" ? parseSize(text) : parseInteger(text);
      if (n === undefined) {
        return err(
          prop.type === "size" ? { kind: "not-size", text } : {
            kind: "not-integer",
            text,
            signed,
          },
        );
      }
      const { min, max } = intRange(prop, signed);
      if (n < min || n > max) {
        return err({
          kind: "out-of-range",
          text,
          value: Number(n),
          min: Number(min),
          max: Number(max),
          signed,
          ...(prop.width === undefined ? {} : { width: prop.width }),
        });
      }
      return ok(Number(n));
    }
    case "enum": {
      const values = prop.values ?? [];
      return values.includes(text) ? ok(text) : err({ kind: "not-in-enum", text, values });
    }
    case "mac": {
      const mac = parseMac(text);
      return mac === undefined ? err({ kind: "not-mac", text }) : ok(mac);
    }
    case "pciaddr": {
      const a = parsePciAddress(text);
      return a === undefined ? err({ kind: "not-pciaddr", text }) : ok(a);
    }
    case "devfn":
      return parseDevfn(text) === undefined ? err({ kind: "not-devfn", text }) : ok(text);
    case "id":
      return isQemuId(text) ? ok(text) : err({ kind: "not-id", text });
    case "ref":
    case "path":
    case "list":
      return text === "" ? err({ kind: "empty", text }) : ok(text);
    case "string":
      return ok(text);
  }
}

function cTypeName(e: { width?: 8 | 16 | 32 | 64; signed: boolean }): string {
  return `${e.signed ? "int" : "uint"}${e.width ?? 64}_t`;
}

/**
 * The text QEMU prints for a value error, by parser: its opts-visitor
 * (qapi/opts-visitor.c), keyval/QOM visitor (qapi/qobject-input-visitor.c,
 * qapi/qapi-visit-core.c `visit_type_uintN`, hw/core/qdev-properties*.c
 * `error_set_from_qdev_prop_error`) and QemuOpts (util/qemu-option.c). Undefined for the
 * DPDK and OVS styles, whose tools print no text of their own for these cases.
 */
export function qemuValueErrorText(e: ValueError, ctx: ValueErrorContext): string | undefined {
  const p = ctx.prop;
  const bad = `Property '${ctx.owner}.${p}' doesn't take value '${e.text}'`;
  if (ctx.style === "kvargs" || ctx.style === "ovsdb") return undefined;
  switch (e.kind) {
    case "not-bool":
    case "not-onoffauto":
      return e.kind === "not-bool"
        ? `Parameter '${p}' expects 'on' or 'off'`
        : `Parameter '${p}' does not accept value '${e.text}'`;
    case "not-integer":
      if (ctx.style === "opts") {
        return `Parameter '${p}' expects ${e.signed ? "an int64 value" : "a uint64 value"}`;
      }
      if (ctx.style === "qemu-opts") return `Parameter '${p}' expects a number`;
      return `Parameter '${p}' expects integer`;
    case "out-of-range":
      if (e.width !== undefined && e.width < 64 && (e.value < e.min || e.value > e.max)) {
        // visit_type_uintN/intN only knows the C type, not the schema's tighter bounds.
        const cMax = e.signed ? 2 ** (e.width - 1) - 1 : 2 ** e.width - 1;
        const cMin = e.signed ? -(2 ** (e.width - 1)) : 0;
        if (e.value > cMax || e.value < cMin) return `Parameter '${p}' expects ${cTypeName(e)}`;
      }
      return `Property ${ctx.owner}.${p} doesn't take value ${e.value} (minimum: ${e.min}, maximum: ${e.max})`;
    case "not-size":
      if (ctx.style === "opts") return `Parameter '${p}' expects a size value`;
      if (ctx.style === "qemu-opts") {
        return `Parameter '${p}' expects a non-negative number below 2^64`;
      }
      return `Parameter '${p}' expects size`;
    case "not-in-enum":
      return `Parameter '${p}' does not accept value '${e.text}'`;
    case "not-mac":
    case "not-pciaddr":
    case "not-devfn":
      return bad;
    case "not-id":
      return `Parameter '${p}' expects an identifier`;
    case "empty":
      return `Parameter '${p}' is missing`;
  }
}

/** What the value should have looked like, in a few words (the diagnostic's label). */
export function expectedText(e: ValueError, prop: PropSchema): string {
  switch (e.kind) {
    case "not-bool":
      return "expected `on` or `off`";
    case "not-onoffauto":
      return "expected `on`, `off` or `auto`";
    case "not-integer":
      return e.signed ? "expected an integer" : "expected a non-negative integer";
    case "out-of-range":
      return `expected a value from ${e.min} to ${e.max}`;
    case "not-size":
      return "expected a size like `4G` or `512M`";
    case "not-in-enum":
      return `expected one of ${(prop.values ?? []).map((v) => `\`${v}\``).join(", ")}`;
    case "not-mac":
      return "expected a MAC address like `52:54:00:12:34:56`";
    case "not-pciaddr":
      return "expected a host PCI address like `0000:3b:00.0`";
    case "not-devfn":
      return "expected a PCI slot like `0x5` or `05.0`";
    case "not-id":
      return "expected an identifier";
    case "empty":
      return "expected a value";
  }
}

function defaultProblem(prop: PropSchema): string | undefined {
  const d = prop.default;
  if (d === undefined) return undefined;
  switch (prop.type) {
    case "bool":
      return typeof d === "boolean" ? undefined : "a bool default must be true or false";
    case "onoffauto":
      return d === "on" || d === "off" || d === "auto" ? undefined : "default must be on/off/auto";
    case "int":
    case "uint":
    case "size": {
      if (typeof d !== "number" || !Number.isInteger(d)) {
        return "a numeric default must be an integer";
      }
      const r = parseValue(String(d), prop);
      return r.ok ? undefined : `default ${d} is outside the property's range`;
    }
    case "enum":
      return typeof d === "string" && (prop.values ?? []).includes(d)
        ? undefined
        : `default ${String(d)} is not one of the values`;
    default:
      return typeof d === "string" ? undefined : "a text default must be a string";
  }
}

/**
 * What is wrong with a catalog as data (empty when nothing): every property has a description,
 * an enum has values, a default has the property's type and range, a required property has no
 * default, a removed one is not required, class keys match class names and aliases resolve.
 *
 * @example
 * ```ts
 * import { catalogProblems, type ClassCatalog } from "./schema.ts";
 * const broken: ClassCatalog = {
 *   kind: "thing",
 *   classes: {
 *     a: {
 *       name: "a", desc: "", status: "modelled", style: "keyval",
 *       props: { n: { type: "bool", default: 1, ioRelevant: true, desc: "n" } },
 *     },
 *   },
 *   aliases: { b: "c" },
 * };
 * if (catalogProblems(broken).length !== 2) throw new Error("bad default and bad alias");
 * ```
 */
export function catalogProblems(catalog: ClassCatalog): string[] {
  const out: string[] = [];
  for (const [key, cls] of Object.entries(catalog.classes)) {
    if (cls.name !== key) out.push(`${key}: class is named ${cls.name}`);
    out.push(...schemaProblems(cls).map((p) => `${key}.${p}`));
  }
  for (const [alias, target] of Object.entries(catalog.aliases)) {
    if (!Object.hasOwn(catalog.classes, target)) out.push(`alias ${alias} → unknown ${target}`);
  }
  return out;
}

/** What is wrong with one class schema's property table (see {@link catalogProblems}). */
export function schemaProblems(schema: ClassSchema): string[] {
  const out: string[] = [];
  for (const [key, prop] of Object.entries(schema.props)) {
    if (prop.desc.trim() === "") out.push(`${key}: no description`);
    if (prop.type === "enum" && (prop.values ?? []).length === 0) {
      out.push(`${key}: enum without values`);
    }
    if (prop.type === "ref" && prop.refKind === undefined) out.push(`${key}: ref without refKind`);
    const dp = defaultProblem(prop);
    if (dp) out.push(`${key}: ${dp}`);
    if (prop.required && prop.default !== undefined) out.push(`${key}: required with a default`);
    if (prop.required && prop.removed !== undefined) out.push(`${key}: required but removed`);
  }
  return out;
}
