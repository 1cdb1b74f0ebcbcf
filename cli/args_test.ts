import assert from "node:assert/strict";
import { parseCliArgs } from "./args.ts";

Deno.test("parseCliArgs: repl", async (t) => {
  await t.step("repl takes at most one FILE", () => {
    const one = parseCliArgs(["repl", "lab.vdpa"]);
    assert.ok(one.ok && one.value.command === "repl" && one.value.files[0] === "lab.vdpa");
    assert.ok(!parseCliArgs(["repl", "a.vdpa", "b.vdpa"]).ok);
  });
  await t.step("--no-history is off unless given", () => {
    const plain = parseCliArgs(["repl"]);
    assert.ok(plain.ok && plain.value.noHistory === undefined);
    const off = parseCliArgs(["repl", "--no-history"]);
    assert.ok(off.ok && off.value.noHistory === true);
  });
  await t.step("--color takes auto, always or never", () => {
    const always = parseCliArgs(["repl", "--color", "always"]);
    assert.ok(always.ok && always.value.color === "always");
    const bad = parseCliArgs(["repl", "--color=sometimes"]);
    assert.ok(!bad.ok && bad.error.message.includes("sometimes"));
  });
});
