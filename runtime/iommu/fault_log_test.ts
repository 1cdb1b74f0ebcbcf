import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { FaultLog, formatDmaFault, vtdFaultReason } from "./fault_log.ts";

Deno.test("FaultLog keeps the newest records and still counts the dropped ones", () => {
  const log = new FaultLog(2);
  for (const iova of [0x1000, 0x2000, 0x3000]) {
    log.record({ rid: "0000:3b:00.2", domain: 1, iova, write: false, reason: "not-present" });
  }
  assertEquals(log.records().map((f) => [f.seq, f.iova]), [[2, 0x2000], [3, 0x3000]]);
  assertEquals([log.total, log.dropped, log.count("not-present"), log.count("no-context")], [
    3,
    1,
    3,
    0,
  ]);
  throws(() => new FaultLog(0), RangeError);
});

Deno.test("vtdFaultReason() maps a not-present page to the access bit that was missing", () => {
  assertEquals(vtdFaultReason({ reason: "not-present", write: true }), 0x05);
  assertEquals(vtdFaultReason({ reason: "not-present", write: false }), 0x06);
  assertEquals(vtdFaultReason({ reason: "no-context", write: false }), 0x02);
  assertEquals(vtdFaultReason({ reason: "beyond-address-width", write: true }), 0x04);
});

Deno.test("formatDmaFault() prints the DMAR driver's line", () => {
  assertEquals(
    formatDmaFault({
      seq: 1,
      rid: "0000:00:03.0",
      domain: undefined,
      iova: 0xfffff000,
      write: false,
      reason: "beyond-address-width",
    }),
    "DMAR: [DMA Read NO_PASID] Request device [00:03.0] fault addr 0xfffff000 [fault reason 0x04] Access beyond MGAW",
  );
});
