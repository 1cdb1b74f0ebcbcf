/**
 * Quantities with units, read from the text of an expanded word: `64`, `0x300020000`,
 * `1e12`, `1500B`, `4KiB`, `512M`, `2G`, `100ns`, `1.5us`, `10ms`, `2s`, `1Mpps`, `25Gbps`,
 * `line`.
 *
 * | kind          | units                                            | value in        |
 * | ------------- | ------------------------------------------------ | --------------- |
 * | `count`       | none (decimal, `1e12`, `1_000_000`, hex `0x…`)   | itself          |
 * | `bytes`       | `B`; `K` `M` `G` `T` (either case), `KiB` `MiB` `GiB` `TiB` | bytes |
 * | `time`        | `ns`, `us` (or `µs`), `ms`, `s`                  | nanoseconds     |
 * | `packet-rate` | `pps`, `Kpps` (or `kpps`), `Mpps`, `Gpps`        | packets/second  |
 * | `bit-rate`    | `bps`, `Kbps` (or `kbps`), `Mbps`, `Gbps`, `Tbps` | bits/second    |
 * | `line`        | the word `line`: the port's line rate            | 1 (the fraction) |
 *
 * Byte suffixes are binary, as in QEMU (`-m 2G`) and Linux (`2G` = 2·2^30 bytes; `KB`,
 * `MB`… are refused as ambiguous); time and rate prefixes are decimal (`1Mpps` = 10^6
 * packets/s, `10Gbps` = 10^10 bits/s). A byte size must come out a whole number of bytes;
 * hexadecimal takes no unit. Where a byte size is expected, a plain number means bytes
 * (`size=64`); times and rates need their unit.
 *
 * Diagnostics: E0020–E0024, one line each in {@link QUANTITY_CODES}.
 *
 * @example
 * ```ts
 * import { parseQuantity } from "./quantity.ts";
 * import { literalWord } from "./word.ts";
 * const at = { source: "a.vdpa", start: 0, end: 2 };
 * const q = parseQuantity(literalWord("2G", at)).quantity;
 * if (q?.kind !== "bytes" || q.value !== 2 * 2 ** 30) throw new Error("2 GiB expected");
 * const t = parseQuantity(literalWord("1.5us", at), { expect: ["time"] }).quantity;
 * if (t?.value !== 1500) throw new Error("1500 ns expected");
 * ```
 *
 * @module
 */

import { type Diagnostic, error, type Severity } from "./diagnostic.ts";
import { suggest } from "./suggest.ts";
import { type ExpandedWord, subSpan } from "./word.ts";

/** One quantity code: its severity and what it means. */
export interface QuantityCodeInfo {
  readonly severity: Severity;
  readonly summary: string;
}

/** Every code {@link parseQuantity} reports. */
export const QUANTITY_CODES = {
  E0020: { severity: "error", summary: "not a quantity (a number with an optional unit)" },
  E0021: { severity: "error", summary: "unknown unit (or a unit after a hexadecimal number)" },
  E0022: { severity: "error", summary: "ambiguous unit (`KB`, `MB` …: write `K` or `KiB`)" },
  E0023: {
    severity: "error",
    summary: "wrong kind of quantity here (a size where a time is due …)",
  },
  E0024: { severity: "error", summary: "not representable (a fraction of a byte, too large)" },
} as const satisfies Record<string, QuantityCodeInfo>;

/** What a quantity measures. */
export type QuantityKind = "count" | "bytes" | "time" | "packet-rate" | "bit-rate" | "line";

/** A number with its unit applied. */
export interface Quantity {
  /** What it measures. */
  readonly kind: QuantityKind;
  /** In the kind's base unit: bytes, nanoseconds, packets/s, bits/s; 1 for `line`. */
  readonly value: number;
  /** The word's text, as written. */
  readonly text: string;
}

/** The quantity, or why the word is not one. */
export type QuantityResult =
  | { readonly quantity: Quantity; readonly diagnostic?: undefined }
  | { readonly diagnostic: Diagnostic; readonly quantity?: undefined };

/** Options of {@link parseQuantity}. */
export interface QuantityOptions {
  /** The kinds acceptable here; any other kind is an error (E0023). Default: any kind. */
  readonly expect?: readonly QuantityKind[];
  /** What the quantity is for, used in messages (``the value of `size=` ``). */
  readonly what?: string;
}

interface Unit {
  readonly kind: QuantityKind;
  readonly factor: number;
}

const KIB = 1024;
const UNITS: ReadonlyMap<string, Unit> = new Map<string, Unit>([
  ["B", { kind: "bytes", factor: 1 }],
  ["K", { kind: "bytes", factor: KIB }],
  ["k", { kind: "bytes", factor: KIB }],
  ["M", { kind: "bytes", factor: KIB ** 2 }],
  ["m", { kind: "bytes", factor: KIB ** 2 }],
  ["G", { kind: "bytes", factor: KIB ** 3 }],
  ["g", { kind: "bytes", factor: KIB ** 3 }],
  ["T", { kind: "bytes", factor: KIB ** 4 }],
  ["t", { kind: "bytes", factor: KIB ** 4 }],
  ["KiB", { kind: "bytes", factor: KIB }],
  ["MiB", { kind: "bytes", factor: KIB ** 2 }],
  ["GiB", { kind: "bytes", factor: KIB ** 3 }],
  ["TiB", { kind: "bytes", factor: KIB ** 4 }],
  ["ns", { kind: "time", factor: 1 }],
  ["us", { kind: "time", factor: 1e3 }],
  ["\u00b5s", { kind: "time", factor: 1e3 }], // MICRO SIGN
  ["\u03bcs", { kind: "time", factor: 1e3 }], // GREEK SMALL LETTER MU
  ["ms", { kind: "time", factor: 1e6 }],
  ["s", { kind: "time", factor: 1e9 }],
  ["pps", { kind: "packet-rate", factor: 1 }],
  ["Kpps", { kind: "packet-rate", factor: 1e3 }],
  ["kpps", { kind: "packet-rate", factor: 1e3 }],
  ["Mpps", { kind: "packet-rate", factor: 1e6 }],
  ["Gpps", { kind: "packet-rate", factor: 1e9 }],
  ["bps", { kind: "bit-rate", factor: 1 }],
  ["Kbps", { kind: "bit-rate", factor: 1e3 }],
  ["kbps", { kind: "bit-rate", factor: 1e3 }],
  ["Mbps", { kind: "bit-rate", factor: 1e6 }],
  ["Gbps", { kind: "bit-rate", factor: 1e9 }],
  ["Tbps", { kind: "bit-rate", factor: 1e12 }],
]);

/** Decimal-looking byte units that could mean 10^3 or 2^10. */
const AMBIGUOUS = new Set(["KB", "kB", "kb", "MB", "mb", "GB", "gb", "TB", "tb"]);

const BINARY_POWER: Record<string, number> = { K: 10, M: 20, G: 30, T: 40 };

const KIND_NAMES: Record<QuantityKind, string> = {
  count: "a plain number",
  bytes: "a byte size",
  time: "a time",
  "packet-rate": "a packet rate",
  "bit-rate": "a bit rate",
  line: "`line` (the line rate)",
};

const KIND_EXAMPLES: Record<QuantityKind, string> = {
  count: "`64`, `100000`, `1e6`, `0x1000`",
  bytes: "`1500B`, `4K`, `4KiB`, `512M`, `2G`",
  time: "`100ns`, `1.5us`, `10ms`, `2s`",
  "packet-rate": "`500Kpps`, `1Mpps`",
  "bit-rate": "`100Mbps`, `10Gbps`, `25Gbps`",
  line: "`line`",
};

const NUMBER_RE =
  /^(?:0[xX]([0-9a-fA-F](?:_?[0-9a-fA-F])*)|(\d(?:_?\d)*(?:\.\d+)?(?:[eE][+-]?\d+)?))/;

function describe(kinds: readonly QuantityKind[]): string {
  const names = kinds.map((k) => KIND_NAMES[k]);
  if (names.length <= 1) return names[0] ?? "a quantity";
  return `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`;
}

function examples(kinds: readonly QuantityKind[]): string {
  return kinds.map((k) => KIND_EXAMPLES[k]).join("; ");
}

function unitsFor(kinds: readonly QuantityKind[]): string[] {
  return [...UNITS].filter(([, u]) => kinds.includes(u.kind)).map(([name]) => name);
}

const ALL_KINDS: readonly QuantityKind[] = [
  "count",
  "bytes",
  "time",
  "packet-rate",
  "bit-rate",
  "line",
];

/**
 * Reads a quantity from the text of `word`. Diagnostics point into the word (at the unit,
 * say) through its source offsets.
 *
 * @example A unit of the wrong kind
 * ```ts
 * import { parseQuantity } from "./quantity.ts";
 * import { literalWord } from "./word.ts";
 * const w = literalWord("512M", { source: "a.vdpa", start: 10, end: 14 });
 * const r = parseQuantity(w, { expect: ["time"], what: "the duration of `run`" });
 * if (r.diagnostic?.code !== "E0023") throw new Error("wrong kind expected");
 * ```
 */
export function parseQuantity(word: ExpandedWord, options: QuantityOptions = {}): QuantityResult {
  const text = word.text;
  const expect = options.expect ?? ALL_KINDS;
  const what = options.what ? ` for ${options.what}` : "";
  const whole = subSpan(word, 0);
  if (text === "line") return checkKind({ kind: "line", value: 1, text }, word, expect, what);
  const m = NUMBER_RE.exec(text);
  if (!m) {
    const negative = /^-\d/.test(text);
    return {
      diagnostic: error("E0020", `expected ${describe(expect)}${what}, found \`${text}\``, {
        span: whole,
        label: negative ? "quantities are never negative" : "not a number",
        help: [`write a number with its unit, e.g. ${examples(expect)}`],
      }),
    };
  }
  const hex = m[1];
  const numberText = m[0];
  const unitText = text.slice(numberText.length);
  const unitSpan = subSpan(word, numberText.length);
  if (hex !== undefined) {
    if (unitText !== "") {
      return {
        diagnostic: error("E0021", `a hexadecimal number takes no unit: \`${text}\``, {
          span: unitSpan,
          label: "unexpected after the number",
          help: ["write the value in decimal to give it a unit (`4K`, not `0x1K`)"],
        }),
      };
    }
    const value = parseInt(hex.replaceAll("_", ""), 16);
    if (!Number.isSafeInteger(value)) return tooLarge(word, text);
    return checkKind({ kind: "count", value, text }, word, expect, what);
  }
  const number = Number(numberText.replaceAll("_", ""));
  if (unitText === "") {
    if (!Number.isFinite(number)) return tooLarge(word, text);
    if (/^\d[\d_]*$/.test(numberText) && !Number.isSafeInteger(number)) return tooLarge(word, text);
    // A plain number where only a byte size fits is a number of bytes (`size=64`).
    if (!expect.includes("count") && expect.includes("bytes")) {
      return bytes(number, 1, word, text);
    }
    return checkKind({ kind: "count", value: number, text }, word, expect, what);
  }
  const unit = UNITS.get(unitText);
  if (!unit) {
    if (AMBIGUOUS.has(unitText)) {
      const binary = unitText[0]?.toUpperCase() ?? "K";
      const power = BINARY_POWER[binary] ?? 10;
      return {
        diagnostic: error("E0022", `ambiguous unit \`${unitText}\` in \`${text}\``, {
          span: unitSpan,
          label: "decimal or binary?",
          help: [
            `byte sizes are binary here, as in QEMU: write \`${numberText}${binary}\` or ` +
            `\`${numberText}${binary}iB\` for ${numberText}·2^${power} bytes`,
          ],
        }),
      };
    }
    const candidates = unitsFor(expect.filter((k) => k !== "count" && k !== "line"));
    const best = suggest(unitText, candidates, { limit: 1 })[0];
    const help = best !== undefined ? [`did you mean \`${numberText}${best}\`?`] : [];
    if (candidates.length > 0) {
      help.push(`units here: ${candidates.map((u) => `\`${u}\``).join(", ")}`);
    }
    return {
      diagnostic: error("E0021", `unknown unit \`${unitText}\` in \`${text}\``, {
        span: unitSpan,
        label: "not a unit",
        help,
      }),
    };
  }
  if (unit.kind === "bytes") {
    const r = bytes(number, unit.factor, word, text);
    return r.quantity ? checkKind(r.quantity, word, expect, what) : r;
  }
  const value = number * unit.factor;
  if (!Number.isFinite(value)) return tooLarge(word, text);
  return checkKind({ kind: unit.kind, value, text }, word, expect, what);
}

function bytes(number: number, factor: number, word: ExpandedWord, text: string): QuantityResult {
  const value = number * factor;
  if (!Number.isSafeInteger(value)) {
    if (Number.isFinite(value) && value < Number.MAX_SAFE_INTEGER) {
      return {
        diagnostic: error("E0024", `\`${text}\` is not a whole number of bytes`, {
          span: subSpan(word, 0),
          label: `${value} bytes`,
          help: ["use a smaller unit or a whole number: `1536K` rather than `1.5001M`"],
        }),
      };
    }
    return tooLarge(word, text);
  }
  return { quantity: { kind: "bytes", value, text } };
}

function tooLarge(word: ExpandedWord, text: string): QuantityResult {
  return {
    diagnostic: error("E0024", `\`${text}\` is too large`, {
      span: subSpan(word, 0),
      label: "not exactly representable",
      notes: [`the largest exact value is ${Number.MAX_SAFE_INTEGER} (2^53 - 1)`],
    }),
  };
}

function checkKind(
  q: Quantity,
  word: ExpandedWord,
  expect: readonly QuantityKind[],
  what: string,
): QuantityResult {
  if (expect.includes(q.kind)) return { quantity: q };
  const time = q.kind === "count" && expect.includes("time");
  const rate = q.kind === "count" &&
    (expect.includes("packet-rate") || expect.includes("bit-rate"));
  const help = time || rate
    ? [`add a unit: ${examples(expect.filter((k) => k !== "count"))}`]
    : [`write ${describe(expect)}, e.g. ${examples(expect)}`];
  return {
    diagnostic: error(
      "E0023",
      `expected ${describe(expect)}${what}, found ${KIND_NAMES[q.kind]} \`${q.text}\``,
      {
        span: subSpan(word, 0),
        label: q.kind === "count" ? "a number without a unit" : KIND_NAMES[q.kind],
        help,
      },
    ),
  };
}
