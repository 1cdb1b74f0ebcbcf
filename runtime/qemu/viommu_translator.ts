/**
 * QEMU's own device models reach guest memory through the device's address space: behind a
 * vIOMMU in a translated guest that is `address_space_translate` through the IOMMU memory
 * region (vtd_iommu_translate / virtio_iommu_translate) — an IOVA becomes a guest-physical
 * address, or the access fails and the vIOMMU records a fault the guest can read. This is
 * that lookup as a {@link Translator} for the shared datapath's device rings (QEMU's
 * userspace virtio-net with `iommu_platform=on`).
 *
 * @example
 * ```ts
 * import { Viommu } from "../iommu/viommu.ts";
 * import { newTranslateResult, VHOST_ACCESS_RO, VHOST_ACCESS_WO } from "../memory/translator.ts";
 * import { viommuTranslator } from "./viommu_translator.ts";
 * const vi = new Viommu({ model: "intel-iommu" });
 * vi.addDevice("0000:00:03.0");
 * vi.map("0000:00:03.0", 0xffff_f000, 0x20_0000, 0x1000, VHOST_ACCESS_RO);
 * const tr = viommuTranslator(vi, "0000:00:03.0");
 * const out = newTranslateResult();
 * if (!tr.translate(0xffff_f010, 64, VHOST_ACCESS_RO, out) || out.addr !== 0x20_0010) throw new Error();
 * if (tr.translate(0xffff_f010, 64, VHOST_ACCESS_WO, out) || out.fault?.kind !== "permission") throw new Error();
 * ```
 *
 * @module
 */

import type { Viommu } from "../iommu/viommu.ts";
import type { Access, TranslateResult, Translator } from "../memory/translator.ts";

/** The IOVA → GPA translator of device `rid` behind `viommu`. */
export function viommuTranslator(viommu: Viommu, rid: string): Translator {
  return {
    translate(addr: number, len: number, access: Access, out: TranslateResult): boolean {
      // A read-write access needs both permissions; check write first (the stricter one).
      const write = (access & 2) !== 0;
      const e = viommu.translate(rid, addr, write);
      if (e === undefined || ((access & 1) !== 0 && (e.perm & 1) === 0)) {
        const known = viommu.ranges(rid).find((r) => addr >= r.iova && addr < r.iova + r.size);
        out.fault = known === undefined
          ? { kind: "unmapped", iova: addr, access }
          : { kind: "permission", iova: addr, access, allowed: known.perm };
        return false;
      }
      const off = addr - e.iova;
      out.addr = e.translatedAddr + off;
      out.len = Math.min(len, e.addrMask + 1 - off);
      out.fault = undefined;
      return true;
    },
  };
}
