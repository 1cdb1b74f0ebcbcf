/**
 * What the vhost IOTLB family refuses — the kernel vhost device, vhost-vdpa and vDPA parents —
 * as values, each with the errno the kernel returns. {@link formatVhostIotlbError} is the one
 * formatter.
 *
 * @example
 * ```ts
 * import { formatVhostIotlbError, vhostIotlbErrno } from "./vhost_iotlb_error.ts";
 * const e = { kind: "zero-size", iova: 0x1000 } as const;
 * if (vhostIotlbErrno(e) !== "EINVAL") throw new Error("EINVAL expected");
 * if (!formatVhostIotlbError(e).endsWith("(EINVAL)")) throw new Error(formatVhostIotlbError(e));
 * ```
 *
 * @module
 */

import type { Access } from "../memory/translator.ts";
import { formatIommuError, iommuErrno, type IommuError } from "./iommu_error.ts";

/** A refused vhost IOTLB operation. */
export type VhostIotlbError =
  /** vhost_iotlb_add_range(): last < start. */
  | { readonly kind: "bad-range"; readonly start: number; readonly last: number }
  /** A vhost device without a device IOTLB (ACCESS_PLATFORM not negotiated). */
  | { readonly kind: "no-iotlb" }
  /** UPDATE or INVALIDATE with size 0 (vhost_chr_write_iter). */
  | { readonly kind: "zero-size"; readonly iova: number }
  /** A message type the receiver does not accept. */
  | { readonly kind: "bad-type"; readonly type: number }
  /** An address-space id the device does not have. */
  | { readonly kind: "bad-asid"; readonly asid: number }
  /** vhost-vdpa: outside the device's IOVA range (or wrapping past 2^64). */
  | {
    readonly kind: "outside-range";
    readonly iova: number;
    readonly size: number;
    readonly first: number;
    readonly last: number;
  }
  /** vhost-vdpa: the range overlaps an existing mapping. */
  | {
    readonly kind: "overlap";
    readonly iova: number;
    readonly size: number;
    readonly start: number;
    readonly last: number;
  }
  /** An UPDATE without R or W (QEMU refuses IOMMU_NONE). */
  | { readonly kind: "bad-perm"; readonly perm: Access }
  /** vhost-vdpa PA mode: pin_user_pages failed on a userspace address. */
  | { readonly kind: "pin-failed"; readonly uaddr: number }
  /** The platform IOMMU refused the mapping (parent without set_map / dma_map). */
  | { readonly kind: "iommu"; readonly error: IommuError };

/** The errno the kernel returns for `e`. */
export function vhostIotlbErrno(e: VhostIotlbError): string {
  switch (e.kind) {
    case "bad-range":
    case "no-iotlb":
    case "pin-failed":
      return "EFAULT";
    case "zero-size":
    case "bad-type":
    case "bad-asid":
    case "outside-range":
    case "bad-perm":
      return "EINVAL";
    case "overlap":
      return "EEXIST";
    case "iommu":
      return iommuErrno(e.error);
  }
}

/** One lowercase line describing `e`, ending with its errno. */
export function formatVhostIotlbError(e: VhostIotlbError): string {
  const hex = (n: number) => `0x${n.toString(16)}`;
  const text = (() => {
    switch (e.kind) {
      case "bad-range":
        return `range ${hex(e.start)}-${hex(e.last)} ends before it starts`;
      case "no-iotlb":
        return "the vhost device has no IOTLB (VIRTIO_F_ACCESS_PLATFORM not negotiated)";
      case "zero-size":
        return `zero-sized IOTLB message at iova ${hex(e.iova)}`;
      case "bad-type":
        return `unexpected IOTLB message type ${e.type}`;
      case "bad-asid":
        return `no address space ${e.asid}`;
      case "outside-range":
        return `iova ${hex(e.iova)} size ${hex(e.size)} is outside the device IOVA range ${
          hex(e.first)
        }-${hex(e.last)}`;
      case "overlap":
        return `iova ${hex(e.iova)} size ${hex(e.size)} overlaps the mapping ${hex(e.start)}-${
          hex(e.last)
        }`;
      case "bad-perm":
        return `mapping without read or write permission (perm ${e.perm})`;
      case "pin-failed":
        return `cannot pin user pages at ${hex(e.uaddr)}`;
      case "iommu":
        return `iommu_map: ${formatIommuError(e.error).replace(/ \([A-Z]+\)$/, "")}`;
    }
  })();
  return `${text} (${vhostIotlbErrno(e)})`;
}
