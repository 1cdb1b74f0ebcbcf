/**
 * What the IOMMU (host or guest vIOMMU) refuses, as values: `iommu_map` / `iommu_unmap` rules,
 * group and domain ownership, notifier registration. Each kind has the errno the kernel (or
 * QEMU) returns for it; {@link formatIommuError} is the one formatter.
 *
 * @example
 * ```ts
 * import { formatIommuError, iommuErrno } from "./iommu_error.ts";
 * const e = { kind: "overlap", domain: 2, iova: 0x1000, size: 0x1000, existing: 0x1000 } as const;
 * if (iommuErrno(e) !== "EEXIST") throw new Error("overlap is EEXIST");
 * if (!formatIommuError(e).includes("0x1000")) throw new Error("address expected");
 * ```
 *
 * @module
 */

import type { Access } from "../memory/translator.ts";

/** A refused IOMMU operation. */
export type IommuError =
  | { readonly kind: "iommu-disabled"; readonly op: string }
  | { readonly kind: "unknown-device"; readonly rid: string }
  | { readonly kind: "device-exists"; readonly rid: string; readonly group: number }
  | { readonly kind: "unknown-group"; readonly group: number }
  | { readonly kind: "unknown-domain"; readonly domain: number }
  | { readonly kind: "not-paging"; readonly domain: number }
  | {
    readonly kind: "unaligned";
    readonly iova: number;
    readonly pa: number | undefined;
    readonly size: number;
  }
  | { readonly kind: "bad-perm"; readonly perm: Access }
  | {
    readonly kind: "out-of-range";
    readonly iova: number;
    readonly size: number;
    readonly limit: number;
  }
  | {
    readonly kind: "overlap";
    readonly domain: number;
    readonly iova: number;
    readonly size: number;
    readonly existing: number;
  }
  | { readonly kind: "not-mapped"; readonly domain: number; readonly iova: number }
  | { readonly kind: "group-busy"; readonly group: number; readonly domain: number }
  | { readonly kind: "not-attached"; readonly group: number }
  | { readonly kind: "domain-busy"; readonly domain: number; readonly groups: readonly number[] }
  | {
    readonly kind: "notifier-unsupported";
    readonly rid: string;
    readonly needs: "caching mode" | "device IOTLB mode";
  };

/** The errno the kernel (or QEMU) reports for `e`. */
export function iommuErrno(e: IommuError): string {
  switch (e.kind) {
    case "iommu-disabled":
    case "unknown-device":
    case "unknown-group":
      return "ENODEV";
    case "device-exists":
    case "overlap":
      return "EEXIST";
    case "unknown-domain":
    case "not-mapped":
      return "ENOENT";
    case "not-paging":
    case "unaligned":
    case "bad-perm":
    case "not-attached":
      return "EINVAL";
    case "out-of-range":
      return "EFAULT";
    case "group-busy":
    case "domain-busy":
      return "EBUSY";
    case "notifier-unsupported":
      return "ENOTSUP";
  }
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** One lowercase line describing `e`, ending with its errno. */
export function formatIommuError(e: IommuError): string {
  const text = (() => {
    switch (e.kind) {
      case "iommu-disabled":
        return `${e.op}: DMA remapping is off (boot with intel_iommu=on)`;
      case "unknown-device":
        return `device ${e.rid} is not behind the IOMMU`;
      case "device-exists":
        return `device ${e.rid} is already in iommu group ${e.group}`;
      case "unknown-group":
        return `no iommu group ${e.group}`;
      case "unknown-domain":
        return `no iommu domain ${e.domain}`;
      case "not-paging":
        return `domain ${e.domain} is an identity domain and has no page tables to map`;
      case "unaligned":
        return `unaligned: iova ${hex(e.iova)}${
          e.pa === undefined ? "" : ` pa ${hex(e.pa)}`
        } size ${hex(e.size)} not aligned to the minimum page size 0x1000`;
      case "bad-perm":
        return `mapping without read or write permission (perm ${e.perm})`;
      case "out-of-range":
        return `iova ${hex(e.iova)} size ${hex(e.size)} is beyond the domain aperture ${
          hex(e.limit)
        }`;
      case "overlap":
        return `iova ${hex(e.iova)} size ${hex(e.size)} overlaps the mapping at ${
          hex(e.existing)
        } in domain ${e.domain}`;
      case "not-mapped":
        return `nothing is mapped at iova ${hex(e.iova)} in domain ${e.domain}`;
      case "group-busy":
        return `iommu group ${e.group} is already attached to domain ${e.domain}`;
      case "not-attached":
        return `iommu group ${e.group} is not attached to a non-default domain`;
      case "domain-busy":
        return `domain ${e.domain} is still attached to group(s) ${e.groups.join(", ")}`;
      case "notifier-unsupported":
        return `device ${e.rid} requires ${e.needs}`;
    }
  })();
  return `${text} (${iommuErrno(e)})`;
}
