/**
 * Typed events from the IOMMU family: the host IOMMU (domains, maps, translations, faults,
 * invalidations), device ATCs (ATS), the vhost software IOTLB and its miss protocol, vDPA
 * parents' DMA ops, the guest vIOMMU and QEMU's relay between them. Components emit them
 * through an injected {@link IommuEventSink}; with no sink, nothing is built. The trace layer
 * adds time and context; {@link formatIommuEvent} is the one text form.
 *
 * @example
 * ```ts
 * import { formatIommuEvent } from "./event.ts";
 * const line = formatIommuEvent({ kind: "vhost-iotlb-miss", vq: 1, iova: 0x1000, perm: 1 });
 * if (line !== "vhost-iotlb-miss vq=1 iova=0x1000 perm=ro") throw new Error(line);
 * ```
 *
 * @module
 */

import type { Access } from "../memory/translator.ts";
import { type DmaFault, formatDmaFault } from "./fault_log.ts";

/** Domain types (Linux IOMMU_DOMAIN_IDENTITY / _DMA / _UNMANAGED). */
export type DomainType = "identity" | "dma" | "unmanaged";

/** The vIOMMU notifier flavours QEMU delivers (IOMMU_NOTIFIER_MAP/UNMAP/DEVIOTLB_UNMAP). */
export type NotifierEvent = "map" | "unmap" | "deviotlb-unmap";

/** Every event of the IOMMU family. */
export type IommuEvent =
  // Host IOMMU.
  | { readonly kind: "domain-alloc"; readonly domain: number; readonly type: DomainType }
  | { readonly kind: "domain-free"; readonly domain: number }
  | {
    readonly kind: "attach";
    readonly group: number;
    readonly domain: number;
    readonly previous: number | undefined;
  }
  | {
    readonly kind: "map";
    readonly domain: number;
    readonly iova: number;
    readonly pa: number;
    readonly size: number;
    readonly perm: Access;
  }
  | {
    readonly kind: "unmap";
    readonly domain: number;
    readonly iova: number;
    readonly size: number;
  }
  | {
    readonly kind: "translate-hit";
    readonly rid: string;
    readonly domain: number;
    readonly iova: number;
    readonly pa: number;
    readonly len: number;
  }
  | {
    readonly kind: "translate-miss";
    readonly rid: string;
    readonly domain: number;
    readonly iova: number;
    readonly pa: number;
    readonly len: number;
    /** Page-table levels read by the walk. */
    readonly walk: number;
  }
  | { readonly kind: "fault"; readonly fault: DmaFault }
  | {
    readonly kind: "invalidate";
    readonly scope: "global" | "domain" | "page";
    readonly domain: number | undefined;
    readonly iova: number | undefined;
    readonly size: number | undefined;
    readonly dropped: number;
  }
  | {
    readonly kind: "iotlb-evict";
    readonly domain: number;
    readonly iova: number;
    readonly size: number;
  }
  // Device IOTLB (PCIe ATS).
  | {
    readonly kind: "ats-request";
    readonly rid: string;
    readonly iova: number;
    readonly write: boolean;
  }
  | {
    readonly kind: "ats-completion";
    readonly rid: string;
    readonly iova: number;
    readonly pa: number;
    readonly size: number;
    /** 0 when the IOMMU had no translation (R = W = 0). */
    readonly perm: Access;
  }
  | {
    readonly kind: "atc-hit";
    readonly rid: string;
    readonly iova: number;
    readonly pa: number;
    readonly len: number;
  }
  | {
    readonly kind: "ats-invalidate";
    readonly rid: string;
    readonly iova: number | undefined;
    readonly size: number | undefined;
    readonly dropped: number;
  }
  | { readonly kind: "ats-invalidate-completion"; readonly rid: string }
  // vhost software IOTLB and the miss protocol.
  | {
    readonly kind: "vhost-iotlb-miss";
    readonly vq: number;
    readonly iova: number;
    readonly perm: Access;
  }
  | {
    readonly kind: "vhost-iotlb-access-fail";
    readonly vq: number;
    readonly iova: number;
    readonly perm: Access;
  }
  | {
    readonly kind: "vhost-iotlb-read";
    readonly type: "miss" | "access-fail";
    readonly iova: number;
    readonly perm: Access;
  }
  | {
    readonly kind: "vhost-iotlb-update";
    readonly asid: number;
    readonly iova: number;
    readonly size: number;
    readonly uaddr: number;
    readonly perm: Access;
  }
  | {
    readonly kind: "vhost-iotlb-invalidate";
    readonly asid: number;
    readonly iova: number;
    readonly size: number;
    readonly removed: number;
  }
  | { readonly kind: "vhost-iotlb-resolved"; readonly vq: number; readonly iova: number }
  | { readonly kind: "vhost-iotlb-evict"; readonly start: number; readonly last: number }
  | { readonly kind: "vhost-iotlb-batch"; readonly asid: number; readonly phase: "begin" | "end" }
  // vDPA parent DMA ops.
  | { readonly kind: "vdpa-set-map"; readonly asid: number; readonly entries: number }
  | {
    readonly kind: "vdpa-dma-map";
    readonly asid: number;
    readonly iova: number;
    readonly size: number;
    readonly addr: number;
    readonly perm: Access;
  }
  | {
    readonly kind: "vdpa-dma-unmap";
    readonly asid: number;
    readonly iova: number;
    readonly size: number;
  }
  // Guest vIOMMU, as QEMU sees it.
  | {
    readonly kind: "viommu-map";
    readonly rid: string;
    readonly iova: number;
    readonly gpa: number;
    readonly size: number;
    readonly perm: Access;
  }
  | {
    readonly kind: "viommu-unmap";
    readonly rid: string;
    readonly iova: number;
    readonly size: number;
  }
  | {
    readonly kind: "viommu-invalidate";
    readonly rid: string;
    readonly scope: "iotlb" | "device-iotlb";
    readonly iova: number;
    readonly size: number;
  }
  | {
    readonly kind: "viommu-notify";
    readonly rid: string;
    readonly event: NotifierEvent;
    readonly iova: number;
    readonly gpa: number;
    readonly size: number;
    readonly perm: Access;
  }
  | {
    readonly kind: "viommu-translate";
    readonly rid: string;
    readonly iova: number;
    readonly gpa: number;
    /** Address mask of the entry: the page size minus one. */
    readonly mask: number;
    readonly perm: Access;
  }
  | { readonly kind: "viommu-fault"; readonly fault: DmaFault }
  // QEMU's relay (vhost_device_iotlb_miss and friends).
  | {
    readonly kind: "qemu-gpa-to-hva";
    readonly gpa: number;
    readonly hva: number;
    readonly len: number;
  }
  | {
    readonly kind: "qemu-iotlb-miss-failed";
    readonly iova: number;
    readonly reason: "translate" | "hva-lookup" | "update-rejected";
  };

/** Receives events; absent means nobody listens and nothing is allocated for them. */
export type IommuEventSink = (event: IommuEvent) => void;

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** "ro" / "wo" / "rw" / "none" for a permission. */
export function permName(p: Access): string {
  return (["none", "ro", "wo", "rw"] as const)[p];
}

/** One stable line per event: the kind, then `key=value` fields. */
export function formatIommuEvent(e: IommuEvent): string {
  switch (e.kind) {
    case "domain-alloc":
      return `domain-alloc domain=${e.domain} type=${e.type}`;
    case "domain-free":
      return `domain-free domain=${e.domain}`;
    case "attach":
      return `attach group=${e.group} domain=${e.domain}${
        e.previous === undefined ? "" : ` from=${e.previous}`
      }`;
    case "map":
      return `map domain=${e.domain} iova=${hex(e.iova)} pa=${hex(e.pa)} size=${hex(e.size)} perm=${
        permName(e.perm)
      }`;
    case "unmap":
      return `unmap domain=${e.domain} iova=${hex(e.iova)} size=${hex(e.size)}`;
    case "translate-hit":
      return `translate-hit rid=${e.rid} domain=${e.domain} iova=${hex(e.iova)} pa=${
        hex(e.pa)
      } len=${e.len}`;
    case "translate-miss":
      return `translate-miss rid=${e.rid} domain=${e.domain} iova=${hex(e.iova)} pa=${
        hex(e.pa)
      } len=${e.len} walk=${e.walk}`;
    case "fault":
      return `fault ${formatDmaFault(e.fault)}`;
    case "invalidate":
      return `invalidate scope=${e.scope}${e.domain === undefined ? "" : ` domain=${e.domain}`}${
        e.iova === undefined ? "" : ` iova=${hex(e.iova)}`
      }${e.size === undefined ? "" : ` size=${hex(e.size)}`} dropped=${e.dropped}`;
    case "iotlb-evict":
      return `iotlb-evict domain=${e.domain} iova=${hex(e.iova)} size=${hex(e.size)}`;
    case "ats-request":
      return `ats-request rid=${e.rid} iova=${hex(e.iova)} ${e.write ? "write" : "read"}`;
    case "ats-completion":
      return `ats-completion rid=${e.rid} iova=${hex(e.iova)} pa=${hex(e.pa)} size=${
        hex(e.size)
      } perm=${permName(e.perm)}`;
    case "atc-hit":
      return `atc-hit rid=${e.rid} iova=${hex(e.iova)} pa=${hex(e.pa)} len=${e.len}`;
    case "ats-invalidate":
      return `ats-invalidate rid=${e.rid}${e.iova === undefined ? " all" : ` iova=${hex(e.iova)}`}${
        e.size === undefined ? "" : ` size=${hex(e.size)}`
      } dropped=${e.dropped}`;
    case "ats-invalidate-completion":
      return `ats-invalidate-completion rid=${e.rid}`;
    case "vhost-iotlb-miss":
      return `vhost-iotlb-miss vq=${e.vq} iova=${hex(e.iova)} perm=${permName(e.perm)}`;
    case "vhost-iotlb-access-fail":
      return `vhost-iotlb-access-fail vq=${e.vq} iova=${hex(e.iova)} perm=${permName(e.perm)}`;
    case "vhost-iotlb-read":
      return `vhost-iotlb-read type=${e.type} iova=${hex(e.iova)} perm=${permName(e.perm)}`;
    case "vhost-iotlb-update":
      return `vhost-iotlb-update asid=${e.asid} iova=${hex(e.iova)} size=${hex(e.size)} uaddr=${
        hex(e.uaddr)
      } perm=${permName(e.perm)}`;
    case "vhost-iotlb-invalidate":
      return `vhost-iotlb-invalidate asid=${e.asid} iova=${hex(e.iova)} size=${
        hex(e.size)
      } removed=${e.removed}`;
    case "vhost-iotlb-resolved":
      return `vhost-iotlb-resolved vq=${e.vq} iova=${hex(e.iova)}`;
    case "vhost-iotlb-evict":
      return `vhost-iotlb-evict start=${hex(e.start)} last=${hex(e.last)}`;
    case "vhost-iotlb-batch":
      return `vhost-iotlb-batch asid=${e.asid} ${e.phase}`;
    case "vdpa-set-map":
      return `vdpa-set-map asid=${e.asid} entries=${e.entries}`;
    case "vdpa-dma-map":
      return `vdpa-dma-map asid=${e.asid} iova=${hex(e.iova)} size=${hex(e.size)} addr=${
        hex(e.addr)
      } perm=${permName(e.perm)}`;
    case "vdpa-dma-unmap":
      return `vdpa-dma-unmap asid=${e.asid} iova=${hex(e.iova)} size=${hex(e.size)}`;
    case "viommu-map":
      return `viommu-map rid=${e.rid} iova=${hex(e.iova)} gpa=${hex(e.gpa)} size=${
        hex(e.size)
      } perm=${permName(e.perm)}`;
    case "viommu-unmap":
      return `viommu-unmap rid=${e.rid} iova=${hex(e.iova)} size=${hex(e.size)}`;
    case "viommu-invalidate":
      return `viommu-invalidate rid=${e.rid} scope=${e.scope} iova=${hex(e.iova)} size=${
        hex(e.size)
      }`;
    case "viommu-notify":
      return `viommu-notify rid=${e.rid} event=${e.event} iova=${hex(e.iova)} gpa=${
        hex(e.gpa)
      } size=${hex(e.size)} perm=${permName(e.perm)}`;
    case "viommu-translate":
      return `viommu-translate rid=${e.rid} iova=${hex(e.iova)} gpa=${hex(e.gpa)} mask=${
        hex(e.mask)
      } perm=${permName(e.perm)}`;
    case "viommu-fault":
      return `viommu-fault ${formatDmaFault(e.fault)}`;
    case "qemu-gpa-to-hva":
      return `qemu-gpa-to-hva gpa=${hex(e.gpa)} hva=${hex(e.hva)} len=${hex(e.len)}`;
    case "qemu-iotlb-miss-failed":
      return `qemu-iotlb-miss-failed iova=${hex(e.iova)} reason=${e.reason}`;
  }
}
