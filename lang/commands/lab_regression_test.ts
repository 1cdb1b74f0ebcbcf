// Regressions found by the language fuzzer (tests/fuzz_lang_test.ts) in the lab statements.
import assert from "node:assert/strict";
import { expectFailure, expectParse, primaryText } from "./test_expect.ts";

for (const name of ["ß", ".", "x.y", "a:b", "ens1f0/1", "ens1f0ens1f0ens1f0"]) {
  Deno.test(`host nic regression: \`${name}\` is not a NIC name the lab can use (E0121)`, () => {
    // Before the check, `host nic ß …` followed by traffic from `wire` threw a TypeError out
    // of a checking session: the port's wire is named after the NIC.
    const { d, at } = expectFailure(`host nic '${name}' model=mlx5 speed=25Gbps`, "E0121");
    assert.equal(primaryText(d, at), `'${name}'`);
    assert.ok(d.help.some((h) => h.includes("ens1f0")), d.help.join("; "));
  });
}

Deno.test("host nic regression: interface names of letters, digits, `_` and `-` still parse", () => {
  for (const name of ["ens1f0", "enp59s0f0np0", "eth_0", "p-1", "e".repeat(15)]) {
    const { cmd } = expectParse(`host nic ${name} model=mlx5`);
    assert.equal(cmd.kind === "host-nic" ? cmd.name.value : undefined, name);
  }
});
