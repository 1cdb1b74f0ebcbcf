// Regressions found by the language fuzzer (tests/fuzz_lang_test.ts) in testpmd's EAL options.
import assert from "node:assert/strict";
import { expectFailure, expectParse, primaryText } from "./test_expect.ts";

for (
  const [line, lcore] of [
    ["dpdk-testpmd -l 2-294967296 -- -i", "294967296"],
    ["testpmd -l2-294967296 --socket-mem 1", "294967296"],
    ["dpdk-testpmd -l 0,128 -- -i", "128"],
    ["dpdk-testpmd --lcores 0-1,99999@2 -- -i", "99999"],
    ["dpdk-testpmd --lcores (0-200)@0 -- -i", "200"],
  ] as const
) {
  Deno.test(`testpmd regression: lcore ${lcore} is beyond RTE_MAX_LCORE, refused as EAL does (${line})`, () => {
    // Before the check, `-l 2-294967296` reached the lab's EAL, which listed every core of the
    // range and threw a RangeError (Invalid array length) out of a checking session.
    const { d, at } = expectFailure(line, "E0106");
    assert.equal(primaryText(d, at), lcore);
    assert.ok(d.notes.some((n) => n.startsWith("EAL prints: EAL: invalid")), d.notes.join("; "));
  });
}

Deno.test("testpmd regression: core lists within RTE_MAX_LCORE still parse", () => {
  for (
    const line of [
      "dpdk-testpmd -l 0-127 -- -i",
      "dpdk-testpmd -l 0,2,4-6 -- -i",
      "dpdk-testpmd --lcores 0-3@4,(5-6)@7 -- -i",
      "dpdk-testpmd -c 0xffffffffffffffffffff -- -i",
    ]
  ) {
    const { cmd } = expectParse(line);
    assert.equal(cmd.kind, "testpmd", line);
  }
});
