import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { formatVhostIotlbError, type VhostIotlbError } from "./vhost_iotlb_error.ts";

Deno.test("formatVhostIotlbError() names each refusal with its errno", () => {
  const cases: [VhostIotlbError, string][] = [
    [
      { kind: "bad-range", start: 0x2000, last: 0x1fff },
      "range 0x2000-0x1fff ends before it starts (EFAULT)",
    ],
    [
      { kind: "no-iotlb" },
      "the vhost device has no IOTLB (VIRTIO_F_ACCESS_PLATFORM not negotiated) (EFAULT)",
    ],
    [{ kind: "zero-size", iova: 0x1000 }, "zero-sized IOTLB message at iova 0x1000 (EINVAL)"],
    [{ kind: "bad-type", type: 1 }, "unexpected IOTLB message type 1 (EINVAL)"],
    [{ kind: "bad-asid", asid: 2 }, "no address space 2 (EINVAL)"],
    [
      { kind: "outside-range", iova: 0x0, size: 0x1000, first: 0x1000, last: 0xffff_ffff },
      "iova 0x0 size 0x1000 is outside the device IOVA range 0x1000-0xffffffff (EINVAL)",
    ],
    [
      { kind: "overlap", iova: 0x1000, size: 0x2000, start: 0x2000, last: 0x2fff },
      "iova 0x1000 size 0x2000 overlaps the mapping 0x2000-0x2fff (EEXIST)",
    ],
    [{ kind: "bad-perm", perm: 0 }, "mapping without read or write permission (perm 0) (EINVAL)"],
    [{ kind: "pin-failed", uaddr: 0x7f00_4000 }, "cannot pin user pages at 0x7f004000 (EFAULT)"],
    [
      { kind: "iommu", error: { kind: "unaligned", iova: 0x3000, pa: 0x4000_3000, size: 0x800 } },
      "iommu_map: unaligned: iova 0x3000 pa 0x40003000 size 0x800 not aligned to the minimum page size 0x1000 (EINVAL)",
    ],
  ];
  for (const [e, text] of cases) assertEquals(formatVhostIotlbError(e), text);
});
