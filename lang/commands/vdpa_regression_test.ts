// Regressions found by the language fuzzer (tests/fuzz_lang_test.ts) in `vdpa dev add`.
import assert from "node:assert/strict";
import { expectFailure, expectParse, primaryText } from "./test_expect.ts";

for (const name of ["é", "vdpa.0", "vdpa 0", "a/b", "👩‍👩‍👧"]) {
  Deno.test(`vdpa regression: \`${name}\` is not a vDPA device name the lab can use (E0123)`, () => {
    // Before the check, `vdpa dev add name é …` and a QEMU vhost-vdpa netdev on it threw a
    // TypeError out of a checking session: the device's worker is named after it.
    const { d, at } = expectFailure(`vdpa dev add name '${name}' mgmtdev vdpasim_net`, "E0123");
    assert.equal(primaryText(d, at), `'${name}'`);
    assert.ok(d.help.some((h) => h.includes("vdpa0")), d.help.join("; "));
  });
}

Deno.test("vdpa regression: device names of letters, digits, `_` and `-` still parse", () => {
  for (const name of ["vdpa0", "vdpa-net_1", "VDPA"]) {
    const { cmd } = expectParse(`vdpa dev add name ${name} mgmtdev vdpasim_net`);
    assert.equal(cmd.kind === "vdpa-dev-add" ? cmd.name.value : undefined, name);
  }
});
