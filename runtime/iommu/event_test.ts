import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { formatIommuEvent, type IommuEvent, permName } from "./event.ts";

Deno.test("formatIommuEvent() prints the kind then key=value fields in hex", () => {
  const cases: [IommuEvent, string][] = [
    [{ kind: "domain-free", domain: 3 }, "domain-free domain=3"],
    [
      { kind: "iotlb-evict", domain: 2, iova: 0x20_0000, size: 0x20_0000 },
      "iotlb-evict domain=2 iova=0x200000 size=0x200000",
    ],
    [
      { kind: "ats-invalidate", rid: "0000:3b:00.2", iova: undefined, size: undefined, dropped: 4 },
      "ats-invalidate rid=0000:3b:00.2 all dropped=4",
    ],
    [
      {
        kind: "invalidate",
        scope: "global",
        domain: undefined,
        iova: undefined,
        size: undefined,
        dropped: 9,
      },
      "invalidate scope=global dropped=9",
    ],
    [
      { kind: "vhost-iotlb-access-fail", vq: 2, iova: 0x10, perm: 2 },
      "vhost-iotlb-access-fail vq=2 iova=0x10 perm=wo",
    ],
    [
      { kind: "vdpa-dma-map", asid: 1, iova: 0x1000, size: 0x2000, addr: 0x7f00_0000, perm: 3 },
      "vdpa-dma-map asid=1 iova=0x1000 size=0x2000 addr=0x7f000000 perm=rw",
    ],
    [
      { kind: "vdpa-dma-unmap", asid: 1, iova: 0x1000, size: 0x2000 },
      "vdpa-dma-unmap asid=1 iova=0x1000 size=0x2000",
    ],
    [
      { kind: "qemu-iotlb-miss-failed", iova: 0x9000, reason: "hva-lookup" },
      "qemu-iotlb-miss-failed iova=0x9000 reason=hva-lookup",
    ],
  ];
  for (const [e, line] of cases) assertEquals(formatIommuEvent(e), line);
  assertEquals([0, 1, 2, 3].map((p) => permName(p as 0 | 1 | 2 | 3)), ["none", "ro", "wo", "rw"]);
});
