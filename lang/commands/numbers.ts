/**
 * Number and MAC address parsing as the real tools do it: iproute2's `get_u16`/`get_u32`
 * (strtoul, base 10, the whole word must be a number, range checked), `get_u64` with base 16
 * (strtoull accepts an optional `0x`), and `ll_addr_a2n` (colon-separated hex bytes).
 *
 * @example
 * ```ts
 * import { parseMac, parseUnsigned } from "./numbers.ts";
 * if (parseUnsigned("1500", { base: 10, max: 0xffffn }) !== 1500n) throw new Error("u16");
 * if (parseUnsigned("0x300020000", { base: 16, max: 0xffffffffffffffffn }) !== 0x300020000n) {
 *   throw new Error("hex u64");
 * }
 * if (parseMac("0:1:22:33:44:5F") !== "00:01:22:33:44:5f") throw new Error("mac");
 * ```
 *
 * @module
 */

/** Options of {@link parseUnsigned}. */
export interface UnsignedOptions {
  /** 10, 16 (optional `0x`), or 0 (C's auto base: `0x` hex, leading `0` octal, else decimal). */
  readonly base: 0 | 10 | 16;
  /** Largest accepted value. */
  readonly max: bigint;
}

/** The maximum of an unsigned integer of `bits` bits. */
export function maxUnsigned(bits: 16 | 32 | 64): bigint {
  return (1n << BigInt(bits)) - 1n;
}

/** Parses a whole word as an unsigned integer, or returns undefined (empty, junk, negative, too big). */
export function parseUnsigned(text: string, options: UnsignedOptions): bigint | undefined {
  let s = text.startsWith("+") ? text.slice(1) : text;
  let base: number = options.base;
  if ((base === 16 || base === 0) && /^0[xX]/.test(s)) {
    s = s.slice(2);
    base = 16;
  } else if (base === 0) {
    base = s.length > 1 && s.startsWith("0") ? 8 : 10;
  }
  const digits = base === 16 ? /^[0-9a-fA-F]+$/ : base === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!digits.test(s)) return undefined;
  let v = 0n;
  const b = BigInt(base);
  for (const ch of s) v = v * b + BigInt(parseInt(ch, base));
  return v > options.max ? undefined : v;
}

/** Parses `xx:xx:xx:xx:xx:xx` (one or two hex digits per byte); returns it normalised, or undefined. */
export function parseMac(text: string): string | undefined {
  const parts = text.split(":");
  if (parts.length !== 6) return undefined;
  const out: string[] = [];
  for (const p of parts) {
    if (!/^[0-9a-fA-F]{1,2}$/.test(p)) return undefined;
    out.push(p.toLowerCase().padStart(2, "0"));
  }
  return out.join(":");
}
