import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { formatIommuError, type IommuError } from "./iommu_error.ts";

Deno.test("formatIommuError() names each refusal with its address and errno", () => {
  const cases: [IommuError, string][] = [
    [
      { kind: "iommu-disabled", op: "allocate domain" },
      "allocate domain: DMA remapping is off (boot with intel_iommu=on) (ENODEV)",
    ],
    [
      { kind: "unknown-device", rid: "0000:3b:00.2" },
      "device 0000:3b:00.2 is not behind the IOMMU (ENODEV)",
    ],
    [
      { kind: "device-exists", rid: "0000:3b:00.2", group: 4 },
      "device 0000:3b:00.2 is already in iommu group 4 (EEXIST)",
    ],
    [{ kind: "unknown-group", group: 9 }, "no iommu group 9 (ENODEV)"],
    [{ kind: "unknown-domain", domain: 7 }, "no iommu domain 7 (ENOENT)"],
    [
      { kind: "not-paging", domain: 1 },
      "domain 1 is an identity domain and has no page tables to map (EINVAL)",
    ],
    [
      { kind: "unaligned", iova: 0x1001, pa: 0x2000, size: 0x1000 },
      "unaligned: iova 0x1001 pa 0x2000 size 0x1000 not aligned to the minimum page size 0x1000 (EINVAL)",
    ],
    [
      { kind: "unaligned", iova: 0x1000, pa: undefined, size: 0x10 },
      "unaligned: iova 0x1000 size 0x10 not aligned to the minimum page size 0x1000 (EINVAL)",
    ],
    [{ kind: "bad-perm", perm: 0 }, "mapping without read or write permission (perm 0) (EINVAL)"],
    [
      { kind: "out-of-range", iova: 2 ** 39, size: 0x1000, limit: 2 ** 39 },
      "iova 0x8000000000 size 0x1000 is beyond the domain aperture 0x8000000000 (EFAULT)",
    ],
    [
      { kind: "overlap", domain: 2, iova: 0x0, size: 0x2000, existing: 0x1000 },
      "iova 0x0 size 0x2000 overlaps the mapping at 0x1000 in domain 2 (EEXIST)",
    ],
    [
      { kind: "not-mapped", domain: 2, iova: 0x5000 },
      "nothing is mapped at iova 0x5000 in domain 2 (ENOENT)",
    ],
    [
      { kind: "group-busy", group: 1, domain: 3 },
      "iommu group 1 is already attached to domain 3 (EBUSY)",
    ],
    [
      { kind: "not-attached", group: 1 },
      "iommu group 1 is not attached to a non-default domain (EINVAL)",
    ],
    [
      { kind: "domain-busy", domain: 3, groups: [1, 2] },
      "domain 3 is still attached to group(s) 1, 2 (EBUSY)",
    ],
    [
      { kind: "notifier-unsupported", rid: "0000:00:03.0", needs: "device IOTLB mode" },
      "device 0000:00:03.0 requires device IOTLB mode (ENOTSUP)",
    ],
  ];
  for (const [e, text] of cases) assertEquals(formatIommuError(e), text);
});
