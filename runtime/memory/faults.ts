/**
 * What can go wrong when touching guest memory, or when laying it out, as values.
 *
 * Guest-controlled addresses (descriptor `addr`, ring addresses) reach memory unchecked, so
 * every access either succeeds or yields a {@link MemoryFault}; nothing throws. Layout
 * mistakes (overlapping regions, zero sizes) come from scripts and yield a
 * {@link MemoryLayoutError}. Each union has exactly one formatter.
 *
 * @example
 * ```ts
 * import { describeMemoryFault } from "./faults.ts";
 * const text = describeMemoryFault({ kind: "unmapped", gpa: 0x1000, len: 16 });
 * if (text !== "no memory region at 0x1000 (16 bytes)") throw new Error(text);
 * ```
 *
 * @module
 */

/** The highest address + 1 a JS number can hold exactly (2^53): guest addresses stay below. */
export const MAX_ADDRESS = 2 ** 53;

/** Why an access to guest memory failed. */
export type MemoryFault =
  /** No region covers (part of) `[gpa, gpa + len)`: a hole in the physical address map. */
  | { readonly kind: "unmapped"; readonly gpa: number; readonly len: number }
  /** The address is negative, not an integer, or `gpa + len` reaches 2^53 or more. */
  | { readonly kind: "out-of-range"; readonly gpa: number; readonly len: number }
  /** A write to a read-only region (a ROM). */
  | {
    readonly kind: "read-only";
    readonly gpa: number;
    readonly len: number;
    readonly region: string;
  };

/** Why a region could not be added. */
export type MemoryLayoutError =
  | { readonly kind: "overlap"; readonly name: string; readonly other: string }
  | { readonly kind: "duplicate-name"; readonly name: string }
  | { readonly kind: "empty"; readonly name: string }
  | {
    readonly kind: "out-of-range";
    readonly name: string;
    readonly gpa: number;
    readonly size: number;
  };

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** One lowercase line describing a memory fault, for traces and diagnostics. */
export function describeMemoryFault(f: MemoryFault): string {
  switch (f.kind) {
    case "unmapped":
      return `no memory region at ${hex(f.gpa)} (${f.len} bytes)`;
    case "out-of-range":
      return `address ${hex(f.gpa)} (${f.len} bytes) is outside the 53-bit address space`;
    case "read-only":
      return `write to read-only region ${f.region} at ${hex(f.gpa)} (${f.len} bytes)`;
  }
}

/** One lowercase line describing a layout error. */
export function describeMemoryLayoutError(e: MemoryLayoutError): string {
  switch (e.kind) {
    case "overlap":
      return `region ${e.name} overlaps region ${e.other}`;
    case "duplicate-name":
      return `a region named ${e.name} already exists`;
    case "empty":
      return `region ${e.name} has size 0`;
    case "out-of-range":
      return `region ${e.name} at ${hex(e.gpa)} size ${
        hex(e.size)
      } is outside the 53-bit address space`;
  }
}
