/**
 * The address-translation seam between a device and the memory it reaches: an IOMMU domain,
 * a vhost IOTLB, a vhost memory table (GPA → HVA) or nothing at all (identity). Devices hold
 * an optional {@link Translator}; absent means the address is used as is.
 *
 * The interface is allocation-free on purpose: the caller owns a reusable
 * {@link TranslateResult} and the translator fills it, so the per-descriptor hot path of the
 * datapath creates no objects.
 *
 * @example Identity translation
 * ```ts
 * import { IDENTITY, newTranslateResult, VHOST_ACCESS_RO } from "./translator.ts";
 * const out = newTranslateResult();
 * if (!IDENTITY.translate(0x1000, 64, VHOST_ACCESS_RO, out)) throw new Error("fault");
 * if (out.addr !== 0x1000 || out.len !== 64) throw new Error("identity expected");
 * ```
 *
 * @module
 */

/** Read access (VHOST_ACCESS_RO, linux/vhost_types.h). */
export const VHOST_ACCESS_RO = 1;
/** Write access (VHOST_ACCESS_WO). */
export const VHOST_ACCESS_WO = 2;
/** Read and write access (VHOST_ACCESS_RW). */
export const VHOST_ACCESS_RW = 3;

/** An access permission: 1 read, 2 write, 3 both (the vhost IOTLB `perm` encoding). */
export type Access = 0 | 1 | 2 | 3;

/** Why a translation failed. */
export type TranslateFault =
  | { readonly kind: "unmapped"; readonly iova: number; readonly access: Access }
  | {
    readonly kind: "permission";
    readonly iova: number;
    readonly access: Access;
    readonly allowed: Access;
  }
  | { readonly kind: "out-of-range"; readonly iova: number; readonly limit: number };

/** Filled by {@link Translator.translate}. */
export interface TranslateResult {
  /** Translated address of the first byte. */
  addr: number;
  /** Bytes that are contiguous from `addr` (at most the requested length; loop for the rest). */
  len: number;
  /** Set when `translate` returns false. */
  fault: TranslateFault | undefined;
}

/** Maps a device-visible address (IOVA, GPA) to the next address space down. */
export interface Translator {
  /**
   * Translates `[addr, addr + len)` for `access`. On success fills `out.addr`/`out.len`
   * (the contiguous run, possibly shorter than `len`) and returns true; on failure fills
   * `out.fault` and returns false. Never throws for a bad address.
   */
  translate(addr: number, len: number, access: Access, out: TranslateResult): boolean;
}

/** A fresh result object to reuse across calls. */
export function newTranslateResult(): TranslateResult {
  return { addr: 0, len: 0, fault: undefined };
}

/** The identity translator (no IOMMU, or `iommu=pt`). */
export const IDENTITY: Translator = {
  translate(addr: number, len: number, _access: Access, out: TranslateResult): boolean {
    out.addr = addr;
    out.len = len;
    out.fault = undefined;
    return true;
  },
};

/** One lowercase line describing a fault, for traces and diagnostics. */
export function describeTranslateFault(f: TranslateFault): string {
  const hex = (n: number) => `0x${n.toString(16)}`;
  const perm = (a: Access) => ["none", "read", "write", "read/write"][a] ?? String(a);
  switch (f.kind) {
    case "unmapped":
      return `no mapping for ${perm(f.access)} at ${hex(f.iova)}`;
    case "permission":
      return `${perm(f.access)} at ${hex(f.iova)} not allowed (mapping is ${perm(f.allowed)})`;
    case "out-of-range":
      return `address ${hex(f.iova)} is beyond the limit ${hex(f.limit)}`;
  }
}
